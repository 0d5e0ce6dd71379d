"""Imported features (points, lines, areas) -> plan entities, by id, official code or name; saving the accepted
ones into the store as exact locations, with the file and row in each item's history.

A GIS team's layer may carry the official statistical division code (统计用区划代码, 12 digits; a town's also
written as 9) of its 乡镇/村: where the plan's places have codes (:mod:`geo.divisions`), an equal code is the
strongest match after our own ids.  Items without a code are matched by name as before.
"""

from __future__ import annotations

import difflib
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from geo.boundaries import load_boundaries
from geo.errors import GeoDataError
from geo.usergeo import KIND_LABELS, checked_geometry, geometry_kind
from gisio.errors import GisIOError, ImportRejected
from gisio.limits import short_name
from gisio.normalise import ImportResult, guess_name_field
from gisio.watchdog import checkpoint, run_with_deadline
from plan.names import normalise
from store.db import Store
from store.errors import StoreError
from store.model import NewGeometry, StoredItem


@dataclass(frozen=True)
class Match:
    """An imported feature proposed as the exact location of a plan entity."""

    row: int  # 0-based index of the feature in the layer
    imported_name: str
    entity_id: str
    entity_name: str
    county: str
    method: str  # "id" | "code" | "name" | "normalised" | "contains" | "fuzzy"
    score: float
    lon: float  # a representative point (the point itself for points), for tables
    lat: float
    geometry: BaseGeometry | None = None  # the imported geometry (WGS84); None means Point(lon, lat)

    @property
    def kind(self) -> str:
        """点 / 线 / 面."""
        return KIND_LABELS.get(geometry_kind(self.geometry) or "point", "点")


METHOD_LABELS = {
    "id": "编号相同",
    "code": "区划代码相同",
    "name": "名称相同",
    "normalised": "名称相同（去掉镇/乡/村等后缀）",
    "contains": "名称包含",
    "fuzzy": "名称相近",
}

_CODE = re.compile(r"^(\d{9}|\d{12})$")
CODE_FIELDS = ("code", "dm", "qhdm", "xzqdm", "区划代码", "行政区划代码", "统计用区划代码", "代码", "cun_dm", "xzdm")


def normalise_code(value: Any) -> str | None:
    """A 9- or 12-digit division code as 12 digits (a town's 9 digits + ``000``); None if it is not one."""
    if value is None:
        return None
    text = str(value).strip()
    if text.endswith(".0"):  # read as a float from a spreadsheet or DBF
        text = text[:-2]
    if not _CODE.match(text):
        return None
    return text + "000" if len(text) == 9 else text


def guess_code_field(gdf: gpd.GeoDataFrame) -> str | None:
    """The column holding division codes: most non-empty values are 9/12-digit codes (a known name first)."""
    columns = [c for c in gdf.columns if c != "geometry"]
    ranked = sorted(columns, key=lambda c: (str(c).lower() not in CODE_FIELDS, columns.index(c)))
    for column in ranked:
        values = [v for v in gdf[column].tolist() if v is not None and str(v).strip() not in ("", "nan")]
        if values and sum(normalise_code(v) is not None for v in values) >= 0.8 * len(values):
            return str(column)
    return None


def entity_codes(features: gpd.GeoDataFrame) -> dict[str, list[str]]:
    """12-digit code -> ids of the entities it identifies, from the feature table's ``codes`` (the official codes
    of each item's places, :mod:`geo.divisions`): the code of the place named like the item, or of its only
    coded place.  Items without codes (or a table without the column) give nothing."""
    if "codes" not in features.columns:
        return {}
    out: dict[str, list[str]] = {}
    for eid, name, codes in zip(features["id"], features["name"], features["codes"]):
        entries = [c for c in (codes if isinstance(codes, list | tuple) else []) if isinstance(c, dict)]
        key = normalise(str(name))
        own = [
            c
            for c in entries
            if key in (normalise(str(c.get("place", ""))), normalise(str(c.get("official_name", ""))))
        ]
        chosen = own or (entries if len(entries) == 1 else [])
        code = normalise_code(chosen[0].get("code")) if chosen else None
        if code:
            out.setdefault(code, []).append(str(eid))
    return out


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
    code_field: str | None = None,
    timeout: float | None = None,
) -> tuple[list[Match], list[str]]:
    """Propose plan entities for each imported feature (point, line or area), best first.

    An imported ``id`` equal to an entity id wins (a GIS team edited our export); then an official division code
    equal to an item's (the feature table's ``codes``; the layer's code column is guessed unless ``code_field``
    names it); then equal names, equal normalised names (:func:`plan.names.normalise`), one name containing the
    other, and similar names.  Names are looked up in a :class:`PlanNameIndex`, so 100,000 features take seconds;
    the whole match runs under a deadline (``timeout``, default ``config.IMPORT_TIMEOUT_S``;
    :func:`gisio.watchdog.run_with_deadline`).

    Returns
    -------
    tuple
        ``(matches, notes)``: every candidate with score ``>= min_score`` (several per feature when ambiguous)
        and Chinese notes on features that were skipped (no geometry, no name, no candidate).

    Raises
    ------
    ImportRejected
        Code ``timeout``: matching took longer than allowed.
    """
    return run_with_deadline(
        lambda: _match(imported, features, name_field=name_field, min_score=min_score, code_field=code_field),
        what="按名称匹配规划条目",
        seconds=timeout,
    )


