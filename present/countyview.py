"""Everything a county (or municipal) view shows, built once per plan: plan, feature table, town seats, mentions.

The Streamlit edge caches one :class:`CountyView` per plan and passes it on, so no part of the page reloads the
plan from its adcode.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd

from geo.features import load_features
from geo.gazetteer import Gazetteer, load_gazetteer
from geo.usergeo import UserGeometry
from plan.mentions import Mention, build_mentions
from plan.model import Plan
from store.db import Store


@dataclass(frozen=True)
class CountyView:
    """One plan's view: read-only (callers copy before changing a frame)."""

    plan: Plan
    features: gpd.GeoDataFrame
    seats: Mapping[str, tuple[float, float]]  # town name as the plan writes it -> seat (lon, lat), WGS84
    mentions: Mapping[str, list[Mention]]  # place key -> sentences of the plan naming it
    user: Mapping[str, UserGeometry] = field(default_factory=dict)  # item id -> user geometry (from the store)
    revision: str = ""  # the store's revision the view was built from ("" without a store)

    @property
    def county(self) -> str:
        return self.plan.county

    @property
    def municipal(self) -> bool:
        return self.plan.is_municipal

    def mention_counts(self) -> dict[str, int]:
        """Place key -> number of sentences naming it."""
        return {key: len(items) for key, items in self.mentions.items()}


def town_seats(plan: Plan, gazetteer: Gazetteer) -> dict[str, tuple[float, float]]:
    """Town name -> seat ``(lon, lat)`` of every town of the plan's county the gazetteer has: the plan's own towns
    (as the plan writes them) and the official towns of villages whose town only the code list gives."""
    out: dict[str, tuple[float, float]] = {}
    for town in plan.towns():
        seat = gazetteer.lookup(plan.county, town.name)
        if seat is not None:
            out[town.name] = (seat.lon, seat.lat)
    taken = set(out.values())
    for seat in gazetteer:
        if seat.county == plan.county and (seat.lon, seat.lat) not in taken:
            out[seat.name] = (seat.lon, seat.lat)
    return out


def build_view(
    county: str, *, plans_dir: Path | None = None, seeds_dir: Path | None = None, store: Store | None = None
) -> CountyView:
    """The view of one plan, with the user geometries of ``store`` (none without a store).

    Raises what :func:`geo.features.load_features` raises, and :class:`store.errors.StoreError` when the store
    cannot be read.
    """
    revision = store.revision() if store is not None else ""  # read first: a write after it only makes us stale
    user = store.user_geometries(county) if store is not None else {}
    plan, features = load_features(county, plans_dir=plans_dir, seeds_dir=seeds_dir, user=user)
    seats = {} if plan.is_municipal else town_seats(plan, load_gazetteer())
    return CountyView(
        plan=plan, features=features, seats=seats, mentions=build_mentions(plan), user=user, revision=revision
    )
