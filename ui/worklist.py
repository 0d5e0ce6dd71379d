"""The 待定位 tab: every item of the plan without a location, grouped by town, with the reason and a 标绘 button.

The buttons enter the edit mode for the item (:func:`ui.editor.start`): the map above then offers the drawing
tool of its kind.  The list is :func:`present.worklist.worklist`, computed from the view (so it follows the store).
"""

from __future__ import annotations

import streamlit as st

from present.countyview import CountyView
from present.markup import esc, md
from present.worklist import NO_TOWN, WorkItem, worklist
from ui import data, editor

DRAW_LABELS = {"point": "标绘点", "line": "标绘线", "area": "标绘面"}


def _draw(item_id: str) -> None:
    editor.start(item_id)
    st.toast("已进入标绘模式：请在上方地图中标绘。")


def _row(item: WorkItem, can_draw: bool) -> None:
    left, right = st.columns([5, 1], vertical_alignment="center")
    detail = f"<br><small style='color:#888'>给 GIS 人员：{esc(item.detail)}</small>" if item.detail else ""
    left.html(
        f"<div class='rr-work'><b>{esc(item.name)}</b> <span style='color:#666'>· {esc(item.category_label)}</span>"
        f"<br><span>{esc(item.reason)}</span>{detail}</div>"
    )
    right.button(
        DRAW_LABELS.get(item.kind, "标绘"),
        key=f"work-draw-{item.id}",
        on_click=_draw,
        args=(item.id,),
        disabled=not can_draw,
        help="在地图上为该条目标绘位置",
    )


def render_worklist(view: CountyView) -> None:
    """Progress (已定位 n / N), then the items to place, town by town (items naming no town last, folded)."""
    work = worklist(view.plan, view.features)
    can_draw = data.store() is not None
    st.markdown(
        f"《{md(view.plan.title)}》 **{work.progress()}** 项 · 待定位 {work.missing} 项"
        "（无法定位的条目，以及规划未写明地点的全域性条目；已知位置的可直接标绘）"
    )
    st.progress(work.located / work.total if work.total else 1.0, text=work.progress())
    if not can_draw:
        st.caption(f"标绘不可用：{data.store_problem()}")
    if not work.groups:
        st.success("所有条目都已在图上。")
        return
    for town, items in work.groups:
        placeable = sum(not i.countywide for i in items)
        title = (
            f"{town}（{len(items)} 项"
            + (f"，其中 {placeable} 项点名了地点" if town == NO_TOWN and placeable else "")
            + "）"
        )
        with st.expander(title, expanded=town != NO_TOWN):
            for item in items:
                _row(item, can_draw)
