"""Scale case, baseline: full-resolution boundaries and 20,000 synthetic villages via ``explore()`` + ``st_folium``.

The villages are generated in memory by :func:`bench.synthetic.synthetic_villages` (fixed seed, never shipped).
"""

from __future__ import annotations

import geopandas as gpd
import streamlit as st
from streamlit_folium import st_folium

from bench.synthetic import synthetic_villages
from geo.boundaries import load_boundaries
from layers.assets import localise


@st.cache_data
def villages() -> gpd.GeoDataFrame:
    return synthetic_villages(load_boundaries("display"))


@st.cache_data
def boundaries() -> gpd.GeoDataFrame:
    return load_boundaries("full")


m = boundaries().explore()
villages().explore(m=m)
out = st_folium(localise(m))
st.write((out or {}).get("last_object_clicked_tooltip"))
