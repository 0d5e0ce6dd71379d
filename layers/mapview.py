"""Build the folium map of a view: basemap, boundaries, legend (static) and the plan overlays (dynamic).

The static part goes to ``st_folium`` as the map; the overlays go as ``feature_group_to_add``, which
streamlit-folium swaps without reloading the map, so toggling a layer or selecting a row keeps the view.
Overlay element ids are deterministic (:func:`layers.base.stable_ids`), so an unchanged overlay is not redrawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import folium
import geopandas as gpd
from branca.element import Element, MacroElement
from shapely.geometry.base import BaseGeometry

import config
from geo.crs import to_crs
from geo.rivers import load_rivers
from layers.areas import area_layers
from layers.base import (
    DECIMALS,
    SELECT_COLOR,
    bounds_latlng,
    figure_of,
    kind_of,
    latlng,
    line_latlngs,
    parts,
    polygon_latlngs,
    stable_ids,
)
from layers.belts import belt_layers
from layers.boundaries import county_outline_data, designation_colors, district_data
from layers.drawing import DrawSupport, EditTarget, edit_group
from layers.icons import icon_css
from layers.jsonlayer import VectorLayer
from layers.labels import DistrictLabel, TownLabel, district_labels, town_labels
from layers.legend import MapLegend, count_by_category, legend_html
from layers.points import point_layers
from layers.viewcontrol import LegendLayer, ViewControl
from present.filters import district_items

# --- basemaps -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Basemap:
    key: str
    label: str
    tiles: tuple[str, ...]  # URL templates, bottom first
    attribution: str
    subdomains: str = ""
    needs_key: bool = False
    gcj02: bool = False
    max_zoom: int = 18
    short: str = ""  # the chip label in the sidebar (``label`` is the full description)

    @property
    def chip(self) -> str:
        return self.short or self.label


_TDT = (
    "https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER={layer}"
    "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={{tk}}"
)
BASEMAPS: dict[str, Basemap] = {
    "none": Basemap("none", "无底图（仅边界与图层，适合内网）", (), "", short="无底图"),
    "tdt_vec": Basemap(
        "tdt_vec",
        "天地图 矢量+注记",
        (_TDT.format(layer="vec"), _TDT.format(layer="cva")),
        "© 天地图 国家地理信息公共服务平台",
        "01234567",
        needs_key=True,
        short="天地图矢量",
    ),
    "tdt_img": Basemap(
        "tdt_img",
        "天地图 影像+注记",
        (_TDT.format(layer="img"), _TDT.format(layer="cia")),
        "© 天地图 国家地理信息公共服务平台",
        "01234567",
        needs_key=True,
        short="天地图影像",
    ),
    "amap": Basemap(
        "amap",
        "高德地图（图层已转 GCJ-02 显示）",
        ("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",),
        "© 高德地图 AutoNavi",
        "1234",
        gcj02=True,
        short="高德",
    ),
    "osm": Basemap(
        "osm",
        "OpenStreetMap",
        ("https://tile.openstreetmap.org/{z}/{x}/{y}.png",),
        "© OpenStreetMap contributors",
        max_zoom=19,
        short="OSM",
    ),
}


def basemap_available(key: str, tianditu_key: str) -> tuple[bool, str]:
    """Whether a basemap can be used, and why not (Chinese)."""
    bm = BASEMAPS[key]
    if bm.needs_key and not tianditu_key:
        return False, "未配置天地图密钥：请设置环境变量 TIANDITU_KEY 或 Streamlit secrets 中的 TIANDITU_KEY。"
    return True, ""


def to_display(frame: gpd.GeoDataFrame, basemap: str) -> gpd.GeoDataFrame:
    """The frame in the datum of the basemap: shifted to GCJ-02 for AMap (display only), else unchanged."""
    if BASEMAPS[basemap].gcj02:
        return to_crs(frame, "gcj02")
    return frame


def river_frame() -> gpd.GeoDataFrame:
    """The river lines of ``data/rivers`` as a frame (``name``, geometry; EPSG:4326)."""
    rivers = load_rivers()
    return gpd.GeoDataFrame({"name": [r.name for r in rivers]}, geometry=[r.geometry for r in rivers], crs="EPSG:4326")


# --- static part ----------------------------------------------------------------------------------------------

MAP_CSS = """
<style>
/* The map fills its frame, whose height follows the browser window (ui.page). */
html, body { margin: 0; overflow: hidden; }
#map_div { height: 100vh !important; }
.leaflet-container { background: #eef1f4; font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif; }
.rr-icon, .rr-town-icon { background: none; border: none; }
.rr-pin { box-sizing: border-box; border-radius: 50%; background: var(--c); border: 2px solid #fff;
  display: flex; align-items: center; justify-content: center; color: #fff; font-size: 12px;
  box-shadow: 0 1px 3px rgba(0,0,0,.45); }
.rr-pin.rr-l2 { font-size: 14px; }
.rr-pin.rr-l3 { font-size: 15px; box-shadow: 0 0 0 2px #fff, 0 0 0 4px var(--c), 0 1px 4px rgba(0,0,0,.5); }
.rr-pin.rr-l4 { font-size: 17px; box-shadow: 0 0 0 2px #fff, 0 0 0 4px var(--c), 0 0 0 6px #fff, 0 0 0 8px var(--c); }
.rr-pin.rr-approx { background: #fff; color: var(--c); border: 2px dashed var(--c); }
.rr-pin.rr-drawn { border: 2px dotted #111; }
.rr-cluster div { width: 30px; height: 30px; border-radius: 50%; background: rgba(40,40,40,.82); color: #fff;
  border: 2px solid #fff; display: flex; align-items: center; justify-content: center; font-weight: 600;
  box-shadow: 0 1px 4px rgba(0,0,0,.5); }
.rr-town { position: relative; white-space: nowrap; pointer-events: auto; }
.rr-town-dot { position: absolute; left: -3px; top: -3px; width: 6px; height: 6px; border-radius: 50%;
  background: #333; border: 1px solid #fff; display: inline-block; }
.rr-town-name { position: absolute; left: 22px; top: -7px; font-size: 11px; color: #222; cursor: pointer;
  text-shadow: 0 0 2px #fff, 0 0 2px #fff, 0 0 3px #fff; }
.rr-label-name.rr-hidden { visibility: hidden; }
.rr-district { position: relative; white-space: nowrap; pointer-events: auto; }
.rr-district-name { position: absolute; transform: translate(-50%, -50%); font-size: 12px; font-weight: 600;
  color: #333; cursor: pointer; text-shadow: 0 0 2px #fff, 0 0 2px #fff, 0 0 3px #fff, 0 0 4px #fff; }
.rr-district-name.rr-has-plan { color: #8B0000; font-size: 13px; }
.rr-legend .rr-town { display: inline-block; width: 22px; height: 10px; }
.rr-legend .rr-town-dot { left: 8px; top: 2px; }
.rr-tip b { display: block; }
.rr-tip-sub { display: block; color: #555; font-size: 11px; }
.rr-tip-go { display: block; color: #B22222; font-size: 11px; }
.rr-pop { font-size: 12px; line-height: 1.5; }
.rr-pop-cat { font-weight: 600; font-size: 11px; }
.rr-pop-name { font-size: 15px; font-weight: 700; }
.rr-pop-des { color: #8B0000; }
.rr-pop-quote { margin: 4px 0; padding: 2px 8px; border-left: 3px solid #ccc; color: #333; background: #fafafa; }
.rr-pop-src, .rr-pop-prec { color: #666; font-size: 11px; }
.rr-label { background: none; border: none; white-space: nowrap; pointer-events: none; }
.rr-label span { display: inline-block; transform: translate(-50%, -50%); font-size: 12px; font-weight: 600;
  text-shadow: 0 0 2px #fff, 0 0 2px #fff, 0 0 3px #fff; }
.rr-schematic span { color: #555; letter-spacing: 2px; }
.rr-river span { color: #2b6cb0; font-style: italic; font-weight: 500; letter-spacing: 3px; }
.rr-legend { background: rgba(255,255,255,.94); padding: 6px 8px; border-radius: 6px; font-size: 11px;
  box-shadow: 0 1px 5px rgba(0,0,0,.3); max-height: calc(100vh - 90px); overflow-y: auto; min-width: 130px;
  max-width: 170px; } /* narrow: the county is fitted beside it */
.rr-legend summary { font-weight: 700; cursor: pointer; }
.rr-lg-row .rr-pin { font-size: 10px; }
.rr-lg-sub { font-weight: 600; margin-top: 6px; color: #444; }
.rr-lg-row { display: flex; align-items: center; gap: 6px; margin: 2px 0; }
.rr-lg-n { margin-left: auto; color: #666; padding-left: 8px; }
.rr-lg-pin { display: inline-flex; align-items: center; justify-content: center; min-width: 22px; height: 26px; }
.rr-lg-pin .rr-pin { transform: scale(.7); flex: none; }
.rr-lg-sizes .rr-lg-pin { min-width: 0; margin-right: -4px; }
.rr-lg-sizes { gap: 0; }
.rr-lg-note { color: #666; font-size: 11px; }
.rr-lg-line { display: inline-block; width: 22px; border-top: 4px solid; }
.rr-lg-area { display: inline-block; width: 18px; height: 12px; border: 2px solid; }
</style>
"""


def base_map(
    boundary_layers: Sequence[Element],
    legend: str | None,
    *,
    basemap: str = "none",
    tianditu_key: str = "",
    fit: BaseGeometry | None = None,
    live: bool = False,
) -> folium.Map:
    """The static part of a view.

    ``boundary_layers`` come from :mod:`layers.boundaries` (already in the display datum); ``fit``: geometry to
    fit the view to (display datum), computed from the data — no hard-coded centre; ``legend``: fixed legend
    markup.  ``live``: the app's map, whose :class:`layers.viewcontrol.ViewControl` fits the view to the window
    and holds the legend the overlays set (:class:`layers.viewcontrol.LegendLayer`).
    """
    bm = BASEMAPS[basemap]
    fmap = folium.Map(tiles=None, control_scale=True, zoom_control=True, max_zoom=bm.max_zoom)
    # Without a tile layer Leaflet has no maxZoom, which the marker cluster needs.
    fmap.options["maxZoom"] = bm.max_zoom
    fmap.options["minZoom"] = 6
    fmap.options["zoomSnap"] = 0.25  # fit the county tightly, not to the nearest whole zoom level
    figure_of(fmap).header.add_child(Element(MAP_CSS), name="rr_css")
    figure_of(fmap).header.add_child(Element(f"<style>\n{icon_css()}\n</style>"), name="rr_icons")
    for url in bm.tiles:
        folium.TileLayer(
            tiles=url.replace("{tk}", tianditu_key),
            attr=bm.attribution,
            subdomains=bm.subdomains or "abc",
            max_zoom=bm.max_zoom,
            overlay=False,
            control=False,
        ).add_to(fmap)
    for layer in boundary_layers:
        layer.add_to(fmap)
    if fit is not None and not fit.is_empty:
        if live:
            fmap.add_child(ViewControl(bounds_latlng(fit.bounds)))
        else:
            fmap.fit_bounds(bounds_latlng(fit.bounds))
    if legend:
        fmap.add_child(MapLegend(legend))
    return fmap


# --- dynamic part ---------------------------------------------------------------------------------------------


def selection_layers(geom: BaseGeometry | None) -> list[MacroElement]:
    """A red ring/outline around the selected item (not clickable)."""
    out: list[MacroElement] = []
    for g in parts(geom):
        if g.geom_type == "Point":
            out.append(
                folium.CircleMarker(latlng(g), radius=24, color=SELECT_COLOR, weight=4, fill=False, interactive=False)
            )
        elif g.geom_type in ("LineString", "LinearRing"):
            out.append(folium.PolyLine(line_latlngs(g), color=SELECT_COLOR, weight=9, opacity=0.55, interactive=False))
        elif g.geom_type == "Polygon":
            out.append(folium.Polygon(polygon_latlngs(g), color=SELECT_COLOR, weight=4, fill=False, interactive=False))
    return out


def _group(name: str, layers: Sequence[Element]) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=name)
    for layer in layers:
        group.add_child(layer)
    return group


def overlay_groups(
    features: gpd.GeoDataFrame,
    towns: Sequence[TownLabel] = (),
    selected: BaseGeometry | None = None,
    *,
    districts: Sequence[DistrictLabel] = (),
    legend: str | None = None,
) -> list[folium.FeatureGroup]:
    """Dynamic overlays: areas, belts and clustered points of ``features`` (already filtered and in the display
    datum), town and district names, the selection ring and the legend's content (``legend``: markup of what
    these overlays draw).  Deterministic ids: same input, same JS."""
    groups: list[folium.FeatureGroup] = []
    located = features[features.geometry.notna()]
    if legend is not None:
        groups.append(_group("图例", [LegendLayer(legend)]))
    if districts:
        groups.append(_group("区县名称", district_labels(districts)))
    if towns:
        groups.append(_group("乡镇驻地", town_labels(towns)))
    groups.append(_group("规划要素", [*area_layers(located), *belt_layers(located), *point_layers(located)]))
    if selected is not None and not selected.is_empty:
        groups.append(_group("选中", selection_layers(selected)))
    for i, group in enumerate(groups):
        stable_ids(group, f"g{i}x")
    return groups


def focus_view(geom: BaseGeometry | None, zoom: int = 12) -> tuple[tuple[float, float] | None, int | None]:
    """Centre (lat, lng) and zoom for a selected geometry (its representative point), or (None, None)."""
    if geom is None or geom.is_empty:
        return None, None
    kind = kind_of(geom)
    pt = geom.representative_point() if kind == "area" else geom.centroid
    if kind in ("area", "line"):
        minx, miny, maxx, maxy = geom.bounds
        span = max(maxx - minx, maxy - miny)
        zoom = 12 if span < 0.05 else 11 if span < 0.15 else 10 if span < 0.35 else 9
    return (round(pt.y, DECIMALS), round(pt.x, DECIMALS)), zoom


def counts_by_kind(features: gpd.GeoDataFrame) -> dict[str, str]:
    """category -> drawn kind ('point'/'line'/'area') of its first located row, for the legend."""
    out: dict[str, str] = {}
    for cat, geom in zip(features["category"], features.geometry):
        kind = kind_of(geom)
        if kind and cat not in out:
            out[cat] = kind
    return out


def selection_geometry(features: gpd.GeoDataFrame, entity_id: str | None) -> BaseGeometry | None:
    if not entity_id:
        return None
    hit = features[features["id"] == entity_id]
    if hit.empty:
        return None
    return hit.geometry.iloc[0]


def fit_geometry(
    boundaries: gpd.GeoDataFrame | None, county: str, features: gpd.GeoDataFrame | None = None
) -> BaseGeometry | None:
    """What to fit the view to: the county polygon (or the municipality), else the located features."""
    if boundaries is not None and not boundaries.empty:
        hit = boundaries[boundaries["adcode"] == county]
        if not hit.empty:
            return hit.geometry.iloc[0]
    if features is not None:
        loc = features[features.geometry.notna()]
        if not loc.empty:
            return loc.geometry.union_all().envelope
    return None


def town_label_list(seats: Mapping[str, tuple[float, float]], counts: Mapping[str, int]) -> list[TownLabel]:
    """TownLabel per town name with a seat ``(lon, lat)``."""
    return [TownLabel(name, lon, lat, counts.get(name, 0)) for name, (lon, lat) in seats.items()]


# --- a whole view ---------------------------------------------------------------------------------------------

MAP_HEIGHT = 640
# The clicked layer's tooltip carries its key; the count tells a new click from a map move (bounds: the print
# layout's "current view").
RETURNED_OBJECTS = ("last_object_clicked_tooltip", "last_object_clicked_count", "bounds")
# In the edit mode the map also returns the drawing (streamlit-folium reads this list once, when the map is made:
# the edit mode is a map of its own).
EDIT_RETURNED_OBJECTS = (*RETURNED_OBJECTS, "all_drawings")


def not_district(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Rows of the municipal plan that are not whole districts (those are drawn as the district fills)."""
    return frame[frame.geometry.map(lambda g: g is not None and g.geom_type not in ("Polygon", "MultiPolygon"))]


@dataclass(frozen=True)
class StaticPart:
    """What a view draws whatever the filters and the selection: boundaries (as layer JSON), district names, the
    legend's fixed entries and title, the extent.

    Plain values and a geometry, so the app can cache it per view and basemap.
    """

    county: str
    basemap: str
    municipal: bool
    boundaries: str | None  # VectorLayer JSON in the basemap's datum, None without boundary data
    title: str  # the legend's title
    designations: Mapping[str, str]  # municipal view: designation -> district fill colour
    fit: BaseGeometry | None  # the county (or municipality) polygon in the display datum, None without it
    district_names: tuple[DistrictLabel, ...] = ()

    def legend(self, drawn: gpd.GeoDataFrame, *, seats: bool) -> str:
        """Legend markup of what is drawn now: the categories of ``drawn`` with counts (and the fixed entries)."""
        located = drawn[drawn.geometry.notna()]
        return legend_html(
            count_by_category(located["category"]),
            kinds=counts_by_kind(located),
            designations=self.designations,
            title=self.title,
            municipal=self.municipal,
            seats=seats,
            drawn=bool((located["precision"] == "drawn").any()) if "precision" in located.columns else False,
        )


def district_name_labels(boundaries: gpd.GeoDataFrame, with_plan: Mapping[str, str]) -> tuple[DistrictLabel, ...]:
    """A name per district at a point inside it; districts with a plan first, then the larger ones."""
    districts = boundaries[boundaries["adcode"] != config.MUNICIPAL_ADCODE]
    out = []
    for code, name, geom in zip(districts["adcode"], districts["name"], districts.geometry):
        if geom is None or geom.is_empty:
            continue
        pt = geom.representative_point()
        has_plan = code in with_plan
        out.append(
            DistrictLabel(str(name), pt.x, pt.y, str(code), has_plan, (1000 if has_plan else 0) + geom.area * 100)
        )
    return tuple(out)


def static_part(
    county: str,
    *,
    municipal: bool,
    features: gpd.GeoDataFrame,
    boundaries: gpd.GeoDataFrame | None,
    basemap: str = "none",
    with_plan: Mapping[str, str] | None = None,
    title: str = "图例",
) -> StaticPart:
    """The static part of a view from every item of its plan (not the filtered ones: changing the static part
    remounts the map and loses the user's view).

    ``features`` and ``boundaries`` in WGS84; ``with_plan``: adcode -> name of districts with a county plan
    (municipal view); ``title``: legend title.
    """
    bounds = to_display(boundaries, basemap) if boundaries is not None else None
    colors: dict[str, str] = {}
    names: tuple[DistrictLabel, ...] = ()
    if municipal:
        items = district_items(features, boundaries) if boundaries is not None else {}
        des_by_district = {c: [d or n for _, n, d in its] for c, its in items.items()}
        colors = designation_colors(list(dict.fromkeys(d for ds in des_by_district.values() for d in ds)))
        data = (
            district_data(bounds, with_plan=with_plan or {}, designations=des_by_district, colors=colors)
            if bounds is not None
            else None
        )
        names = district_name_labels(bounds, with_plan or {}) if bounds is not None else ()
    else:
        data = (
            county_outline_data(bounds, county, rivers=to_display(river_frame(), basemap))
            if bounds is not None
            else None
        )
    fit = fit_geometry(bounds, county) if bounds is not None else None
    return StaticPart(county, basemap, municipal, data, title, colors, fit, names)


@dataclass
class MapView:
    """Everything ``st_folium`` needs for a view; :meth:`kwargs` gives its arguments."""

    fmap: folium.Map
    groups: list[folium.FeatureGroup]
    key: str
    center: tuple[float, float] | None = None
    zoom: int | None = None
    empty: bool = False  # nothing to fit the view to: no boundaries and no located feature
    editing: bool = False  # the edit mode's map (drawing tools, returns the drawing)

    def kwargs(self, height: int = MAP_HEIGHT) -> dict[str, Any]:
        """Keyword arguments of ``st_folium`` (besides the map itself and ``on_change``)."""
        return {
            "key": self.key,
            "height": height,
            "use_container_width": True,
            "returned_objects": list(EDIT_RETURNED_OBJECTS if self.editing else RETURNED_OBJECTS),
            "feature_group_to_add": self.groups,
            "center": self.center,
            "zoom": self.zoom,
        }


def map_key(county: str, basemap: str, editing: bool = False) -> str:
    """The st_folium key of a view: one map component per view and basemap (and one more for the edit mode)."""
    return f"map_{county}_{basemap}" + ("_edit" if editing else "")


def map_view(
    static: StaticPart,
    shown: gpd.GeoDataFrame,
    *,
    tianditu_key: str = "",
    towns: Sequence[TownLabel] = (),
    selected: BaseGeometry | None = None,
    focus: bool = False,
    town_focus: tuple[float, float] | None = None,
    extra_groups: Sequence[folium.FeatureGroup] = (),
    editing: EditTarget | None = None,
) -> MapView:
    """The map of a view: the static part as the map, the plan overlays as feature groups.

    ``shown``: the filtered items in the display datum; ``selected``: geometry of the selected item (display
    datum), ringed when ``focus``; ``town_focus``: (lon, lat) of a selected town to centre on; ``extra_groups``:
    further overlays (an imported layer), drawn above the plan's; ``editing``: the item being drawn (display
    datum), which makes this the edit mode's map (:mod:`layers.drawing`).
    """
    drawn = not_district(shown) if static.municipal else shown
    fit = static.fit if static.fit is not None else fit_geometry(None, static.county, shown)
    boundary_layers = [VectorLayer(static.boundaries, "BoundaryLayer")] if static.boundaries else []
    fmap = base_map(boundary_layers, None, basemap=static.basemap, tianditu_key=tianditu_key, fit=fit, live=True)
    ring = selected if focus else None
    legend = static.legend(drawn, seats=bool(towns))
    groups = overlay_groups(drawn, towns, ring, districts=static.district_names, legend=legend)
    for j, group in enumerate(extra_groups):
        stable_ids(group, f"x{j}x")  # same layer, same JS: st_folium does not redraw it on every rerun
        groups.append(group)
    if editing is not None:
        DrawSupport().add_to(fmap)
        groups.append(edit_group(editing))
    center, zoom = focus_view(ring) if focus else (None, None)
    if town_focus is not None:
        lon, lat = town_focus
        center, zoom = (round(lat, DECIMALS), round(lon, DECIMALS)), 12
    key = map_key(static.county, static.basemap, editing is not None)
    return MapView(fmap, groups, key, center, zoom, empty=fit is None, editing=editing is not None)
