"""River lines of Chongqing from GSHHG's WDBII rivers, named by a tested rule from the plans' own river names.

Source: Debian package ``gmt-gshhg-high`` (GSHHG 2.3.7, LGPL-3+), file ``/usr/share/gmt-gshhg/binned_river_h.nc``:
WGS84 lines without names, in GMT's binned netCDF-4 layout (read with h5py; layout as in GMT's
``src/gmt_shore.c``: 2° bins, points stored as unsigned 16-bit offsets from each bin's south-west corner).

Naming rule (:func:`name_lines`), from the rivers the plan files register (``kind: river``):

1. ``T(N)``: the plan counties that register river ``N``;
2. candidates: lines running at least :data:`MIN_KM` inside every county of ``T(N)``; of these, only the lines of
   the most important WDBII class (lowest level) are kept;
3. names are tied in order of decreasing ``|T(N)|``; a line already named leaves later candidate sets; a name with
   several candidates, or names of equal ``|T|`` competing for one line, stay unnamed (reported, never guessed).

A line thus gets a name only when the plans' own geography leaves no other choice.  Lines that get no name are
still drawn (unnamed) for orientation.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Set
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString, mapping, shape
from shapely.geometry.base import BaseGeometry

import config
from geo.atomic import atomic_write_text
from geo.errors import GeoDataError

GSHHG_RIVERS = Path("/usr/share/gmt-gshhg/binned_river_h.nc")
SOURCE = "GSHHG 2.3.7 WDBII 河流（Debian gmt-gshhg-high，LGPL-3+）"
MIN_KM = 5.0  # a river "of" a county runs at least this far inside it
JOIN_GAP = 0.005  # degrees (~500 m): WDBII pieces of one river are digitised with small gaps between them
METRIC_CRS = "EPSG:4545"  # CGCS2000 GK zone 36 (central meridian 108°E): lengths within Chongqing
CLASSES: dict[int, str] = {
    0: "双线河（河湖）",
    1: "常年性大河",
    2: "其他大河",
    3: "河流",
    4: "小河",
    5: "间歇性大河",
    6: "间歇性河流",
    7: "间歇性小河",
    8: "主要运河",
    9: "次要运河",
    10: "灌渠",
}


@dataclass(frozen=True)
class River:
    """One river line (WGS84) with its WDBII class and, when the rule gives one, its name."""

    id: int
    level: int
    geometry: BaseGeometry
    name: str | None = None


# --- reading GSHHG -------------------------------------------------------------------------------------------


def read_segments(path: Path, bbox: tuple[float, float, float, float]) -> Iterator[tuple[int, np.ndarray]]:
    """``(level, lon/lat array)`` of every WDBII segment in the bins touching ``bbox`` (west, south, east, north)."""
    import h5py

    if not path.is_file():
        raise GeoDataError(f"找不到 GSHHG 河流数据 {path}：请安装 Debian 软件包 gmt-gshhg-high（make data 会安装）")
    west, south, east, north = bbox
    with h5py.File(path, "r") as nc:
        size = float(nc["Bin_size_in_minutes"][0]) / 60.0
        per_row = int(nc["N_bins_in_360_longitude_range"][0])
        first = nc["Id_of_first_segment_in_a_bin"][:]
        count = nc["N_segments_in_a_bin"][:]
        npoints = nc["N_points_for_a_segment"][:]
        levels = nc["Hierarchial_level_of_a_segment"][:]
        start = nc["Id_of_first_point_in_a_segment"][:]
        dx = nc["Relative_longitude_from_SW_corner_of_bin"][:].view(np.uint16)
        dy = nc["Relative_latitude_from_SW_corner_of_bin"][:].view(np.uint16)
    scale = size / 65535.0
    for b in range(len(first)):
        lon0 = (b % per_row) * size
        lon0 = lon0 - 360.0 if lon0 > 180.0 else lon0
        lat0 = 90.0 - (b // per_row + 1) * size
        if lon0 + size < west or lon0 > east or lat0 + size < south or lat0 > north:
            continue
        for s in range(int(first[b]), int(first[b] + count[b])):
            a, k = int(start[s]), int(npoints[s])
            xy = np.column_stack([lon0 + dx[a : a + k] * scale, lat0 + dy[a : a + k] * scale])
            yield int(levels[s]), np.round(xy, 7)


def merge_lines(segments: Iterable[tuple[int, np.ndarray]], gap: float = JOIN_GAP) -> list[tuple[int, LineString]]:
    """Join the bin-clipped pieces into whole lines per level (shared ends first, then gaps up to ``gap``)."""
    by_level: dict[int, list[LineString]] = defaultdict(list)
    for level, xy in segments:
        if len(xy) >= 2:
            by_level[level].append(LineString(xy))
    merged: list[tuple[int, list[tuple[float, float]]]] = []
    for level in sorted(by_level):
        joined = shapely.line_merge(MultiLineString(by_level[level]))
        parts = list(joined.geoms) if isinstance(joined, MultiLineString) else [joined]
        merged += [(level, [(float(x), float(y)) for x, y in p.coords]) for p in parts]
    # A piece whose end lies within `gap` of the start of exactly one other piece of its level continues in it.
    changed = True
    while changed:
        changed = False
        for i, (level, coords) in enumerate(merged):
            nxt = [
                j
                for j, (other_level, other) in enumerate(merged)
                if j != i
                and other_level == level
                and abs(other[0][0] - coords[-1][0]) <= gap
                and abs(other[0][1] - coords[-1][1]) <= gap
            ]
            if len(nxt) == 1:
                j = nxt[0]
                tail = merged[j][1]
                merged[i] = (level, coords + (tail[1:] if tail[0] == coords[-1] else tail))
                del merged[j]
                changed = True
                break
    return [(level, LineString(coords)) for level, coords in merged]


# --- naming ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NameDecision:
    """The rule's outcome for one river name."""

    name: str
    counties: tuple[str, ...]
    candidates: tuple[int, ...]
    line: int | None
    why: str  # a planner-readable sentence


