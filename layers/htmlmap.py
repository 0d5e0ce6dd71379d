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
from branca.element import Element, MacroElement
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

import config
from geo.features import located_mask
from gisio.tabular import plain_value
from layers.assets import inline_assets, localise
from layers.base import BoundPopup, BoundTooltip, feature_popup_html, figure_of
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


def imported_layer(
    gdf: gpd.GeoDataFrame, *, name: str = "导入图层", colour: str = "#E31A1C", label_field: str | None = None
) -> folium.FeatureGroup:
    """A folium FeatureGroup showing an imported layer (EPSG:4326), with escaped tooltips.

    The app adds it to its map: ``imported_layer(result.gdf, label_field=result.name_field).add_to(fmap)``.
    """
    group = folium.FeatureGroup(name=name, show=True)
    for row, geom in zip(gdf.drop(columns=gdf.geometry.name).to_dict("records"), gdf.geometry.values):
        if geom is None or geom.is_empty:
            continue
        label = esc(plain_value(row.get(label_field))) if label_field else ""
        lines = [f"{esc(k)}：{esc(plain_value(v))}" for k, v in list(row.items())[:12] if plain_value(v) is not None]
        _add_geometry(group, geom, colour, "<br>".join(lines) or esc(name), label or esc(name))
    return group
