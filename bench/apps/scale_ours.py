"""Scale case, our way: the municipal view of app.py with 20,000 synthetic villages as the plan's features.

It calls the same map builders as ``app.render_map`` (:func:`layers.mapview.static_part`, cached per view as the
app caches it, and :func:`layers.mapview.map_view`) with the same ``st_folium`` arguments, so it measures the
app's own code path; only the plan is swapped for :func:`bench.synthetic.synthetic_villages`.
"""

from __future__ import annotations

from functools import partial

import geopandas as gpd
import streamlit as st
from streamlit_folium import st_folium

import config
from bench.synthetic import synthetic_villages
from geo.boundaries import load_boundaries
from layers.assets import live_assets
from layers.base import parse_click
from layers.mapview import MAP_HEIGHT, StaticPart, map_view, static_part
from plan.loader import available_plans, plan_name


@st.cache_data(show_spinner=False)
def villages() -> gpd.GeoDataFrame:
    return synthetic_villages(load_boundaries("display"))


@st.cache_data(show_spinner=False)
def boundaries() -> gpd.GeoDataFrame:
    return load_boundaries("display")


@st.cache_data(show_spinner=False)
def plan_names() -> dict[str, str]:
    return {code: plan_name(code) for code in available_plans()}


@st.cache_data(show_spinner=False)
def cached_static(county: str, basemap: str) -> StaticPart:
    with_plan = {c: n for c, n in plan_names().items() if c != config.MUNICIPAL_ADCODE}
    return static_part(
        county,
        municipal=True,
        features=villages(),
        boundaries=boundaries(),
        basemap=basemap,
        with_plan=with_plan,
        title="重庆市 图例",
    )


def on_map_click(key: str) -> None:
    clicked = parse_click((st.session_state.get(key) or {}).get("last_object_clicked_tooltip"))
    if clicked:
        st.session_state["selected"] = f"{clicked[0]}:{clicked[1]}"


shown = villages()
view = map_view(cached_static(config.MUNICIPAL_ADCODE, "none"), shown)
st_folium(live_assets(view.fmap, view.groups), **view.kwargs(MAP_HEIGHT), on_change=partial(on_map_click, view.key))
st.caption(f"合成数据（基准测试）：{len(shown)} 个合成村")
