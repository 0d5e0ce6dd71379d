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
import io
import json
import math
import re
import struct
import tempfile
import warnings
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

import config
from geo.crs import normalise_crs
from geo.errors import GeoDataError
from gisio.errors import ImportRejected
from gisio.gpkg import GPKG_META_TABLE, ITEM_LAYERS_KEY
from gisio.normalise import ImportResult, RawLayer, feature_label, find_column, finish_layer
from gisio.rfc7946 import GEOMETRY_TYPES
from gisio.shapefile import SHP_FIELDS, SHP_FULL_SUFFIX, SHP_NOGEOM, SHP_TRUNCATION_MARK

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


# Columns the KML drivers add from KML elements (not data of the layer).
_KML_BOOKKEEPING = (
    "timestamp",
    "begin",
    "end",
    "altitudeMode",
    "tessellate",
    "extrude",
    "visibility",
    "drawOrder",
    "icon",
    "snippet",
)


_X_COLUMNS = ("lon", "lng", "long", "longitude", "经度", "x", "东坐标", "easting", "point_x")


_Y_COLUMNS = ("lat", "latitude", "纬度", "y", "北坐标", "northing", "point_y")


_WKT_COLUMNS = ("wkt", "geometry_wkt", "geometry", "geom", "the_geom", "几何")


_CSV_FIELD_LIMIT = 64 * 1024 * 1024


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
            files = safe_unzip(data, work / "unzipped", max_bytes=UNZIP_FACTOR * limit, name=name)
            raw = _read_zip_contents(files, name, encoding, kmz=(kind == "kmz"))
        elif kind == "geojson":
            raw = _read_geojson(data, name, encoding)
        elif kind == "csv":
            raw = _read_csv(data, name, encoding)
        else:
            path = work / f"upload{ext}"
            path.write_bytes(data)
            raw = _read_gpkg(path, name) if kind == "gpkg" else _read_kml(path, name)
    return finish_layer(raw, name, user_crs=user_crs, boundaries=boundaries)


def _normalise_user_crs(text: str) -> str:

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


def _read_geojson(data: bytes, name: str, encoding: str | None) -> RawLayer:
    text, label = _decode(data, name, encoding)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportRejected(
            f"“{name}”不是有效的 GeoJSON：第 {exc.lineno} 行第 {exc.colno} 列 JSON 格式错误", "bad_json"
        ) from None
    if isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
        items = doc.get("features")
        if not isinstance(items, list):
            raise ImportRejected(f"“{name}”不是有效的 GeoJSON：features 不是数组", "bad_json")
    elif isinstance(doc, dict) and doc.get("type") == "Feature":
        items = [doc]
    elif isinstance(doc, dict) and doc.get("type") in GEOMETRY_TYPES:
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
        label_of = feature_label(n, props.get("id", item.get("id")), props.get("name"))
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
    # RFC 7946: no crs member means WGS84 (checked against the coordinate ranges in finish_layer).
    file_crs = _legacy_crs(doc) if isinstance(doc, dict) else None
    return RawLayer(
        gdf, "geojson", file_crs or config.WGS84, label, hints=(name,), notes=[] if file_crs else ["rfc7946"]
    )


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


def _number(text: str, name: str, line: int, column: str) -> float | None:
    value = (text or "").strip()
    if value == "":
        return None
    try:
        number = float(value)
    except ValueError:
        raise ImportRejected(f"“{name}”第 {line} 行：{column} 列的值“{value}”不是数字", "bad_coordinates") from None
    if not math.isfinite(number):
        raise ImportRejected(
            f"“{name}”第 {line} 行：{column} 列的值“{value}”是 NaN 或无穷大，不是有效坐标", "bad_coordinates"
        )
    return number


def _read_csv(data: bytes, name: str, encoding: str | None) -> RawLayer:
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
    xcol, ycol, wktcol = (
        find_column(header, _X_COLUMNS),
        find_column(header, _Y_COLUMNS),
        find_column(header, _WKT_COLUMNS),
    )
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
        rows.append(
            {k: (v if v != "" else None) for k, v in record.items() if k is not None and k not in {xcol, ycol, wktcol}}
        )
        geoms.append(geom)
    if not rows:
        raise ImportRejected(f"“{name}”只有表头，没有数据行", "empty")
    gdf = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms)
    file_crs = None
    crs_col = find_column(header, ("crs", "坐标系"))
    if crs_col:
        values = {str(v).strip() for v in gdf[crs_col].dropna() if str(v).strip()}
        if len(values) > 1:
            raise ImportRejected(
                f"“{name}”的 {crs_col} 列有多个坐标系（{'、'.join(sorted(values))}），请拆成多个文件", "crs"
            )
        if values:
            file_crs = _normalise_user_crs(values.pop())
    hints = (name, *header)
    return RawLayer(gdf, "csv", file_crs, label, hints=hints)


def safe_unzip(data: bytes, dest: Path, *, max_bytes: int, name: str = "upload.zip") -> list[Path]:
    """Unpack a zip into ``dest`` without trusting it.

    Refuses ``..``/absolute/drive paths and links, more than :data:`MAX_ZIP_ENTRIES` entries, and more than
    ``max_bytes`` unpacked (counted while unpacking, not taken from the headers: a zip bomb stops early).

    Raises
    ------
    ImportRejected
        Corrupt, encrypted, unsafe or too large.
    """
    bomb = ImportRejected(f"“{name}”解压后超过 {max_bytes / 1024 / 1024:g} MB（疑似压缩炸弹），已拒绝", "zip_bomb")
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
                    f"“{name}”中含有不安全的路径“{info.filename}”（../ 或绝对路径），已拒绝整个压缩包",
                    "zip_unsafe_path",
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


