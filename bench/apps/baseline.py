"""Baseline: what a typical analyst builds with the same libraries (run by the benchmark with ``streamlit run``).

Full-resolution boundaries and every plan feature through ``GeoDataFrame.explore()``, shown with ``st_folium``'s
default arguments.  Loading is cached, as any analyst would.  The only deviation from the obvious code: the map's
Leaflet assets are served locally (``layers.assets.localise``), because the benchmark browser is offline.
``?county=<adcode>`` picks the plan.
"""

from __future__ import annotations

import geopandas as gpd
import streamlit as st
from streamlit_folium import st_folium

from geo.boundaries import load_boundaries
from geo.features import load_features
from layers.assets import localise


@st.cache_data
def plan_features(county: str) -> gpd.GeoDataFrame:
    return load_features(county)[1]


@st.cache_data
def boundaries() -> gpd.GeoDataFrame:
    return load_boundaries("full")


county = st.query_params.get("county", "500235")
features = plan_features(county)
m = boundaries().explore()
features[features.geometry.notna()].explore(m=m)
out = st_folium(localise(m))
st.write((out or {}).get("last_object_clicked_tooltip"))
