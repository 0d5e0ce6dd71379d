"""The live map and the panel beside it, in one fragment: a click on the map reruns only these two.

The static part of a view (boundaries, legend, extent) is cached per view and basemap; the plan overlays go to
``st_folium`` as feature groups, so toggling a layer or selecting a row keeps the user's pan and zoom.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import geopandas as gpd
import streamlit as st
from streamlit_folium import st_folium

import config
from geo.crs import gcj02_to_wgs84, wgs84_to_gcj02
from gisio.errors import GisIOError
from gisio.normalise import ImportResult
from gisio.printmap import Extent, check_extent, plan_source, plan_titles
from layers.assets import live_assets
from layers.base import parse_click
from layers.htmlmap import imported_layer
from layers.mapview import (
    BASEMAPS,
    MAP_HEIGHT,
    StaticPart,
    basemap_available,
    map_key,
    map_view,
    selection_geometry,
    static_part,
    to_display,
    town_label_list,
)
from present.countyview import CountyView
from ui import data, editor, state
from ui.exchange import PrintContext
from ui.panel import render_panel
from ui.sidebar import enter_county


@st.cache_data(show_spinner=False, max_entries=32)
def cached_static(county: str, basemap: str, *, with_boundaries: bool = True, revision: str = "") -> StaticPart:
    """Boundaries, legend and extent of a view (what filters and selection never change), per basemap and store
    revision (the legend counts what is located)."""
    view = data.county_view(county)
    names = data.plan_names()
    with_plan = {c: names[c] for c in names if c != config.MUNICIPAL_ADCODE}
    title = "重庆市 图例" if view.municipal else f"{view.plan.county_name} 图例"
    return static_part(
        county,
        municipal=view.municipal,
        features=view.features,
        boundaries=data.boundaries() if with_boundaries else None,
        basemap=basemap,
        with_plan=with_plan,
        title=title,
    )


def display_seats(seats: dict[str, tuple[float, float]], gcj02: bool) -> dict[str, tuple[float, float]]:
    """Town seats in the basemap's datum (GCJ-02 for AMap: display only)."""
    if not gcj02:
        return seats
    return {name: wgs84_to_gcj02(lon, lat) for name, (lon, lat) in seats.items()}


HANDLED_CLICK = "_map_click_seen"  # (map key, click count) of the last click acted on


def on_map_click(key: str) -> None:
    """st_folium's on_change: the clicked layer's tooltip carries its key (``f:``/``t:``/``d:``); select it.

    The map also reports its bounds when it is moved: only a new click (its count changed) selects.  In the edit
    mode the map's clicks draw; the edited item stays selected.  A click on the map of the view just left (its frame
    stays on the page until the new map is drawn) is dropped: its item is not in this view, and selecting it would
    leave the panel empty.
    """
    if editor.editing_item() is not None or not key.startswith(map_key(state.county(), "")):
        return
    value = st.session_state.get(key) or {}
    seen = (key, value.get("last_object_clicked_count"))
    if seen == st.session_state.get(HANDLED_CLICK):
        return
    st.session_state[HANDLED_CLICK] = seen
    clicked = parse_click(value.get("last_object_clicked_tooltip"))
    if not clicked:
        return
    kind, code = clicked
    if kind == "d" and code != config.MUNICIPAL_ADCODE and code in data.plan_names():
        enter_county(code)  # a district with its own plan opens at once (the fragment then reruns the page)
        return
    state.select(f"{kind}:{code}", focus=False)


def shown_basemap() -> str:
    """The basemap drawn: the chosen one, or none when it cannot be used (a Tianditu choice without a key)."""
    basemap = state.basemap()
    return basemap if basemap_available(basemap, data.tianditu_key())[0] else "none"


def view_extent(county: str) -> Extent | None:
    """The live map's current bounds in WGS84 ``(west, south, east, north)``, once the map has reported them."""
    basemap = shown_basemap()
    bounds = (st.session_state.get(map_key(county, basemap)) or {}).get("bounds") or {}
    try:
        south, west = bounds["_southWest"]["lat"], bounds["_southWest"]["lng"]
        north, east = bounds["_northEast"]["lat"], bounds["_northEast"]["lng"]
        if BASEMAPS[basemap].gcj02:  # AMap shows GCJ-02: back to WGS84
            west, south = gcj02_to_wgs84(west, south)
            east, north = gcj02_to_wgs84(east, north)
        return check_extent((west, south, east, north))
    except (KeyError, TypeError, GisIOError):
        return None


def render_map(
    view: CountyView,
    shown: gpd.GeoDataFrame,
    *,
    with_boundaries: bool,
    imported: ImportResult | None = None,
) -> Any:
    """The map of the view; a click selects the clicked item (:func:`on_map_click`), without a second run.

    Returns the map's value (in the edit mode it holds the user's drawing).
    """
    basemap = shown_basemap()
    gcj = BASEMAPS[basemap].gcj02
    seats = display_seats(dict(view.seats), gcj)
    counts = view.mention_counts() if seats else {}
    selected = state.selected()
    focus = state.focused()
    sel_geom = None
    if selected and selected.startswith("f:"):
        sel_geom = selection_geometry(to_display(view.features, basemap), selected[2:])
    town_focus = seats.get(selected[2:]) if focus and selected and selected.startswith("t:") else None
    extra = []
    if imported is not None:
        # A GIS team's layer rides with the plan layers (dynamic), so showing it keeps the user's view.
        extra.append(imported_layer(to_display(imported.gdf, basemap), label_field=imported.name_field))
    mv = map_view(
        cached_static(view.county, basemap, with_boundaries=with_boundaries, revision=view.revision),
        to_display(shown, basemap),
        tianditu_key=data.tianditu_key(),
        towns=town_label_list(seats, counts),
        selected=sel_geom,
        focus=focus,
        town_focus=town_focus,
        extra_groups=extra,
        editing=editor.edit_target(view),
    )
    if mv.empty:
        st.info("尚无行政区划边界数据，也没有可定位的要素：地图暂为空白。")
    fmap = live_assets(mv.fmap, mv.groups)
    return st_folium(fmap, **mv.kwargs(MAP_HEIGHT), on_change=partial(on_map_click, mv.key))


@st.fragment
def render_map_and_panel(
    view: CountyView,
    shown: gpd.GeoDataFrame,
    *,
    boundaries: gpd.GeoDataFrame | None,
    imported: ImportResult | None = None,
) -> None:
    """Map and side panel: a click on the map reruns only these, not the tables and charts below.

    The URL is written here, once per run (a map click reruns only this fragment).
    """
    if state.county() != view.county:  # a click opened another plan: the whole page changes
        st.rerun(scope="app")
    left, right = st.columns([5, 2], gap="medium")
    with left:
        value = render_map(view, shown, with_boundaries=boundaries is not None, imported=imported)
    with right:
        render_panel(view, boundaries, value)
    state.write_url()


def print_context(view: CountyView) -> PrintContext:
    """Default subtitle and source of the view's print layout, its town seats and the live map's extent."""
    _title, subtitle = plan_titles(view.plan)
    return PrintContext(
        subtitle=subtitle, source=plan_source(view.plan), towns=dict(view.seats), view_extent=view_extent(view.county)
    )
