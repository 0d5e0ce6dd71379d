"""The sidebar: view, basemap and layer chips; search and filters in an expander that runs only while open.

Drawn after the map: chips share one front-end widget type and the expander's inputs load only when opened, so
the first paint fetches little besides the map.  The filters are read before the map is drawn
(:func:`current_filters`), from the values the widgets left in the session.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum

import geopandas as gpd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

import config
from layers.mapview import BASEMAPS, basemap_available
from present.countyview import CountyView
from present.filters import Filters, designation_options
from present.markup import md
from present.overview import locating_counts
from ui import data, editor, state
from ui.state import Key as ViewKey
from ui.tabs import FOCUS_ROW, UNLOCATED_TAB
from ui.tabs import Key as TabKey


class Key(StrEnum):
    """Session-state keys of the search and filter widgets."""

    SEARCH = "search"
    DESIGNATIONS = "f_designation"
    TOWNS = "f_town"
    OPEN = "filters_open"


def clear_filters() -> None:
    # Set, not deleted: a deleted key would leave the old value in the browser's input.
    st.session_state.update({Key.SEARCH: "", Key.DESIGNATIONS: [], Key.TOWNS: []})


def on_county_change() -> None:
    """The view chip changed: a new view starts with no selection, every layer on, no filter, no editing."""
    editor.stop()
    state.reset_view()
    clear_filters()


def enter_county(code: str) -> None:
    """Switch to the view of another plan (from the municipal map's district panel)."""
    st.session_state[ViewKey.COUNTY] = code
    on_county_change()


def current_filters(view: CountyView) -> Filters:
    """The filters as the user left them, read before the sidebar is drawn (the map is sent first).

    Values that are not options of this plan are dropped, so a stale entry never empties the map.
    """
    designations = set(designation_options(view.features))
    towns = {t.name for t in view.plan.towns()}
    return Filters(
        categories=state.shown_layers(),
        designations=tuple(d for d in st.session_state.get(Key.DESIGNATIONS) or [] if d in designations),
        towns=tuple(t for t in st.session_state.get(Key.TOWNS) or [] if t in towns),
        query=str(st.session_state.get(Key.SEARCH) or ""),
    )


def view_label(code: str, names: Mapping[str, str]) -> str:
    return "重庆市（全市）" if code == config.MUNICIPAL_ADCODE else names.get(code, code)


def render_basemaps(sb: DeltaGenerator) -> None:
    """Basemap chips for the basemaps that can be used; the others as disabled buttons saying why on hover."""
    key = data.tianditu_key()
    usable = [k for k in BASEMAPS if basemap_available(k, key)[0]]
    if state.basemap() not in usable:  # e.g. a link asking for Tianditu on a server without a key
        st.session_state[ViewKey.BASEMAP] = "none"
    sb.pills(
        "底图",
        usable,
        key=ViewKey.BASEMAP,
        required=True,
        format_func=lambda k: BASEMAPS[k].chip,
        help="；".join(BASEMAPS[k].label for k in usable),
    )
    for k in BASEMAPS:
        if k not in usable:
            sb.button(
                f"{BASEMAPS[k].chip}（不可用）",
                key=f"basemap-off-{k}",
                disabled=True,
                help=basemap_available(k, key)[1],
                width="content",
            )
    if BASEMAPS[state.basemap()].tiles:
        sb.caption("在线底图需要访问互联网；内网环境请选择“无底图”。")


def pick_hit(entity_id: str, on_map: bool, countywide: bool) -> None:
    """A search hit was chosen: select it; zoom to it when it is on the map, else open its row in the list of
    items not on the map (the panel beside the map says why)."""
    state.select(f"f:{entity_id}", focus=on_map)
    if not on_map:
        st.session_state[TabKey.TABS] = UNLOCATED_TAB
        st.session_state[FOCUS_ROW] = (TabKey.COUNTYWIDE if countywide else TabKey.UNLOCATED, entity_id)


MAX_HITS = 12


def render_hits(hits: gpd.GeoDataFrame) -> None:
    """The search hits: name, category and whether (and how) each is on the map; a click picks one."""
    if hits.empty:
        st.caption("没有找到匹配的条目。")
        return
    st.caption(f"找到 {len(hits)} 项" + (f"，列出前 {MAX_HITS} 项" if len(hits) > MAX_HITS else "") + "：")
    for eid, name, cat, geom, precision in zip(
        hits["id"][:MAX_HITS],
        hits["name"][:MAX_HITS],
        hits["category"][:MAX_HITS],
        hits.geometry[:MAX_HITS],
        hits["precision"][:MAX_HITS],
    ):
        on_map = geom is not None and not geom.is_empty
        where = "图上" if on_map else ("全域" if precision == "county" else "未定位")
        st.button(
            f"{name} · {config.CATEGORIES.get(cat, cat)} · {where}",
            key=f"hit-{eid}",
            on_click=pick_hit,
            args=(eid, on_map, precision == "county"),
            width="stretch",
            help="在地图上定位并查看" if on_map else "不在图上：查看原因与出处",
        )


def render_sidebar(
    codes: Sequence[str],
    view: CountyView | None = None,
    filters: Filters | None = None,
    *,
    shown: gpd.GeoDataFrame | None = None,
) -> None:
    """View and basemap chips always; layer chips, search (with its hits) and filters when a plan view is shown."""
    names = data.plan_names()
    sb = st.sidebar
    sb.markdown("## 乡村振兴规划一张图")
    sb.pills(
        "视图",
        list(codes),
        key=ViewKey.COUNTY,
        required=True,
        format_func=lambda c: view_label(c, names),
        on_change=on_county_change,
        help="重庆市：市级规划，全市38个区县；其余为区县规划。"
        + "　".join(f"{names.get(c, c)} {c}" for c in codes if c != config.MUNICIPAL_ADCODE),
    )
    render_basemaps(sb)
    if view is None or filters is None:
        return
    counts = {c.category: (c.on_map, c.total) for c in locating_counts(view.features)}
    # One chip per layer of this plan (on = shown): one widget, not a checkbox each, so the page paints sooner.
    sb.pills(
        "图层（点选显示/隐藏 · 图上/共）",
        list(counts),
        selection_mode="multi",
        key=ViewKey.LAYERS,
        format_func=lambda c: f"{config.CATEGORIES.get(c, c)} {counts[c][0]}/{counts[c][1]}",
    )
    box = sb.expander("搜索与筛选", key=Key.OPEN, on_change="rerun")  # a fixed label keeps it open
    if not box.open:
        if filters.active:
            sb.caption("已启用：" + md(filters.summary()))
        return
    with box:  # the inputs keep their values while the expander is closed (persist_state)
        st.text_input("搜索（中文、拼音或首字母，如 liming / lm）", key=Key.SEARCH, persist_state="page")
        if filters.query.strip() and shown is not None:
            render_hits(shown)
        st.session_state[Key.DESIGNATIONS] = list(filters.designations)
        st.multiselect(
            "称号/类型",
            designation_options(view.features),
            key=Key.DESIGNATIONS,
            placeholder="全部",
            select_all=False,
            persist_state="page",
        )
        towns = [t.name for t in view.plan.towns()]
        if towns:
            st.session_state[Key.TOWNS] = list(filters.towns)
            st.multiselect("乡镇", towns, key=Key.TOWNS, placeholder="全部", select_all=False, persist_state="page")
