"""Read GIS-team layers (GeoJSON, zipped Shapefile, GeoPackage, KML/KMZ, CSV with coordinates) safely.

The front door is :func:`read_upload` (bytes + file name, as a Streamlit upload gives them) or :func:`read_path`.
It checks the size, emptiness and type of the file, unpacks zips without trusting them (no ``../`` paths, no
links, a cap on the unpacked size), detects UTF-8 vs GBK text, finds the CRS (from the file, from the user, or
suggested from the coordinate ranges: WGS84/CGCS2000/GCJ-02, Gauss-Krüger zones with or without zone prefix,
Web Mercator), rejects NaN/Inf/out-of-range coordinates and mixed-type geometry collections, repairs invalid
geometries with a report, and returns the layer in EPSG:4326.  Every refusal is an :class:`ImportRejected` with a
Chinese message naming the problem; nothing is written anywhere but a private temporary directory.

:func:`to_features` turns a layer exported by :mod:`gisio.export` back into the feature table;
:func:`match_by_name` and :func:`save_matches` give plan entities the exact locations of imported points.
"""
from __future__ import annotations

import csv
import difflib
import io
import json
import math
import re
import struct
import tempfile
import warnings
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

import config
from geo.boundaries import load_boundaries
from gisio.errors import GisIOError, ImportRejected
from gisio.export import (
    GPKG_META_TABLE,
    JSON_FIELDS,
    SHP_FIELDS,
    SHP_FULL_SUFFIX,
    SHP_NOGEOM,
    SHP_TRUNCATION_MARK,
)
from layers.features import FEATURE_COLUMNS

SUPPORTED: dict[str, str] = {
    ".geojson": "geojson",
    ".json": "geojson",
    ".zip": "zip",
    ".gpkg": "gpkg",
    ".kml": "kml",
    ".kmz": "kmz",
    ".csv": "csv",
}
SUPPORTED_TEXT = "GeoJSON（.geojson/.json）、Shapefile（打包为 .zip）、GeoPackage（.gpkg）、KML/KMZ、CSV（含经纬度）"
# A zip may unpack to at most this many times the upload limit, and hold at most this many entries.
UNZIP_FACTOR = 4
MAX_ZIP_ENTRIES = 500
_GCJ_HINTS = ("gcj", "高德", "amap", "火星", "腾讯", "tencent", "qq地图")
_BD_HINTS = ("bd09", "百度", "baidu")
# Columns the KML drivers add from KML elements (not data of the layer).
_KML_BOOKKEEPING = ("timestamp", "begin", "end", "altitudeMode", "tessellate", "extrude", "visibility", "drawOrder",
                    "icon", "snippet")  # fmt: skip
NAME_FIELDS = ("name", "名称", "地名", "mc", "村名", "镇名", "项目名称", "title", "label")
_X_COLUMNS = ("lon", "lng", "long", "longitude", "经度", "x", "东坐标", "easting", "point_x")
_Y_COLUMNS = ("lat", "latitude", "纬度", "y", "北坐标", "northing", "point_y")
_WKT_COLUMNS = ("wkt", "geometry", "geom", "the_geom", "几何")
_CSV_FIELD_LIMIT = 64 * 1024 * 1024


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
            f"{self.filename}：{len(self.gdf)} 个要素（{located} 个有几何），坐标系 {_crs_label(self.source_crs)}"
            f"（{origin}）{enc}"
        )


def _same_place(a: str, b: str) -> bool:
    """WGS84 and CGCS2000 coincide at map scale: choosing between them changes nothing."""
    geographic = {config.WGS84, config.CGCS2000}
    return a == b or (a in geographic and b in geographic)


def _crs_label(code: str) -> str:
    from gisio.export import crs_label

    return "GCJ-02（高德/腾讯 火星坐标）" if code == "gcj02" else crs_label(code)


# --- front door ----------------------------------------------------------------------------------------------


def _limit_bytes(max_mb: float | None) -> tuple[float, int]:
    limit_mb = float(config.MAX_UPLOAD_MB if max_mb is None else max_mb)
    return limit_mb, int(limit_mb * 1024 * 1024)


def _too_large(filename: str, size: int, limit_mb: float) -> ImportRejected:
    return ImportRejected(
        f"文件“{filename}”大小 {size / 1024 / 1024:.1f} MB，超过上限 {limit_mb:g} MB"
        "（可用环境变量 RRMAP_MAX_UPLOAD_MB 调整上限）",
        "too_large",
    )


def read_path(path: Path, **kwargs: Any) -> ImportResult:
    """:func:`read_upload` for a file on disk; the size is checked before the file is read."""
    path = Path(path)
    if not path.is_file():
        raise ImportRejected(f"找不到文件“{path}”", "missing")
    limit_mb, limit = _limit_bytes(kwargs.get("max_mb"))
    size = path.stat().st_size
    if size > limit:
        raise _too_large(path.name, size, limit_mb)
    return read_upload(path.read_bytes(), path.name, **kwargs)


def _sniff(data: bytes) -> str | None:
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    if data[:16] == b"SQLite format 3\x00":
        return "sqlite"
    return None


