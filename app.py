"""乡村振兴规划一张图 — Streamlit entry point (thin: page config, sidebar, render_* calls)."""
from __future__ import annotations

import folium
import streamlit as st
from streamlit_folium import st_folium

import config
from layers.assets import localise
from plan.loader import available_plans, load_plan
from plan.model import PlanDataError

st.set_page_config(page_title="乡村振兴规划一张图", page_icon="🗺️", layout="wide")


def render_sidebar() -> str | None:
    st.sidebar.title("乡村振兴规划一张图")
    codes = available_plans()
    if not codes:
        st.sidebar.warning("data/plans 下没有规划数据文件。")
        return None
    return st.sidebar.selectbox("规划", codes, format_func=lambda c: c)


def render_map(code: str) -> None:
    try:
        plan = load_plan(code)
    except PlanDataError as exc:
        st.error(f"规划数据有误：{exc}")
        return
    st.subheader(plan.title)
    fmap = folium.Map(location=[30.0, 107.8], zoom_start=7, tiles=None, control_scale=True)
    st.info("尚未加载行政区划边界数据。")
    st_folium(localise(fmap), height=600, use_container_width=True, returned_objects=[])


code = render_sidebar()
if code:
    render_map(code)
