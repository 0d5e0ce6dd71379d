"""Area features (parks, complexes, zones): filled polygons, hollow with a dashed outline when schematic."""
from __future__ import annotations

import folium
import geopandas as gpd

from layers.base import (
    BoundPopup,
    BoundTooltip,
    category_color,
    designation_level,
    feature_popup_html,
    is_approximate,
    kind_of,
    parts,
    polygon_latlngs,
)
from layers.points import feature_tooltip


def area_rows(features: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    mask = [kind_of(g) == "area" for g in features.geometry]
    return features[mask]


def area_layers(features: gpd.GeoDataFrame) -> list[folium.Polygon]:
    """One polygon layer per area feature (all parts in one Leaflet polygon)."""
    out: list[folium.Polygon] = []
    for _, row in area_rows(features).iterrows():
        color = category_color(row["category"])
        approx = is_approximate(row["category"], row["precision"])
        level = designation_level(row["designation"])
        tip, popup = feature_tooltip(row), feature_popup_html(row)
        for rings in [polygon_latlngs(g) for g in parts(row.geometry) if g.geom_type == "Polygon"]:
            poly = folium.Polygon(
                rings,
                color=color,
                weight=2 + level / 2,
                fill=True,
                fill_color=color,
                fill_opacity=0.08 if approx else 0.28,
                dash_array="6 5" if approx else None,
            )
            poly.add_child(BoundTooltip(tip, sticky=True))
            poly.add_child(BoundPopup(popup))
            out.append(poly)
    return out
