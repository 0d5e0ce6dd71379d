"""Filters of the feature table: category, designation, town (with the plan's place register), search ids."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

import geopandas as gpd
import shapely

from plan.model import Plan


def town_of_place(plan: Plan) -> dict[str, str]:
    """Every written form of a registered place -> its town (towns map to themselves, villages to their town)."""
    out: dict[str, str] = {}
    for place in plan.places:
        forms = (place.name, *place.aliases)
        if place.is_town:
            out.update(dict.fromkeys(forms, place.name))
        elif place.is_village and place.town:
            out.update(dict.fromkeys(forms, place.town))
    return out


def towns_of(places: Iterable[str], lookup: dict[str, str]) -> list[str]:
    """Towns an item lies in (order kept, no duplicates)."""
    out: list[str] = []
    for p in places:
        town = lookup.get(p)
        if town and town not in out:
            out.append(town)
    return out


@dataclass(frozen=True)
class Filters:
    """What narrows a view: shown layers, designations, towns and a search text."""

    categories: tuple[str, ...]
    designations: tuple[str, ...] = ()
    towns: tuple[str, ...] = ()
    query: str = ""

    @property
    def active(self) -> bool:
        """Whether search, designation or town narrow the view."""
        return bool(self.query.strip() or self.designations or self.towns)

    def summary(self) -> str:
        """The active search and filters in a line, e.g. 搜索“nx”；乡镇：泥溪镇、…"""
        parts = [f"搜索“{self.query.strip()}”"] if self.query.strip() else []
        parts += [f"称号/类型：{'、'.join(self.designations)}"] if self.designations else []
        parts += [f"乡镇：{'、'.join(self.towns)}"] if self.towns else []
        return "；".join(parts)


def designation_options(features: gpd.GeoDataFrame) -> list[str]:
    """The designations a plan's items carry, sorted (the options of the designation filter)."""
    return sorted({d for d in features["designation"] if isinstance(d, str) and d})


def filter_features(
    features: gpd.GeoDataFrame,
    plan: Plan,
    *,
    categories: Collection[str] | None = None,
    designations: Collection[str] = (),
    towns: Collection[str] = (),
    ids: Sequence[str] | None = None,
) -> gpd.GeoDataFrame:
    """Rows passing every active filter (a copy).  ``ids`` (search result) also sets the order."""
    mask = features["id"].notna()
    if categories is not None:
        mask &= features["category"].isin(list(categories))
    if designations:
        mask &= features["designation"].isin(list(designations))
    if towns:
        lookup = town_of_place(plan)
        wanted = set(towns)
        mask &= features["places"].map(lambda ps: bool(wanted.intersection(towns_of(ps, lookup))))
    out = features[mask]
    if ids is not None:
        order = {eid: n for n, eid in enumerate(ids)}
        out = out[out["id"].isin(order)]
        out = out.iloc[sorted(range(len(out)), key=lambda i: order[out["id"].iloc[i]])]
    return out.copy()


def district_items(
    features: gpd.GeoDataFrame, districts: gpd.GeoDataFrame
) -> dict[str, list[tuple[str, str, str | None]]]:
    """adcode -> ``(id, name, designation)`` of the located municipal items covering that district.

    An item covers a district when its geometry contains the district's representative point; items keep the
    table's order.  A spatial index keeps this fast with tens of thousands of points.
    """
    out: dict[str, list[tuple[str, str, str | None]]] = {}
    located = features[features.geometry.notna()]
    if located.empty or districts.empty:
        return out
    probes = shapely.point_on_surface(districts.geometry.values)
    tree = shapely.STRtree(located.geometry.values)
    probe_idx, item_idx = tree.query(probes, predicate="within")  # probe within item == item contains probe
    codes = list(districts["adcode"])
    ids, names, designations = list(located["id"]), list(located["name"]), list(located["designation"])
    for p, i in sorted(zip(probe_idx.tolist(), item_idx.tolist())):
        des = designations[i] if isinstance(designations[i], str) else None
        out.setdefault(codes[p], []).append((ids[i], names[i], des))
    return out
