"""GIS exchange and presentation: exports, imports of GIS-team layers, the presentation PNG, the offline HTML map.

Plain, typed functions; no Streamlit here (the app wires them up through :mod:`exchange_ui`).
Everything comes in and goes out of the feature table of :mod:`geo.features` (EPSG:4326);
other reference systems exist only inside the writers and readers.
"""

from gisio.errors import GisIOError

__all__ = ["GisIOError"]
