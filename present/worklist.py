"""The 待定位 worklist: every item of a plan without a geometry, grouped by town, with its reason and progress.

Reasons are sentences for a planner; what only GIS staff need (file names, the data source behind a missing town
seat) is split off into a detail (:func:`planner_reason`).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd

import config
from geo.usergeo import kind_for_category
from plan.model import Plan
from present.filters import town_of_place, towns_of
from present.reasons import explain

NO_TOWN = "未写明乡镇（全县或片区）"


@dataclass(frozen=True)
class WorkItem:
    """One item to place: what it is, why it has no location, which drawing the app offers first."""

    id: str
    name: str
    category: str
    town: str
    reason: str  # for the planner
    detail: str  # for GIS staff (may be empty)
    countywide: bool  # the plan names no place for it (county-wide), rather than a place we cannot find
    kind: str  # point | line | area

    @property
    def category_label(self) -> str:
        return config.CATEGORIES.get(self.category, self.category)


@dataclass(frozen=True)
class Worklist:
    """The worklist of one plan: ``located`` of ``total`` items are on the map; ``groups`` by town."""

    located: int
    total: int
    groups: tuple[tuple[str, tuple[WorkItem, ...]], ...]

    @property
    def missing(self) -> int:
        return self.total - self.located

    def progress(self) -> str:
        """``已定位 n / N``."""
        return f"已定位 {self.located} / {self.total}"


def planner_reason(reason: str | None) -> tuple[str, str]:
    """``(sentence for a planner, detail for GIS staff)`` of a reason from the feature table
    (:func:`present.reasons.explain`)."""
    explained = explain(reason)
    return explained.planner or "尚无位置", explained.detail


def worklist(plan: Plan, features: gpd.GeoDataFrame) -> Worklist:
    """The items of ``features`` (one plan's feature table) without geometry, grouped by their first town (plan
    order of towns; items naming no town last), categories in legend order within a group."""
    lookup = town_of_place(plan)
    order = {c: i for i, c in enumerate(config.CATEGORIES)}
    missing = features[features.geometry.isna()]
    by_town: dict[str, list[WorkItem]] = {}
    for row in missing.to_dict("records"):
        towns = towns_of(row["places"] or [], lookup)
        town = towns[0] if towns else NO_TOWN
        reason, detail = planner_reason(row["reason"])
        by_town.setdefault(town, []).append(
            WorkItem(
                id=str(row["id"]),
                name=str(row["name"]),
                category=str(row["category"]),
                town=town,
                reason=reason,
                detail=detail,
                countywide=row["precision"] == "county",
                kind=kind_for_category(str(row["category"])),
            )
        )
    town_order = [t.name for t in plan.towns()]
    keys = sorted(by_town, key=lambda t: (t == NO_TOWN, town_order.index(t) if t in town_order else len(town_order)))
    groups = tuple(
        (town, tuple(sorted(by_town[town], key=lambda w: order.get(w.category, len(order))))) for town in keys
    )
    return Worklist(located=len(features) - len(missing), total=len(features), groups=groups)
