"""Filters of the feature table: category, designation, town (with the plan's place register), search ids."""
from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

import geopandas as gpd
from shapely.geometry.base import BaseGeometry

from plan.model import Plan


def town_of_place(plan: Plan) -> dict[str, str]:
    """Every written form of a registered place -> its town (towns map to themselves, villages to their town)."""
    out: dict[str, str] = {}
    for place in plan.places:
        forms = (place.name, *place.aliases)
        if place.is_town:
            out.update({f: place.name for f in forms})
        elif place.is_village and place.town:
            out.update({f: place.town for f in forms})
    return out


def towns_of(places: Iterable[str], lookup: dict[str, str]) -> list[str]:
    """Towns an item lies in (order kept, no duplicates)."""
    out: list[str] = []
    for p in places:
        town = lookup.get(p)
        if town and town not in out:
            out.append(town)
    return out


def filter_features(
    features: gpd.GeoDataFrame,
    plan: Plan,
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
    """adcode -> ``(id, name, designation)`` of the located municipal items covering that district."""
    out: dict[str, list[tuple[str, str, str | None]]] = {}
    located = features[features.geometry.notna()]
    for code, geom in zip(districts["adcode"], districts.geometry):
        probe: BaseGeometry = geom.representative_point()
        for _, row in located.iterrows():
            if row.geometry.contains(probe):
                des = row["designation"] if isinstance(row["designation"], str) else None
                out.setdefault(code, []).append((row["id"], row["name"], des))
    return out
