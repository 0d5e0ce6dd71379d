"""Read GIS-team layers (GeoJSON, zipped Shapefile, GeoPackage, KML/KMZ, CSV with coordinates) safely.

The front door is :func:`read_upload` (bytes + file name, as a Streamlit upload gives them) or :func:`read_path`.
It checks the size, emptiness and type of the file, unpacks zips without trusting them (no ``../`` paths, no
links, a cap on the unpacked size), enforces the import limits before the expensive work (:mod:`gisio.limits`),
checks Shapefile and GeoPackage structure (:mod:`gisio.integrity`), detects the text encoding without trusting a
``.cpg`` (:mod:`gisio.encoding`), finds the CRS (from the file, from the user, or suggested from the coordinate
ranges: WGS84/CGCS2000/GCJ-02, Gauss-Krüger zones with or without zone prefix, Web Mercator) and checks it against
the coordinates, rejects NaN/Inf/out-of-range coordinates, unknown geometry types and mixed-type geometry
collections, repairs invalid geometries with a report, and returns the layer in EPSG:4326.  The whole read runs
under a deadline (:mod:`gisio.watchdog`).  Every refusal is an :class:`ImportRejected` with a Chinese message naming
the problem; nothing is written anywhere but a private temporary directory.  docs/hostile_input.md lists what
happens to each kind of bad file.

:func:`to_features` turns a layer exported by :mod:`gisio.export` back into the feature table;
:func:`match_by_name` and :func:`save_matches` give plan entities the exact locations of imported points.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import re
import struct
import tempfile
import warnings
import zipfile
import zlib
from collections import Counter
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
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

import config
from geo.crs import normalise_crs
from geo.errors import GeoDataError
from gisio import encoding as enc
from gisio import geojson_read
from gisio.errors import ImportRejected
from gisio.gpkg import GPKG_META_TABLE, ITEM_LAYERS_KEY
from gisio.integrity import check_shapefile, inspect_gpkg
from gisio.limits import ImportLimits, check_features, check_fields, check_filename, short_name
from gisio.normalise import ImportResult, RawLayer, find_column, finish_layer
from gisio.shapefile import SHP_FIELDS, SHP_FULL_SUFFIX, SHP_NOGEOM, SHP_TRUNCATION_MARK
from gisio.watchdog import checkpoint, run_with_deadline

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
    limits: ImportLimits | None = None,
    timeout: float | None = None,
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
        Attribute encoding chosen by the user (``"UTF-8"``, ``"GBK"``, ``"Big5"``, ``"UTF-16"``); default: detected.
    max_mb
        Size limit in MB (default ``config.MAX_UPLOAD_MB``).
    boundaries
        County boundaries, to rank CRS suggestions by where the data falls (optional).
    limits
        Import limits (default: :class:`gisio.limits.ImportLimits` from :mod:`config`).
    timeout
        Seconds the read may take (default ``config.IMPORT_TIMEOUT_S``; ``math.inf``: no deadline).

    Raises
    ------
    ImportRejected
        The file is refused; the message (Chinese) names the problem.
    """
    name = Path(filename or "upload").name
    limits = limits or ImportLimits()
    check_filename(name, limits)
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
    if encoding and enc.canonical(encoding) is None:
        raise ImportRejected(f"不支持的编码“{encoding}”：可选 {'、'.join(enc.CHOICES)}", "encoding")
    chosen = enc.canonical(encoding) if encoding else None

    def read() -> ImportResult:
        with tempfile.TemporaryDirectory(prefix="rrmap-import-") as tmp:
            work = Path(tmp)
            if kind in ("zip", "kmz"):
                files = safe_unzip(data, work / "unzipped", max_bytes=UNZIP_FACTOR * limit, name=name, limits=limits)
                raw = _read_zip_contents(files, name, chosen, kmz=(kind == "kmz"), limits=limits)
            elif kind == "geojson":
                raw = _read_geojson(data, name, chosen, limits)
            elif kind == "csv":
                raw = _read_csv(data, name, chosen, limits)
            else:
                path = work / f"upload{ext}"
                path.write_bytes(data)
                raw = _read_gpkg(path, name, limits) if kind == "gpkg" else _read_kml(path, name, limits)
        return finish_layer(raw, name, user_crs=user_crs, boundaries=boundaries, limits=limits)

    return run_with_deadline(read, what=f"读取“{short_name(name)}”", seconds=timeout)


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
    """``"UTF-8"``, ``"GBK"``, ``"Big5"`` or ``"UTF-16"`` for a piece of text (see :func:`gisio.encoding.detect`).

    Raises
    ------
    ImportRejected
        No candidate encoding decodes it.
    """
    return enc.detect(raw, name).label


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


