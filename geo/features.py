"""Plan entities + their resolved locations -> one feature table (GeoDataFrame, EPSG:4326).

This is the table every view and export starts from (:func:`load_features` builds it for one plan).  Its properties are those of DEVELOPERS.md:
``id, name, category, county, county_name, designation, places, attributes, precision, source`` — plus
``reason`` (why an item is not located, or how it was) for the panels, ``location_source`` and ``codes``, and
the provenance of a user geometry (:data:`PROVENANCE_COLUMNS`: who placed it, when, how; empty for every other
row).  Unlocated and county-wide entities are rows with an empty geometry, never a fake point.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

import geopandas as gpd
import pandas as pd
from shapely.geometry.base import BaseGeometry

import config
from geo.resolve import resolve_plan
from geo.usergeo import UserGeometry
from plan.loader import load_plan
from plan.model import Entity, Plan

FEATURE_COLUMNS: tuple[str, ...] = (
    "id",
    "name",
    "category",
    "county",
    "county_name",
    "designation",
    "places",
    "attributes",
    "precision",
    "source",
    "reason",
    "location_source",
    "codes",
    "located_by",
    "located_at",
    "located_how",
    "located_note",
)
# Provenance of a user geometry (drawn on the map or imported): who, when (ISO 8601 UTC), how, source file/note.
PROVENANCE_COLUMNS: tuple[str, ...] = ("located_by", "located_at", "located_how", "located_note")
NO_PROVENANCE: dict[str, Any] = dict.fromkeys(PROVENANCE_COLUMNS)


class LocationLike(Protocol):
    """What :func:`plan_features` needs of a location (:class:`geo.resolve.Location` has it; its optional ``user``
    attribute carries the provenance of a user geometry)."""

    @property
    def entity_id(self) -> str: ...
    @property
    def geometry(self) -> BaseGeometry | None: ...
    @property
    def precision(self) -> str: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def source(self) -> str | None: ...
    @property
    def codes(self) -> tuple[tuple[str, str, str], ...]: ...


def feature_properties(
    plan: Plan,
    entity: Entity,
    *,
    precision: str,
    reason: str | None,
    location_source: str | None = None,
    codes: Iterable[tuple[str, str, str]] = (),
) -> dict[str, Any]:
    """The exported properties of one entity (JSON-friendly: lists and dicts, no custom objects)."""
    return {
        "id": entity.id,
        "name": entity.name,
        "category": entity.category,
        "county": plan.county,
        "county_name": plan.county_name,
        "designation": entity.designation,
        "places": list(entity.places),
        "attributes": [a.as_dict() for a in entity.attributes],
        "precision": precision,
        "source": entity.source.as_dict(),
        "reason": reason,
        "location_source": location_source,
        "codes": [{"place": p, "code": c, "official_name": n} for p, c, n in codes],
        **NO_PROVENANCE,
    }


def plan_features(plan: Plan, locations: Iterable[LocationLike]) -> gpd.GeoDataFrame:
    """One row per entity of ``plan`` in plan order, with geometry (or None) and precision.

    Entities without a location record are listed as ``unlocated`` rather than dropped.
    """
    by_id: Mapping[str, LocationLike] = {loc.entity_id: loc for loc in locations}
    rows: list[dict[str, Any]] = []
    geoms: list[BaseGeometry | None] = []
    for entity in plan.entities:
        loc = by_id.get(entity.id)
        if loc is None:
            rows.append(feature_properties(plan, entity, precision="unlocated", reason="未进行定位"))
            geoms.append(None)
            continue
        if loc.precision not in config.PRECISIONS:
            raise ValueError(f"{entity.id}: unknown precision {loc.precision!r}")
        geom = loc.geometry
        row = feature_properties(
            plan,
            entity,
            precision=loc.precision,
            reason=loc.reason,
            location_source=loc.source if geom is not None else None,
            codes=loc.codes,
        )
        user = getattr(loc, "user", None)  # a location from a user geometry (geo.resolve.Location.user)
        if isinstance(user, UserGeometry) and geom is not None:
            row.update(user.provenance())
        rows.append(row)
        geoms.append(geom if geom is not None and not geom.is_empty else None)
    frame = gpd.GeoDataFrame(rows, columns=list(FEATURE_COLUMNS), geometry=geoms, crs=config.WGS84)
    return frame


def located_mask(frame: gpd.GeoDataFrame) -> pd.Series:
    """Rows that have a geometry to draw (not missing, not empty)."""
    geoms = frame.geometry
    return geoms.notna() & ~geoms.is_empty


def load_features(
    county: str,
    *,
    plans_dir: Path | None = None,
    seeds_dir: Path | None = None,
    user: Mapping[str, UserGeometry] | None = None,
) -> tuple[Plan, gpd.GeoDataFrame]:
    """The plan of ``county`` and its feature table (EPSG:4326, one row per entity, plan order).

    ``user``: user geometries by item id (:meth:`store.db.Store.user_geometries`), which win over every other
    source.  Pure and uncached: the Streamlit edge caches it.

    Raises
    ------
    plan.model.PlanDataError
        The plan file is missing or invalid.
    geo.errors.GeoDataError
        Boundaries, gazetteer or overrides cannot be read.
    """
    plan = load_plan(county, plans_dir, seeds_dir)
    return plan, plan_features(plan, resolve_plan(plan, user=user))
