"""Datums and projections at the edges of the app: GCJ-02 <-> WGS84, CGCS2000, Web Mercator, Gauss-Krüger.

GCJ-02 ("Mars coordinates") is the obfuscated datum of AMap/Tencent maps. The forward transform is the
published algorithm (the leaked ``ChinaMapShift`` code, reproduced by eviltransform, PRCoords, coordtransform):
a smooth offset of a few hundred metres computed on the Krasovsky 1940 ellipsoid. There is no closed-form
inverse; :func:`gcj02_to_wgs84` solves ``wgs84_to_gcj02(w) = g`` by fixed-point iteration with a *fixed*
number of steps, so every vertex converts identically wherever it appears (shared borders stay shared).

No maintained PyPI package does this vectorised and for shapely geometries (eviltransform 0.1.1 and
prcoords 1.0.2 are scalar, coord-convert 0.2.1 needs fiona), hence this small module; the tests compare it
with eviltransform's published vectors and with prcoords.

Outside the rough China rectangle used by all implementations there is no shift.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, overload

import numpy as np
import pyproj
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry.base import BaseGeometry

from config import CGCS2000, GK_ZONES, WEB_MERCATOR, WGS84
from geo.errors import GeoDataError

if TYPE_CHECKING:
    import geopandas as gpd

GCJ02 = "gcj02"
GeometryOrArray = TypeVar("GeometryOrArray", BaseGeometry, NDArray[np.object_])

# Krasovsky 1940 ellipsoid, as in the published algorithm.
_A = 6378245.0
_EE = 0.00669342162296594323
# The rectangle all published implementations treat as "China" (lon, lat bounds).
CHINA_LON = (72.004, 137.8347)
CHINA_LAT = (0.8293, 55.8271)
# Fixed-point steps of the inverse; 8 reach ~1e-13 degree in Chongqing (contraction ~1e-3 per step).
_INVERSE_STEPS = 8

# Names a user may write in a CSV "crs" column -> canonical code.
_CRS_ALIASES: dict[str, str] = {
    "gcj02": GCJ02,
    "gcj-02": GCJ02,
    "gcj": GCJ02,
    "mars": GCJ02,
    "火星坐标": GCJ02,
    "高德": GCJ02,
    "amap": GCJ02,
    "wgs84": WGS84,
    "wgs-84": WGS84,
    "epsg:4326": WGS84,
    "4326": WGS84,
    "cgcs2000": CGCS2000,
    "epsg:4490": CGCS2000,
    "4490": CGCS2000,
    "epsg:3857": WEB_MERCATOR,
    "3857": WEB_MERCATOR,
    "webmercator": WEB_MERCATOR,
}
for _zone, _codes in GK_ZONES.items():
    for _key in ("no_prefix", "prefix"):
        _code = _codes[_key]
        _CRS_ALIASES[_code.lower()] = _code
        _CRS_ALIASES[_code.split(":")[1]] = _code


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Whether points lie outside the rectangle where GCJ-02 applies (elementwise)."""
    lon_a = np.asarray(lon, dtype=float)
    lat_a = np.asarray(lat, dtype=float)
    return ~((lon_a >= CHINA_LON[0]) & (lon_a <= CHINA_LON[1]) & (lat_a >= CHINA_LAT[0]) & (lat_a <= CHINA_LAT[1]))


