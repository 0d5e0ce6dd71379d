"""Plan -> resolved locations -> feature table, for one view (the app, the CLI and the benchmark start here).

Pure and uncached: the Streamlit edge caches it.
"""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from geo.resolve import resolve_plan
from layers.features import plan_features
from plan.loader import load_plan
from plan.model import Plan


def load_features(
    county: str, plans_dir: Path | None = None, seeds_dir: Path | None = None
) -> tuple[Plan, gpd.GeoDataFrame]:
    """The plan of ``county`` and its feature table (EPSG:4326, one row per entity, plan order).

    Raises
    ------
    plan.model.PlanDataError
        The plan file is missing or invalid.
    geo.errors.GeoDataError
        Boundaries, gazetteer or overrides cannot be read.
    """
    plan = load_plan(county, plans_dir, seeds_dir)
    return plan, plan_features(plan, resolve_plan(plan))
