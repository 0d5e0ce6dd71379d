"""The tabs under the map: overview, attribute table, unlocated and county-wide items, indicators, comparison.

Tabs are lazy: a tab's content runs (and its front-end code loads) only while it is open, so the first paint is
the map and a Markdown overview.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum

import altair as alt
import geopandas as gpd
import streamlit as st

from plan.indicators import IndicatorParseError, IndicatorRow
from plan.model import Plan
from present.countyview import CountyView
from present.indicators import NATURE_COLORS, chart_frame, common_indicators, contradictions, table_frame
from present.markup import md
from present.overview import overview_markdown
from present.tables import attribute_table
from ui import data, state

TAB_LABELS = ("概览", "属性表", "待定位", "主要指标", "跨规划指标对比", "导出与导入")


class Key(StrEnum):
    """Widget keys of the tabs (a table's selection key also prefixes its remembered row)."""

    TABS = "main_tabs"
    TABLE = "tbl_main"


def render_table(frame: gpd.GeoDataFrame, key: str, extra: Mapping[str, str] | None = None) -> None:
    """An attribute table whose row selection selects (and zooms to) the item."""
    if frame.empty:
        st.caption("没有符合条件的条目。")
        return
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
            stroke=alt.Stroke(
                "nature:N",
                title="指标属性",
                scale=alt.Scale(domain=list(NATURE_COLORS), range=list(NATURE_COLORS.values())),
            ),
            strokeWidth=alt.value(2),
            tooltip=[
                alt.Tooltip("indicator:N", title="指标"),
                alt.Tooltip("series:N", title="时点"),
                alt.Tooltip("text:N", title="原文"),
                alt.Tooltip("nature:N", title="属性"),
            ],
        )
        .properties(width=150, height=120)
    )
    st.markdown("**基期与目标**（红框为约束性指标，蓝框为预期性指标；各图纵轴独立）")
    st.altair_chart(
        bars.facet(
            facet=alt.Facet("标题:N", title=None, header=alt.Header(labelLimit=220, labelFontSize=11)), columns=4
        ).resolve_scale(y="independent"),
        width="content",
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
    st.markdown(f"**多个规划共有的指标（{table['指标'].nunique()} 项）**")
    st.dataframe(table, hide_index=True, width="stretch")
