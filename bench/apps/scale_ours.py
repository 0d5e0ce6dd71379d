"""Scale case, our way: the municipal view of app.py with 20,000 synthetic villages as the plan's features.

Mirrors the municipal branch of ``app.render_map`` step by step with the app's own public functions (districts
coloured by designation, legend, clustered point layer in ``feature_group_to_add``, the same st_folium arguments);
keep it in step when render_map changes.  The villages come from :func:`bench.synthetic.synthetic_villages`.
"""
from __future__ import annotations

import geopandas as gpd
import streamlit as st
from streamlit_folium import st_folium

import config
from bench.synthetic import synthetic_villages
from geo.boundaries import load_boundaries
from layers.assets import localise
from layers.boundaries import designation_colors, district_layers
from layers.filters import district_items
from layers.legend import category_counts, legend_html
from layers.mapview import base_map, counts_by_kind, fit_geometry, overlay_groups
from plan.loader import available_plans, load_plan

MAP_HEIGHT = 640


@st.cache_data(show_spinner=False)
def villages() -> gpd.GeoDataFrame:
    return synthetic_villages(load_boundaries("display"))


@st.cache_data(show_spinner=False)
def boundaries() -> gpd.GeoDataFrame:
    return load_boundaries("display")


@st.cache_data(show_spinner=False)
def plan_names() -> dict[str, str]:
    return {code: load_plan(code).county_name for code in available_plans()}


shown = villages()
bounds = boundaries()
items = district_items(shown, bounds)
with_plan = {c: n for c, n in plan_names().items() if c != config.MUNICIPAL_ADCODE}
des_by_district = {c: [d or n for _, n, d in its] for c, its in items.items()}
ordered = list(dict.fromkeys(d for ds in des_by_district.values() for d in ds))
colors = designation_colors(ordered)
boundary_layers = district_layers(bounds, with_plan, des_by_district, colors)
drawn = shown[shown.geometry.map(lambda g: g is not None and g.geom_type not in ("Polygon", "MultiPolygon"))]
legend = legend_html(category_counts(drawn["category"]), counts_by_kind(drawn), colors, "重庆市 图例", municipal=True)
fit = fit_geometry(bounds, config.MUNICIPAL_ADCODE, shown)
fmap = base_map(bounds, boundary_layers, legend, "none", "", fit)
groups = overlay_groups(drawn, [], None)
for group in groups:
    localise(group)  # type: ignore[arg-type]
out = st_folium(
    localise(fmap),
    key="map_500000_none",
    height=MAP_HEIGHT,
    use_container_width=True,
    returned_objects=["last_object_clicked_tooltip"],
    feature_group_to_add=groups,
    center=None,
    zoom=None,
)
st.caption(f"合成数据（基准测试）：{len(shown)} 个合成村")
