"""A layer as read -> a layer the app can use: CRS decided (file, user or suggested), geometry collections
split, NaN/Inf and out-of-range coordinates refused, invalid geometries repaired with a report, EPSG:4326.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer

import config
from geo.boundaries import load_boundaries
from geo.crs import GCJ02, crs_label, is_projected, transform_geometry
from gisio.errors import ImportRejected

_GCJ_HINTS = ("gcj", "高德", "amap", "火星", "腾讯", "tencent", "qq地图")


NAME_FIELDS = ("name", "名称", "地名", "mc", "村名", "镇名", "项目名称", "title", "label")


@dataclass(frozen=True)
class CrsCandidate:
    """A CRS the coordinates could be in, with why we think so."""

    code: str
    label: str
    reason: str


@dataclass
class ImportResult:
    """An imported layer, in EPSG:4326, with what was detected and repaired on the way."""

    gdf: gpd.GeoDataFrame
    filename: str
    format: str
    source_crs: str
    crs_origin: str  # "file" | "user" | "guess"
    crs_candidates: tuple[CrsCandidate, ...] = ()
    encoding: str | None = None
    repairs: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    layers: tuple[str, ...] = ()
    name_field: str | None = None

    @property
    def crs_ambiguous(self) -> bool:
        """The CRS was guessed and another candidate would put the data somewhere else: ask the user."""
        if self.crs_origin != "guess":
            return False
        return any(not _same_place(c.code, self.source_crs) for c in self.crs_candidates)

    def summary(self) -> str:
        """One Chinese line for the UI/CLI."""
        located = int(self.gdf.geometry.notna().sum())
        origin = {"file": "文件自带", "user": "用户指定", "guess": "按坐标范围推断"}[self.crs_origin]
        enc = f"，属性编码 {self.encoding}" if self.encoding else ""
        return (
            f"{self.filename}：{len(self.gdf)} 个要素（{located} 个有几何），坐标系 {crs_label(self.source_crs)}"
            f"（{origin}）{enc}"
        )


def _same_place(a: str, b: str) -> bool:
    """WGS84 and CGCS2000 coincide at map scale: choosing between them changes nothing."""
    geographic = {config.WGS84, config.CGCS2000}
    return a == b or (a in geographic and b in geographic)


@dataclass
class RawLayer:
    """A layer as read, before CRS handling: coordinates still in the file's CRS (maybe unknown)."""

    gdf: gpd.GeoDataFrame
    format: str
    file_crs: str | None  # canonical code, or None when the file does not say
    encoding: str | None = None
    layers: tuple[str, ...] = ()
    hints: tuple[str, ...] = ()  # column/file names that may reveal the CRS (gcj, 高德 ...)
    notes: list[str] = field(default_factory=list)


def feature_label(n: int, fid: Any, fname: Any) -> str:
    extra = "，".join(str(v) for v in (fid, fname) if v not in (None, ""))
    return f"第 {n} 个要素" + (f"（{extra}）" if extra else "")


def find_column(header: Sequence[str], aliases: Sequence[str]) -> str | None:
    lowered = {h.strip().lower(): h for h in header}
    for alias in aliases:
        if alias.lower() in lowered:
            return lowered[alias.lower()]
    return None


def _inside_share(lon: np.ndarray, lat: np.ndarray, boundaries: gpd.GeoDataFrame | None) -> float:
    """Share of points inside Chongqing (the municipal outline when given, else a rough box)."""
    if len(lon) == 0:
        return 0.0
    if boundaries is None or not len(boundaries):
        boundaries = load_boundaries("display")
    outline = boundaries.loc[boundaries["adcode"] == config.MUNICIPAL_ADCODE, "geometry"]
    area = outline.iloc[0] if len(outline) else shapely.union_all(boundaries.geometry.values)
    return float(shapely.contains_xy(area, lon, lat).mean())