def _offset(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """GCJ-02 offset (dlon, dlat) in degrees at WGS84 point(s), without the China test."""
    x = lon - 105.0
    y = lat - 35.0
    pi = np.pi
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat = dlat + common
    dlat = dlat + (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat = dlat + (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon = dlon + common
    dlon = dlon + (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlon = dlon + (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    rad_lat = lat / 180.0 * pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * pi)
    return dlon, dlat


@overload
def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def wgs84_to_gcj02(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]: ...
def wgs84_to_gcj02(lon: Any, lat: Any) -> Any:
    """Convert WGS84 longitude/latitude to GCJ-02 (the published forward algorithm).

    Parameters
    ----------
    lon, lat
        Degrees; scalars or arrays of equal shape. Note the order: longitude first.

    Returns
    -------
    tuple
        ``(lon, lat)`` in GCJ-02, same type as the input. Points outside China are returned unchanged.
    """
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    lon_a = np.asarray(lon, dtype=float)
    lat_a = np.asarray(lat, dtype=float)
    dlon, dlat = _offset(lon_a, lat_a)
    outside = out_of_china(lon_a, lat_a)
    out_lon = np.where(outside, lon_a, lon_a + dlon)
    out_lat = np.where(outside, lat_a, lat_a + dlat)
    if scalar:
        return float(out_lon), float(out_lat)
    return out_lon, out_lat


@overload
def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def gcj02_to_wgs84(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]: ...
def gcj02_to_wgs84(lon: Any, lat: Any) -> Any:
    """Convert GCJ-02 longitude/latitude to WGS84 by fixed-point iteration of the forward transform.

    The number of steps is fixed (not "until converged"), so the result for a vertex does not depend on the
    other vertices converted with it. Round trip error is far below a millimetre inside China.

    Parameters
    ----------
    lon, lat
        GCJ-02 degrees; scalars or arrays of equal shape, longitude first.

    Returns
    -------
    tuple
        ``(lon, lat)`` in WGS84, same type as the input. Points outside China are returned unchanged.
    """
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    g_lon = np.asarray(lon, dtype=float)
    g_lat = np.asarray(lat, dtype=float)
    w_lon, w_lat = g_lon.copy(), g_lat.copy()
    for _ in range(_INVERSE_STEPS):
        dlon, dlat = _offset(w_lon, w_lat)
        w_lon = g_lon - dlon
        w_lat = g_lat - dlat
    outside = out_of_china(g_lon, g_lat)
    w_lon = np.where(outside, g_lon, w_lon)
    w_lat = np.where(outside, g_lat, w_lat)
    if scalar:
        return float(w_lon), float(w_lat)
    return w_lon, w_lat


def _xy_function(
    fn: Callable[..., tuple[NDArray[np.float64], NDArray[np.float64]]],
) -> Callable[[NDArray[np.float64]], NDArray[np.float64]]:
    def apply(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        if len(coords) == 0:
            return coords
        # Convert each distinct vertex once: identical input vertices get bit-identical output.
        unique, inverse = np.unique(coords[:, :2], axis=0, return_inverse=True)
        x, y = fn(unique[:, 0], unique[:, 1])
        out = np.column_stack([x, y])[inverse.reshape(-1)]
        return out

    return apply


def gcj02_to_wgs84_geometry(geom: GeometryOrArray) -> GeometryOrArray:
    """Return ``geom`` (GCJ-02) in WGS84; shared vertices convert identically. Z values are dropped.

    ``geom`` may be one geometry or an array of them; an array is converted in one pass, each distinct vertex
    once (so a border shared by two polygons gets bit-identical coordinates on both sides).
    """
    return shapely.transform(geom, _xy_function(gcj02_to_wgs84))


def wgs84_to_gcj02_geometry(geom: GeometryOrArray) -> GeometryOrArray:
    """Return ``geom`` (WGS84, one geometry or an array) in GCJ-02, e.g. for AMap tiles. Z values are dropped."""
    return shapely.transform(geom, _xy_function(wgs84_to_gcj02))


def normalise_crs(text: str | int) -> str:
    """Return the canonical code of a supported CRS name (``"gcj02"`` or ``"EPSG:xxxx"``).

    Accepts e.g. ``"wgs84"``, ``"4326"``, ``"EPSG:4490"``, ``"cgcs2000"``, ``"GCJ-02"``, ``"4545"``.

    Raises
    ------
    GeoDataError
        The CRS is not one the app supports; the message lists the supported ones.
    """
    key = str(text).strip().lower().replace(" ", "")
    if key in _CRS_ALIASES:
        return _CRS_ALIASES[key]
    raise GeoDataError(
        f"不支持的坐标系“{text}”。可用：gcj02（高德/火星坐标）、wgs84（EPSG:4326）、cgcs2000（EPSG:4490）、"
        "EPSG:3857、CGCS2000 3度带高斯投影 EPSG:4544/4545/4546（无带号）或 EPSG:4523/4524/4525（有带号）"
    )


def is_projected(crs: str) -> bool:
    """Whether a CRS (any name :func:`normalise_crs` accepts, or any EPSG/WKT pyproj knows) is in metres.

    GCJ-02 is a lon/lat datum, so it is not projected.

    Raises
    ------
    GeoDataError
        Neither this module nor pyproj knows the CRS.
    """
    try:
        code = normalise_crs(crs)
    except GeoDataError:
        code = str(crs)
    if code == GCJ02:
        return False
    try:
        return bool(pyproj.CRS.from_user_input(code).is_projected)
    except pyproj.exceptions.CRSError:
        raise GeoDataError(f"无法识别的坐标系“{crs}”") from None


def crs_label(code: str) -> str:
    """The Chinese name of a CRS code, as planners and GIS staff read it (the code itself when unknown)."""
    if code in _LABELS:
        return _LABELS[code]
    for zone, codes in GK_ZONES.items():
        if code == codes["no_prefix"]:
            return f"CGCS2000 高斯-克吕格 3度带第{zone}带，中央经线 {codes['cm']}°E，无带号（{code}）"
        if code == codes["prefix"]:
            return f"CGCS2000 高斯-克吕格 3度带第{zone}带，中央经线 {codes['cm']}°E，带带号（{code}）"
    return code


_LABELS: dict[str, str] = {
    WGS84: "WGS84 经纬度（EPSG:4326）",
    CGCS2000: "CGCS2000 经纬度（2000国家大地坐标系，EPSG:4490）",
    GCJ02: "GCJ-02（高德/腾讯 火星坐标）",
    WEB_MERCATOR: "Web 墨卡托（EPSG:3857）",
}


def known_crs() -> list[str]:
    """The CRS codes a user can choose for an import, in the order they are offered."""
    zones = [codes[k] for codes in GK_ZONES.values() for k in ("no_prefix", "prefix")]
    return [WGS84, CGCS2000, GCJ02, *zones, WEB_MERCATOR]


def _pyproj_transform(
    source: str, target: str, x: NDArray[np.float64], y: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    # always_xy: lon/lat (easting/northing) order for every CRS, whatever its EPSG axis order (EPSG:4490 is lat/lon).
    transformer = pyproj.Transformer.from_crs(source, target, always_xy=True)
    tx, ty = transformer.transform(x, y)
    return np.asarray(tx, dtype=float), np.asarray(ty, dtype=float)


def transform_xy(
    x: ArrayLike, y: ArrayLike, source: str, *, target: str = WGS84
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Transform coordinates between any two supported CRS, GCJ-02 included.

    Parameters
    ----------
    x, y
        Easting/longitude and northing/latitude — always in x/y (lon/lat) order, also for EPSG:4490.
    source, target
        Any name accepted by :func:`normalise_crs`.

    Returns
    -------
    tuple of ndarray
        ``(x, y)`` in ``target``.
    """
    src = normalise_crs(source)
    dst = normalise_crs(target)
    xa = np.atleast_1d(np.asarray(x, dtype=float))
    ya = np.atleast_1d(np.asarray(y, dtype=float))
    if src == dst:
        return xa.copy(), ya.copy()
    if src == GCJ02:
        xa, ya = gcj02_to_wgs84(xa, ya)
        src = WGS84
    if dst == GCJ02:
        if src != WGS84:
            xa, ya = _pyproj_transform(src, WGS84, xa, ya)
        return wgs84_to_gcj02(xa, ya)
    if src == dst:
        return xa, ya
    return _pyproj_transform(src, dst, xa, ya)


def transform_geometry(geom: BaseGeometry, source: str, target: str = WGS84) -> BaseGeometry:
    """Return ``geom`` transformed from ``source`` to ``target`` (see :func:`transform_xy`)."""

    def apply(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        if len(coords) == 0:
            return coords
        x, y = transform_xy(coords[:, 0], coords[:, 1], source, target=target)
        return np.column_stack([x, y])

    return shapely.transform(geom, apply)


def gk_crs(zone: int, with_prefix: bool = False) -> str:
    """EPSG code of a CGCS2000 3-degree Gauss-Krüger zone covering Chongqing (35, 36 or 37).

    ``with_prefix`` selects the variant whose false easting carries the zone number (e.g. 36500000 m).
    """
    if zone not in GK_ZONES:
        raise GeoDataError(f"不支持的高斯投影带号 {zone}：重庆范围只用到 {sorted(GK_ZONES)} 带（3度带）")
    return GK_ZONES[zone]["prefix" if with_prefix else "no_prefix"]


def suggest_gk_zone(where: BaseGeometry | float) -> int:
    """Pick the CGCS2000 3-degree zone for a WGS84 geometry (its centroid) or a longitude.

    Zone ``n`` has central meridian ``3n`` degrees and spans ``3n ± 1.5``.

    Raises
    ------
    GeoDataError
        The longitude falls outside the zones configured for Chongqing.
    """
    if isinstance(where, BaseGeometry):
        if where.is_empty:
            raise GeoDataError("空几何无法确定高斯投影带")
        lon = float(where.centroid.x)
    else:
        lon = float(where)
    zone = int(np.floor((lon + 1.5) / 3.0))
    if zone not in GK_ZONES:
        raise GeoDataError(f"经度 {lon:.4f} 不在重庆所用的3度带（{sorted(GK_ZONES)}）范围内")
    return zone


def gk_crs_for(bounds: Sequence[float]) -> str:
    """The CGCS2000 3-degree Gauss-Krüger zone (EPSG code, no zone prefix) for data with these WGS84 bounds.

    The centre of the extent decides (cheap and stable, unlike the centroid of a multi-part union).

    Raises
    ------
    GeoDataError
        The data lies outside the zones configured for Chongqing.
    """
    minx, _miny, maxx, _maxy = (float(v) for v in bounds)
    return gk_crs(suggest_gk_zone((minx + maxx) / 2.0))


def to_crs(gdf: gpd.GeoDataFrame, target: str) -> gpd.GeoDataFrame:
    """Return a copy of an EPSG:4326 (or other CRS) GeoDataFrame in ``target``; the input is never changed.

    ``target`` may be ``"gcj02"``: coordinates are shifted for AMap, the CRS stays declared as EPSG:4326
    (GCJ-02 has no EPSG code) and ``attrs["datum"]`` is set to ``"GCJ-02"``.

    Raises
    ------
    GeoDataError
        The frame has no CRS, or ``target`` is unsupported.
    """
    dst = normalise_crs(target)
    if gdf.crs is None:
        raise GeoDataError("图层没有坐标系（CRS），无法转换；请先设置坐标系")
    out = gdf.copy()
    if dst == GCJ02:
        if out.attrs.get("datum") == "GCJ-02":
            return out
        wgs = out.to_crs(WGS84) if not out.crs.equals(pyproj.CRS(WGS84)) else out
        wgs = wgs.copy()
        wgs[wgs.geometry.name] = wgs84_to_gcj02_geometry(wgs.geometry.values)
        wgs.attrs = {**out.attrs, "datum": "GCJ-02"}
        return wgs
    if out.attrs.get("datum") == "GCJ-02":
        out[out.geometry.name] = gcj02_to_wgs84_geometry(out.geometry.values)
        out.attrs = {k: v for k, v in out.attrs.items() if k != "datum"}
    return out.to_crs(dst)