def _read_shapefiles(shps: list[Path], dbfs: list[Path], name: str, encoding: str | None) -> RawLayer:
    frames: list[gpd.GeoDataFrame] = []
    crs_codes: set[str | None] = set()
    encodings: set[str] = set()
    layers: list[str] = []
    for shp in shps:
        dbf, shx = _sibling(shp, ".dbf"), _sibling(shp, ".shx")
        missing = [ext for ext, p in ((".dbf", dbf), (".shx", shx)) if p is None]
        if missing:
            raise ImportRejected(
                f"“{name}”中的 {shp.name} 缺少 {'、'.join(missing)} 文件：请把整套文件一起打包", "shp_incomplete"
            )
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
    return RawLayer(gdf, "shp", file_crs, label, tuple(layers), hints=(name, *layers))


def _concat(frames: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    cleaned = []
    for frame in frames:
        geoms = list(frame.geometry.values)
        table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
        cleaned.append(gpd.GeoDataFrame(table, geometry=geoms))  # CRS is handled by the caller
    out = pd.concat(cleaned, ignore_index=True) if len(cleaned) > 1 else cleaned[0]
    return gpd.GeoDataFrame(out, geometry="geometry")


def _restore_truncated(raw: RawLayer, full_csv: Path) -> None:
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
            if (
                isinstance(value, str)
                and value.endswith(SHP_TRUNCATION_MARK)
                and original
                and original.startswith(value[: -len(SHP_TRUNCATION_MARK)])
            ):
                gdf.iat[i, gdf.columns.get_loc(column)] = original
                restored += 1
    if restored:
        raw.notes.append(f"已从 {full_csv.name} 恢复 {restored} 个被 Shapefile 截断的文字字段")


def _read_zip_contents(files: list[Path], name: str, encoding: str | None, kmz: bool) -> RawLayer:
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
    geojsons = sorted(by_ext.get(".geojson", []))
    if len(geojsons) > 1:  # one file per layer (our GeoJSON delivery): together they are the layer
        return _read_geojson_files(geojsons, name, encoding)
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


def _read_geojson_files(paths: list[Path], name: str, encoding: str | None) -> RawLayer:
    """Several GeoJSON files of one zip read as one layer (they must agree on the CRS)."""
    parts = [_read_geojson(path.read_bytes(), path.name, encoding) for path in paths]
    crs_codes = {part.file_crs for part in parts}
    if len(crs_codes) > 1:
        shown = "、".join(sorted(str(c) for c in crs_codes))
        raise ImportRejected(f"“{name}”中的各 GeoJSON 坐标系不一致（{shown}），请分开上传", "crs")
    frames = []
    for path, part in zip(paths, parts):
        part.gdf["layer"] = path.stem
        frames.append(part.gdf)
    first = parts[0]
    layers = tuple(p.stem for p in paths)
    return RawLayer(
        _concat(frames), "geojson", first.file_crs, first.encoding, layers, hints=(name, *layers), notes=first.notes
    )


def _read_layers(path: Path, name: str, fmt: str, wanted: Iterable[str] | None = None) -> RawLayer:
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
    return RawLayer(_concat(frames), fmt, file_crs, None, tuple(spatial), hints=(name, *names))


def _our_item_layers(path: Path, listed: dict[str, Any]) -> list[str] | None:
    """The item layers of a GeoPackage exported by this app, as its ``rrmap_export`` table lists them."""
    if GPKG_META_TABLE not in listed:
        return None
    meta = pyogrio.read_dataframe(path, layer=GPKG_META_TABLE, read_geometry=False)
    value = "value_text" if "value_text" in meta.columns else "value"
    rows = dict(zip(meta["key"], meta[value]))
    if rows.get(ITEM_LAYERS_KEY):
        return [n for n in str(rows[ITEM_LAYERS_KEY]).split(",") if n in listed]
    return [c for c in config.CATEGORIES if c in listed]  # exports before the item_layers row: one per category


def _read_gpkg(path: Path, name: str) -> RawLayer:
    try:
        listed = {str(n): gtype for n, gtype in pyogrio.list_layers(path)}
    except (pyogrio.errors.DataSourceError, OSError) as exc:
        raise ImportRejected(f"“{name}”不是有效的 GeoPackage：{exc}", "unreadable") from None
    # Our own export: its item layers only (not boundaries or tables), the table without geometry included.
    wanted = _our_item_layers(path, listed)
    raw = _read_layers(path, name, "gpkg", wanted)
    tables = [n for n in wanted or [] if listed.get(n) is None]
    if tables:
        frames = [raw.gdf]
        for table in tables:
            rows = pd.DataFrame(pyogrio.read_dataframe(path, layer=table, read_geometry=False))
            rows["layer"] = table
            frames.append(gpd.GeoDataFrame(rows, geometry=[None] * len(rows)))
        raw.gdf = _concat(frames)
    raw.encoding = "UTF-8"
    return raw


def _read_kml(path: Path, name: str) -> RawLayer:
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
