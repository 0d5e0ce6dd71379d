"""Imported points -> plan entities, by id or name: proposals, the safe subset, saving the accepted ones."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd

from geo.boundaries import load_boundaries
from geo.errors import GeoDataError
from geo.overrides import save_override, validate_row
from gisio.errors import GisIOError, ImportRejected
from gisio.normalise import ImportResult, guess_name_field
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


def match_by_name(
    imported: ImportResult | gpd.GeoDataFrame,
    features: gpd.GeoDataFrame,
    *,
    name_field: str | None = None,
    min_score: float = 0.6,
) -> tuple[list[Match], list[str]]:
    """Propose plan entities for each imported point, best first.

    An imported ``id`` equal to an entity id wins (a GIS team edited our export); then equal names, equal
    normalised names (:func:`plan.names.normalise`), one name containing the other, and similar names.

    Returns
    -------
    tuple
        ``(matches, notes)``: every candidate with score ``>= min_score`` (several per point when ambiguous) and
        Chinese notes on points that were skipped (not points, no name, no candidate).
    """

    gdf = imported.gdf if isinstance(imported, ImportResult) else imported
    detected = imported.name_field if isinstance(imported, ImportResult) else None
    field_name = name_field or detected or guess_name_field(gdf)
    notes: list[str] = []
    entities = list(zip(features["id"], features["name"], features["county"].astype(str)))
    by_id = {e[0]: e for e in entities}
    norm = {e[0]: normalise(str(e[1])) for e in entities}
    matches: list[Match] = []
    skipped_shape = 0
    unmatched: list[str] = []
    for i, geom in enumerate(gdf.geometry.values):
        if geom is None or geom.geom_type != "Point":
            skipped_shape += 1
            continue
        text = str(gdf[field_name].iloc[i]) if field_name and gdf[field_name].iloc[i] is not None else ""
        fid = str(gdf["id"].iloc[i]) if "id" in gdf.columns and gdf["id"].iloc[i] is not None else ""
        hits: list[tuple[str, str, float]] = []  # (entity id, method, score)
        if fid in by_id:
            hits.append((fid, "id", 1.0))
        elif text:
            key = normalise(text)
            for eid, ename, _county in entities:
                if ename == text:
                    hits.append((eid, "name", 0.95))
                elif key and norm[eid] == key:
                    hits.append((eid, "normalised", 0.9))
                elif len(key) >= 2 and (key in norm[eid] or norm[eid] in key) and len(norm[eid]) >= 2:
                    hits.append((eid, "contains", 0.7))
                else:
                    ratio = difflib.SequenceMatcher(None, key, norm[eid]).ratio()
                    if ratio >= min_score:
                        hits.append((eid, "fuzzy", round(0.65 * ratio, 3)))
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
            f"{len(unmatched)} 个点找不到对应的规划条目：{'、'.join(unmatched[:10])}"
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
