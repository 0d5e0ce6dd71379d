"""Line features (industrial belts, corridors): a translucent band under a line, dashed when schematic."""
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
    line_latlngs,
    parts,
)
from layers.points import feature_tooltip


def line_rows(features: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    mask = [kind_of(g) == "line" for g in features.geometry]
    return features[mask]


def belt_layers(features: gpd.GeoDataFrame) -> list[folium.PolyLine]:
    """Band + line per line feature; the line carries tooltip and popup, the band is not clickable."""
    out: list[folium.PolyLine] = []
    for _, row in line_rows(features).iterrows():
        color = category_color(row["category"])
        level = designation_level(row["designation"])
        dashed = is_approximate(row["category"], row["precision"])
        lines = [line_latlngs(g) for g in parts(row.geometry) if g.geom_type in ("LineString", "LinearRing")]
        if not lines:
            continue
        band = folium.PolyLine(lines, color=color, weight=14 + 2 * level, opacity=0.22, interactive=False)
        line = folium.PolyLine(
            lines,
            color=color,
            weight=3 + level / 2,
            opacity=0.95,
            dash_array="8 6" if dashed else None,
            line_cap="round",
        )
        line.add_child(BoundTooltip(feature_tooltip(row), sticky=True))
        line.add_child(BoundPopup(feature_popup_html(row)))
        out += [band, line]
    return out