def suggest_crs(
    coords: np.ndarray, hints: Iterable[str] = (), boundaries: gpd.GeoDataFrame | None = None
) -> list[CrsCandidate]:
    """Candidate CRS for coordinates of unknown CRS, most likely first (empty: no idea).

    Lon/lat degrees -> WGS84, CGCS2000, GCJ-02 (first when a file or column name mentions 高德/GCJ/AMap);
    6-digit eastings -> Gauss-Krüger zones without prefix (the zones that put the data in Chongqing);
    8-digit eastings starting with the zone number -> that zone with prefix; Web Mercator metres.
    """

    coords = np.asarray(coords, dtype=float).reshape(-1, 2)
    coords = coords[np.isfinite(coords).all(axis=1)]
    if len(coords) == 0:
        return []
    x, y = coords[:, 0], coords[:, 1]
    text = " ".join(hints).lower()
    if (np.abs(x) <= 180).all() and (np.abs(y) <= 90).all():
        geo = [
            CrsCandidate(config.WGS84, crs_label(config.WGS84), "坐标是经纬度（度）"),
            CrsCandidate(config.CGCS2000, crs_label(config.CGCS2000), "坐标是经纬度（度），与 WGS84 相差不到 1 米"),
            CrsCandidate(GCJ02, crs_label(GCJ02), "高德、腾讯地图拾取的经纬度是 GCJ-02，比 WGS84 偏移数百米"),
        ]
        if any(h in text for h in _GCJ_HINTS):
            geo = [geo[2], geo[0], geo[1]]
            geo[0] = CrsCandidate(GCJ02, geo[0].label, "文件名或字段名提到高德/GCJ-02")
        return geo
    zones = config.GK_ZONES
    prefix_zone = np.floor(x / 1e6)
    if (prefix_zone == prefix_zone[0]).all() and int(prefix_zone[0]) in zones and (y > 2e6).all() and (y < 5e6).all():
        zone = int(prefix_zone[0])
        code = zones[zone]["prefix"]
        return [CrsCandidate(code, crs_label(code), f"东坐标以带号 {zone} 开头（8 位数）")]
    if (x > 1e5).all() and (x < 9e5).all() and (y > 2e6).all() and (y < 5e6).all():
        scored: list[tuple[float, int, CrsCandidate]] = []
        for zone, codes in zones.items():
            code = codes["no_prefix"]
            lon, lat = Transformer.from_crs(code, config.WGS84, always_xy=True).transform(x, y)
            share = _inside_share(np.asarray(lon), np.asarray(lat), boundaries)
            reason = f"6 位东坐标（无带号）；按第{zone}带换算后 {share:.0%} 的点落在重庆市内"
            scored.append((share, -abs(zone - 36), CrsCandidate(code, crs_label(code), reason)))
        scored.sort(key=lambda t: (t[0], t[1]), reverse=True)
        plausible = [c for share, _z, c in scored if share > 0]
        return plausible or [c for _s, _z, c in scored]
    if (np.abs(x) <= 20037508.35).all() and (np.abs(y) <= 20048966.1).all() and (x > 1e7).all():
        return [CrsCandidate(config.WEB_MERCATOR, "Web 墨卡托（EPSG:3857）", "坐标像 Web 墨卡托米制坐标")]
    return []


def _to_wgs84(gdf: gpd.GeoDataFrame, source: str) -> gpd.GeoDataFrame:

    out = gdf.copy()
    if source == GCJ02:
        out["geometry"] = [None if g is None else transform_geometry(g, GCJ02, config.WGS84) for g in out.geometry]
        return out.set_crs(config.WGS84, allow_override=True)
    out = out.set_crs(source, allow_override=True)
    if out.crs.equals(CRS(config.WGS84)):
        return out
    return out.to_crs(config.WGS84)


def _split_collections(gdf: gpd.GeoDataFrame, name: str, labels: list[str]) -> None:
    """Homogeneous GeometryCollections become Multi*; mixed ones are refused (a layer holds one kind per row)."""
    fixed = []
    for i, geom in enumerate(gdf.geometry.values):
        if geom is not None and geom.geom_type == "GeometryCollection":
            parts = list(geom.geoms)
            kinds = {p.geom_type.replace("Multi", "") for p in parts}
            if len(kinds) > 1:
                raise ImportRejected(
                    f"“{name}”{labels[i]}是混合几何（{'、'.join(sorted(kinds))} 放在同一个要素里），"
                    "请在 GIS 软件中拆成单一类型（点、线或面）后再上传",
                    "mixed_geometry",
                )
            if not parts:
                geom = None
            else:
                geom = (
                    shapely.union_all(parts)
                    if kinds == {"Polygon"}
                    else {
                        "Point": shapely.multipoints,
                        "LineString": shapely.multilinestrings,
                    }[kinds.pop()](parts)
                )
        fixed.append(geom)
    gdf["geometry"] = fixed


def _labels(gdf: gpd.GeoDataFrame, name_field: str | None) -> list[str]:
    ids = gdf["id"] if "id" in gdf.columns else [None] * len(gdf)
    names = gdf[name_field] if name_field else [None] * len(gdf)
    return [feature_label(i + 1, fid, nm) for i, (fid, nm) in enumerate(zip(ids, names))]


def guess_name_field(gdf: gpd.GeoDataFrame) -> str | None:
    """The column that most likely holds feature names (``name``, ``名称`` …, else the first text column)."""
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    found = find_column([str(c) for c in columns], NAME_FIELDS)
    if found:
        return found
    for column in columns:
        values = gdf[column].dropna()
        if len(values) and values.map(lambda v: isinstance(v, str) and not v.isascii()).mean() > 0.5:
            return str(column)
    return None


