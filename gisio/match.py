"""Imported points -> plan entities, by id or name: proposals, the safe subset, saving the accepted ones."""

from __future__ import annotations

import difflib
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd

from geo.boundaries import load_boundaries
from geo.errors import GeoDataError
from geo.overrides import save_override, validate_row
from gisio.errors import GisIOError, ImportRejected
from gisio.limits import short_name
from gisio.normalise import ImportResult, guess_name_field
from gisio.watchdog import checkpoint, run_with_deadline
from plan.names import normalise


@dataclass(frozen=True)
class Match:
    """An imported point proposed as the exact location of a plan entity."""

    row: int
    imported_name: str
    entity_id: str
    entity_name: str
    county: str
    method: str  # "id" | "name" | "normalised" | "contains" | "fuzzy"
    score: float
    lon: float
    lat: float


METHOD_LABELS = {
    "id": "编号相同",
    "name": "名称相同",
    "normalised": "名称相同（去掉镇/乡/村等后缀）",
    "contains": "名称包含",
    "fuzzy": "名称相近",
}


# A fuzzy hit scores 0.65 × the similarity ratio, so with the default ``min_score`` only near-identical names
# (ratio ≥ 0.92) are kept; the index below only computes ratios that can reach the cut.
_FUZZY_WEIGHT = 0.65


class PlanNameIndex:
    """Plan entity names indexed for matching thousands of imported names without comparing every pair.

    Equal names and equal normalised names are dictionary look-ups; "one name contains the other" looks up the
    imported name's substrings and intersects the entities holding its rarest character; "similar names" computes
    difflib's ratio only for entities whose length and shared characters allow the ratio to reach the cut.  The
    result is exactly that of comparing every pair (``tests/test_hostile_input.py`` checks it against the
    pairwise definition).
    """

    def __init__(self, entities: Sequence[tuple[str, str, str]]) -> None:
        self.entities = list(entities)
        self.norms = [normalise(str(name)) for _eid, name, _county in self.entities]
        self.by_name: dict[str, list[int]] = {}
        self.by_norm: dict[str, list[int]] = {}
        self.by_char: dict[str, list[tuple[int, int]]] = {}
        self.by_length: dict[int, list[int]] = {}
        self.matchers: list[difflib.SequenceMatcher[str]] = []
        for i, (_eid, name, _county) in enumerate(self.entities):
            norm = self.norms[i]
            self.by_name.setdefault(str(name), []).append(i)
            self.by_norm.setdefault(norm, []).append(i)
            for char, count in Counter(norm).items():
                self.by_char.setdefault(char, []).append((i, count))
            self.by_length.setdefault(len(norm), []).append(i)
            matcher: difflib.SequenceMatcher[str] = difflib.SequenceMatcher(None)
            matcher.set_seq2(norm)  # difflib caches its index of the second sequence
            self.matchers.append(matcher)
        self.longest = max((len(n) for n in self.norms), default=0)
        self._cache: dict[tuple[str, str, float], list[tuple[int, str, float]]] = {}

    def _contains(self, key: str) -> set[int]:
        found: set[int] = set()
        if len(key) < 2:
            return found
        for size in range(2, min(len(key), self.longest) + 1):  # an entity name inside the imported one
            for start in range(len(key) - size + 1):
                found.update(self.by_norm.get(key[start : start + size], ()))
        postings = [self.by_char.get(c, []) for c in set(key)]
        if all(postings):  # the imported name inside an entity name: it holds every character of it
            rarest = min(postings, key=len)
            found.update(i for i, _n in rarest if key in self.norms[i])
        return {i for i in found if len(self.norms[i]) >= 2}

    def _fuzzy(self, key: str, cut: float) -> dict[int, float]:
        """Entities whose similarity ratio with ``key`` reaches ``cut``, with the ratio."""
        la = len(key)
        if cut <= 0:  # every entity reaches the cut: compare them all
            out = {}
            for i, matcher in enumerate(self.matchers):
                matcher.set_seq1(key)
                out[i] = matcher.ratio()
            return out
        if la == 0:
            return dict.fromkeys(self.by_length.get(0, ()), 1.0)
        # ratio = 2·M/(la+lb) ≤ 2·min(la,lb)/(la+lb): only lengths that can reach the cut, and only entities
        # whose shared characters (a bound on M) can.
        low = math.ceil(la * cut / (2 - cut) - 1e-9)
        high = math.floor(la * (2 - cut) / cut + 1e-9)
        shared: dict[int, int] = {}
        for char, count in Counter(key).items():
            for i, n in self.by_char.get(char, ()):
                if low <= len(self.norms[i]) <= high:
                    shared[i] = shared.get(i, 0) + min(count, n)
        found = {}
        for i, common in shared.items():
            if 2 * common / (la + len(self.norms[i])) < cut:
                continue
            matcher = self.matchers[i]
            matcher.set_seq1(key)
            ratio = matcher.ratio()
            if ratio >= cut:
                found[i] = ratio
        return found

    def hits(self, text: str, min_score: float) -> list[tuple[int, str, float]]:
        """(entity index, method, score) of every entity an imported name matches, in entity order."""
        memo = (text, "", min_score)
        if memo in self._cache:
            return self._cache[memo]
        key = normalise(text)
        method: dict[int, tuple[str, float]] = {}
        for i in self.by_name.get(text, ()):
            method[i] = ("name", 0.95)
        if key:
            for i in self.by_norm.get(key, ()):
                method.setdefault(i, ("normalised", 0.9))
        for i in self._contains(key):
            method.setdefault(i, ("contains", 0.7))
        # Kept when ratio >= min_score and round(0.65 × ratio, 3) >= min_score; the cut is just below both.
        cut = max(min_score, (min_score - 0.0005) / _FUZZY_WEIGHT)
        for i, ratio in self._fuzzy(key, cut).items():
            if i not in method and ratio >= min_score:
                method[i] = ("fuzzy", round(_FUZZY_WEIGHT * ratio, 3))
        out = sorted(((i, m, score) for i, (m, score) in method.items()), key=lambda t: t[0])
        if len(self._cache) < 200_000:
            self._cache[memo] = out
        return out