def _match(
    imported: ImportResult | gpd.GeoDataFrame,
    features: gpd.GeoDataFrame,
    *,
    name_field: str | None,
    min_score: float,
    code_field: str | None,
) -> tuple[list[Match], list[str]]:
    gdf = imported.gdf if isinstance(imported, ImportResult) else imported
    detected = imported.name_field if isinstance(imported, ImportResult) else None
    field_name = name_field or detected or guess_name_field(gdf)
    by_code = entity_codes(features)
    code_column = code_field or (guess_code_field(gdf) if by_code else None)
    notes: list[str] = []
    entities = list(zip(features["id"], features["name"], features["county"].astype(str)))
    by_id = {e[0]: e for e in entities}
    index = PlanNameIndex(entities)
    texts = gdf[field_name].tolist() if field_name and field_name in gdf.columns else [None] * len(gdf)
    fids = gdf["id"].tolist() if "id" in gdf.columns else [None] * len(gdf)
    codes = gdf[code_column].tolist() if code_column else [None] * len(gdf)
    matches: list[Match] = []
    skipped_shape = 0
    unmatched: list[str] = []
    for i, geom in enumerate(gdf.geometry.values):
        if i % 1000 == 0:
            checkpoint()
        if geometry_kind(geom) is None:
            skipped_shape += 1
            continue
        text = str(texts[i]) if texts[i] is not None else ""
        fid = str(fids[i]) if fids[i] is not None else ""
        code = normalise_code(codes[i]) if code_column else None
        hits: list[tuple[str, str, float]] = []  # (entity id, method, score)
        if fid in by_id:
            hits.append((fid, "id", 1.0))
        elif code and by_code.get(code):
            hits.extend((eid, "code", 0.98) for eid in by_code[code] if eid in by_id)
        if not hits and text:
            hits = [(index.entities[k][0], method, score) for k, method, score in index.hits(text, min_score)]
        point = geom if geom.geom_type == "Point" else geom.representative_point()
        found = [
            Match(
                i,
                text or code or fid,
                eid,
                str(by_id[eid][1]),
                by_id[eid][2],
                method,
                score,
                float(point.x),
                float(point.y),
                geom,
            )
            for eid, method, score in hits
        ]
        found = [m for m in found if m.score >= min_score]
        if not found:
            unmatched.append(text or f"第 {i + 1} 个要素")
        matches.extend(sorted(found, key=lambda m: -m.score))
    if skipped_shape:
        notes.append(f"{skipped_shape} 个要素没有几何或几何类型混杂，不参与匹配")
    if unmatched:
        notes.append(
            f"{len(unmatched)} 个要素找不到对应的规划条目：{'、'.join(short_name(u, 30) for u in unmatched[:10])}"
            + ("…" if len(unmatched) > 10 else "")
        )
    return matches, notes


def best_matches(matches: Sequence[Match]) -> list[Match]:
    """The matches safe to accept without asking: per imported feature the single best candidate, if unique, and
    per entity the single best feature (ties are left for the user)."""
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


def source_row(imported: ImportResult | None, row: int) -> int:
    """The row a feature is cited by in the history: the line for a CSV (header = line 1), else its number."""
    if imported is not None and imported.filename.lower().endswith(".csv"):
        return row + 2
    return row + 1


def save_matches(
    matches: Sequence[Match],
    *,
    store: Store,
    who: str,
    imported: ImportResult | None = None,
    note: str = "",
    boundaries: gpd.GeoDataFrame | None = None,
) -> list[StoredItem]:
    """Save accepted matches as exact locations of their entities in ``store``, in one transaction.

    Every geometry is checked first (a valid shape inside its county); if any fails, or the layer's coordinate
    system could not be determined, nothing is saved.

    Raises
    ------
    ImportRejected
        Some matches are invalid, one entity was given two features, or the CRS is uncertain; the message says
        which.
    GisIOError
        The store could not be written (nothing was saved).
    """
    if imported is not None and imported.crs_ambiguous:
        options = "、".join(c.label for c in imported.crs_candidates)
        raise ImportRejected(f"无法确定该图层的坐标系（可能是：{options}）：请先选择坐标系，未保存任何几何", "crs")
    twice = sorted({m.entity_id for m in matches if sum(o.entity_id == m.entity_id for o in matches) > 1})
    if twice:
        raise ImportRejected(f"同一规划条目选了多个要素：{'、'.join(twice)}，请只保留一个；未保存任何几何", "duplicate")
    bnd = boundaries if boundaries is not None else load_boundaries("full")
    polygons = _polygons(bnd)
    problems: list[str] = []
    rows: list[NewGeometry] = []
    file_name = imported.filename if imported is not None else "导入图层"
    for m in matches:
        geom = m.geometry if m.geometry is not None else Point(m.lon, m.lat)
        polygon, county_name = polygons.get(m.county, (None, m.county))
        try:
            if polygon is None:
                raise GeoDataError(f"没有区县 {m.county} 的边界，无法校验位置，未保存")
            checked = checked_geometry(geom, polygon=polygon, county_name=county_name)
        except GeoDataError as exc:
            problems.append(f"{m.entity_name}（{m.entity_id}）：{exc}")
            continue
        text = note or f"导入匹配：{m.imported_name}（{METHOD_LABELS.get(m.method, m.method)}）"
        rows.append(
            NewGeometry(
                item_id=m.entity_id,
                county=m.county,
                geometry=checked,
                precision="exact",
                note=text,
                source_file=file_name,
                source_row=source_row(imported, m.row),
            )
        )
    if problems:
        raise ImportRejected("以下匹配不能保存，未写入任何几何：" + "；".join(problems[:10]), "bad_match")
    try:
        return store.import_items(rows, who=who)
    except (StoreError, GeoDataError) as exc:
        raise GisIOError(f"保存失败，未写入任何几何：{exc}", "store") from exc


def _polygons(boundaries: gpd.GeoDataFrame) -> Mapping[str, tuple[BaseGeometry, str]]:
    return {str(a): (g, str(n)) for a, g, n in zip(boundaries["adcode"], boundaries["geometry"], boundaries["name"])}
