"""Cached loaders at the Streamlit edge: the pure functions of the core, each computed once per input.

One :class:`present.countyview.CountyView` per plan is built once (``st.cache_resource``: shared, never
copied — callers copy a frame before changing it) and passed on to every part of the page.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import streamlit as st

import config
from geo.boundaries import load_boundaries
from plan.indicators import IndicatorParseError, IndicatorRow, indicators_frame, load_indicators
from plan.loader import available_plans, plan_name
from plan.model import PlanDataError
from present.countyview import CountyView, build_view


@st.cache_resource(show_spinner="正在加载规划与定位…", max_entries=16)
def county_view(county: str) -> CountyView:
    """The view of one plan (raises :class:`plan.model.PlanDataError` / :class:`geo.errors.GeoDataError`)."""
    return build_view(county)


@st.cache_resource(show_spinner=False)
def boundaries() -> gpd.GeoDataFrame:
    """Display-level county boundaries (EPSG:4326)."""
    return load_boundaries("display")


@st.cache_data(show_spinner=False)
def plan_names() -> dict[str, str]:
    """Adcode -> county name of every plan file (the adcode itself for a file whose header cannot be read)."""
    out: dict[str, str] = {}
    for code in available_plans():
        try:
            out[code] = plan_name(code)
        except PlanDataError:
            out[code] = code
    return out


@st.cache_data(show_spinner=False)
def indicators(county: str) -> list[IndicatorRow]:
    """The plan's headline indicator rows (raises :class:`plan.indicators.IndicatorParseError`)."""
    return load_indicators(county)


def indicators_table(county: str) -> pd.DataFrame | None:
    """The headline indicator table for the GeoPackage export (None when the plan's table cannot be parsed)."""
    try:
        return indicators_frame(indicators(county))
    except IndicatorParseError:
        return None


def tianditu_key() -> str:
    """The Tianditu key: environment first, then Streamlit secrets; empty when there is none."""
    if config.TIANDITU_KEY:
        return config.TIANDITU_KEY
    try:
        return str(st.secrets.get("TIANDITU_KEY", ""))
    except (FileNotFoundError, KeyError, st.errors.StreamlitAPIException):
        return ""
    except Exception:  # noqa: BLE001 - a malformed secrets.toml must not break the map; the key is optional
        return ""


def clear() -> None:
    """Forget every cached view (after the locations changed, e.g. a saved import)."""
    st.cache_data.clear()
    st.cache_resource.clear()
