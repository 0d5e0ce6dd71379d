"""Plan entities + their resolved locations -> one feature table (GeoDataFrame, EPSG:4326).

This is the table every view and export starts from.  Its properties are those of DEVELOPERS.md:
``id, name, category, county, county_name, designation, places, attributes, precision, source`` — plus
``reason`` (why an item is not located, or how it was) for the panels.  Unlocated and county-wide entities
are rows with an empty geometry, never a fake point.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import geopandas as gpd
from shapely.geometry.base import BaseGeometry

import config
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
)


class LocationLike(Protocol):
    entity_id: str
    geometry: BaseGeometry | None
    precision: str
    reason: str | None


def feature_properties(plan: Plan, entity: Entity, precision: str, reason: str | None) -> dict[str, Any]:
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
    }


def plan_features(plan: Plan, locations: Iterable[LocationLike]) -> gpd.GeoDataFrame:
    """One row per entity of ``plan`` in plan order, with geometry (or None) and precision.

    Entities without a location record are listed as ``unlocated`` rather than dropped.
    """
    by_id: Mapping[str, LocationLike] = {loc.entity_id: loc for loc in locations}
    rows = []
    geoms = []
    for entity in plan.entities:
        loc = by_id.get(entity.id)
        if loc is None:
            precision, reason, geom = "unlocated", "未进行定位", None
        else:
            precision, reason, geom = loc.precision, loc.reason, loc.geometry
        if precision not in config.PRECISIONS:
            raise ValueError(f"{entity.id}: unknown precision {precision!r}")
        rows.append(feature_properties(plan, entity, precision, reason))
        geoms.append(geom if geom is not None and not geom.is_empty else None)
    frame = gpd.GeoDataFrame(rows, columns=list(FEATURE_COLUMNS), geometry=geoms, crs=config.WGS84)
    return frame