def name_lines(
    lines: Mapping[int, tuple[int, BaseGeometry]],
    counties: Mapping[str, BaseGeometry],
    registered: Mapping[str, Set[str]],
    *,
    min_km: float = MIN_KM,
) -> list[NameDecision]:
    """Tie river names to lines by the module's rule.

    Parameters
    ----------
    lines
        line id -> (WDBII level, WGS84 line).
    counties
        adcode -> WGS84 county polygon.
    registered
        river name -> the plan counties registering it (``T(N)``).
    """
    metric = gpd.GeoSeries([g for _lvl, g in lines.values()], crs=config.WGS84).to_crs(METRIC_CRS).values
    ids = list(lines)
    polys = {c: gpd.GeoSeries([g], crs=config.WGS84).to_crs(METRIC_CRS).iloc[0] for c, g in counties.items()}

    def km_inside(line_index: int, county: str) -> float:
        return float(metric[line_index].intersection(polys[county]).length) / 1000.0

    candidates: dict[str, list[int]] = {}
    for name, owners in registered.items():
        inside = [
            lid for i, lid in enumerate(ids) if owners and all(c in polys and km_inside(i, c) >= min_km for c in owners)
        ]
        if inside:
            top = min(lines[lid][0] for lid in inside)
            inside = [lid for lid in inside if lines[lid][0] == top]
        candidates[name] = inside
    decisions: list[NameDecision] = []
    taken: set[int] = set()
    for size in sorted({len(v) for v in registered.values()}, reverse=True):
        group = sorted(n for n in registered if len(registered[n]) == size)
        free = {n: [lid for lid in candidates[n] if lid not in taken] for n in group}
        wanted: dict[int, int] = defaultdict(int)
        for n in group:
            for lid in free[n]:
                wanted[lid] += 1
        for n in group:
            plan_counties = tuple(sorted(registered[n]))
            cands, options = tuple(candidates[n]), free[n]
            if len(options) == 1 and wanted[options[0]] == 1:
                decisions.append(NameDecision(n, plan_counties, cands, options[0], "唯一符合规则的河流线"))
            elif len(options) == 1:
                rivals = "、".join(sorted(m for m in group if m != n and options[0] in free[m]))
                why = f"与“{rivals}”争同一条河流线，无法区分，不命名"
                decisions.append(NameDecision(n, plan_counties, cands, None, why))
            elif not options and not cands:
                why = f"数据中没有在{'、'.join(plan_counties)}境内流经 {min_km:g} 公里以上的河流线（小河未收录）"
                decisions.append(NameDecision(n, plan_counties, cands, None, why))
            elif not options:
                decisions.append(NameDecision(n, plan_counties, cands, None, "符合条件的河流线已归属其他河流名"))
            else:
                decisions.append(
                    NameDecision(n, plan_counties, cands, None, f"有 {len(options)} 条符合条件的河流线，无法确定")
                )
        taken |= {d.line for d in decisions if d.line is not None}
    return decisions