def read_upload(
    data: bytes,
    filename: str,
    *,
    crs: str | None = None,
    encoding: str | None = None,
    max_mb: float | None = None,
    boundaries: gpd.GeoDataFrame | None = None,
) -> ImportResult:
    """Read an uploaded GIS file into an :class:`ImportResult` (EPSG:4326).

    Parameters
    ----------
    data, filename
        File content and its name (the extension decides the format; the content must agree).
    crs
        Source CRS chosen by the user (any name of :func:`geo.crs.normalise_crs`, e.g. ``"gcj02"``, ``"4545"``);
        overrides what the file says.  Default: the file's own CRS, else suggested from the coordinates.
    encoding
        Attribute encoding chosen by the user (``"UTF-8"``, ``"GBK"``); default: detected.
    max_mb
        Size limit in MB (default ``config.MAX_UPLOAD_MB``).
    boundaries
        County boundaries, to rank CRS suggestions by where the data falls (optional).

    Raises
    ------
    ImportRejected
        The file is refused; the message (Chinese) names the problem.
    """
    name = Path(filename or "upload").name
    limit_mb, limit = _limit_bytes(max_mb)
    if len(data) > limit:
        raise _too_large(name, len(data), limit_mb)
    if not data.strip():
        raise ImportRejected(f"文件“{name}”是空的（0 字节或只有空白）", "empty")
    ext = Path(name).suffix.lower()
    if ext == ".shp":
        raise ImportRejected(
            "Shapefile 由多个文件组成：请把 .shp、.shx、.dbf、.prj（和 .cpg）一起打包成 .zip 再上传", "shp_not_zipped"
        )
    if ext not in SUPPORTED:
        shown = ext or "（无扩展名）"
        raise ImportRejected(f"不支持的文件类型 {shown}：请上传 {SUPPORTED_TEXT}", "wrong_extension")
    kind = SUPPORTED[ext]
    sniffed = _sniff(data)
    if kind in ("zip", "kmz") and sniffed != "zip":
        raise ImportRejected(f"“{name}”不是有效的 zip 压缩包（文件已损坏或扩展名不对）", "corrupt_zip")
    if kind == "gpkg" and sniffed != "sqlite":
        raise ImportRejected(f"“{name}”不是有效的 GeoPackage 文件（文件已损坏或扩展名不对）", "content_mismatch")
    if kind not in ("zip", "kmz", "gpkg") and sniffed is not None:
        what = "zip 压缩包" if sniffed == "zip" else "SQLite/GeoPackage 数据库"
        raise ImportRejected(f"“{name}”的内容是{what}，与扩展名 {ext} 不符：请改正扩展名后再上传", "content_mismatch")

    user_crs = _normalise_user_crs(crs) if crs else None
    with tempfile.TemporaryDirectory(prefix="rrmap-import-") as tmp:
        work = Path(tmp)
        if kind in ("zip", "kmz"):
            files = safe_unzip(data, work / "unzipped", UNZIP_FACTOR * limit, name)
            raw = _read_zip_contents(files, name, encoding, kmz=(kind == "kmz"))
        elif kind == "geojson":
            raw = _read_geojson(data, name, encoding)
        elif kind == "csv":
            raw = _read_csv(data, name, encoding)
        else:
            path = work / f"upload{ext}"
            path.write_bytes(data)
            raw = _read_gpkg(path, name) if kind == "gpkg" else _read_kml(path, name)
    return _finish(raw, name, user_crs, boundaries)


# --- raw layers ----------------------------------------------------------------------------------------------


@dataclass
class _Raw:
    """A layer as read, before CRS handling: coordinates still in the file's CRS (maybe unknown)."""

    gdf: gpd.GeoDataFrame
    format: str
    file_crs: str | None  # canonical code, or None when the file does not say
    encoding: str | None = None
    layers: tuple[str, ...] = ()
    hints: tuple[str, ...] = ()  # column/file names that may reveal the CRS (gcj, 高德 ...)
    notes: list[str] = field(default_factory=list)


def _normalise_user_crs(text: str) -> str:
    from geo.crs import normalise_crs
    from geo.errors import GeoDataError

    try:
        return normalise_crs(text)
    except GeoDataError as exc:
        raise ImportRejected(str(exc), "crs") from None


def _crs_code(crs: Any) -> str | None:
    """Canonical code of a CRS read from a file (None when the file has none)."""
    if crs is None:
        return None
    try:
        obj = CRS.from_user_input(crs)
    except CRSError:
        return None
    epsg = obj.to_epsg(min_confidence=70)
    if epsg is not None:
        return f"EPSG:{epsg}"
    return obj.to_wkt()


# --- text encodings ------------------------------------------------------------------------------------------


