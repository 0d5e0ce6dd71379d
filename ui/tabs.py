"""The tabs under the map: overview, attribute table, unlocated and county-wide items, indicators, comparison.

Tabs are lazy: a tab's content runs (and its front-end code loads) only while it is open, so the first paint is
the map and a Markdown overview.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum

import altair as alt
import geopandas as gpd
import pandas as pd
import streamlit as st

from plan.indicators import IndicatorParseError, IndicatorRow
from plan.model import Plan
from present.countyview import CountyView
from present.indicators import (
    NATURE_COLORS,
    chart_frame,
    common_indicators,
    comparison_chart_frame,
    contradictions,
    table_frame,
)
from present.markup import md
from present.overview import overview_markdown
from present.tables import attribute_table, gis_reason_table
from ui import data, state

UNLOCATED_TAB = "待定位"
TAB_LABELS = ("概览", "属性表", UNLOCATED_TAB, "主要指标", "跨规划指标对比", "导出与导入")


class Key(StrEnum):
    """Widget keys of the tabs (a table's selection key also prefixes its remembered row)."""

    TABS = "main_tabs"
    TABLE = "tbl_main"
    UNLOCATED = "tbl_unlocated"
    COUNTYWIDE = "tbl_county"


FOCUS_ROW = "_focus_row"  # (table key, entity id): a search hit to show selected in its table


def render_table(frame: gpd.GeoDataFrame, key: str, extra: Mapping[str, str] | None = None) -> None:
    """An attribute table whose row selection selects (and zooms to) the item.

    A search hit sent here (:data:`FOCUS_ROW`) is shown selected.
    """
    if frame.empty:
        st.caption("没有符合条件的条目。")
        return
    focus = st.session_state.get(FOCUS_ROW)
    if focus and focus[0] == key and focus[1] in set(frame["id"]):
        st.session_state.pop(FOCUS_ROW, None)
        # Selection set through Session State before the table is drawn (Streamlit's documented way).
        st.session_state[key] = {"selection": {"rows": [list(frame["id"]).index(focus[1])], "columns": []}}
        st.session_state[f"_prev_{key}"] = focus[1]
    event = st.dataframe(
        attribute_table(frame, extra),
        key=key,
        on_select="rerun",
        selection_mode="single-row",
        width="stretch",
        hide_index=True,
        height=min(420, 38 + 35 * len(frame)),
    )
    rows = event.selection.rows if event and event.selection else []
    picked = frame["id"].iloc[rows[0]] if rows else None
    prev_key = f"_prev_{key}"
    if picked != st.session_state.get(prev_key):
        st.session_state[prev_key] = picked
        if picked is not None:
            state.select(f"f:{picked}", focus=True)
            st.rerun()


def render_overview(view: CountyView, shown_count: int) -> None:
    st.markdown(overview_markdown(view.plan, view.features, shown_count))
    with st.expander("给 GIS 人员"):
        st.markdown(
            f"规划原文：`data/seeds/{md(view.plan.seed)}`；整理后的规划数据：`data/plans/{md(view.plan.county)}.yaml`"
            "（格式见 data/SCHEMA.md）。"
        )


def render_unlocated(view: CountyView) -> None:
    plan, features = view.plan, view.features
    missing = features[features.geometry.isna()]
    countywide = missing[missing["precision"] == "county"]
    unlocated = missing[missing["precision"] != "county"]
    scope = "市" if plan.is_municipal else "县"
    st.markdown(
        f"**表格**（可排序；搜索结果在此选中）：图上 {len(features) - len(missing)} 项，"
        f"全{scope}范围 {len(countywide)} 项，无法定位 {len(unlocated)} 项。"
    )
    st.markdown(
        f"**无法定位（{len(unlocated)}）** — 每项都写明了原因；可在上方逐条“标绘”，或由 GIS 人员在“导出与导入”中"
        "导入图层，匹配后这些条目就会标在图上。"
    )
    render_table(unlocated, Key.UNLOCATED, {"reason": "原因"})
    st.markdown(f"**全{scope}范围 / 未点名地点（{len(countywide)}）**")
    render_table(countywide, Key.COUNTYWIDE, {"reason": "说明"})
    with st.expander("给 GIS 人员：定位依据原文"):
        st.caption(
            "定位程序给出的原始说明（含数据文件名）。乡镇坐标来自 data/gazetteer/towns.csv（匹配报告 "
            "data/gazetteer/report.csv）；用户标绘与导入的几何保存在编辑库（RRMAP_DB，默认 ~/.local/share/rrmap/edits.gpkg），修改历史见各条目面板。"
        )
        st.dataframe(gis_reason_table(missing), hide_index=True, width="stretch")


def render_indicators(plan: Plan) -> None:
    try:
        rows = data.indicators(plan.county)
    except IndicatorParseError as exc:
        st.error(f"无法读取该规划的指标表：{exc}")
        return
    if not rows:
        st.info("该规划没有主要指标表。")
        return
    st.markdown(f"**《{md(plan.title)}》主要指标**（原文照录）")
    st.dataframe(table_frame(rows), hide_index=True, width="stretch")
    conflicts = contradictions(rows)
    if conflicts:
        st.warning(
            f"原表中有 {len(conflicts)} 处“增加”数与基期、目标值对不上（照录原文，未改动）：\n\n"
            + "\n".join(f"- {md(line)}" for line in conflicts)
        )
    chart = chart_frame(rows)
    if chart.empty:
        st.caption("没有带数值的指标，无法作图。")
        return
    st.markdown(
        "**各指标的基期与目标**（每个年份一个点；红色为约束性指标，蓝色为预期性指标；原文不是数字的目标以文字标出；"
        "各图纵轴独立）"
    )
    st.altair_chart(indicator_charts(chart), width="content")


def indicator_charts(chart: pd.DataFrame) -> alt.FacetChart:
    """One small chart per indicator: a line through every year with a number, the printed text where not."""
    color = alt.Color(
        "nature:N",
        title="指标属性",
        scale=alt.Scale(domain=[*NATURE_COLORS, "未注明"], range=[*NATURE_COLORS.values(), "#777777"]),
        legend=alt.Legend(orient="top"),
    )
    tooltip = [
        alt.Tooltip("indicator:N", title="指标"),
        alt.Tooltip("series:N", title="时点"),
        alt.Tooltip("text:N", title="原文"),
        alt.Tooltip("unit:N", title="单位"),
        alt.Tooltip("nature:N", title="属性"),
    ]
    base = alt.Chart(chart).encode(
        x=alt.X("year:O", title=None, axis=alt.Axis(labelAngle=0)), color=color, tooltip=tooltip
    )
    numbers = base.transform_filter("isValid(datum.value)")
    line = numbers.mark_line(point=alt.OverlayMarkDef(size=60, filled=True)).encode(
        y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False))
    )
    labels = numbers.mark_text(dy=-10, fontSize=10).encode(y="value:Q", text="text:N")
    words = (
        base.transform_filter("!isValid(datum.value)")
        .mark_text(fontSize=10, dy=0, baseline="top")
        .encode(y=alt.value(4), text="text:N")
    )
    return (
        alt.layer(line, labels, words, data=chart)
        .properties(width=170, height=120)
        .facet(facet=alt.Facet("title:N", title=None, header=alt.Header(labelLimit=230, labelFontSize=11)), columns=4)
        .resolve_scale(y="independent", x="independent")
    )