def finish_layer(
    raw: RawLayer, name: str, *, user_crs: str | None, boundaries: gpd.GeoDataFrame | None
) -> ImportResult:
    gdf = raw.gdf
    if len(gdf) == 0:
        raise ImportRejected(f"“{name}”中没有任何要素", "empty")
    gdf = gdf.reset_index(drop=True)
    gdf["geometry"] = [None if g is None or g.is_empty else g for g in gdf.geometry.values]
    name_field = guess_name_field(gdf)
    labels = _labels(gdf, name_field)
    _split_collections(gdf, name, labels)
    geoms = gdf.geometry.values
    coords = shapely.get_coordinates(np.asarray(geoms, dtype=object)) if len(geoms) else np.empty((0, 2))
    for i, geom in enumerate(geoms):
        if geom is not None and not np.isfinite(shapely.get_coordinates(geom)).all():
            raise ImportRejected(f"“{name}”{labels[i]}的坐标含 NaN 或无穷大，不是有效坐标", "bad_coordinates")
    warn: list[str] = [n for n in raw.notes if n != "rfc7946"]
    candidates = tuple(suggest_crs(coords, raw.hints, boundaries))
    looks_geographic = bool(len(coords)) and (np.abs(coords[:, 0]) <= 180).all() and (np.abs(coords[:, 1]) <= 90).all()
    if user_crs:
        source, origin = user_crs, "user"
    elif raw.file_crs and (is_projected(raw.file_crs) or looks_geographic or not len(coords)):
        source, origin = raw.file_crs, "file"
    elif candidates:
        source, origin = candidates[0].code, "guess"
        if raw.file_crs:
            warn.append(
                f"文件声明的坐标系是 {crs_label(raw.file_crs)}，但坐标值不是经纬度；按坐标范围改用 {crs_label(source)}"
            )
    elif not len(coords):
        source, origin = config.WGS84, "guess"
    else:
        x0, y0 = coords.min(axis=0)
        x1, y1 = coords.max(axis=0)
        if (np.abs(coords[:, 0]) <= 90).all() and (np.abs(coords[:, 1]) <= 180).all():
            raise ImportRejected(
                f"“{name}”的经纬度可能填反了（X {x0:g}～{x1:g} 像纬度，Y {y0:g}～{y1:g} 像经度）：经度应在前（lon/x），纬度在后（lat/y）",
                "bad_coordinates",
            )
        raise ImportRejected(
            f"“{name}”的坐标（X {x0:g}～{x1:g}，Y {y0:g}～{y1:g}）超出经纬度范围，也不像重庆所用的高斯投影或 Web 墨卡托"
            "坐标：请检查坐标，或手动选择坐标系",
            "bad_coordinates",
        )
    if origin == "guess" and len({c.code for c in candidates if not _same_place(c.code, source)}):
        others = "、".join(c.label for c in candidates if not _same_place(c.code, source))
        warn.append(f"坐标系是按坐标范围推断的：{crs_label(source)}；也可能是 {others}，请确认")
    if not is_projected(source) and len(coords) and not looks_geographic:
        raise ImportRejected(
            f"“{name}”的坐标超出经纬度范围（经度 -180～180、纬度 -90～90），不能按 {crs_label(source)} 读取："
            "若是投影坐标（米），请选择对应的高斯投影带",
            "bad_coordinates",
        )
    out = _to_wgs84(gdf, source)
    wgs = shapely.get_coordinates(np.asarray(out.geometry.values, dtype=object))
    in_range = np.isfinite(wgs).all() and (np.abs(wgs[:, 0]) <= 180).all() and (np.abs(wgs[:, 1]) <= 90).all()
    if len(wgs) and not in_range:
        raise ImportRejected(
            f"“{name}”按 {crs_label(source)} 换算后坐标超出经纬度范围，请检查坐标系", "bad_coordinates"
        )
    repairs = _repair(out, labels)
    if len(wgs) and _inside_share(wgs[:, 0], wgs[:, 1], None) < 0.5:
        warn.append("多数要素不在重庆市范围内：请检查坐标系（投影带、是否带带号、是否为 GCJ-02）")
    return ImportResult(
        gdf=out,
        filename=name,
        format=raw.format,
        source_crs=source,
        crs_origin=origin,
        crs_candidates=candidates,
        encoding=raw.encoding,
        repairs=tuple(repairs),
        warnings=tuple(warn),
        layers=raw.layers,
        name_field=name_field,
    )


def _repair(gdf: gpd.GeoDataFrame, labels: list[str]) -> list[str]:
    """Make invalid geometries valid in place; one Chinese line per repair."""
    report = []
    geoms = list(gdf.geometry.values)
    for i, geom in enumerate(geoms):
        if geom is None or geom.is_valid:
            continue
        reason = shapely.is_valid_reason(geom)
        fixed = shapely.make_valid(geom, method="structure", keep_collapsed=False)
        if fixed.is_empty:
            geoms[i] = None
            report.append(f"{labels[i]}：几何无效（{reason}），无法修复，已置为空几何")
            continue
        geoms[i] = fixed
        report.append(f"{labels[i]}：几何无效（{reason}），已自动修复")
    gdf["geometry"] = geoms
    return report