def detect_encoding(raw: bytes, name: str = "") -> str:
    """``"UTF-8"``, ``"UTF-16"`` or ``"GBK"`` for a piece of text, by trying strict decodes in that order.

    Raises
    ------
    ImportRejected
        Neither UTF-8 nor GBK (GB18030) decodes it.
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        return "UTF-8"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16"
    try:
        raw.decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        raw.decode("gb18030")
        return "GBK"
    except UnicodeDecodeError:
        pass
    where = f"“{name}”" if name else "文件"
    raise ImportRejected(
        f"{where}的文字编码无法识别（既不是 UTF-8 也不是 GBK/GB18030）：请用 UTF-8 另存后再上传", "encoding"
    )


_PY_CODEC = {"UTF-8": "utf-8-sig", "UTF-16": "utf-16", "GBK": "gb18030"}


def _decode(raw: bytes, name: str, encoding: str | None) -> tuple[str, str]:
    label = (encoding or detect_encoding(raw, name)).upper().replace("GB18030", "GBK").replace("CP936", "GBK")
    codec = _PY_CODEC.get(label, label)
    try:
        return raw.decode(codec), label
    except (UnicodeDecodeError, LookupError):
        raise ImportRejected(f"“{name}”不能按 {label} 编码读取：请选择正确的编码或用 UTF-8 另存", "encoding") from None


# --- GeoJSON -------------------------------------------------------------------------------------------------

_GEOMETRY_TYPES = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon",
                   "GeometryCollection"}  # fmt: skip


def _legacy_crs(doc: dict[str, Any]) -> str | None:
    """The pre-RFC 7946 ``crs`` member (``{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4545"}}``)."""
    member = doc.get("crs")
    if not isinstance(member, dict):
        return None
    name = (member.get("properties") or {}).get("name")
    if not name:
        return None
    if "CRS84" in str(name).upper():
        return config.WGS84
    return _crs_code(str(name))


def _read_geojson(data: bytes, name: str, encoding: str | None) -> _Raw:
    text, label = _decode(data, name, encoding)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportRejected(f"“{name}”不是有效的 GeoJSON：第 {exc.lineno} 行第 {exc.colno} 列 JSON 格式错误", "bad_json") from None
    if isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
        items = doc.get("features")
        if not isinstance(items, list):
            raise ImportRejected(f"“{name}”不是有效的 GeoJSON：features 不是数组", "bad_json")
    elif isinstance(doc, dict) and doc.get("type") == "Feature":
        items = [doc]
    elif isinstance(doc, dict) and doc.get("type") in _GEOMETRY_TYPES:
        items = [{"type": "Feature", "geometry": doc, "properties": {}}]
    else:
        raise ImportRejected(f"“{name}”不是 GeoJSON：顶层应为 FeatureCollection、Feature 或几何对象", "bad_json")
    rows: list[dict[str, Any]] = []
    geoms: list[BaseGeometry | None] = []
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict) or item.get("type") != "Feature":
            raise ImportRejected(f"“{name}”第 {n} 个要素不是 GeoJSON Feature", "bad_json")
        props = item.get("properties") or {}
        if not isinstance(props, dict):
            raise ImportRejected(f"“{name}”第 {n} 个要素的 properties 不是对象", "bad_json")
        label_of = _feature_label(n, props.get("id", item.get("id")), props.get("name"))
        geom_doc = item.get("geometry")
        if geom_doc is None:
            geoms.append(None)
        else:
            _check_finite_json(geom_doc, name, label_of)
            try:
                geoms.append(shape(geom_doc))
            except (ValueError, TypeError, AttributeError, KeyError, IndexError, shapely.errors.GEOSException) as exc:
                raise ImportRejected(f"“{name}”{label_of}的几何无法解析：{exc}", "bad_geometry") from None
        row = dict(props)
        if "id" not in row and item.get("id") is not None:
            row["id"] = item["id"]
        rows.append(row)
    gdf = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms)
    # RFC 7946: no crs member means WGS84 (checked against the coordinate ranges in _finish).
    file_crs = _legacy_crs(doc) if isinstance(doc, dict) else None
    return _Raw(gdf, "geojson", file_crs or config.WGS84, label, hints=(name,), notes=[] if file_crs else ["rfc7946"])


def _feature_label(n: int, fid: Any, fname: Any) -> str:
    extra = "，".join(str(v) for v in (fid, fname) if v not in (None, ""))
    return f"第 {n} 个要素" + (f"（{extra}）" if extra else "")


def _check_finite_json(geom_doc: Any, name: str, where: str) -> None:
    def walk(value: Any) -> None:
        if isinstance(value, list):
            for v in value:
                walk(v)
        elif isinstance(value, float) and not math.isfinite(value):
            raise ImportRejected(f"“{name}”{where}的坐标含 {value}（NaN 或无穷大），不是有效坐标", "bad_coordinates")
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)

    walk(geom_doc.get("coordinates") if isinstance(geom_doc, dict) and "coordinates" in geom_doc else geom_doc)


# --- CSV -----------------------------------------------------------------------------------------------------


def _column(header: Sequence[str], aliases: Sequence[str]) -> str | None:
    lowered = {h.strip().lower(): h for h in header}
    for alias in aliases:
        if alias.lower() in lowered:
            return lowered[alias.lower()]
    return None


def _number(text: str, name: str, line: int, column: str) -> float | None:
    value = (text or "").strip()
    if value == "":
        return None
    try:
        number = float(value)
    except ValueError:
        raise ImportRejected(f"“{name}”第 {line} 行：{column} 列的值“{value}”不是数字", "bad_coordinates") from None
    if not math.isfinite(number):
        raise ImportRejected(f"“{name}”第 {line} 行：{column} 列的值“{value}”是 NaN 或无穷大，不是有效坐标",
                             "bad_coordinates")  # fmt: skip
    return number


