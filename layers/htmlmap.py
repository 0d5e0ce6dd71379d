"""A self-contained HTML map (opens from disk with no internet), and the folium layer of an imported file.

The map has no tile layer (tiles need the internet); county boundaries give the context.  Leaflet and its CSS
are inlined by :func:`layers.assets.inline_assets`, so the file has no external reference at all.
Every value that came from a file is escaped (:func:`layers.base.esc`) before it goes into HTML, and popups and
tooltips are bound as JSON strings (:class:`layers.base.BoundPopup`), so neither jQuery nor template literals are
involved.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import Element, MacroElement
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

import config
from geo.features import located_mask
from gisio.tabular import plain_value
from layers.assets import inline_assets, localise
from layers.base import BoundPopup, BoundTooltip, feature_popup_html, figure_of, latlng, line_latlngs, polygon_latlngs
from layers.jsonlayer import (
    POPUP_OPTIONS,
    TOOLTIP_OPTIONS,
    CircleLayer,
    VectorLayer,
    VectorRows,
    path_style,
    script_json,
)
from present.markup import esc

# Placeholder base URL for localise(); inline_assets() replaces every such reference with the file content.
_INLINE_BASE = "vendor"
_EXTERNAL_REF = re.compile(r"""<(?:script|link|img)\b[^>]*(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I)


def _add_geometry(
    group: folium.FeatureGroup, geom: BaseGeometry, colour: str, popup_html: str, tooltip_html: str
) -> None:
    """Draw one geometry; popup and tooltip are bound as JSON strings (no jQuery, no template literals)."""
    layers: list[MacroElement] = []
    if geom.geom_type in ("Point", "MultiPoint"):
        points = [geom] if geom.geom_type == "Point" else list(geom.geoms)
        for pt in points:
            layers.append(
                folium.CircleMarker(
                    location=[pt.y, pt.x],
                    radius=7,
                    color="#333333",
                    weight=1,
                    fill=True,
                    fill_color=colour,
                    fill_opacity=0.95,
                )
            )
    else:
        style = {"color": colour, "weight": 4, "fillColor": colour, "fillOpacity": 0.3}
        layers.append(folium.GeoJson(mapping(geom), style_function=lambda _f, s=style: s))
    for layer in layers:
        layer.add_child(BoundPopup(popup_html))
        layer.add_child(BoundTooltip(tooltip_html))
        layer.add_to(group)


def _legend(counts: dict[str, int], title: str) -> Element:
    rows = "".join(
        f'<div><span style="display:inline-block;width:12px;height:12px;border-radius:6px;margin-right:6px;'
        f'background:{config.CATEGORY_STYLE[c]["color"]};border:1px solid #333"></span>'
        f"{esc(config.CATEGORIES[c])}（{n}）</div>"
        for c, n in sorted(counts.items(), key=lambda kv: list(config.CATEGORIES).index(kv[0]))
    )
    box = (
        '<div id="rrmap-legend" style="position:absolute;bottom:24px;right:12px;z-index:1000;background:#fff;'
        'padding:8px 10px;border:1px solid #999;border-radius:4px;font:13px sans-serif;line-height:20px">'
        f"<b>图例</b>{rows}</div>"
        '<div id="rrmap-title" style="position:absolute;top:10px;left:60px;z-index:1000;background:#fff;'
        'padding:6px 12px;border:1px solid #999;border-radius:4px;font:bold 16px sans-serif">'
        f"{esc(title)}</div>"
    )
    return Element(box)


def build_map(
    features: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame | None = None, title: str = "乡村振兴规划一张图"
) -> folium.Map:
    """A folium map of the feature table: boundaries, one toggleable layer per category, legend and title.

    No tiles, so it works offline; pass the result to :func:`standalone_html`.
    """
    located = features[located_mask(features)]
    counties = set(features["county"].astype(str)) if len(features) else set()
    extent_parts = []
    if boundaries is not None and len(boundaries):
        shown = boundaries[boundaries["adcode"].isin(counties)] if counties else boundaries
        if shown.empty:
            shown = boundaries
        extent_parts.append(shown.total_bounds)
    if len(located):
        extent_parts.append(located.total_bounds)
    fmap = folium.Map(tiles=None, control_scale=True, zoom_snap=0.25, prefer_canvas=False)
    # Only Leaflet itself is used (circle markers, GeoJSON): leave out the icon fonts and plugins, which would
    # add megabytes to the inlined file.
    fmap.default_js = [item for item in fmap.default_js if item[0] == "leaflet"]
    fmap.default_css = [item for item in fmap.default_css if item[0] == "leaflet_css"]
    if boundaries is not None and len(boundaries):
        folium.GeoJson(
            boundaries[["adcode", "name", "geometry"]].to_json(drop_id=True),
            name="行政区划",
            style_function=lambda _f: dict(config.BOUNDARY_STYLE),
        ).add_to(fmap)
    counts: dict[str, int] = {}
    # Towns last: a demonstration town sits at the seat its villages are placed at, and must not hide under them.
    order = [c for c in config.CATEGORIES if c != "demo_town"] + ["demo_town"]
    for category in order:
        label = config.CATEGORIES[category]
        part = located[located["category"] == category]
        if part.empty:
            continue
        counts[category] = len(part)
        group = folium.FeatureGroup(name=f"{label}（{len(part)}）", show=True)
        colour = config.CATEGORY_STYLE[category]["color"]
        for row, geom in zip(part.to_dict("records"), part.geometry.values):
            row = {k: plain_value(v) for k, v in row.items()}
            _add_geometry(group, geom, colour, feature_popup_html(row), f"<b>{esc(row['name'])}</b>")
        group.add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    figure_of(fmap).html.add_child(_legend(counts, title))
    figure_of(fmap).header.add_child(Element(f"<title>{esc(title)}</title>"))
    if extent_parts:
        minx = min(b[0] for b in extent_parts)
        miny = min(b[1] for b in extent_parts)
        maxx = max(b[2] for b in extent_parts)
        maxy = max(b[3] for b in extent_parts)
        fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    return fmap