def _read_geojson(data: bytes, name: str, encoding: str | None, limits: ImportLimits) -> RawLayer:
    text, guess = enc.decode(data, name, encoding)
    doc = geojson_read.loads(text, name, limits)
    del text
    parsed = geojson_read.read_features(doc, name, limits)
    check_features(len(parsed.rows), name, limits)
    gdf = gpd.GeoDataFrame(pd.DataFrame(parsed.rows), geometry=parsed.geoms)
    # RFC 7946: no crs member means WGS84 (checked against the coordinate ranges in finish_layer).
    file_crs = _legacy_crs(doc) if isinstance(doc, dict) else None
    notes = [*([guess.note] if guess.note else []), *parsed.notes]
    return RawLayer(
        gdf,
        "geojson",
        file_crs or config.WGS84,
        guess.label,
        hints=(name,),
        notes=notes,
        repairs=parsed.repairs,
        encoding_candidates=guess.candidates,
        crs_from="文件的 crs 成员所声明" if file_crs else "GeoJSON 标准（RFC 7946）默认",
    )


def _number(text: str, name: str, line: int, column: str) -> float | None:
    value = (text or "").strip()
    if value == "":
        return None
    try:
        number = float(value)
    except ValueError:
        raise ImportRejected(
            f"“{name}”第 {line} 行：{column} 列的值“{value[:40]}”不是数字", "bad_coordinates"
        ) from None
    if not math.isfinite(number):
        if re.search(r"nan|inf", value, re.I):
            raise ImportRejected(
                f"“{name}”第 {line} 行：{column} 列的值“{value[:40]}”是 NaN 或无穷大，不是有效坐标", "bad_coordinates"
            )
        raise ImportRejected(
            f"“{name}”第 {line} 行：{column} 列的数值（{len(value)} 位）超出浮点数范围，不是有效坐标", "bad_coordinates"
        )
    return number


def _unique_header(header: list[str], name: str, key_columns: set[str]) -> tuple[list[str], list[str]]:
    """Header with repeated names made unique (``名称``, ``名称_2``) and a note; a repeated coordinate, WKT or
    CRS column is refused (which of the two holds the coordinates cannot be known)."""
    counts = Counter(header)
    repeated = [h for h, n in counts.items() if n > 1]
    if not repeated:
        return header, []
    for h in repeated:
        if h in key_columns:
            where = "、".join(str(i + 1) for i, c in enumerate(header) if c == h)
            raise ImportRejected(
                f"“{name}”的表头中坐标或坐标系列“{h}”出现了 {counts[h]} 次（第 {where} 列），无法确定用哪一列："
                "请删去或改名重复的列后再上传",
                "csv_duplicate_header",
            )
    seen: Counter[str] = Counter()
    out = []
    for h in header:
        seen[h] += 1
        new = h if seen[h] == 1 else f"{h}_{seen[h]}"
        while seen[h] > 1 and new in counts:
            new += "_"
        out.append(new)
    renamed = "；".join(
        f"“{h}”出现 {counts[h]} 次（第 {'、'.join(str(i + 1) for i, c in enumerate(header) if c == h)} 列）"
        for h in repeated[:5]
    )
    note = f"表头有重复的列名：{renamed}。已把重复的列依次改名为 列名_2、列名_3…，各列数据都保留，请确认名称字段"
    return out, [note]