def _read_csv(data: bytes, name: str, encoding: str | None) -> _Raw:
    text, label = _decode(data, name, encoding)
    sample = text[:8192]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    # WKT of a district polygon easily exceeds the csv module's default 128 KiB field limit.
    csv.field_size_limit(max(csv.field_size_limit(), _CSV_FIELD_LIMIT))
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    header = [h for h in (reader.fieldnames or []) if h is not None]
    if not header:
        raise ImportRejected(f"“{name}”没有表头行", "csv_no_header")
    xcol, ycol, wktcol = _column(header, _X_COLUMNS), _column(header, _Y_COLUMNS), _column(header, _WKT_COLUMNS)
    if not wktcol and not (xcol and ycol):
        raise ImportRejected(
            f"“{name}”中没有坐标列：需要 lon/lat（或 经度/纬度、x/y）两列，或一列 WKT 几何；现有列：{'、'.join(header[:12])}",
            "csv_no_coordinates",
        )
    rows: list[dict[str, Any]] = []
    geoms: list[BaseGeometry | None] = []
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ImportRejected(f"“{name}”第 {reader.line_num} 行 CSV 格式错误：{exc}", "bad_csv") from None
        line = reader.line_num
        if not any((v or "").strip() for v in record.values() if isinstance(v, str)):
            continue
        wkt = (record.get(wktcol) or "").strip() if wktcol else ""
        geom: BaseGeometry | None = None
        if wkt:
            try:
                geom = shapely.from_wkt(wkt)
            except shapely.errors.GEOSException:
                raise ImportRejected(f"“{name}”第 {line} 行：{wktcol} 列不是有效的 WKT 几何", "bad_geometry") from None
            coords = shapely.get_coordinates(geom)
            if not np.isfinite(coords).all():
                raise ImportRejected(f"“{name}”第 {line} 行：{wktcol} 列的坐标含 NaN 或无穷大", "bad_coordinates")
        elif xcol and ycol:
            x = _number(record.get(xcol) or "", name, line, xcol)
            y = _number(record.get(ycol) or "", name, line, ycol)
            if (x is None) != (y is None):
                raise ImportRejected(f"“{name}”第 {line} 行：{xcol}/{ycol} 只填了一个", "bad_coordinates")
            geom = Point(x, y) if x is not None and y is not None else None
        rows.append({k: (v if v != "" else None) for k, v in record.items() if k is not None and k not in
                     {xcol, ycol, wktcol}})  # fmt: skip
        geoms.append(geom)
    if not rows:
        raise ImportRejected(f"“{name}”只有表头，没有数据行", "empty")
    gdf = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms)
    file_crs = None
    crs_col = _column(header, ("crs", "坐标系"))
    if crs_col:
        values = {str(v).strip() for v in gdf[crs_col].dropna() if str(v).strip()}
        if len(values) > 1:
            raise ImportRejected(f"“{name}”的 {crs_col} 列有多个坐标系（{'、'.join(sorted(values))}），请拆成多个文件",
                                 "crs")  # fmt: skip
        if values:
            file_crs = _normalise_user_crs(values.pop())
    hints = (name, *header)
    return _Raw(gdf, "csv", file_crs, label, hints=hints)


# --- zips and shapefiles ---------------------------------------------------------------------------------------


def safe_unzip(data: bytes, dest: Path, max_bytes: int, name: str = "upload.zip") -> list[Path]:
    """Unpack a zip into ``dest`` without trusting it.

    Refuses ``..``/absolute/drive paths and links, more than :data:`MAX_ZIP_ENTRIES` entries, and more than
    ``max_bytes`` unpacked (counted while unpacking, not taken from the headers: a zip bomb stops early).

    Raises
    ------
    ImportRejected
        Corrupt, encrypted, unsafe or too large.
    """
    bomb = ImportRejected(
        f"“{name}”解压后超过 {max_bytes / 1024 / 1024:g} MB（疑似压缩炸弹），已拒绝", "zip_bomb"
    )
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError):
        raise ImportRejected(f"“{name}”不是有效的 zip 压缩包（文件已损坏或不完整）", "corrupt_zip") from None
    with zf:
        infos = zf.infolist()
        if not infos:
            raise ImportRejected(f"“{name}”是空的 zip 压缩包", "empty")
        if len(infos) > MAX_ZIP_ENTRIES:
            raise ImportRejected(f"“{name}”中有 {len(infos)} 个文件，超过 {MAX_ZIP_ENTRIES} 个的上限", "zip_bomb")
        for info in infos:
            raw_name = info.filename.replace("\\", "/")
            parts = PurePosixPath(raw_name).parts
            if raw_name.startswith("/") or re.match(r"^[A-Za-z]:", raw_name) or ".." in parts:
                raise ImportRejected(
                    f"“{name}”中含有不安全的路径“{info.filename}”（../ 或绝对路径），已拒绝整个压缩包", "zip_unsafe_path"
                )
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                raise ImportRejected(f"“{name}”中含有符号链接“{info.filename}”，已拒绝", "zip_unsafe_path")
        if sum(info.file_size for info in infos) > max_bytes:
            raise bomb
        dest.mkdir(parents=True, exist_ok=True)
        root = dest.resolve()
        written = 0
        out: list[Path] = []
        for info in infos:
            if info.is_dir():
                continue
            target = (dest / PurePosixPath(info.filename.replace("\\", "/"))).resolve()
            if root not in target.parents:
                raise ImportRejected(f"“{name}”中含有不安全的路径“{info.filename}”，已拒绝", "zip_unsafe_path")
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with zf.open(info) as src, target.open("wb") as dst:
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        if written > max_bytes:
                            raise bomb
                        dst.write(chunk)
            except RuntimeError:  # encrypted entry
                raise ImportRejected(f"“{name}”有密码保护，无法读取", "corrupt_zip") from None
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError):
                raise ImportRejected(f"“{name}”已损坏：“{info.filename}”无法解压", "corrupt_zip") from None
            out.append(target)
    return out


def _dbf_text_bytes(path: Path) -> bytes:
    """The raw bytes of a dBASE file's field names and character fields (for encoding detection)."""
    raw = path.read_bytes()
    if len(raw) < 32:
        return b""
    n_records, header_len, record_len = struct.unpack("<IHH", raw[4:12])
    fields: list[tuple[int, int]] = []
    names = b""
    offset, pos = 1, 32  # each record starts with a deletion flag byte
    while pos + 32 <= min(header_len, len(raw)) and raw[pos] != 0x0D:
        desc = raw[pos : pos + 32]
        names += desc[:11].split(b"\0", 1)[0] + b" "
        length = desc[16]
        if desc[11:12] == b"C":
            fields.append((offset, length))
        offset += length
        pos += 32
    chunks = [names]
    for r in range(min(n_records, 20000)):
        start = header_len + r * record_len
        record = raw[start : start + record_len]
        chunks += [record[o : o + n].rstrip(b" \0") for o, n in fields]
    return b" ".join(chunks)


