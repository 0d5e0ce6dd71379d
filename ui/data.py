"""Cached loaders at the Streamlit edge: the pure functions of the core, each computed once per input.

One :class:`present.countyview.CountyView` per plan and store revision is built once (``st.cache_resource``:
shared, never copied — callers copy a frame before changing it) and passed on to every part of the page.  The
store (user geometry) is opened once per server; any write changes its revision, so every session's next run
builds the view anew and shows the change.
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
from store.db import Store
from store.errors import StoreError
from store.migrate import open_migrated


@st.cache_resource(show_spinner=False)
def _opened_store() -> tuple[Store | None, str, tuple[str, ...]]:
    """``(store, why it could not be opened, problems of the overrides migration)``; opened once per server."""
    try:
        store, problems = open_migrated()
    except StoreError as exc:
        return None, str(exc), ()
    return store, "", tuple(problems)


def store() -> Store | None:
    """The store of user geometry (``config.DB``), or None when it cannot be opened (:func:`store_problem`)."""
    return _opened_store()[0]


def store_problem() -> str:
    """Why the store cannot be used (empty when it can)."""
    return _opened_store()[1]


def migration_problems() -> tuple[str, ...]:
    """Rows of data/overrides.csv the migration left out, with why."""
    return _opened_store()[2]


def revision() -> str:
    """The store's revision (caches of views key on it); empty without a usable store."""
    opened = store()
    if opened is None:
        return ""
    try:
        return opened.revision()
    except StoreError:
        return ""


@st.cache_resource(show_spinner="正在加载规划与定位…", max_entries=16)
def _county_view(county: str, revision: str) -> CountyView:
    return build_view(county, store=store())


def county_view(county: str) -> CountyView:
    """The view of one plan with the store's user geometry as it is now.

    Raises :class:`plan.model.PlanDataError`, :class:`geo.errors.GeoDataError` or
    :class:`store.errors.StoreError`.
    """
    return _county_view(county, revision())


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