# --- building and loading -------------------------------------------------------------------------------------


def build_rivers(
    boundaries: gpd.GeoDataFrame, registered: Mapping[str, set[str]], source: Path = GSHHG_RIVERS
) -> tuple[list[River], list[NameDecision]]:
    """River lines crossing Chongqing (clipped to its outline) and the naming decisions."""
    outline = boundaries.loc[boundaries["adcode"] == config.MUNICIPAL_ADCODE, "geometry"]
    if outline.empty:
        raise GeoDataError("边界数据中没有重庆市市界，无法截取河流")
    area = outline.iloc[0]
    west, south, east, north = (float(v) for v in area.bounds)
    segments = read_segments(source, (west, south, east, north))
    merged = [(lvl, g) for lvl, g in merge_lines(segments) if g.intersects(area)]
    lines = {i: (lvl, g) for i, (lvl, g) in enumerate(merged)}
    counties = {
        str(a): g for a, g in zip(boundaries["adcode"], boundaries.geometry) if str(a) != config.MUNICIPAL_ADCODE
    }
    decisions = name_lines(lines, counties, registered)
    names = {d.line: d.name for d in decisions if d.line is not None}
    rivers = []
    for lid, (lvl, geom) in lines.items():
        clipped = shapely.intersection(geom, area)
        if not clipped.is_empty:
            rivers.append(River(lid, lvl, _lines_only(clipped), names.get(lid)))
    return rivers, decisions


def _lines_only(geom: BaseGeometry) -> BaseGeometry:
    parts = [g for g in getattr(geom, "geoms", [geom]) if g.geom_type in ("LineString", "MultiLineString")]
    return shapely.line_merge(shapely.union_all(parts)) if len(parts) > 1 else parts[0]


def write_rivers(path: Path, rivers: Iterable[River]) -> None:
    """Write the river lines as compact, deterministic GeoJSON (coordinates rounded to 1e-6°)."""
    features = [
        {
            "type": "Feature",
            "properties": {"id": r.id, "level": r.level, "class": CLASSES.get(r.level, ""), "name": r.name},
            "geometry": mapping(shapely.set_precision(r.geometry, 1e-6)),
        }
        for r in rivers
    ]
    doc = {"type": "FeatureCollection", "source": SOURCE, "features": features}
    atomic_write_text(path, json.dumps(doc, ensure_ascii=False, separators=(",", ":")))


def load_rivers(path: Path | None = None) -> list[River]:
    """The river lines of ``data/rivers`` (none when the file is missing)."""
    return list(_load(str(path or config.RIVERS_PATH)))


@lru_cache(maxsize=2)
def _load(path: str) -> tuple[River, ...]:
    file = Path(path)
    if not file.is_file():
        return ()
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
        return tuple(
            River(
                int(f["properties"]["id"]), int(f["properties"]["level"]), shape(f["geometry"]), f["properties"]["name"]
            )
            for f in doc["features"]
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise GeoDataError(f"河流数据 {file.name} 无法读取：{exc}") from exc


def named_river(name: str, rivers: Iterable[River]) -> River | None:
    """The line the rule named ``name``, if any."""
    return next((r for r in rivers if r.name == name), None)