def _shapefile_encoding(dbf: Path, name: str, encoding: str | None) -> str:
    if encoding:
        return encoding
    cpg = next((p for p in dbf.parent.iterdir() if p.stem == dbf.stem and p.suffix.lower() == ".cpg"), None)
    detected = detect_encoding(_dbf_text_bytes(dbf), f"{name}/{dbf.name}")
    if cpg is not None:
        declared = cpg.read_text(encoding="ascii", errors="ignore").strip().upper()
        if declared in ("UTF-8", "UTF8", "65001") and detected == "UTF-8":
            return "UTF-8"
        if declared in ("GBK", "936", "CP936", "GB2312", "GB18030") and detected == "GBK":
            return "GBK"
    return detected


def _sibling(shp: Path, ext: str) -> Path | None:
    return next((p for p in shp.parent.iterdir() if p.stem == shp.stem and p.suffix.lower() == ext), None)


def _read_shapefiles(shps: list[Path], dbfs: list[Path], name: str, encoding: str | None) -> _Raw:
    frames: list[gpd.GeoDataFrame] = []
    crs_codes: set[str | None] = set()
    encodings: set[str] = set()
    layers: list[str] = []
    for shp in shps:
        dbf, shx = _sibling(shp, ".dbf"), _sibling(shp, ".shx")
        missing = [ext for ext, p in ((".dbf", dbf), (".shx", shx)) if p is None]
        if missing:
            raise ImportRejected(f"“{name}”中的 {shp.name} 缺少 {'、'.join(missing)} 文件：请把整套文件一起打包", "shp_incomplete")
        assert dbf is not None
        enc = _shapefile_encoding(dbf, name, encoding)
        encodings.add(enc)
        try:
            gdf = pyogrio.read_dataframe(shp, encoding=_PY_CODEC.get(enc, enc).replace("-sig", ""))
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, UnicodeDecodeError) as exc:
            raise ImportRejected(f"“{name}”中的 {shp.name} 无法读取：{exc}", "unreadable") from None
        prj = _sibling(shp, ".prj")
        crs_codes.add(_crs_code(gdf.crs) if prj is not None else None)
        frames.append(gdf)
        layers.append(shp.stem)
    for dbf in dbfs:  # attribute-only tables of our own exports (rows without a location)
        enc = _shapefile_encoding(dbf, name, encoding)
        encodings.add(enc)
        table = pyogrio.read_dataframe(dbf, encoding=_PY_CODEC.get(enc, enc).replace("-sig", ""))
        frames.append(gpd.GeoDataFrame(pd.DataFrame(table), geometry=[None] * len(table)))
        layers.append(dbf.stem)
    known = {c for c in crs_codes if c is not None}
    if len(known) > 1:
        raise ImportRejected(f"“{name}”中的各 Shapefile 坐标系不一致（{'、'.join(sorted(known))}），请分开上传", "crs")
    file_crs = known.pop() if known and None not in crs_codes else None
    gdf = _concat(frames)
    label = "、".join(sorted(encodings)) if encodings else None
    return _Raw(gdf, "shp", file_crs, label, tuple(layers), hints=(name, *layers))


