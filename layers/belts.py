"""Line features (industrial belts, corridors): a translucent band under a line, dashed when schematic."""

from __future__ import annotations

import geopandas as gpd

from config import category_color
from layers.base import feature_popup_html, is_approximate, is_drawn, kinds, line_latlngs, parts
from layers.jsonlayer import VectorLayer, VectorRows, path_style
from layers.points import feature_tooltip
from plan.designations import designation_level

DRAWN_DASH = "14 4 2 4"  # dash-dot: drawn by a user on the map, not surveyed


def line_rows(features: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    mask = kinds(features.geometry) == "line"
    return features[mask]


def belt_vectors(features: gpd.GeoDataFrame, rows: VectorRows | None = None) -> VectorRows:
    """Band + line per line feature; the line carries tooltip (click key) and popup, the band is not clickable."""
    out = rows if rows is not None else VectorRows(sticky=True)
    for _, row in line_rows(features).iterrows():
        color = category_color(row["category"])
        level = designation_level(row["designation"])
        dashed = is_approximate(row["category"], row["precision"])
        lines = [line_latlngs(g) for g in parts(row.geometry) if g.geom_type in ("LineString", "LinearRing")]
        if not lines:
            continue
        band = path_style(color, 14 + 2 * level, opacity=0.22, interactive=False)
        dash = "8 6" if dashed else DRAWN_DASH if is_drawn(row["precision"]) else None
        line = path_style(color, 3 + level / 2, opacity=0.95, dash_array=dash, line_cap="round")
        out.add("polyline", lines, band)
        out.add("polyline", lines, line, tooltip=feature_tooltip(row), popup=feature_popup_html(row))
    return out


def belt_layers(features: gpd.GeoDataFrame) -> list[VectorLayer]:
    """The line features as one data-driven layer (none when there are no lines)."""
    rows = belt_vectors(features)
    return [VectorLayer(rows.to_json(), "BeltLayer")] if len(rows) else []
