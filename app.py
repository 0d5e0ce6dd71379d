"""乡村振兴规划一张图 — Streamlit entry point (thin: page config, sidebar, render_* calls).

State lives in ``st.session_state`` and mirrors the URL (``?county=…&layers=…&sel=…``), so a link reproduces
the view.  All map, panel, search and chart logic is in ``layers/``; this file only wires it up.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import altair as alt
import geopandas as gpd
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

import config
from exchange_ui import render_exchange, stored_import
from geo.boundaries import load_boundaries
from geo.crs import wgs84_to_gcj02
from geo.errors import GeoDataError
from geo.gazetteer import load_gazetteer
from gisio.htmlmap import imported_layer
from gisio.importer import ImportResult
from layers.assets import live_assets
from layers.base import esc, parse_click
from layers.filters import district_items, filter_features, town_of_place, towns_of
from layers.indicators_view import NATURE_COLORS, chart_frame, common_indicators, table_frame
from layers.links import ViewState, parse_state, state_params
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
from layers.overview import category_counts, md, overview_markdown
from layers.panel import PANEL_CSS, district_panel_html, feature_panel_html, town_panel_html
from layers.pipeline import load_features
from layers.search import index_features, search
from plan.indicators import IndicatorParseError, indicators_frame, load_indicators
from plan.loader import available_plans, load_plan, plan_name
from plan.mentions import build_mentions
from plan.model import Plan, PlanDataError

st.set_page_config(page_title="乡村振兴规划一张图", page_icon="🗺️", layout="wide")


# --- cached loaders (pure functions underneath) ---------------------------------------------------------------


@st.cache_data(show_spinner="正在加载规划与定位…")
def cached_view(county: str) -> tuple[Plan, gpd.GeoDataFrame]:
    return load_features(county)


@st.cache_data(show_spinner=False)
def cached_boundaries() -> gpd.GeoDataFrame:
    return load_boundaries("display")


@st.cache_data(show_spinner=False)
def cached_mentions(county: str) -> dict:
    return build_mentions(load_plan(county))


@st.cache_data(show_spinner=False)
def cached_seats(county: str) -> dict[str, tuple[float, float]]:
    """Town name (as the plan writes it) -> seat (lon, lat) from the gazetteer."""
    gazetteer = load_gazetteer()
    out: dict[str, tuple[float, float]] = {}
    for town in load_plan(county).towns():
        seat = gazetteer.lookup(county, town.name)
        if seat is not None:
            out[town.name] = (seat.lon, seat.lat)
    return out


@st.cache_data(show_spinner=False)
def cached_indicators(county: str) -> list:
    return load_indicators(county)


def indicators_table(county: str) -> pd.DataFrame | None:
    """The headline indicator table for the GeoPackage export (None when the plan's table cannot be parsed)."""
    try:
        return indicators_frame(cached_indicators(county))
    except IndicatorParseError:
        return None


@st.cache_data(show_spinner=False)
def cached_plan_names() -> dict[str, str]:
    out: dict[str, str] = {}
    for code in available_plans():
        try:
            out[code] = plan_name(code)
        except PlanDataError:
            out[code] = code
    return out


def tianditu_key() -> str:
    if config.TIANDITU_KEY:
        return config.TIANDITU_KEY
    try:
        return str(st.secrets.get("TIANDITU_KEY", ""))
    except (FileNotFoundError, KeyError, st.errors.StreamlitAPIException):
        return ""
    except Exception:  # noqa: BLE001 - a malformed secrets.toml must not break the map; the key is optional
        return ""


# --- state ----------------------------------------------------------------------------------------------------


def init_state(codes: list[str]) -> None:
    """On the first run of a session, take the view from the URL (deep link)."""
    if st.session_state.get("_init"):
        return
    state = parse_state(st.query_params.to_dict(), codes, list(BASEMAPS))
    st.session_state["_init"] = True
    st.session_state["county"] = state.county
    st.session_state["basemap"] = state.basemap
    st.session_state["layers"] = [c for c in config.CATEGORIES if c in state.layers]
    st.session_state["selected"] = state.selected
    st.session_state["focus"] = state.selected is not None


def select(key: str | None, focus: bool) -> None:
    """Select a feature/town/district (``f:…``/``t:…``/``d:…``); ``focus`` zooms the map to it."""
    st.session_state["selected"] = key
    st.session_state["focus"] = focus and key is not None


def shown_layers() -> tuple[str, ...]:
    """Categories switched on, in legend order (all of them until the user switches one off)."""
    chosen = st.session_state.get("layers")
    return tuple(c for c in config.CATEGORIES if chosen is None or c in chosen)


def on_county_change() -> None:
    select(None, False)
    st.session_state["layers"] = list(config.CATEGORIES)  # a new view starts with every layer on
    # Set, not deleted: a deleted key would leave the old value in the browser's input.
    st.session_state.update({"search": "", "f_designation": [], "f_town": []})


def current_state() -> ViewState:
    return ViewState(
        county=st.session_state["county"],
        layers=shown_layers(),
        selected=st.session_state.get("selected"),
        basemap=st.session_state.get("basemap", "none"),
    )


# --- sidebar --------------------------------------------------------------------------------------------------


@dataclass
class Filters:
    categories: tuple[str, ...]
    designations: list[str]
    towns: list[str]
    query: str

    @property
    def active(self) -> bool:
        """Whether search, designation or town narrow the view."""
        return bool(self.query.strip() or self.designations or self.towns)

    def summary(self) -> str:
        """The active search and filters in a line, e.g. 搜索“nx”；乡镇：泥溪镇、…"""
        parts = [f"搜索“{self.query.strip()}”"] if self.query.strip() else []
        parts += [f"称号/类型：{'、'.join(self.designations)}"] if self.designations else []
        parts += [f"乡镇：{'、'.join(self.towns)}"] if self.towns else []
        return "；".join(parts)


def designation_options(features: gpd.GeoDataFrame) -> list[str]:
    return sorted({d for d in features["designation"] if isinstance(d, str) and d})


def current_filters(plan: Plan, features: gpd.GeoDataFrame) -> Filters:
    """The filters as the user left them, read before the sidebar is drawn (the map is sent first).

    Values that are not options of this plan are dropped, so a stale entry never empties the map.
    """
    designations = set(designation_options(features))
    towns = {t.name for t in plan.towns()}
    return Filters(
        shown_layers(),
        [d for d in st.session_state.get("f_designation") or [] if d in designations],
        [t for t in st.session_state.get("f_town") or [] if t in towns],
        str(st.session_state.get("search") or ""),
    )


def view_label(code: str, names: dict[str, str]) -> str:
    return "重庆市（全市）" if code == config.MUNICIPAL_ADCODE else names.get(code, code)


def render_sidebar(
    codes: list[str],
    names: dict[str, str],
    plan: Plan | None,
    features: gpd.GeoDataFrame | None,
    filters: Filters | None = None,
) -> None:
    """View, basemap and layer chips; search and filters in an expander that runs only while open.

    Drawn after the map: chips share one front-end widget type and the expander's inputs load only when opened,
    so the first paint fetches little besides the map.
    """
    sb = st.sidebar
    sb.markdown("## 乡村振兴规划一张图")
    sb.pills(
        "视图", codes, key="county", required=True, format_func=lambda c: view_label(c, names),
        on_change=on_county_change, help="重庆市：市级规划，全市38个区县；其余为区县规划。"
        + "　".join(f"{names.get(c, c)} {c}" for c in codes if c != config.MUNICIPAL_ADCODE),
    )  # fmt: skip
    key = tianditu_key()
    sb.pills(
        "底图", list(BASEMAPS), key="basemap", required=True, format_func=lambda k: BASEMAPS[k].chip,
        help="；".join(b.label for b in BASEMAPS.values()),
    )  # fmt: skip
    ok, why = basemap_available(st.session_state["basemap"], key)
    if not ok:
        sb.warning(why + " 当前显示为无底图。")
    elif BASEMAPS[st.session_state["basemap"]].tiles:
        sb.caption("在线底图需要访问互联网；内网环境请选择“无底图”。")

    if features is None or plan is None or filters is None:
        return
    counts = {cat: (on_map, total) for cat, total, on_map, _, _ in category_counts(features)}
    # One chip per layer of this plan (on = shown): one widget, not a checkbox each, so the page paints sooner.
    st.session_state["layers"] = [c for c in counts if c in filters.categories]  # this plan's layers only
    sb.pills(
        "图层（点选显示/隐藏 · 图上/共）", list(counts), selection_mode="multi", key="layers",
        format_func=lambda c: f"{config.CATEGORIES.get(c, c)} {counts[c][0]}/{counts[c][1]}",
    )  # fmt: skip
    box = sb.expander("搜索与筛选", key="filters_open", on_change="rerun")  # a fixed label keeps it open
    if not box.open:
        if filters.active:
            sb.caption("已启用：" + md(filters.summary()))
        return
    with box:  # the inputs keep their values while the expander is closed (persist_state)
        st.text_input("搜索（中文、拼音或首字母，如 liming / lm）", key="search", persist_state="page")
        st.session_state["f_designation"] = filters.designations
        st.multiselect("称号/类型", designation_options(features), key="f_designation", placeholder="全部",
                       persist_state="page")  # fmt: skip
        towns = [t.name for t in plan.towns()]
        if towns:
            st.session_state["f_town"] = filters.towns
            st.multiselect("乡镇", towns, key="f_town", placeholder="全部", persist_state="page")


# --- map ------------------------------------------------------------------------------------------------------


def display_seats(seats: dict[str, tuple[float, float]], gcj02: bool) -> dict[str, tuple[float, float]]:
    if not gcj02:
        return seats
    return {name: wgs84_to_gcj02(lon, lat) for name, (lon, lat) in seats.items()}


@st.cache_data(show_spinner=False)
def cached_static(county: str, basemap: str, with_boundaries: bool = True) -> StaticPart:
    """Boundaries, legend and extent of a view (what filters and selection never change), per basemap."""
    plan, features = cached_view(county)
    boundaries = cached_boundaries() if with_boundaries else None
    names = cached_plan_names()
    with_plan = {c: names[c] for c in names if c != config.MUNICIPAL_ADCODE}
    title = "重庆市 图例" if plan.is_municipal else f"{plan.county_name} 图例"
    return static_part(county, plan.is_municipal, features, boundaries, basemap, with_plan, title)


def on_map_click(key: str) -> None:
    """st_folium's on_change: the clicked layer's tooltip carries its key (``f:``/``t:``/``d:``); select it."""
    clicked = parse_click((st.session_state.get(key) or {}).get("last_object_clicked_tooltip"))
    if clicked:
        select(f"{clicked[0]}:{clicked[1]}", focus=False)


def render_map(
    plan: Plan,
    features: gpd.GeoDataFrame,
    shown: gpd.GeoDataFrame,
    boundaries: gpd.GeoDataFrame | None,
    imported: ImportResult | None = None,
) -> None:
    """The map of the view; a click selects the clicked item (:func:`on_map_click`), without a second run."""
    county = plan.county
    basemap = st.session_state.get("basemap", "none")
    if not basemap_available(basemap, tianditu_key())[0]:
        basemap = "none"
    gcj = BASEMAPS[basemap].gcj02
    seats = {} if plan.is_municipal else display_seats(cached_seats(county), gcj)
    counts = {k: len(v) for k, v in cached_mentions(county).items()} if seats else {}

    selected = st.session_state.get("selected")
    focus = st.session_state.get("focus", False)
    sel_geom = None
    if selected and selected.startswith("f:"):
        sel_geom = selection_geometry(features if not gcj else to_display(features, basemap), selected[2:])
    town_focus = seats.get(selected[2:]) if focus and selected and selected.startswith("t:") else None
    extra = []
    if imported is not None:
        # A GIS team's layer rides with the plan layers (dynamic), so showing it keeps the user's view.
        extra.append(imported_layer(to_display(imported.gdf, basemap), label_field=imported.name_field))
    view = map_view(
        cached_static(county, basemap, with_boundaries=boundaries is not None),
        to_display(shown, basemap),
        tianditu_key(),
        town_label_list(seats, counts),
        sel_geom,
        focus,
        town_focus,
        extra,
    )
    if view.empty:
        st.info("尚无行政区划边界数据，也没有可定位的要素：地图暂为空白。")
    fmap = live_assets(view.fmap, view.groups)
    st_folium(fmap, **view.kwargs(MAP_HEIGHT), on_change=partial(on_map_click, view.key))


@st.fragment
def render_map_and_panel(
    plan: Plan,
    features: gpd.GeoDataFrame,
    shown: gpd.GeoDataFrame,
    boundaries: gpd.GeoDataFrame | None,
    imported: ImportResult | None = None,
) -> None:
    """Map and side panel: a click on the map reruns only these, not the tables and charts below."""
    left, right = st.columns([5, 2], gap="medium")
    with left:
        render_map(plan, features, shown, boundaries, imported)
    with right:
        render_panel(plan, features, boundaries)
    st.query_params.from_dict(state_params(current_state()))


# --- panels ---------------------------------------------------------------------------------------------------


def render_panel(plan: Plan, features: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame | None) -> None:
    st.html(PANEL_CSS)
    selected = st.session_state.get("selected")
    if not selected:
        st.html(
            '<div class="rr-panel rr-muted">点击地图上的要素、乡镇名称或区县，或在下方属性表中选择一行，查看属性、'
            "规划原文出处与引文。</div>"
        )
        return
    kind, value = selected[0], selected[2:]
    if kind == "f":
        hit = features[features["id"] == value]
        if hit.empty:
            st.warning("所选要素不在当前规划中。")
            return
        row = hit.iloc[0].to_dict()
        row["note"] = _entity_note(plan, value)
        st.html(feature_panel_html(row, plan.title))
        lookup = town_of_place(plan)
        for town in towns_of(row["places"], lookup):
            mentions = cached_mentions(plan.county).get(town, [])
            with st.expander(f"规划中关于{town}的表述（{len(mentions)} 处）"):
                st.html(town_panel_html(town, mentions, plan.title))
    elif kind == "t":
        mentions = cached_mentions(plan.county).get(value, [])
        lookup = town_of_place(plan)
        items = [f"{r['name']}（{config.CATEGORIES.get(r['category'], r['category'])}）"
                 for _, r in features.iterrows() if value in towns_of(r["places"], lookup)]  # fmt: skip
        st.html(town_panel_html(value, mentions, plan.title, items))
    elif kind == "d" and boundaries is not None:
        hit = boundaries[boundaries["adcode"] == value]
        if hit.empty:
            return
        name = hit["name"].iloc[0]
        items = district_items(features, boundaries).get(value, [])
        names = cached_plan_names()
        has_plan = value in names and value != config.MUNICIPAL_ADCODE
        st.html(district_panel_html(name, [(n, d) for _, n, d in items], has_plan))
        if has_plan:
            if st.button(f"进入{names[value]}规划视图 →", type="primary", on_click=_enter_county, args=(value,),
                         key="enter_county"):  # fmt: skip
                st.rerun()  # another view: the whole page, not only the map fragment
    st.button("清除选择", key="clear_sel", on_click=select, args=(None, False))


def _enter_county(code: str) -> None:
    st.session_state["county"] = code
    on_county_change()


def _entity_note(plan: Plan, entity_id: str) -> str | None:
    try:
        return plan.entity(entity_id).note
    except KeyError:
        return None


TABLE_COLUMNS = {"name": "名称", "category": "类别", "designation": "称号/类型", "places": "地点", "precision": "定位"}


def _table(frame: gpd.GeoDataFrame, extra: dict[str, str] | None = None) -> pd.DataFrame:
    cols = {**TABLE_COLUMNS, **(extra or {})}
    out = pd.DataFrame(frame[list(cols)].copy())
    out["category"] = out["category"].map(lambda c: config.CATEGORIES.get(c, c))
    out["places"] = out["places"].map(lambda ps: "、".join(ps))
    out["precision"] = out["precision"].map(lambda p: config.PRECISIONS.get(p, p))
    out["出处"] = frame["source"].map(lambda s: f"{s.get('section', '')}（第{s['lines'][0]}–{s['lines'][-1]}行）")
    return out.rename(columns=cols).reset_index(drop=True)


def render_table(frame: gpd.GeoDataFrame, key: str, extra: dict[str, str] | None = None) -> None:
    """An attribute table whose row selection selects (and zooms to) the item."""
    if frame.empty:
        st.caption("没有符合条件的条目。")
        return
    event = st.dataframe(
        _table(frame, extra), key=key, on_select="rerun", selection_mode="single-row",
        width="stretch", hide_index=True, height=min(420, 38 + 35 * len(frame)),
    )  # fmt: skip
    rows = event.selection.rows if event and event.selection else []
    picked = frame["id"].iloc[rows[0]] if rows else None
    prev_key = f"_prev_{key}"
    if picked != st.session_state.get(prev_key):
        st.session_state[prev_key] = picked
        if picked is not None:
            select(f"f:{picked}", focus=True)
            st.rerun()


def render_unlocated(plan: Plan, features: gpd.GeoDataFrame) -> None:
    missing = features[features.geometry.isna()]
    countywide = missing[missing["precision"] == "county"]
    unlocated = missing[missing["precision"] != "county"]
    st.markdown(
        f"《{md(plan.title)}》共 {len(features)} 项：图上 {len(features) - len(missing)} 项，"
        f"全{'市' if plan.is_municipal else '县'}范围 {len(countywide)} 项，无法定位 {len(unlocated)} 项。"
    )
    st.markdown(f"**无法定位（{len(unlocated)}）** — 原因如下，可在 data/overrides.csv 补充坐标")
    render_table(unlocated, "tbl_unlocated", {"reason": "原因"})
    st.markdown(f"**全{'市' if plan.is_municipal else '县'}范围 / 未点名地点（{len(countywide)}）**")
    render_table(countywide, "tbl_county", {"reason": "说明"})


def render_indicators(plan: Plan) -> None:
    try:
        rows = cached_indicators(plan.county)
    except IndicatorParseError as exc:
        st.error(f"无法读取该规划的指标表：{exc}")
        return
    if not rows:
        st.info("该规划没有主要指标表。")
        return
    st.markdown(f"**《{md(plan.title)}》主要指标**（原文照录）")
    st.dataframe(table_frame(rows), hide_index=True, width="stretch")
    chart = chart_frame(rows)
    if chart.empty:
        st.caption("没有同时具有数值基期和数值目标的指标，无法作图。")
        return
    chart["标题"] = chart["indicator"] + "｜" + chart["nature"]
    bars = (
        alt.Chart(chart)
        .mark_bar()
        .encode(
            x=alt.X("series:N", title=None, sort=alt.SortField("order")),
            y=alt.Y("value:Q", title=None),
            color=alt.Color("series:N", title="", legend=alt.Legend(orient="top")),
            stroke=alt.Stroke("nature:N", title="指标属性",
                              scale=alt.Scale(domain=list(NATURE_COLORS), range=list(NATURE_COLORS.values()))),
            strokeWidth=alt.value(2),
            tooltip=[alt.Tooltip("indicator:N", title="指标"), alt.Tooltip("series:N", title="时点"),
                     alt.Tooltip("text:N", title="原文"), alt.Tooltip("nature:N", title="属性")],
        )  # fmt: skip
        .properties(width=150, height=120)
    )
    st.markdown("**基期与目标**（红框为约束性指标，蓝框为预期性指标；各图纵轴独立）")
    st.altair_chart(
        bars.facet(facet=alt.Facet("标题:N", title=None, header=alt.Header(labelLimit=220, labelFontSize=11)), columns=4)
        .resolve_scale(y="independent"),
        width="content",
    )


def render_comparison(codes: list[str]) -> None:
    names = cached_plan_names()
    by_plan = {}
    for code in codes:
        try:
            by_plan[code] = cached_indicators(code)
        except IndicatorParseError as exc:
            st.warning(f"{names.get(code, code)}：指标表无法读取（{exc}）")
    table = common_indicators(by_plan, names)
    if table.empty:
        st.info("各规划之间没有相同的指标。")
        return
    st.markdown(f"**多个规划共有的指标（{table['指标'].nunique()} 项）**")
    st.dataframe(table, hide_index=True, width="stretch")


# --- page -----------------------------------------------------------------------------------------------------

TAB_LABELS = ["概览", "属性表", "未定位与全域条目", "主要指标", "跨规划指标对比", "导出与导入"]


def main() -> None:
    codes = available_plans()
    if not codes:
        st.error("data/plans 下没有规划数据文件，请先添加规划数据（见 data/SCHEMA.md）。")
        return
    init_state(codes)
    if st.session_state.get("county") not in codes:
        st.session_state["county"] = codes[0]
    names = cached_plan_names()
    county = st.session_state["county"]
    plan = features = None
    try:
        plan, features = cached_view(county)
    except PlanDataError as exc:
        st.error(f"规划数据有误，无法显示该视图：\n\n{exc}")
    except GeoDataError as exc:
        st.error(f"地理数据有误：{exc}")
    if plan is None or features is None:
        render_sidebar(codes, names, plan, features)
        return
    filters = current_filters(plan, features)
    try:
        boundaries = cached_boundaries()
    except GeoDataError as exc:
        st.warning(f"行政区划边界不可用：{exc}")
        boundaries = None

    ids = search(index_features(features), filters.query) if filters.query.strip() else None
    shown = filter_features(features, plan, filters.categories, filters.designations, filters.towns, ids)

    st.html(
        f'<div style="font-size:1.45rem;font-weight:700;line-height:1.3">{esc(plan.title)}</div>'
        f'<div style="color:#666">{esc(plan.issuer or "")} {esc(plan.period or "")} · 共 {len(features)} 项规划要素'
        f"，当前显示 {len(shown)} 项</div>"
    )
    map_slot = st.container()  # map + panel sit above the tabs, but are drawn after an open import tab has run
    # Lazy tabs: a tab's content runs (and its front-end code loads) only while it is open, so the first paint
    # is the map and a Markdown overview, and the map draws sooner.  An imported layer is kept in the session
    # and stays on the map whichever tab is open.
    tabs = st.tabs(TAB_LABELS, key="main_tabs", on_change="rerun")
    overview, table, unlocated, indicators, comparison, exchange = tabs
    imported = stored_import("gisio")
    if exchange.open:
        with exchange:  # runs before the map is drawn, so a new upload shows on this very run
            imported = render_exchange(
                features,
                shown,
                title=plan.title,
                county=plan.county,
                boundaries=boundaries,
                indicators=indicators_table(plan.county),
                key="gisio",
            )
    with map_slot:
        render_map_and_panel(plan, features, shown, boundaries, imported)
    render_sidebar(codes, names, plan, features, filters)  # after the map, so the map is sent first

    if overview.open:
        with overview:
            st.markdown(overview_markdown(plan, features, len(shown)))
    if table.open:
        with table:
            render_table(shown, "tbl_main", {"county_name": "区县"})
    if unlocated.open:
        with unlocated:
            render_unlocated(plan, features)
    if indicators.open:
        with indicators:
            render_indicators(plan)
    if comparison.open:
        with comparison:
            render_comparison(codes)

    st.query_params.from_dict(state_params(current_state()))


main()