def _count_records(text: str, dialect: Any) -> int:
    """Data rows of a CSV (for the feature-limit message), counted without building anything."""
    return sum(1 for _ in csv.reader(io.StringIO(text), dialect=dialect)) - 1


def _read_csv(data: bytes, name: str, encoding: str | None, limits: ImportLimits) -> RawLayer:
    text, guess = enc.decode(data, name, encoding)
    sample = text[:8192]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    # WKT of a district polygon easily exceeds the csv module's default 128 KiB field limit.
    csv.field_size_limit(max(csv.field_size_limit(), _CSV_FIELD_LIMIT))
    reader = csv.reader(io.StringIO(text), dialect=dialect)
    try:
        first = next(reader, [])
    except csv.Error as exc:
        raise ImportRejected(f"“{name}”第 1 行 CSV 格式错误：{exc}", "bad_csv") from None
    raw_header = [h.strip() for h in first]
    if not any(raw_header):
        raise ImportRejected(f"“{name}”没有表头行", "csv_no_header")
    check_fields(len(raw_header), name, limits)
    xcol, ycol, wktcol = (
        find_column(raw_header, _X_COLUMNS),
        find_column(raw_header, _Y_COLUMNS),
        find_column(raw_header, _WKT_COLUMNS),
    )
    crs_col = find_column(raw_header, ("crs", "坐标系"))
    if not wktcol and not (xcol and ycol):
        raise ImportRejected(
            f"“{name}”中没有坐标列：需要 lon/lat（或 经度/纬度、x/y）两列，或一列 WKT 几何；现有列：{'、'.join(raw_header[:12])}",
            "csv_no_coordinates",
        )
    keys = {c for c in (xcol, ycol, wktcol, crs_col) if c}
    header, notes = _unique_header(raw_header, name, keys)
    index = {h: i for i, h in enumerate(header)}
    rows: list[dict[str, Any]] = []
    geoms: list[BaseGeometry | None] = []
    skip = {xcol, ycol, wktcol}
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ImportRejected(f"“{name}”第 {reader.line_num} 行 CSV 格式错误：{exc}", "bad_csv") from None
        line = reader.line_num
        if not any(v.strip() for v in record):
            continue
        if len(rows) >= limits.features:
            check_features(_count_records(text, dialect), name, limits)
        if len(rows) % 1000 == 0:
            checkpoint()

        def cell(column: str | None, values: list[str] = record) -> str:
            i = index.get(column or "", -1)
            return values[i] if 0 <= i < len(values) else ""

        wkt = cell(wktcol).strip() if wktcol else ""
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
            x = _number(cell(xcol), name, line, xcol)
            y = _number(cell(ycol), name, line, ycol)
            if (x is None) != (y is None):
                raise ImportRejected(f"“{name}”第 {line} 行：{xcol}/{ycol} 只填了一个", "bad_coordinates")
            geom = Point(x, y) if x is not None and y is not None else None
        rows.append({h: (cell(h) or None) for h in header if h not in skip})
        geoms.append(geom)
    if not rows:
        raise ImportRejected(f"“{name}”只有表头，没有数据行", "empty")
    gdf = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms)
    file_crs = None
    if crs_col:
        values = {str(v).strip() for v in gdf[crs_col].dropna() if str(v).strip()}
        if len(values) > 1:
            shown = "、".join(sorted(values)[:8])
            raise ImportRejected(f"“{name}”的 {crs_col} 列有多个坐标系（{shown}），请拆成多个文件", "crs")
        if values:
            file_crs = _normalise_user_crs(values.pop())
    return RawLayer(
        gdf,
        "csv",
        file_crs,
        guess.label,
        hints=(name, *header),
        notes=[*([guess.note] if guess.note else []), *notes],
        encoding_candidates=guess.candidates,
        crs_from=f"CSV 的“{crs_col}”列所写",
    )


# A name inside a zip longer than this (UTF-8 bytes) is written to disk under a short alias: Linux allows 255 bytes
# per name, i.e. 85 Chinese characters.
_DISK_NAME_BYTES = 200