def match_by_name(
    imported: ImportResult | gpd.GeoDataFrame,
    features: gpd.GeoDataFrame,
    *,
    name_field: str | None = None,
    min_score: float = 0.6,
    timeout: float | None = None,
) -> tuple[list[Match], list[str]]:
    """Propose plan entities for each imported point, best first.

    An imported ``id`` equal to an entity id wins (a GIS team edited our export); then equal names, equal
    normalised names (:func:`plan.names.normalise`), one name containing the other, and similar names.  Names are
    looked up in a :class:`PlanNameIndex`, so 100,000 points take seconds; the whole match runs under a deadline
    (``timeout``, default ``config.IMPORT_TIMEOUT_S``; :func:`gisio.watchdog.run_with_deadline`).

    Returns
    -------
    tuple
        ``(matches, notes)``: every candidate with score ``>= min_score`` (several per point when ambiguous) and
        Chinese notes on points that were skipped (not points, no name, no candidate).

    Raises
    ------
    ImportRejected
        Code ``timeout``: matching took longer than allowed.
    """
    return run_with_deadline(
        lambda: _match(imported, features, name_field=name_field, min_score=min_score),
        what="按名称匹配规划条目",
        seconds=timeout,
    )


def _match(
    imported: ImportResult | gpd.GeoDataFrame,
    features: gpd.GeoDataFrame,
    *,
    name_field: str | None,
    min_score: float,
) -> tuple[list[Match], list[str]]:
    gdf = imported.gdf if isinstance(imported, ImportResult) else imported
    detected = imported.name_field if isinstance(imported, ImportResult) else None
    field_name = name_field or detected or guess_name_field(gdf)
    notes: list[str] = []
    entities = list(zip(features["id"], features["name"], features["county"].astype(str)))
    by_id = {e[0]: e for e in entities}
    index = PlanNameIndex(entities)
    texts = gdf[field_name].tolist() if field_name and field_name in gdf.columns else [None] * len(gdf)
    fids = gdf["id"].tolist() if "id" in gdf.columns else [None] * len(gdf)
    matches: list[Match] = []
    skipped_shape = 0
    unmatched: list[str] = []
    for i, geom in enumerate(gdf.geometry.values):
        if i % 1000 == 0:
            checkpoint()
        if geom is None or geom.geom_type != "Point":
            skipped_shape += 1
            continue
        text = str(texts[i]) if texts[i] is not None else ""
        fid = str(fids[i]) if fids[i] is not None else ""
        hits: list[tuple[str, str, float]] = []  # (entity id, method, score)
        if fid in by_id:
            hits.append((fid, "id", 1.0))
        elif text:
            hits = [(index.entities[k][0], method, score) for k, method, score in index.hits(text, min_score)]
        found = [
            Match(i, text or fid, eid, str(by_id[eid][1]), by_id[eid][2], method, score, float(geom.x), float(geom.y))
            for eid, method, score in hits
        ]
        found = [m for m in found if m.score >= min_score]
        if not found:
            unmatched.append(text or f"第 {i + 1} 个要素")
        matches.extend(sorted(found, key=lambda m: -m.score))
    if skipped_shape:
        notes.append(f"{skipped_shape} 个要素不是单点（线、面、多点或无几何），不参与匹配")
    if unmatched:
        notes.append(
            f"{len(unmatched)} 个点找不到对应的规划条目：{'、'.join(short_name(u, 30) for u in unmatched[:10])}"
            + ("…" if len(unmatched) > 10 else "")
        )
    return matches, notes


