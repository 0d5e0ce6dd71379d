"""Geography of the app: datums and projections, county boundaries, gazetteer, overrides, location resolving.

Everything inside the app is EPSG:4326 (WGS84, equal to CGCS2000 at map scale). GCJ-02 (AMap) and
Gauss-Krüger projections are handled only at the edges, in :mod:`geo.crs`.
"""

from geo.errors import GeoDataError

__all__ = ["GeoDataError"]
