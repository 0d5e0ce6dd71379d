"""Area features (parks, complexes, zones): filled polygons; a schematic outline (drawn around town seats, not a
planned boundary) is hatched, dashed and labelled 示意 so that nobody takes it for a surveyed one."""

from __future__ import annotations

import geopandas as gpd

from config import category_color
from layers.base import feature_popup_html, is_approximate, is_drawn, kinds, latlng, parts, polygon_latlngs
from layers.belts import DRAWN_DASH
from layers.jsonlayer import VectorLayer, VectorRows, path_style
from layers.points import feature_tooltip
from plan.designations import designation_level
from present.markup import esc


def area_rows(features: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    mask = kinds(features.geometry) == "area"
    return features[mask]


def area_vectors(features: gpd.GeoDataFrame, rows: VectorRows | None = None) -> VectorRows:
    """One polygon per part of each area feature, each with the feature's tooltip (click key) and popup."""
    out = rows if rows is not None else VectorRows(sticky=True)
    for _, row in area_rows(features).iterrows():
        color = category_color(row["category"])
        approx = is_approximate(row["category"], row["precision"])
        level = designation_level(row["designation"])
        schematic = row["precision"] == "schematic"
        style = path_style(
            color,
            2 + level / 2,
            fill=True,
            fill_opacity=0.08 if approx else 0.28,
            dash_array="6 5" if approx else DRAWN_DASH if is_drawn(row["precision"]) else None,
            hatch=schematic,
        )
        tip, popup = feature_tooltip(row), feature_popup_html(row)
        for g in parts(row.geometry):
            if g.geom_type == "Polygon":
                out.add("polygon", polygon_latlngs(g), style, tooltip=tip, popup=popup)
        if schematic:
            spot = row.geometry.representative_point()
            out.add("label", latlng(spot), SCHEMATIC_LABEL, tooltip=f"<span>示意 · {esc(row['name'])}</span>")
    return out


SCHEMATIC_LABEL = {"className": "rr-label rr-schematic", "interactive": False}


def area_layers(features: gpd.GeoDataFrame) -> list[VectorLayer]:
    """The area features as one data-driven layer (none when there are no areas)."""
    rows = area_vectors(features)
    return [VectorLayer(rows.to_json(), "AreaLayer")] if len(rows) else []
