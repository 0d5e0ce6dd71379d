"""Administrative boundaries: the county outline (county views) and the 38 districts (municipal view).

Each is one data-driven layer (:class:`layers.jsonlayer.VectorLayer`); the ``*_data`` functions return its JSON,
which the app caches per view and basemap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

import config
from layers.base import click_key, latlng, line_latlngs, parts, polygon_latlngs
from layers.jsonlayer import VectorRows, path_style
from present.markup import esc

# Fills of the municipal designations, in order of first appearance in the plan (colour-blind-aware).
DESIGNATION_PALETTE: tuple[str, ...] = ("#C0392B", "#E67E22", "#8E44AD", "#16A085", "#2C3E50", "#7F8C8D")
PLAN_BORDER = "#B22222"
# Neighbours drawn for context: those within the county's bounding box grown by this fraction on every side.
CONTEXT_MARGIN = 0.5


def _rings(geom: BaseGeometry | None) -> list[list[list[list[float]]]]:
    return [polygon_latlngs(g) for g in parts(geom) if g.geom_type == "Polygon"]


def context_box(geom: shapely.Geometry, margin: float = CONTEXT_MARGIN) -> shapely.Geometry:
    """The bounding box of ``geom`` grown by ``margin`` × its width/height on each side."""
    minx, miny, maxx, maxy = geom.bounds
    dx, dy = (maxx - minx) * margin, (maxy - miny) * margin
    return shapely.box(minx - dx, miny - dy, maxx + dx, maxy + dy)


RIVER_COLOR, RIVER_WEIGHT, RIVER_OPACITY = "#6BAED6", 2.2, 0.9
RIVER_LABEL = {"className": "rr-label rr-river", "interactive": False}


def county_outline_data(boundaries: gpd.GeoDataFrame, county: str, *, rivers: gpd.GeoDataFrame | None = None) -> str:
    """JSON of the county's outline, faintly the neighbours around it, and the river lines; nothing is clickable.

    ``rivers``: lines with a ``name`` column (None where unnamed), in the same datum as ``boundaries``; named rivers
    are labelled inside the county.

    Only neighbours meeting the county's bounding box grown by :data:`CONTEXT_MARGIN` are drawn: the others are
    off screen at the county's zoom and would only add weight to the page.  Without the county's polygon, all
    districts are drawn.
    """
    rows = VectorRows()
    own = boundaries[boundaries["adcode"] == county]
    others = boundaries[(boundaries["adcode"] != county) & (boundaries["adcode"] != config.MUNICIPAL_ADCODE)]
    own_geoms = [g for g in own.geometry if g is not None and not g.is_empty]
    if own_geoms:
        box = context_box(shapely.union_all(own_geoms))
        others = others[others.geometry.intersects(box)]
    faint = path_style("#9a9a9a", 0.8, fill=True, fill_color="#ffffff", fill_opacity=0.15, interactive=False)
    for geom in others.geometry:
        for rings in _rings(geom):
            rows.add("polygon", rings, faint)
    style = config.BOUNDARY_STYLE
    strong = path_style(
        style["color"],
        2.4,
        fill=True,
        fill_color=style["fillColor"],
        fill_opacity=style["fillOpacity"],
        interactive=False,
    )
    for geom in own_geoms:
        for rings in _rings(geom):
            rows.add("polygon", rings, strong)
    if rivers is not None and len(rivers):
        _add_rivers(rows, rivers, shapely.union_all(own_geoms) if own_geoms else None)
    return rows.to_json()


def _add_rivers(rows: VectorRows, rivers: gpd.GeoDataFrame, county: shapely.Geometry | None) -> None:
    area = context_box(county) if county is not None else None
    line_style = path_style(RIVER_COLOR, RIVER_WEIGHT, opacity=RIVER_OPACITY, interactive=False)
    for name, geom in zip(rivers["name"], rivers.geometry):
        if geom is None or geom.is_empty or (area is not None and not geom.intersects(area)):
            continue
        shown = geom.intersection(area) if area is not None else geom
        for part in parts(shown):
            if part.geom_type == "LineString":
                rows.add("polyline", line_latlngs(part), line_style)
        inside = geom.intersection(county) if county is not None else geom
        if isinstance(name, str) and name and not inside.is_empty:
            spot = shapely.line_interpolate_point(shapely.line_merge(inside), 0.5, normalized=True)
            if spot.is_empty:
                spot = inside.representative_point()
            rows.add("label", latlng(spot), RIVER_LABEL, tooltip=f"<span>{esc(name)}</span>")


def designation_colors(designations: Sequence[str]) -> dict[str, str]:
    """A fill colour per designation, in the order given."""
    return {d: DESIGNATION_PALETTE[i % len(DESIGNATION_PALETTE)] for i, d in enumerate(designations)}


def district_data(
    boundaries: gpd.GeoDataFrame,
    *,
    with_plan: Mapping[str, str],
    designations: Mapping[str, Sequence[str]],
    colors: Mapping[str, str],
) -> str:
    """JSON of the 38 districts, each clickable (key ``d:<adcode>``).

    ``with_plan``: adcode -> plan title of districts that have a county plan (red border, "点击进入").
    ``designations``: adcode -> the municipal plan's designations naming it (fill colour of the first).
    """
    rows = VectorRows(sticky=True)
    districts = boundaries[boundaries["adcode"] != config.MUNICIPAL_ADCODE]
    for code, name, geom in zip(districts["adcode"], districts["name"], districts.geometry):
        des = list(designations.get(code, ()))
        fill = colors.get(des[0], "#ffffff") if des else "#ffffff"
        has_plan = code in with_plan
        lines = [f"<b>{esc(name)}</b>"]
        lines += [f'<span class="rr-tip-sub">{esc(d)}</span>' for d in des]
        if has_plan:
            lines.append('<span class="rr-tip-go">有区县规划 · 点击查看</span>')
        tip = "".join(lines) + click_key("d", code)
        style = path_style(
            PLAN_BORDER if has_plan else "#666666",
            2.6 if has_plan else 0.9,
            fill=True,
            fill_color=fill,
            fill_opacity=0.55 if des else 0.25,
        )
        for rings in _rings(geom):
            rows.add("polygon", rings, style, tooltip=tip)
    return rows.to_json()
