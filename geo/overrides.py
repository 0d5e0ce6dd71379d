"""User-supplied coordinates in the overrides format (``county,place,lon,lat,crs,note``), read and checked.

``data/overrides.csv`` was where earlier versions kept user coordinates; it is now imported once into the store
(:mod:`store.migrate`), and a GIS team can still hand over a file in this format (``cli.py import-overrides``).

Columns: ``county,place,lon,lat,crs,note``. ``county`` is an adcode (or a county name); ``place`` a place name as
the plan writes it (any form that normalises the same) or an entity id (``yy-dv-001``) to place one entity.
``lon``/``lat`` are x/y in ``crs`` — any CRS of :func:`geo.crs.normalise_crs` (wgs84, cgcs2000, gcj02,
EPSG:3857, Gauss-Krüger EPSG:4544–4546 / 4523–4525), for projected CRS easting/northing in metres.

Bad rows are reported in Chinese with their line number; the other rows still load.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
from shapely.geometry import Point

import config
from geo.boundaries import adcode_for, lies_within
from geo.crs import is_projected, normalise_crs, transform_xy
from geo.errors import GeoDataError
from plan.names import normalise

COLUMNS: tuple[str, ...] = ("county", "place", "lon", "lat", "crs", "note")
HEADER = ",".join(COLUMNS) + "\n"


@dataclass(frozen=True)
class OverrideRow:
    """One valid override, converted to WGS84."""

    line: int
    county: str
    place: str
    lon: float
    lat: float
    crs: str
    note: str = ""

    @property
    def geometry(self) -> Point:
        return Point(self.lon, self.lat)

    @property
    def key(self) -> str:
        """Matching key: the entity id as written, or the normalised place name."""
        return self.place if is_entity_id(self.place) else normalise(self.place)

    @property
    def source(self) -> str:
        return f"用户坐标 overrides.csv 第 {self.line} 行" + (f"（{self.note}）" if self.note else "")


def is_entity_id(text: str) -> bool:
    """Whether an overrides ``place`` value is an entity id (lowercase ascii with '-') rather than a name."""
    return bool(text) and text.isascii() and "-" in text and text == text.lower()


def _number(text: str, label: str, where: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise GeoDataError(f"{where}：{label}“{text}”不是数字") from None
    if not math.isfinite(value):
        raise GeoDataError(f"{where}：{label}“{text}”不是有效数字")
    return value


def validate_row(
    record: dict[str, str], line: int, boundaries: gpd.GeoDataFrame, *, file_name: str = "overrides.csv"
) -> OverrideRow:
    """Check one CSV record and convert its coordinates to WGS84.

    Raises
    ------
    GeoDataError
        With a Chinese message naming the file and line: unknown county or CRS, empty place, non-numeric or
        swapped coordinates, or a point outside the county.
    """
    where = f"{file_name} 第 {line} 行"
    county_text = (record.get("county") or "").strip()
    place = (record.get("place") or "").strip()
    if not county_text:
        raise GeoDataError(f"{where}：缺少区县（county）")
    if not place:
        raise GeoDataError(f"{where}：缺少地点名称（place）")
    try:
        county = county_text if county_text in set(boundaries["adcode"]) else adcode_for(county_text, boundaries)
    except GeoDataError:
        raise GeoDataError(f"{where}：区县“{county_text}”不是重庆市的区县代码或名称") from None
    x = _number(record.get("lon") or "", "经度/X", where)
    y = _number(record.get("lat") or "", "纬度/Y", where)
    crs_text = (record.get("crs") or "").strip() or "wgs84"
    try:
        crs = normalise_crs(crs_text)
    except GeoDataError as exc:
        raise GeoDataError(f"{where}：{exc}") from None
    polygon = boundaries.loc[boundaries["adcode"] == county, "geometry"].iloc[0]
    county_name = str(boundaries.loc[boundaries["adcode"] == county, "name"].iloc[0])
    projected = is_projected(crs)
    if not projected and not (-180 <= x <= 180 and -90 <= y <= 90):
        if -90 <= x <= 90 and -180 <= y <= 180:
            raise GeoDataError(f"{where}：经纬度可能填反了（经度 {x}，纬度 {y}）；lon 列填经度，lat 列填纬度")
        raise GeoDataError(f"{where}：坐标 ({x}, {y}) 不是有效的经纬度；投影坐标请在 crs 列写明坐标系")
    lon, lat = (float(v[0]) for v in transform_xy([x], [y], crs))
    if math.isfinite(lon) and math.isfinite(lat) and lies_within(Point(lon, lat), polygon):
        return OverrideRow(line, county, place, lon, lat, crs, (record.get("note") or "").strip())
    swapped = [float(v[0]) for v in transform_xy([y], [x], crs)]
    if all(map(math.isfinite, swapped)) and lies_within(Point(*swapped), polygon):
        what = "X/Y（东坐标/北坐标）" if projected else "经度/纬度"
        raise GeoDataError(f"{where}：{what}填反了——交换后才落在{county_name}内；请交换 lon 与 lat 两列")
    shown = f"（换算为 WGS84：{lon:.5f}, {lat:.5f}）" if math.isfinite(lon) and math.isfinite(lat) else ""
    hint = (
        "；请检查投影带号和是否带带号前缀" if crs in {z for c in config.GK_ZONES.values() for z in c.values()} else ""
    )
    raise GeoDataError(f"{where}：坐标不在{county_name}范围内{shown}{hint}")


def load_overrides(
    path: Path | None = None, boundaries: gpd.GeoDataFrame | None = None
) -> tuple[list[OverrideRow], list[str]]:
    """Read the overrides file.

    Returns
    -------
    tuple
        ``(rows, problems)``: valid rows (a later row for the same county and place replaces an earlier one)
        and one Chinese message per bad row. A missing file gives ``([], [])``.
    """
    from geo.boundaries import load_boundaries

    path = path or config.OVERRIDES_PATH
    if not path.exists():
        return [], []
    gdf = boundaries if boundaries is not None else load_boundaries("full")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        return [], [f"{path.name}：文件不是 UTF-8 编码，请另存为 UTF-8 后再试"]
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("county", "place", "lon", "lat") if c not in (reader.fieldnames or [])]
    if missing:
        return [], [f"{path.name}：表头缺少 {', '.join(missing)} 列（应为 {','.join(COLUMNS)}）"]
    rows: dict[tuple[str, str], OverrideRow] = {}
    problems: list[str] = []
    for record in reader:
        line = reader.line_num
        if not any((v or "").strip() for v in record.values() if isinstance(v, str)):
            continue
        try:
            row = validate_row(record, line, gdf, file_name=path.name)
        except GeoDataError as exc:
            problems.append(str(exc))
            continue
        key = (row.county, row.key)
        if key in rows:
            problems.append(f"{path.name} 第 {line} 行：与第 {rows[key].line} 行重复（{row.place}），使用第 {line} 行")
        rows[key] = row
    return sorted(rows.values(), key=lambda r: r.line), problems