def _concat(frames: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    cleaned = []
    for frame in frames:
        geoms = list(frame.geometry.values)
        table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
        cleaned.append(gpd.GeoDataFrame(table, geometry=geoms))  # CRS is handled by the caller
    out = pd.concat(cleaned, ignore_index=True) if len(cleaned) > 1 else cleaned[0]
    return gpd.GeoDataFrame(out, geometry="geometry")


def _restore_truncated(raw: _Raw, full_csv: Path) -> None:
    """Put back text the Shapefile format cut at 254 bytes, from our export's ``*_full.csv`` sidecar.

    Only values that still end with the truncation mark and are a prefix of the full value are restored, so
    edits made by a GIS team in the .dbf are kept.
    """
    text = full_csv.read_text(encoding="utf-8-sig")
    full = {row["id"]: row for row in csv.DictReader(io.StringIO(text)) if row.get("id")}
    inverse = {v: k for k, v in SHP_FIELDS.items() if "." not in k}
    gdf = raw.gdf
    restored = 0
    for column in gdf.columns:
        prop = inverse.get(column)
        if prop is None or column == "id" or "id" not in gdf.columns:
            continue
        for i, (fid, value) in enumerate(zip(gdf["id"], gdf[column])):
            original = (full.get(fid) or {}).get(prop)
            if isinstance(value, str) and value.endswith(SHP_TRUNCATION_MARK) and original and original.startswith(
                value[: -len(SHP_TRUNCATION_MARK)]
            ):
                gdf.iat[i, gdf.columns.get_loc(column)] = original
                restored += 1
    if restored:
        raw.notes.append(f"已从 {full_csv.name} 恢复 {restored} 个被 Shapefile 截断的文字字段")


def _read_zip_contents(files: list[Path], name: str, encoding: str | None, kmz: bool) -> _Raw:
    by_ext: dict[str, list[Path]] = {}
    for path in files:
        if path.name.startswith(("._", ".")) or "__MACOSX" in path.parts:
            continue
        by_ext.setdefault(path.suffix.lower(), []).append(path)
    if kmz or (".kml" in by_ext and ".shp" not in by_ext):
        kml = sorted(by_ext.get(".kml", []), key=lambda p: (p.name != "doc.kml", p.name))
        if not kml:
            raise ImportRejected(f"“{name}”中没有 .kml 文件", "zip_no_layer")
        return _read_kml(kml[0], name)
    shps = sorted(by_ext.get(".shp", []))
    if shps:
        dbfs = sorted(p for p in by_ext.get(".dbf", []) if p.stem.endswith(f"_{SHP_NOGEOM}"))
        raw = _read_shapefiles(shps, dbfs, name, encoding)
        full = [p for p in files if p.name.endswith(SHP_FULL_SUFFIX)]
        if full:
            _restore_truncated(raw, full[0])
        return raw
    for ext, reader in ((".gpkg", "gpkg"), (".geojson", "geojson"), (".json", "geojson"), (".csv", "csv")):
        if by_ext.get(ext):
            path = by_ext[ext][0]
            if reader == "gpkg":
                return _read_gpkg(path, name)
            data = path.read_bytes()
            if reader == "geojson":
                return _read_geojson(data, path.name, encoding)
            return _read_csv(data, path.name, encoding)
    raise ImportRejected(f"“{name}”中没有可读取的图层（.shp、.gpkg、.geojson、.kml 或 .csv）", "zip_no_layer")


# --- GeoPackage and KML --------------------------------------------------------------------------------------


def _read_layers(path: Path, name: str, fmt: str, wanted: Iterable[str] | None = None) -> _Raw:
    try:
        listed = pyogrio.list_layers(path)
    except (pyogrio.errors.DataSourceError, OSError) as exc:
        raise ImportRejected(f"“{name}”无法打开：{exc}", "unreadable") from None
    names = [str(n) for n, _ in listed]
    spatial = [str(n) for n, gtype in listed if gtype is not None]
    if wanted is not None:
        spatial = [n for n in spatial if n in set(wanted)]
    if not spatial:
        raise ImportRejected(f"“{name}”中没有带几何的图层", "empty")
    frames, codes = [], set()
    for layer in spatial:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                gdf = pyogrio.read_dataframe(path, layer=layer)
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
            raise ImportRejected(f"“{name}”的图层 {layer} 无法读取：{exc}", "unreadable") from None
        if not isinstance(gdf, gpd.GeoDataFrame):
            continue
        codes.add(_crs_code(gdf.crs))
        gdf["layer"] = layer
        frames.append(gdf)
    if not frames:
        raise ImportRejected(f"“{name}”中没有带几何的图层", "empty")
    known = {c for c in codes if c is not None}
    if len(known) > 1:
        raise ImportRejected(f"“{name}”中的图层坐标系不一致（{'、'.join(sorted(known))}），请只上传一个图层", "crs")
    file_crs = known.pop() if known and None not in codes else None
    return _Raw(_concat(frames), fmt, file_crs, None, tuple(spatial), hints=(name, *names))


def _read_gpkg(path: Path, name: str) -> _Raw:
    try:
        listed = {str(n) for n, _ in pyogrio.list_layers(path)}
    except (pyogrio.errors.DataSourceError, OSError) as exc:
        raise ImportRejected(f"“{name}”不是有效的 GeoPackage：{exc}", "unreadable") from None
    # Our own export: read the category layers only (not boundaries or tables).
    wanted = [c for c in config.CATEGORIES if c in listed] if GPKG_META_TABLE in listed else None
    raw = _read_layers(path, name, "gpkg", wanted)
    raw.encoding = "UTF-8"
    return raw


def _read_kml(path: Path, name: str) -> _Raw:
    raw = _read_layers(path, name, "kml")
    raw.file_crs = config.WGS84  # KML is WGS84 by definition
    raw.encoding = "UTF-8"
    gdf = raw.gdf
    # LIBKML names ExtendedData fields that clash with Placemark id/<name> "id2"/"name2": ours win.
    for base in ("id", "name"):
        if f"{base}2" in gdf.columns:
            gdf[base] = gdf.pop(f"{base}2")
    if "name" not in gdf.columns and "Name" in gdf.columns:
        gdf = gdf.rename(columns={"Name": "name"})
    bookkeeping = [c for c in _KML_BOOKKEEPING if c in gdf.columns]
    raw.gdf = gdf.drop(columns=bookkeeping)
    return raw


# --- CRS suggestion ------------------------------------------------------------------------------------------


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
    from geo.crs import GCJ02

    coords = np.asarray(coords, dtype=float).reshape(-1, 2)
    coords = coords[np.isfinite(coords).all(axis=1)]
    if len(coords) == 0:
        return []
    x, y = coords[:, 0], coords[:, 1]
    text = " ".join(hints).lower()
    out: list[CrsCandidate] = []
    if (np.abs(x) <= 180).all() and (np.abs(y) <= 90).all():
        geo = [
            CrsCandidate(config.WGS84, _crs_label(config.WGS84), "坐标是经纬度（度）"),
            CrsCandidate(config.CGCS2000, _crs_label(config.CGCS2000), "坐标是经纬度（度），与 WGS84 相差不到 1 米"),
            CrsCandidate(GCJ02, _crs_label(GCJ02), "高德、腾讯地图拾取的经纬度是 GCJ-02，比 WGS84 偏移数百米"),
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
        return [CrsCandidate(code, _crs_label(code), f"东坐标以带号 {zone} 开头（8 位数）")]
    if (x > 1e5).all() and (x < 9e5).all() and (y > 2e6).all() and (y < 5e6).all():
        scored: list[tuple[float, int, CrsCandidate]] = []
        for zone, codes in zones.items():
            code = codes["no_prefix"]
            lon, lat = Transformer.from_crs(code, config.WGS84, always_xy=True).transform(x, y)
            share = _inside_share(np.asarray(lon), np.asarray(lat), boundaries)
            reason = f"6 位东坐标（无带号）；按第{zone}带换算后 {share:.0%} 的点落在重庆市内"
            scored.append((share, -abs(zone - 36), CrsCandidate(code, _crs_label(code), reason)))
        scored.sort(key=lambda t: (t[0], t[1]), reverse=True)
        plausible = [c for share, _z, c in scored if share > 0]
        return plausible or [c for _s, _z, c in scored]
    if (np.abs(x) <= 20037508.35).all() and (np.abs(y) <= 20048966.1).all() and (x > 1e7).all():
        return [CrsCandidate(config.WEB_MERCATOR, "Web 墨卡托（EPSG:3857）", "坐标像 Web 墨卡托米制坐标")]
    return []


# --- finishing: CRS, validation, repair ------------------------------------------------------------------------


def _to_wgs84(gdf: gpd.GeoDataFrame, source: str) -> gpd.GeoDataFrame:
    from geo.crs import GCJ02, transform_geometry

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
                geom = shapely.union_all(parts) if kinds == {"Polygon"} else {
                    "Point": shapely.multipoints, "LineString": shapely.multilinestrings,
                }[kinds.pop()](parts)  # fmt: skip
        fixed.append(geom)
    gdf["geometry"] = fixed


def _labels(gdf: gpd.GeoDataFrame, name_field: str | None) -> list[str]:
    ids = gdf["id"] if "id" in gdf.columns else [None] * len(gdf)
    names = gdf[name_field] if name_field else [None] * len(gdf)
    return [_feature_label(i + 1, fid, nm) for i, (fid, nm) in enumerate(zip(ids, names))]


def guess_name_field(gdf: gpd.GeoDataFrame) -> str | None:
    """The column that most likely holds feature names (``name``, ``名称`` …, else the first text column)."""
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    found = _column([str(c) for c in columns], NAME_FIELDS)
    if found:
        return found
    for column in columns:
        values = gdf[column].dropna()
        if len(values) and values.map(lambda v: isinstance(v, str) and not v.isascii()).mean() > 0.5:
            return str(column)
    return None


def _finish(raw: _Raw, name: str, user_crs: str | None, boundaries: gpd.GeoDataFrame | None) -> ImportResult:
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
    elif raw.file_crs and (not _is_geographic(raw.file_crs) or looks_geographic or not len(coords)):
        source, origin = raw.file_crs, "file"
    elif candidates:
        source, origin = candidates[0].code, "guess"
        if raw.file_crs:
            warn.append(f"文件声明的坐标系是 {_crs_label(raw.file_crs)}，但坐标值不是经纬度；按坐标范围改用 {_crs_label(source)}")
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
        warn.append(f"坐标系是按坐标范围推断的：{_crs_label(source)}；也可能是 {others}，请确认")
    if _is_geographic(source) and len(coords) and not looks_geographic:
        raise ImportRejected(
            f"“{name}”的坐标超出经纬度范围（经度 -180～180、纬度 -90～90），不能按 {_crs_label(source)} 读取："
            "若是投影坐标（米），请选择对应的高斯投影带",
            "bad_coordinates",
        )
    out = _to_wgs84(gdf, source)
    wgs = shapely.get_coordinates(np.asarray(out.geometry.values, dtype=object))
    in_range = np.isfinite(wgs).all() and (np.abs(wgs[:, 0]) <= 180).all() and (np.abs(wgs[:, 1]) <= 90).all()
    if len(wgs) and not in_range:
        raise ImportRejected(f"“{name}”按 {_crs_label(source)} 换算后坐标超出经纬度范围，请检查坐标系", "bad_coordinates")
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


def _is_geographic(code: str) -> bool:
    from geo.crs import GCJ02

    if code == GCJ02:
        return True
    try:
        return bool(CRS.from_user_input(code).is_geographic)
    except CRSError:
        return False


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


# --- back to the feature table ---------------------------------------------------------------------------------


def _parse_json(value: Any, column: str, fid: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (list, dict)):
        return value
    if isinstance(value, np.ndarray):
        return value.tolist()
    try:
        return json.loads(str(value))
    except json.JSONDecodeError:
        raise ImportRejected(f"要素 {fid} 的 {column} 字段不是有效的 JSON（可能在 Shapefile 中被截断）", "bad_attributes") from None


def to_features(imported: ImportResult | gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The feature table (``FEATURE_COLUMNS`` + geometry, EPSG:4326) from a layer exported by this app.

    Undoes what the tabular formats did: Shapefile field names, the flattened ``source``, JSON text.

    Raises
    ------
    ImportRejected
        The layer lacks the feature-table fields (it was not exported by this app).
    """
    gdf = imported.gdf if isinstance(imported, ImportResult) else imported
    gdf = gdf.copy()
    inverse = {v: k for k, v in SHP_FIELDS.items() if "." not in k and v != k}
    gdf = gdf.rename(columns={c: inverse[c] for c in gdf.columns if c in inverse and inverse[c] not in gdf.columns})
    if "source" not in gdf.columns and "src_seed" in gdf.columns:
        sources = []
        for seed, section, lines, quote in zip(gdf["src_seed"], gdf["src_sect"], gdf["src_lines"], gdf["src_quote"]):
            first, _, last = str(lines or "").partition("-")
            span = [int(first), int(last or first)] if first.strip().isdigit() else []
            sources.append({"seed": seed, "section": section, "lines": span, "quote": quote})
        gdf["source"] = sources
    missing = [c for c in FEATURE_COLUMNS if c not in gdf.columns]
    if missing:
        raise ImportRejected(f"该图层不是本系统导出的规划要素（缺少字段 {', '.join(missing)}）", "not_features")
    for column in JSON_FIELDS:
        gdf[column] = [_parse_json(v, column, fid) for v, fid in zip(gdf[column], gdf["id"])]
    for column in ("designation", "reason", "county_name", "name"):
        gdf[column] = [None if v is None or (isinstance(v, float) and math.isnan(v)) or v == "" else str(v)
                       for v in gdf[column]]  # fmt: skip
    gdf["county"] = gdf["county"].astype(str)
    gdf["places"] = [list(v) if v is not None else [] for v in gdf["places"]]
    gdf["attributes"] = [list(v) if v is not None else [] for v in gdf["attributes"]]
    out = gpd.GeoDataFrame(gdf[list(FEATURE_COLUMNS)], geometry=list(gdf.geometry.values), crs=config.WGS84)
    return out


# --- matching imported points to plan entities -----------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """An imported point proposed as the exact location of a plan entity."""

    row: int
    imported_name: str
    entity_id: str
    entity_name: str
    county: str
    method: str  # "id" | "name" | "normalised" | "contains" | "fuzzy"
    score: float
    lon: float
    lat: float


METHOD_LABELS = {"id": "编号相同", "name": "名称相同", "normalised": "名称相同（去掉镇/乡/村等后缀）",
                 "contains": "名称包含", "fuzzy": "名称相近"}  # fmt: skip


def match_by_name(
    imported: ImportResult | gpd.GeoDataFrame,
    features: gpd.GeoDataFrame,
    name_field: str | None = None,
    min_score: float = 0.6,
) -> tuple[list[Match], list[str]]:
    """Propose plan entities for each imported point, best first.

    An imported ``id`` equal to an entity id wins (a GIS team edited our export); then equal names, equal
    normalised names (:func:`plan.names.normalise`), one name containing the other, and similar names.

    Returns
    -------
    tuple
        ``(matches, notes)``: every candidate with score ``>= min_score`` (several per point when ambiguous) and
        Chinese notes on points that were skipped (not points, no name, no candidate).
    """
    from plan.names import normalise

    gdf = imported.gdf if isinstance(imported, ImportResult) else imported
    detected = imported.name_field if isinstance(imported, ImportResult) else None
    field_name = name_field or detected or guess_name_field(gdf)
    notes: list[str] = []
    entities = list(zip(features["id"], features["name"], features["county"].astype(str)))
    by_id = {e[0]: e for e in entities}
    norm = {e[0]: normalise(str(e[1])) for e in entities}
    matches: list[Match] = []
    skipped_shape = 0
    unmatched: list[str] = []
    for i, geom in enumerate(gdf.geometry.values):
        if geom is None or geom.geom_type != "Point":
            skipped_shape += 1
            continue
        text = str(gdf[field_name].iloc[i]) if field_name and gdf[field_name].iloc[i] is not None else ""
        fid = str(gdf["id"].iloc[i]) if "id" in gdf.columns and gdf["id"].iloc[i] is not None else ""
        found: list[Match] = []

        def add(eid: str, method: str, score: float) -> None:
            _id, ename, county = by_id[eid]
            found.append(Match(i, text or fid, eid, str(ename), county, method, score, float(geom.x), float(geom.y)))

        if fid in by_id:
            add(fid, "id", 1.0)
        elif text:
            key = normalise(text)
            for eid, ename, _county in entities:
                if ename == text:
                    add(eid, "name", 0.95)
                elif key and norm[eid] == key:
                    add(eid, "normalised", 0.9)
                elif len(key) >= 2 and (key in norm[eid] or norm[eid] in key) and len(norm[eid]) >= 2:
                    add(eid, "contains", 0.7)
                else:
                    ratio = difflib.SequenceMatcher(None, key, norm[eid]).ratio()
                    if ratio >= min_score:
                        add(eid, "fuzzy", round(0.65 * ratio, 3))
        found = [m for m in found if m.score >= min_score]
        if not found:
            unmatched.append(text or f"第 {i + 1} 个要素")
        matches.extend(sorted(found, key=lambda m: -m.score))
    if skipped_shape:
        notes.append(f"{skipped_shape} 个要素不是单点（线、面、多点或无几何），不参与匹配")
    if unmatched:
        notes.append(f"{len(unmatched)} 个点找不到对应的规划条目：{'、'.join(unmatched[:10])}"
                     + ("…" if len(unmatched) > 10 else ""))  # fmt: skip
    return matches, notes


def best_matches(matches: Sequence[Match]) -> list[Match]:
    """The matches safe to accept without asking: per imported point the single best candidate, if unique, and
    per entity the single best point (ties are left for the user)."""
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


def save_matches(
    matches: Sequence[Match],
    note: str = "",
    path: Path | None = None,
    boundaries: gpd.GeoDataFrame | None = None,
) -> list[Any]:
    """Save accepted matches as exact locations in the overrides file (keyed by entity id).

    Every row is validated first (inside its county, valid coordinates); if any fails, nothing is saved.

    Returns
    -------
    list of geo.overrides.OverrideRow
        The saved rows.

    Raises
    ------
    ImportRejected
        Some matches are invalid; the message lists them.
    """
    from geo.errors import GeoDataError
    from geo.overrides import save_override, validate_row

    bnd = boundaries if boundaries is not None else load_boundaries("full")
    problems = []
    for m in matches:
        record = {"county": m.county, "place": m.entity_id, "lon": repr(m.lon), "lat": repr(m.lat), "crs": "wgs84"}
        try:
            validate_row(record, 0, bnd)
        except GeoDataError as exc:
            problems.append(f"{m.entity_name}（{m.entity_id}）：{str(exc).split('：', 1)[-1]}")
    if problems:
        raise ImportRejected("以下匹配不能保存，未写入任何坐标：" + "；".join(problems[:10]), "bad_match")
    saved = []
    for m in matches:
        text = note or f"导入匹配：{m.imported_name}（{METHOD_LABELS.get(m.method, m.method)}）"
        try:
            saved.append(save_override(m.county, m.entity_id, m.lon, m.lat, crs="wgs84", note=text, path=path,
                                       boundaries=bnd))  # fmt: skip
        except (GeoDataError, OSError) as exc:
            raise GisIOError(f"保存坐标失败（已保存 {len(saved)} 条）：{exc}", "overrides") from exc
    return saved
