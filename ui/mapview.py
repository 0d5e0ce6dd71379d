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
from geo.crs import wgs84_to_gcj02
from gisio.normalise import ImportResult
from layers.assets import live_assets
from layers.base import parse_click
from layers.htmlmap import imported_layer
from layers.mapview import (
    BASEMAPS,
    MAP_HEIGHT,
    StaticPart,
    basemap_available,
    map_view,
    selection_geometry,
    static_part,
    to_display,
    town_label_list,
)
from present.countyview import CountyView
from ui import data, editor, state
from ui.panel import render_panel


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


def on_map_click(key: str) -> None:
    """st_folium's on_change: the clicked layer's tooltip carries its key (``f:``/``t:``/``d:``); select it.

    In the edit mode the map's clicks draw; the edited item stays selected.
    """
    if editor.editing_item() is not None:
        return
    clicked = parse_click((st.session_state.get(key) or {}).get("last_object_clicked_tooltip"))
    if clicked:
        state.select(f"{clicked[0]}:{clicked[1]}", focus=False)


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
    basemap = state.basemap()
    if not basemap_available(basemap, data.tianditu_key())[0]:
        basemap = "none"
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
    left, right = st.columns([5, 2], gap="medium")
    with left:
        value = render_map(view, shown, with_boundaries=boundaries is not None, imported=imported)
    with right:
        render_panel(view, boundaries, value)
    state.write_url()
