"""The attribute panel beside the map: the selected feature, town or district, from the plan itself."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import geopandas as gpd
import streamlit as st

import config
from present.countyview import CountyView
from present.filters import district_items, town_of_place, towns_of
from present.panel import PANEL_CSS, district_panel_html, feature_panel_html, town_panel_html
from ui import data, editor, state
from ui.sidebar import enter_county


class Key(StrEnum):
    """Widget keys of the panel."""

    ENTER = "enter_county"
    CLEAR = "clear_sel"


EMPTY_PANEL = (
    '<div class="rr-panel rr-muted">点击地图上的要素、乡镇名称或区县，或在下方属性表中选择一行，查看属性、'
    "规划原文出处与引文。</div>"
)


def render_panel(view: CountyView, boundaries: gpd.GeoDataFrame | None, map_value: Any = None) -> None:
    """Panel of the selection (``f:``/``t:``/``d:``), or a hint when nothing is selected; for an item also its
    位置标绘 section (``map_value``: the map's return value, holding a drawing in the edit mode)."""
    st.html(PANEL_CSS)
    selected = state.selected()
    if not selected:
        st.html(EMPTY_PANEL)
        return
    kind, value = selected[0], selected[2:]
    plan, features = view.plan, view.features
    if kind == "f":
        hit = features[features["id"] == value]
        if hit.empty:
            st.warning("所选要素不在当前规划中。")
            return
        row = hit.iloc[0].to_dict()
        row["note"] = next((e.note for e in plan.entities if e.id == value), None)
        st.html(feature_panel_html(row, plan.title))
        editor.render_editor(view, row, map_value)
        lookup = town_of_place(plan)
        for town in towns_of(row["places"], lookup):
            mentions = view.mentions.get(town, [])
            with st.expander(f"规划中关于{town}的表述（{len(mentions)} 处）"):
                st.html(town_panel_html(town, mentions, plan.title))
    elif kind == "t":
        lookup = town_of_place(plan)
        items = [
            f"{name}（{config.CATEGORIES.get(cat, cat)}）"
            for name, cat, places in zip(features["name"], features["category"], features["places"])
            if value in towns_of(places, lookup)
        ]
        st.html(town_panel_html(value, view.mentions.get(value, []), plan.title, items=items))
    elif kind == "d" and boundaries is not None:
        hit = boundaries[boundaries["adcode"] == value]
        if hit.empty:
            return
        covering = district_items(features, boundaries).get(value, [])
        names = data.plan_names()
        has_plan = value in names and value != config.MUNICIPAL_ADCODE
        st.html(district_panel_html(hit["name"].iloc[0], [(n, d) for _, n, d in covering], has_plan))
        if has_plan and st.button(
            f"进入{names[value]}规划视图 →", type="primary", on_click=enter_county, args=(value,), key=Key.ENTER
        ):
            st.rerun()  # another view: the whole page, not only the map fragment
    st.button("清除选择", key=Key.CLEAR, on_click=_clear)


def _clear() -> None:
    editor.stop()
    state.select(None, False)