def best_matches(matches: Sequence[Match]) -> list[Match]:
    """The matches safe to accept without asking: per imported point the single best candidate, if unique, and
    per entity the single best point (ties are left for the user)."""
    by_row: dict[int, list[Match]] = {}
    for m in matches:
        by_row.setdefault(m.row, []).append(m)
    chosen = []
    for items in by_row.values():
        top = max(m.score for m in items)
        best = [m for m in items if m.score == top]
        if len(best) == 1:
            chosen.append(best[0])
    by_entity: dict[str, list[Match]] = {}
    for m in chosen:
        by_entity.setdefault(m.entity_id, []).append(m)
    return [items[0] for items in by_entity.values() if len(items) == 1]


def save_matches(
    matches: Sequence[Match],
    *,
    note: str = "",
    path: Path | None = None,
    boundaries: gpd.GeoDataFrame | None = None,
) -> list[Any]:
    """Save accepted matches as exact locations in the overrides file (keyed by entity id).

    Every row is validated first (inside its county, valid coordinates); if any fails, nothing is saved.

    Returns
    -------
    list of geo.overrides.OverrideRow
        The saved rows.

    Raises
    ------
    ImportRejected
        Some matches are invalid; the message lists them.
    """

    bnd = boundaries if boundaries is not None else load_boundaries("full")
    problems = []
    for m in matches:
        record = {"county": m.county, "place": m.entity_id, "lon": repr(m.lon), "lat": repr(m.lat), "crs": "wgs84"}
        try:
            validate_row(record, 0, bnd)
        except GeoDataError as exc:
            problems.append(f"{m.entity_name}（{m.entity_id}）：{str(exc).split('：', 1)[-1]}")
    if problems:
        raise ImportRejected("以下匹配不能保存，未写入任何坐标：" + "；".join(problems[:10]), "bad_match")
    saved = []
    for m in matches:
        text = note or f"导入匹配：{m.imported_name}（{METHOD_LABELS.get(m.method, m.method)}）"
        try:
            saved.append(
                save_override(
                    m.county, m.entity_id, lon=m.lon, lat=m.lat, crs="wgs84", note=text, path=path, boundaries=bnd
                )
            )
        except (GeoDataError, OSError) as exc:
            raise GisIOError(f"保存坐标失败（已保存 {len(saved)} 条）：{exc}", "overrides") from exc
    return saved