def _disk_name(component: str) -> str:
    """A path component safe to create: itself, or for a long name a stable alias keeping the extension (the
    parts of one Shapefile keep a common stem)."""
    if len(component.encode("utf-8")) <= _DISK_NAME_BYTES:
        return component
    stem, dot, suffix = component.rpartition(".")
    if not dot or len(suffix) > 16:
        stem, suffix = component, ""
    alias = "long-" + hashlib.sha1(stem.encode("utf-8")).hexdigest()[:16]
    return f"{alias}.{suffix}" if suffix else alias


def safe_unzip(
    data: bytes, dest: Path, *, max_bytes: int, name: str = "upload.zip", limits: ImportLimits | None = None
) -> list[Path]:
    """Unpack a zip into ``dest`` without trusting it.

    Refuses ``..``/absolute/drive paths and links, more than :data:`MAX_ZIP_ENTRIES` entries, names longer than
    the file-name limit, and more than ``max_bytes`` unpacked (counted while unpacking, not taken from the headers:
    a zip bomb stops early).  Long names are unpacked under short aliases (see :func:`_disk_name`).

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
            for part in parts:
                check_filename(part, limits or ImportLimits(), inside=name)
        if sum(info.file_size for info in infos) > max_bytes:
            raise bomb
        dest.mkdir(parents=True, exist_ok=True)
        root = dest.resolve()
        written = 0
        out: list[Path] = []
        for info in infos:
            checkpoint()
            if info.is_dir():
                continue
            parts = PurePosixPath(info.filename.replace("\\", "/")).parts
            target = dest.joinpath(*(_disk_name(p) for p in parts)).resolve()
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


def _shapefile_encoding(dbf: Path, name: str, encoding: str | None) -> enc.EncodingGuess:
    """The DBF's encoding: the user's choice, else detected from its text; a ``.cpg`` is believed only when its
    encoding reads the text as well as the best candidate (:func:`gisio.encoding.detect`)."""
    if encoding:
        return enc.EncodingGuess(encoding, (encoding,))
    cpg = next((p for p in dbf.parent.iterdir() if p.stem == dbf.stem and p.suffix.lower() == ".cpg"), None)
    declared = cpg.read_text(encoding="ascii", errors="ignore").strip() if cpg is not None else None
    where = f"{name}/{dbf.name}"
    guess = enc.detect(_dbf_text_bytes(dbf), where, declared=declared or None, declared_by=cpg.name if cpg else "")
    if cpg is None and guess.label != "UTF-8" and guess.note is None:
        note = f"{dbf.name} 没有附带 .cpg 编码文件，属性文字按内容识别为 {guess.label}；如有乱码，请在“属性编码”中选择其他编码"
        return enc.EncodingGuess(guess.label, guess.candidates, note)
    return guess


def _gdal_encoding(label: str) -> str:
    return enc.GDAL_NAMES.get(label, label)


def _sibling(shp: Path, ext: str) -> Path | None:
    return next((p for p in shp.parent.iterdir() if p.stem == shp.stem and p.suffix.lower() == ext), None)


def _read_shapefiles(
    shps: list[Path], dbfs: list[Path], name: str, encoding: str | None, limits: ImportLimits
) -> RawLayer:
    frames: list[gpd.GeoDataFrame] = []
    crs_codes: set[str | None] = set()
    encodings: dict[str, None] = {}
    candidates: dict[str, None] = {}
    notes: list[str] = []
    layers: list[str] = []
    prjs: list[str] = []
    total = 0
    for shp in shps:
        dbf, shx = _sibling(shp, ".dbf"), _sibling(shp, ".shx")
        missing = [ext for ext, p in ((".dbf", dbf), (".shx", shx)) if p is None]
        if missing:
            raise ImportRejected(
                f"“{name}”中的 {shp.name} 缺少 {'、'.join(missing)} 文件：请把整套文件一起打包", "shp_incomplete"
            )
        assert dbf is not None and shx is not None
        records = check_shapefile(shp, shx, dbf, name=name)
        total += records
        check_features(total, name, limits)
        check_fields(_dbf_field_count(dbf), name, limits, where=f"中的 {dbf.name} ")
        guess = _shapefile_encoding(dbf, name, encoding)
        encodings[guess.label] = None
        candidates.update(dict.fromkeys(guess.candidates))
        notes += [guess.note] if guess.note else []
        checkpoint()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                gdf = pyogrio.read_dataframe(shp, encoding=_gdal_encoding(guess.label))
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, UnicodeDecodeError) as exc:
            raise ImportRejected(f"“{name}”中的 {shp.name} 无法读取：{exc}", "unreadable") from None
        if len(gdf) != records:  # GDAL skipped records it could not read: refuse rather than lose rows
            raise ImportRejected(
                f"“{name}”中的 {shp.name} 有 {records:,} 条记录，只读出 {len(gdf):,} 条：文件已损坏，请重新导出后再上传",
                "truncated",
            )
        prj = _sibling(shp, ".prj")
        crs_codes.add(_crs_code(gdf.crs) if prj is not None else None)
        if prj is not None:
            prjs.append(prj.name)
        frames.append(gdf)
        layers.append(shp.stem)
    for dbf in dbfs:  # attribute-only tables of our own exports (rows without a location)
        guess = _shapefile_encoding(dbf, name, encoding)
        encodings[guess.label] = None
        table = pyogrio.read_dataframe(dbf, encoding=_gdal_encoding(guess.label))
        frames.append(gpd.GeoDataFrame(pd.DataFrame(table), geometry=[None] * len(table)))
        layers.append(dbf.stem)
    known = {c for c in crs_codes if c is not None}
    if len(known) > 1:
        raise ImportRejected(f"“{name}”中的各 Shapefile 坐标系不一致（{'、'.join(sorted(known))}），请分开上传", "crs")
    file_crs = known.pop() if known and None not in crs_codes else None
    gdf = _concat(frames)
    label = "、".join(encodings) if encodings else None
    return RawLayer(
        gdf,
        "shp",
        file_crs,
        label,
        tuple(layers),
        hints=(name, *layers),
        notes=notes,
        encoding_candidates=tuple(candidates),
        crs_from=f"{'、'.join(prjs[:2])} 所声明" if prjs else "文件声明",
    )


def _dbf_field_count(dbf: Path) -> int:
    with dbf.open("rb") as fh:
        head = fh.read(12)
    if len(head) < 12:
        return 0
    header_len = struct.unpack("<H", head[8:10])[0]
    return max((header_len - 33) // 32, 0)


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


def _read_zip_contents(files: list[Path], name: str, encoding: str | None, kmz: bool, limits: ImportLimits) -> RawLayer:
    by_ext: dict[str, list[Path]] = {}
    for path in files:
        if path.name.startswith(("._", ".")) or "__MACOSX" in path.parts:
            continue
        by_ext.setdefault(path.suffix.lower(), []).append(path)
    if kmz or (".kml" in by_ext and ".shp" not in by_ext):
        kml = sorted(by_ext.get(".kml", []), key=lambda p: (p.name != "doc.kml", p.name))
        if not kml:
            raise ImportRejected(f"“{name}”中没有 .kml 文件", "zip_no_layer")
        return _read_kml(kml[0], name, limits)
    shps = sorted(by_ext.get(".shp", []))
    if shps:
        dbfs = sorted(p for p in by_ext.get(".dbf", []) if p.stem.endswith(f"_{SHP_NOGEOM}"))
        raw = _read_shapefiles(shps, dbfs, name, encoding, limits)
        full = [p for p in files if p.name.endswith(SHP_FULL_SUFFIX)]
        if full:
            _restore_truncated(raw, full[0])
        return raw
    geojsons = sorted(by_ext.get(".geojson", []))
    if len(geojsons) > 1:  # one file per layer (our GeoJSON delivery): together they are the layer
        return _read_geojson_files(geojsons, name, encoding, limits)
    for ext, reader in ((".gpkg", "gpkg"), (".geojson", "geojson"), (".json", "geojson"), (".csv", "csv")):
        if by_ext.get(ext):
            path = by_ext[ext][0]
            if reader == "gpkg":
                return _read_gpkg(path, name, limits)
            data = path.read_bytes()
            if reader == "geojson":
                return _read_geojson(data, path.name, encoding, limits)
            return _read_csv(data, path.name, encoding, limits)
    raise ImportRejected(f"“{name}”中没有可读取的图层（.shp、.gpkg、.geojson、.kml 或 .csv）", "zip_no_layer")


def _read_geojson_files(paths: list[Path], name: str, encoding: str | None, limits: ImportLimits) -> RawLayer:
    """Several GeoJSON files of one zip read as one layer (they must agree on the CRS)."""
    parts = [_read_geojson(path.read_bytes(), path.name, encoding, limits) for path in paths]
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
        _concat(frames),
        "geojson",
        first.file_crs,
        first.encoding,
        layers,
        hints=(name, *layers),
        notes=[n for part in parts for n in part.notes],
        repairs=[r for part in parts for r in part.repairs],
        encoding_candidates=first.encoding_candidates,
        crs_from=first.crs_from,
    )


def _read_layers(
    path: Path, name: str, fmt: str, limits: ImportLimits, wanted: Iterable[str] | None = None
) -> RawLayer:
    """Every spatial layer of a multi-layer file (GeoPackage, KML), counted against the limits before reading."""
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
    total = 0
    for layer in spatial:
        checkpoint()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                info = pyogrio.read_info(path, layer=layer, force_feature_count=True)
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
            raise ImportRejected(f"“{name}”的图层 {layer} 无法读取：{exc}", "unreadable") from None
        total += max(int(info.get("features") or 0), 0)
        check_features(total, name, limits)
        check_fields(len(info.get("fields", ())), name, limits, where=f"的图层“{layer}”")
    frames, codes = [], set()
    for layer in spatial:
        checkpoint()
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


def _read_gpkg(path: Path, name: str, limits: ImportLimits) -> RawLayer:
    # The database is checked with sqlite3 before GDAL opens it: views refused, CRS definitions, counts.
    info = inspect_gpkg(path, name, limits)
    try:
        listed = {str(n): gtype for n, gtype in pyogrio.list_layers(path)}
    except (pyogrio.errors.DataSourceError, OSError) as exc:
        raise ImportRejected(f"“{name}”不是有效的 GeoPackage：{exc}", "unreadable") from None
    # Our own export: its item layers only (not boundaries or tables), the table without geometry included.
    # A view is never read, whatever lists it (integrity.inspect_gpkg): it runs a query the file chose.
    ours = _our_item_layers(path, listed) if GPKG_META_TABLE not in info.views else None
    wanted = [n for n in (ours if ours is not None else listed) if n not in info.views]
    raw = _read_layers(path, name, "gpkg", limits, wanted)
    tables = [n for n in ours or [] if listed.get(n) is None and n not in info.views]
    if tables:
        frames = [raw.gdf]
        for table in tables:
            checkpoint()
            rows = pd.DataFrame(pyogrio.read_dataframe(path, layer=table, read_geometry=False))
            rows["layer"] = table
            frames.append(gpd.GeoDataFrame(rows, geometry=[None] * len(rows)))
        raw.gdf = _concat(frames)
    raw.encoding = "UTF-8"
    raw.notes += info.notes
    raw.crs_from = "GeoPackage 所声明"
    if info.undefined_srs & set(raw.layers):
        raw.file_crs = None  # decided from the coordinates (finish_layer says so)
    return raw


def _read_kml(path: Path, name: str, limits: ImportLimits) -> RawLayer:
    raw = _read_layers(path, name, "kml", limits)
    raw.file_crs = config.WGS84  # KML is WGS84 by definition
    raw.crs_from = "KML 标准规定"
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
