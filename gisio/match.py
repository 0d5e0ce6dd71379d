"""Imported features (points, lines, areas) -> plan entities, by id, official code or name; saving the accepted
ones into the store as exact locations, with the file and row in each item's history.

A GIS team's layer may carry the official statistical division code (统计用区划代码, 12 digits; a town's also
written as 9) of its 乡镇/村: where the plan's places have codes (:mod:`geo.divisions`), an equal code is the
strongest match after our own ids.  Items without a code are matched by name as before.
"""

from __future__ import annotations

import difflib
import re
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
from gisio.normalise import ImportResult, guess_name_field
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


def match_by_name(
    imported: ImportResult | gpd.GeoDataFrame,
    features: gpd.GeoDataFrame,
    *,
    name_field: str | None = None,
    min_score: float = 0.6,
    code_field: str | None = None,
) -> tuple[list[Match], list[str]]:
    """Propose plan entities for each imported feature (point, line or area), best first.

    An imported ``id`` equal to an entity id wins (a GIS team edited our export); then an official division code
    equal to an item's (the feature table's ``codes``; the layer's code column is guessed unless ``code_field``
    names it); then equal names, equal
    normalised names (:func:`plan.names.normalise`), one name containing the other, and similar names.

    Returns
    -------
    tuple
        ``(matches, notes)``: every candidate with score ``>= min_score`` (several per feature when ambiguous)
        and Chinese notes on features that were skipped (no geometry, no name, no candidate).
    """

    gdf = imported.gdf if isinstance(imported, ImportResult) else imported
    detected = imported.name_field if isinstance(imported, ImportResult) else None
    field_name = name_field or detected or guess_name_field(gdf)
    by_code = entity_codes(features)
    code_column = code_field or (guess_code_field(gdf) if by_code else None)
    notes: list[str] = []
    entities = list(zip(features["id"], features["name"], features["county"].astype(str)))
    by_id = {e[0]: e for e in entities}
    norm = {e[0]: normalise(str(e[1])) for e in entities}
    matches: list[Match] = []
    skipped_shape = 0
    unmatched: list[str] = []
    for i, geom in enumerate(gdf.geometry.values):
        if geometry_kind(geom) is None:
            skipped_shape += 1
            continue
        text = str(gdf[field_name].iloc[i]) if field_name and gdf[field_name].iloc[i] is not None else ""
        fid = str(gdf["id"].iloc[i]) if "id" in gdf.columns and gdf["id"].iloc[i] is not None else ""
        code = normalise_code(gdf[code_column].iloc[i]) if code_column else None
        hits: list[tuple[str, str, float]] = []  # (entity id, method, score)
        if fid in by_id:
            hits.append((fid, "id", 1.0))
        elif code and by_code.get(code):
            hits.extend((eid, "code", 0.98) for eid in by_code[code] if eid in by_id)
        if not hits and text:
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
            f"{len(unmatched)} 个要素找不到对应的规划条目：{'、'.join(unmatched[:10])}"
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