def render_comparison(codes: Sequence[str]) -> None:
    names = data.plan_names()
    by_plan: dict[str, list[IndicatorRow]] = {}
    for code in codes:
        try:
            by_plan[code] = data.indicators(code)
        except IndicatorParseError as exc:
            st.warning(f"{names.get(code, code)}：指标表无法读取（{exc}）")
    table = common_indicators(by_plan, names)
    if table.empty:
        st.info("各规划之间没有相同的指标。")
        return
    st.markdown(f"**多个规划共有的指标（{table['指标'].nunique()} 项）**：图中为各规划的基期与目标数值，表中为原文")
    left, right = st.columns([3, 2], gap="medium")
    numbers = comparison_chart_frame(by_plan, names)
    with left:
        if numbers.empty:
            st.caption("共有指标的目标都不是数字，无法作图。")
        else:
            st.altair_chart(comparison_charts(numbers), width="content")
    with right:
        st.dataframe(table, hide_index=True, width="stretch", height=min(640, 38 + 35 * len(table)))


def comparison_charts(numbers: pd.DataFrame) -> alt.FacetChart:
    """Small multiples, one per shared indicator: each plan's numbers by year."""
    chart = (
        alt.Chart(numbers)
        .mark_line(point=alt.OverlayMarkDef(size=50, filled=True))
        .encode(
            x=alt.X("年份:O", title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("数值:Q", title=None, scale=alt.Scale(zero=False)),
            color=alt.Color("规划:N", title="规划", legend=alt.Legend(orient="top")),
            tooltip=["指标:N", "规划:N", "时点:N", "原文:N"],
        )
        .properties(width=150, height=110)
    )
    return chart.facet(
        facet=alt.Facet("指标:N", title=None, header=alt.Header(labelLimit=200, labelFontSize=11)), columns=3
    ).resolve_scale(y="independent", x="independent")