def standalone_html(fmap: folium.Map) -> str:
    """The HTML of ``fmap`` with Leaflet and every other asset inlined: one file, no internet needed.

    Raises
    ------
    layers.assets.OfflineAssetError
        The map uses an asset that is not vendored (``make assets``).
    ValueError
        Something in the page would still load from the internet.
    """
    localise(fmap, base_url=_INLINE_BASE)
    page = inline_assets(figure_of(fmap).render())
    match = _EXTERNAL_REF.search(page)
    if match:
        raise ValueError(f"地图仍引用外部资源：{match.group(0)[:120]}")
    return page


def map_html(
    features: gpd.GeoDataFrame, *, boundaries: gpd.GeoDataFrame | None = None, title: str = "乡村振兴规划一张图"
) -> Callable[[], str]:
    """The self-contained page of ``features`` as a deferred call, for :func:`gisio.export.export_features`'s
    ``html`` (the page is built only when the HTML format is written)."""
    return lambda: standalone_html(build_map(features, boundaries, title))


# An imported layer is drawn with at most this many vertices; heavier geometries are simplified for display only.
_DRAWN_VERTICES = 200_000
_DISPLAY_TOLERANCE = 1e-4  # degrees (about 10 m)
# Attributes shown in an imported feature's popup, and characters per value.
_POPUP_FIELDS = 12
_POPUP_CHARS = 200


def _shown_value(value: object) -> str:
    text = str(value)
    return text if len(text) <= _POPUP_CHARS else text[:_POPUP_CHARS] + "…"


def imported_layer(
    gdf: gpd.GeoDataFrame,
    *,
    name: str = "导入图层",
    colour: str = "#E31A1C",
    label_field: str | None = None,
    max_features: int | None = None,
) -> folium.FeatureGroup:
    """A folium FeatureGroup showing an imported layer (EPSG:4326), with escaped tooltips and popups.

    Built as two data-driven layers (:class:`layers.jsonlayer.CircleLayer` for points,
    :class:`layers.jsonlayer.VectorLayer` for lines and areas): one element each, however many features.  At most
    ``max_features`` (default ``config.MAX_DRAWN_IMPORTED``) features are drawn, and a layer heavier than
    200,000 vertices is simplified for display (:func:`drawn_count` says how many are drawn).
    The app adds it to its map: ``imported_layer(result.gdf, label_field=result.name_field).add_to(fmap)``.
    """
    group = folium.FeatureGroup(name=name, show=True)
    shown = _drawn(gdf, max_features)
    geoms = np.asarray(shown.geometry.values, dtype=object)
    if len(geoms) and int(shapely.get_num_coordinates(geoms).sum()) > _DRAWN_VERTICES:
        geoms = shapely.simplify(geoms, _DISPLAY_TOLERANCE, preserve_topology=True)
    circle = {"radius": 7, "color": "#333333", "weight": 1, "fill": True, "fillColor": colour, "fillOpacity": 0.95}
    points: list[list[object]] = []
    vectors = VectorRows(sticky=True)
    style = path_style(colour, 4, fill=True, fill_color=colour, fill_opacity=0.3)
    line_style = path_style(colour, 4)
    records = shown.drop(columns=shown.geometry.name).to_dict("records")
    for row, geom in zip(records, geoms):
        label = esc(_shown_value(plain_value(row.get(label_field)))) if label_field else ""
        lines = [
            f"{esc(k)}：{esc(_shown_value(plain_value(v)))}"
            for k, v in list(row.items())[:_POPUP_FIELDS]
            if plain_value(v) is not None
        ]
        popup, tooltip = "<br>".join(lines) or esc(name), label or esc(name)
        for part in shapely.get_parts(geom):
            if part.geom_type == "Point":
                points.append([*latlng(part), tooltip, popup])
            elif part.geom_type in ("LineString", "LinearRing"):
                vectors.add("polyline", line_latlngs(part), line_style, tooltip=tooltip, popup=popup)
            elif part.geom_type == "Polygon":
                vectors.add("polygon", polygon_latlngs(part), style, tooltip=tooltip, popup=popup)
    if len(vectors):
        group.add_child(VectorLayer(vectors.to_json(), "ImportedVectors"))
    if points:
        data = script_json([circle, points, {**TOOLTIP_OPTIONS, "sticky": True}, POPUP_OPTIONS])
        group.add_child(CircleLayer(data, "ImportedPoints"))
    return group


def _drawn(gdf: gpd.GeoDataFrame, max_features: int | None) -> gpd.GeoDataFrame:
    limit = config.MAX_DRAWN_IMPORTED if max_features is None else max_features
    present = gdf.geometry.notna() & ~gdf.geometry.is_empty
    return gdf[present].iloc[:limit]


def drawn_count(gdf: gpd.GeoDataFrame, max_features: int | None = None) -> tuple[int, int]:
    """(features drawn by :func:`imported_layer`, features with a geometry) of an imported layer."""
    present = int((gdf.geometry.notna() & ~gdf.geometry.is_empty).sum())
    limit = config.MAX_DRAWN_IMPORTED if max_features is None else max_features
    return min(present, limit), present
