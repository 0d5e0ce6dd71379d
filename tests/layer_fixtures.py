"""Fixture plans and feature tables for the layer tests.

Coordinates here are TEST FIXTURES only (made-up positions inside a made-up square), never real places.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
from shapely.geometry import LineString, MultiPoint, Point, Polygon
from shapely.geometry.base import BaseGeometry

from geo.features import plan_features
from plan.loader import load_plan_file
from plan.model import Plan

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass(frozen=True)
class FakeLocation:
    entity_id: str
    geometry: BaseGeometry | None
    precision: str
    reason: str | None = None
    source: str | None = "测试数据"
    codes: tuple[tuple[str, str, str], ...] = ()


def good_plan() -> Plan:
    return load_plan_file(FIXTURES / "plans" / "good.yaml", FIXTURES / "plans")


def hostile_plan() -> Plan:
    return load_plan_file(FIXTURES / "hostile" / "plans" / "500235.yaml", FIXTURES / "hostile" / "seeds")


def good_features() -> gpd.GeoDataFrame:
    """good.yaml with a village at a (fixture) town seat, a schematic belt, and a county-wide item."""
    plan = good_plan()
    locations = [
        FakeLocation("t-dv-001", Point(100.10, 10.10), "town", "村庄定位到所属乡镇驻地"),
        FakeLocation("t-belt-001", LineString([(100.10, 10.10), (100.30, 10.20)]), "schematic"),
        FakeLocation("t-rs-001", None, "county", "全县范围"),
    ]
    return plan_features(plan, locations)


def hostile_features() -> gpd.GeoDataFrame:
    plan = hostile_plan()
    locations = [
        FakeLocation("x-dv-001", Point(100.10, 10.10), "town"),
        FakeLocation("x-dv-002", Point(100.10, 10.10), "town"),
        FakeLocation("x-ip-001", Polygon([(100.0, 10.0), (100.2, 10.0), (100.2, 10.2)]), "exact"),
    ]
    return plan_features(plan, locations)


def multi_features() -> gpd.GeoDataFrame:
    plan = good_plan()
    return plan_features(plan, [FakeLocation("t-dv-001", MultiPoint([(100.1, 10.1), (100.2, 10.2)]), "multi_town")])


def square_boundaries() -> gpd.GeoDataFrame:
    """A fixture 'county' (the fixture plan's adcode) and a neighbour, as the boundary loader returns them."""
    return gpd.GeoDataFrame(
        {"adcode": ["500000", "500235", "500236"], "name": ["市", "测试县<b>", "邻县"]},
        geometry=[
            Polygon([(99.9, 9.9), (100.9, 9.9), (100.9, 10.9), (99.9, 10.9)]),
            Polygon([(99.9, 9.9), (100.4, 9.9), (100.4, 10.4), (99.9, 10.4)]),
            Polygon([(100.4, 9.9), (100.9, 9.9), (100.9, 10.4), (100.4, 10.4)]),
        ],
        crs="EPSG:4326",
    )
