"""A layer as read -> a layer the app can use: CRS decided (file, user or suggested) and checked against the
coordinates, geometry collections split, NaN/Inf and out-of-range coordinates refused, invalid geometries repaired
with a report, empty and missing geometries and duplicate ids reported, vertex and name limits enforced, EPSG:4326.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

import config
from geo.boundaries import load_boundaries
from geo.crs import GCJ02, crs_label, gcj02_to_wgs84, is_projected, transform_geometry
from gisio.errors import ImportRejected
from gisio.limits import ImportLimits, check_name_length, check_vertices, short_name
from gisio.watchdog import checkpoint

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
    encoding_candidates: tuple[str, ...] = ()  # encodings that also decode the attributes, best first

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
        others = [c for c in self.encoding_candidates if c != self.encoding]
        if enc and others:
            enc += f"（也可按 {'、'.join(others)} 解码）"
        return (
            f"{short_name(self.filename, 60)}：{len(self.gdf):,} 个要素（{located:,} 个有几何），"
            f"坐标系 {crs_label(self.source_crs)}（{origin}）{enc}"
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
    notes: list[str] = field(default_factory=list)  # warnings found while reading
    repairs: list[str] = field(default_factory=list)  # geometries dropped while reading, one line each
    encoding_candidates: tuple[str, ...] = ()
    crs_from: str = "文件声明"  # where file_crs comes from, in planner's words ("layer.prj 声明" ...)


def feature_label(n: int, fid: Any, fname: Any) -> str:
    """ "第 n 个要素（id，名称）" for messages; long values shortened."""
    extra = "，".join(short_name(str(v), 40) for v in (fid, fname) if v is not None and str(v) != "")
    return f"第 {n} 个要素" + (f"（{extra}）" if extra else "")


def find_column(header: Sequence[str], aliases: Sequence[str]) -> str | None:
    lowered = {h.strip().lower(): h for h in header}
    for alias in aliases:
        if alias.lower() in lowered:
            return lowered[alias.lower()]
    return None


# Share computations look at most this many coordinates (evenly spread): enough to tell where a layer lies.
_SHARE_SAMPLE = 10_000


def _sample(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if len(lon) <= _SHARE_SAMPLE:
        return lon, lat
    pick = np.linspace(0, len(lon) - 1, _SHARE_SAMPLE).astype(np.int64)
    return lon[pick], lat[pick]


def _inside_share(lon: np.ndarray, lat: np.ndarray, boundaries: gpd.GeoDataFrame | None) -> float:
    """Share of points inside Chongqing (the municipal outline when given, else a rough box)."""
    if len(lon) == 0:
        return 0.0
    if boundaries is None or not len(boundaries):
        boundaries = load_boundaries("display")
    outline = boundaries.loc[boundaries["adcode"] == config.MUNICIPAL_ADCODE, "geometry"]
    area = outline.iloc[0] if len(outline) else shapely.union_all(boundaries.geometry.values)
    lon, lat = _sample(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        return 0.0
    return float(np.where(ok, shapely.contains_xy(area, np.where(ok, lon, 0), np.where(ok, lat, 0)), False).mean())


def _share_as(coords: np.ndarray, code: str, boundaries: gpd.GeoDataFrame | None) -> float:
    """Share of ``coords`` (in ``code``) that fall inside Chongqing once converted to WGS84."""
    x, y = _sample(coords[:, 0], coords[:, 1])
    if code == GCJ02:
        lon, lat = gcj02_to_wgs84(x, y)
    else:
        with np.errstate(all="ignore"):
            lon, lat = Transformer.from_crs(code, config.WGS84, always_xy=True).transform(x, y)
    return _inside_share(np.asarray(lon), np.asarray(lat), boundaries)


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


def _flatten(geom: BaseGeometry) -> list[BaseGeometry]:
    """The non-collection parts of a (possibly nested) GeometryCollection, iteratively."""
    parts, stack = [], [geom]
    while stack:
        item = stack.pop()
        if item.geom_type == "GeometryCollection":
            stack.extend(reversed(list(item.geoms)))
        else:
            parts.append(item)
    return parts


def _split_collections(gdf: gpd.GeoDataFrame, name: str, labels: Sequence[str]) -> None:
    """Homogeneous GeometryCollections (nested ones flattened) become Multi*; mixed ones are refused (a layer
    holds one kind per row)."""
    fixed = list(np.asarray(gdf.geometry.values, dtype=object))
    kinds_of = shapely.get_type_id(np.asarray(fixed, dtype=object))
    for i in map(int, np.flatnonzero(kinds_of == 7)):  # GeometryCollection
        parts = [p for p in _flatten(fixed[i]) if not p.is_empty]
        kinds = {p.geom_type.replace("Multi", "") for p in parts}
        if len(kinds) > 1:
            raise ImportRejected(
                f"“{name}”{labels[i]}是混合几何（{'、'.join(sorted(kinds))} 放在同一个要素里），"
                "请在 GIS 软件中拆成单一类型（点、线或面）后再上传",
                "mixed_geometry",
            )
        if not parts:
            fixed[i] = None
            continue
        single = [q for p in parts for q in (p.geoms if p.geom_type.startswith("Multi") else [p])]
        fixed[i] = (
            shapely.union_all(single)
            if kinds == {"Polygon"}
            else {"Point": shapely.multipoints, "LineString": shapely.multilinestrings}[kinds.pop()](single)
        )
    gdf["geometry"] = fixed


class FeatureLabels(Sequence[str]):
    """ "第 n 个要素（id，名称）" of each row, made only when a message needs one (100,000 rows need none)."""

    def __init__(self, gdf: gpd.GeoDataFrame, name_field: str | None) -> None:
        self._ids = gdf["id"].tolist() if "id" in gdf.columns else None
        self._names = gdf[name_field].tolist() if name_field else None
        self._len = len(gdf)

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._len))]
        i = int(i)
        fid = self._ids[i] if self._ids is not None else None
        name = self._names[i] if self._names is not None else None
        return feature_label(i + 1, fid, name)


def _labels(gdf: gpd.GeoDataFrame, name_field: str | None) -> FeatureLabels:
    return FeatureLabels(gdf, name_field)


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


def _examples(labels: Sequence[str], picks: Iterable[int], limit: int = 5) -> str:
    chosen = list(picks)
    shown = "、".join(labels[i] for i in chosen[:limit])
    return shown + ("等" if len(chosen) > limit else "")


def _check_geometries(gdf: gpd.GeoDataFrame, name: str, labels: Sequence[str], limits: ImportLimits) -> list[str]:
    """Vertex limits, NaN/Inf refused, empty geometries turned into none; the warnings to show."""
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    check_vertices(shapely.get_num_coordinates(geoms), name, limits, labels=labels)
    present = np.array([g is not None for g in geoms], dtype=bool)
    if present.any():
        coords, index = shapely.get_coordinates(geoms[present], return_index=True)
        bad = ~np.isfinite(coords).all(axis=1)
        if bad.any():
            i = int(np.flatnonzero(present)[index[np.flatnonzero(bad)[0]]])
            raise ImportRejected(f"“{name}”{labels[i]}的坐标含 NaN 或无穷大，不是有效坐标", "bad_coordinates")
    empty = np.flatnonzero(present & np.array([g is not None and g.is_empty for g in geoms], dtype=bool))
    warn = []
    if len(empty):
        geoms[empty] = None
        gdf["geometry"] = list(geoms)
        warn.append(
            f"{len(empty)} 个要素的几何是空的（如 POINT EMPTY 或空坐标数组），按无几何导入，不显示在地图上、不参与匹配："
            + _examples(labels, empty)
        )
    missing = int(sum(g is None for g in geoms))
    if missing == len(geoms):
        warn.append(
            f"全部 {missing} 个要素都没有几何（geometry 为空或 null）：属性已导入，但地图上不显示，也不能用于匹配坐标"
        )
    elif missing > len(empty):
        warn.append(f"{missing - len(empty)} 个要素没有几何（null），不显示在地图上、不参与匹配")
    return warn


def _duplicate_ids(gdf: gpd.GeoDataFrame) -> list[str]:
    if "id" not in gdf.columns:
        return []
    counts = Counter(str(v) for v in gdf["id"] if v is not None and not (isinstance(v, float) and np.isnan(v)))
    duplicated = sorted(((k, n) for k, n in counts.items() if n > 1), key=lambda t: -t[1])
    if not duplicated:
        return []
    shown = "、".join(f"“{short_name(k, 30)}”出现 {n} 次" for k, n in duplicated[:5])
    more = f"等 {len(duplicated)} 个编号" if len(duplicated) > 5 else ""
    return [
        f"要素编号（id）有重复：{shown}{more}。各要素都已导入；按编号匹配规划条目时，编号重复的点不会自动采用，"
        "需要人工确认"
    ]


def _check_names(gdf: gpd.GeoDataFrame, name_field: str | None, name: str, limits: ImportLimits) -> None:
    if not name_field:
        return
    lengths = np.array([len(v) if isinstance(v, str) else 0 for v in gdf[name_field]], dtype=np.int64)
    if len(lengths) and int(lengths.max()) > limits.name_chars:
        i = int(lengths.argmax())
        check_name_length(gdf[name_field].iloc[i], name, limits, label=f"第 {i + 1} 个要素")


def _declared(raw: RawLayer) -> str:
    return f"{raw.crs_from}的坐标系 {crs_label(raw.file_crs or '')}"


def _decide_crs(
    raw: RawLayer,
    name: str,
    coords: np.ndarray,
    candidates: list[CrsCandidate],
    *,
    user_crs: str | None,
    boundaries: gpd.GeoDataFrame | None,
) -> tuple[str, str, list[CrsCandidate], list[str]]:
    """(source CRS, origin, candidates, warnings): the user's choice, else the file's if the coordinates agree
    with it, else the likely one (the contradiction is named)."""
    warn: list[str] = []
    looks_geographic = bool(len(coords)) and (np.abs(coords[:, 0]) <= 180).all() and (np.abs(coords[:, 1]) <= 90).all()
    declared = raw.file_crs
    if user_crs:
        return user_crs, "user", candidates, warn
    if declared and not len(coords):
        return declared, "file", candidates, warn
    if declared and looks_geographic and is_projected(declared):
        # A projected CRS over degrees: the file (or its CRS column) says one thing, the numbers another.
        if candidates:
            source = candidates[0].code
            warn.append(
                f"{_declared(raw)}是投影坐标（米），但坐标值是经纬度（度）：已按 {crs_label(source)} 读取；"
                "若位置不对，请在“坐标系”中选择"
            )
            return source, "guess", [*candidates, CrsCandidate(declared, crs_label(declared), "文件声明")], warn
    if declared and (is_projected(declared) or looks_geographic):
        share = _share_as(coords, declared, boundaries)
        better: list[tuple[float, CrsCandidate]] = []
        if share < 0.1:
            scored = [
                (_share_as(coords, c.code, boundaries), c) for c in candidates if not _same_place(c.code, declared)
            ]
            better = [(s, c) for s, c in scored if s >= 0.5]
        if better:
            share_new, pick = max(better, key=lambda t: t[0])
            warn.append(
                f"按{_declared(raw)}换算后，要素不在重庆市范围内；坐标更像 {pick.label}（{pick.reason}，"
                f"换算后 {share_new:.0%} 落在重庆市内）：已按 {crs_label(pick.code)} 读取，若不对请在“坐标系”中选择"
            )
            others = [c for c in candidates if c.code != pick.code]
            return pick.code, "guess", [pick, *others, CrsCandidate(declared, crs_label(declared), "文件声明")], warn
        if declared == config.WEB_MERCATOR:
            warn.append(
                "文件的坐标系是 Web 墨卡托（EPSG:3857，网络地图的显示投影，不是测绘坐标系）：已换算为 WGS84。"
                "若数据取自高德、腾讯等国内网络地图，位置会偏移数百米（GCJ-02），请核对"
            )
        return declared, "file", candidates, warn
    if candidates:
        source = candidates[0].code
        if declared:
            warn.append(
                f"{_declared(raw)}，但坐标值不是经纬度（超出 ±180/±90），更像 {crs_label(source)}"
                f"（{candidates[0].reason}）：已按它读取，若不对请在“坐标系”中选择"
            )
        return source, "guess", candidates, warn
    if not len(coords):
        return config.WGS84, "guess", candidates, warn
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


def finish_layer(
    raw: RawLayer,
    name: str,
    *,
    user_crs: str | None,
    boundaries: gpd.GeoDataFrame | None,
    limits: ImportLimits | None = None,
) -> ImportResult:
    """The layer in EPSG:4326 with its CRS decided and checked, geometries checked and repaired, and a warning
    for everything the user should know (see the module docstring).

    Raises
    ------
    ImportRejected
        No features, over a limit, unusable coordinates, mixed geometry collections.
    """
    limits = limits or ImportLimits()
    gdf = raw.gdf
    if len(gdf) == 0:
        raise ImportRejected(f"“{name}”中没有任何要素", "empty")
    gdf = gdf.reset_index(drop=True)
    name_field = guess_name_field(gdf)
    _check_names(gdf, name_field, name, limits)
    labels = _labels(gdf, name_field)
    checkpoint()
    warn: list[str] = [n for n in raw.notes if n != "rfc7946"]
    warn += _check_geometries(gdf, name, labels, limits)
    _split_collections(gdf, name, labels)
    warn += _duplicate_ids(gdf)
    geoms = gdf.geometry.values
    coords = shapely.get_coordinates(np.asarray(geoms, dtype=object)) if len(geoms) else np.empty((0, 2))
    checkpoint()
    candidates = suggest_crs(coords, raw.hints, boundaries)
    source, origin, candidates, crs_warn = _decide_crs(
        raw, name, coords, candidates, user_crs=user_crs, boundaries=boundaries
    )
    warn += crs_warn
    looks_geographic = bool(len(coords)) and (np.abs(coords[:, 0]) <= 180).all() and (np.abs(coords[:, 1]) <= 90).all()
    if origin == "guess" and len({c.code for c in candidates if not _same_place(c.code, source)}):
        others = "、".join(dict.fromkeys(c.label for c in candidates if not _same_place(c.code, source)))
        warn.append(f"坐标系是按坐标范围推断的：{crs_label(source)}；也可能是 {others}，请确认")
    if not is_projected(source) and len(coords) and not looks_geographic:
        raise ImportRejected(
            f"“{name}”的坐标超出经纬度范围（经度 -180～180、纬度 -90～90），不能按 {crs_label(source)} 读取："
            "若是投影坐标（米），请选择对应的高斯投影带",
            "bad_coordinates",
        )
    checkpoint()
    out = _to_wgs84(gdf, source)
    wgs = shapely.get_coordinates(np.asarray(out.geometry.values, dtype=object))
    in_range = np.isfinite(wgs).all() and (np.abs(wgs[:, 0]) <= 180).all() and (np.abs(wgs[:, 1]) <= 90).all()
    if len(wgs) and not in_range:
        raise ImportRejected(
            f"“{name}”按 {crs_label(source)} 换算后坐标超出经纬度范围，请检查坐标系", "bad_coordinates"
        )
    repairs = [*raw.repairs, *_repair(out, labels)]
    if len(wgs) and _inside_share(wgs[:, 0], wgs[:, 1], None) < 0.5:
        warn.append("多数要素不在重庆市范围内：请检查坐标系（投影带、是否带带号、是否为 GCJ-02）")
    return ImportResult(
        gdf=out,
        filename=name,
        format=raw.format,
        source_crs=source,
        crs_origin=origin,
        crs_candidates=tuple(candidates),
        encoding=raw.encoding,
        repairs=tuple(repairs),
        warnings=tuple(warn),
        layers=raw.layers,
        name_field=name_field,
        encoding_candidates=raw.encoding_candidates,
    )


# GEOS's reasons in planner's words (the GEOS text stays in brackets for GIS staff).
_REASONS = {
    "Ring Self-intersection": "边界自身打结",
    "Self-intersection": "边界自相交（如“8”字形的蝴蝶面）",
    "Hole lies outside shell": "内环（洞）在外环之外",
    "Nested shells": "外环互相嵌套",
    "Interior is disconnected": "面被内环切成了几块",
    "Too few points in geometry component": "点数太少",
    "Invalid Coordinate": "坐标无效",
    "Nested holes": "内环互相嵌套",
    "Duplicate Rings": "有重复的环",
}


def _reason(geom: BaseGeometry) -> str:
    text = str(shapely.is_valid_reason(geom))
    head = text.split("[", 1)[0].strip()
    words = _REASONS.get(head)
    return f"{words}；{text}" if words else text


_KIND_WORDS = {
    "Polygon": "面",
    "MultiPolygon": "多面",
    "LineString": "线",
    "MultiLineString": "多线",
    "Point": "点",
    "MultiPoint": "多点",
}


def _repair(gdf: gpd.GeoDataFrame, labels: Sequence[str]) -> list[str]:
    """Make invalid geometries valid in place (``make_valid``, structure method); one Chinese line per repair,
    saying what was wrong and what the geometry became."""
    report = []
    geoms = list(gdf.geometry.values)
    arr = np.asarray(geoms, dtype=object)
    present = np.array([g is not None for g in geoms], dtype=bool)
    valid = np.ones(len(geoms), dtype=bool)
    if present.any():
        valid[present] = shapely.is_valid(arr[present])
    for i in map(int, np.flatnonzero(~valid)):
        checkpoint()
        geom = geoms[i]
        reason = _reason(geom)
        fixed = shapely.make_valid(geom, method="structure", keep_collapsed=False)
        if fixed.is_empty:
            geoms[i] = None
            report.append(f"{labels[i]}：几何无效（{reason}），无法修复，已置为空几何（属性保留）")
            continue
        geoms[i] = fixed
        parts = shapely.get_num_geometries(fixed)
        became = _KIND_WORDS.get(fixed.geom_type, fixed.geom_type)
        what = f" {parts} 个部分的{became}" if parts > 1 else became
        report.append(f"{labels[i]}：几何无效（{reason}），已自动修复为{what}")
    gdf["geometry"] = geoms
    return report
