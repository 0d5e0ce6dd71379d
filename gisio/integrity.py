"""Checks of a Shapefile's and a GeoPackage's structure before GDAL reads them (GDAL would read part of a broken
file without a word, or run whatever a database view asks for).

Shapefile: the ``.shp`` is as long as its header says, every record the ``.shx`` points at is inside the
``.shp``, the ``.dbf`` holds as many records as its header says, and ``.shx`` and ``.dbf`` agree on the count —
otherwise rows would be lost or attributes shifted, so the file is refused.

GeoPackage (opened read-only with Python's sqlite3, every query interrupted at the import deadline): a layer that
is a database *view* is never read (a view can be defined to produce rows without end — a "view bomb" — and runs a
query we do not control): it is skipped with a note, and a file of views only is refused; a layer whose ``srs_id`` is not defined in ``gpkg_spatial_ref_sys`` (or is the
"undefined" 0/-1) gets a note, and its CRS is then decided from the coordinates; features and fields are counted
against the limits.
"""

from __future__ import annotations

import sqlite3
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gisio.errors import ImportRejected
from gisio.limits import ImportLimits, check_features, check_fields
from gisio.watchdog import checkpoint, sqlite_progress_handler

_SHP_HEADER = 100


def _truncated(name: str, part: str, detail: str) -> ImportRejected:
    return ImportRejected(
        f"“{name}”中的 {part} 不完整（{detail}），可能在复制、下载或打包时被截断：请重新导出后再上传，以免丢失要素",
        "truncated",
    )


def _main_header_length(path: Path) -> tuple[int, int]:
    """(file length the header declares, actual size) of a .shp/.shx, in bytes."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(_SHP_HEADER)
    if len(head) < _SHP_HEADER or struct.unpack(">i", head[:4])[0] != 9994:
        return -1, size
    return struct.unpack(">i", head[24:28])[0] * 2, size


def check_shapefile(shp: Path, shx: Path, dbf: Path, *, name: str) -> int:
    """Refuse a truncated or inconsistent Shapefile; return its record count.

    Raises
    ------
    ImportRejected
        Code ``truncated``: a part is shorter than its header says, or the parts disagree on the record count.
    """
    for part in (shp, shx):
        declared, size = _main_header_length(part)
        if declared < 0:
            raise _truncated(name, part.name, f"文件只有 {size} 字节，没有有效的文件头")
        if size < declared:
            raise _truncated(name, part.name, f"文件头记录长度 {declared:,} 字节，实际只有 {size:,} 字节")
    shx_size = shx.stat().st_size
    index = np.frombuffer(shx.read_bytes()[_SHP_HEADER:], dtype=">i4")
    records = len(index) // 2
    if records:
        offsets = index[0::2][:records].astype(np.int64) * 2
        lengths = index[1::2][:records].astype(np.int64) * 2
        ends = offsets + 8 + lengths
        shp_size = shp.stat().st_size
        beyond = np.flatnonzero(ends > shp_size)
        if len(beyond):
            first = int(beyond[0])
            raise _truncated(
                name,
                shp.name,
                f"第 {first + 1} 至 {records} 条记录（共 {len(beyond):,} 条）超出文件末尾，文件只有 {shp_size:,} 字节",
            )
    if (shx_size - _SHP_HEADER) % 8:
        raise _truncated(name, shx.name, f"索引长度 {shx_size:,} 字节不是完整的记录")
    dbf_records = _check_dbf(dbf, name)
    if dbf_records is not None and dbf_records != records:
        raise ImportRejected(
            f"“{name}”中的 {shp.name} 有 {records:,} 个几何，但 {dbf.name} 有 {dbf_records:,} 条属性记录：两者不一致，"
            "属性会错位或丢失，请重新导出后再上传",
            "truncated",
        )
    return records


def _check_dbf(dbf: Path, name: str) -> int | None:
    """The record count of a .dbf after checking its length (None when it is too short to have a header)."""
    size = dbf.stat().st_size
    with dbf.open("rb") as fh:
        head = fh.read(32)
    if len(head) < 32:
        raise _truncated(name, dbf.name, f"文件只有 {size} 字节，没有有效的文件头")
    n_records, header_len, record_len = struct.unpack("<IHH", head[4:12])
    expected = header_len + n_records * record_len
    if size < expected:
        raise _truncated(
            name,
            dbf.name,
            f"文件头记录 {n_records:,} 条属性、应有 {expected:,} 字节，实际只有 {size:,} 字节",
        )
    return int(n_records)


# --- GeoPackage ---------------------------------------------------------------------------------------------------


@dataclass
class GpkgInfo:
    """What a GeoPackage holds, read from its own tables."""

    layers: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    undefined_srs: set[str] = field(default_factory=set)  # layers whose CRS the file does not define
    views: set[str] = field(default_factory=set)  # every view in the database: never read


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def inspect_gpkg(path: Path, name: str, limits: ImportLimits) -> GpkgInfo:
    """The GeoPackage's feature layers, checked (views refused, undefined CRS noted, counts within the limits).

    Raises
    ------
    ImportRejected
        Every layer is a view (code ``gpkg_view``), over a limit, or the file is not a readable database.
    """
    info = GpkgInfo()
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error as exc:
        raise ImportRejected(f"“{name}”不是有效的 GeoPackage：{exc}", "unreadable") from None
    conn.set_progress_handler(sqlite_progress_handler(), 10_000)
    try:
        tables = {r[0]: r[1] for r in conn.execute("SELECT name, type FROM sqlite_master")}
        info.views = {str(n) for n, kind in tables.items() if kind == "view"}
        if "gpkg_contents" not in tables:
            return info  # not a GeoPackage of the standard kind: GDAL says what is wrong
        contents = conn.execute(
            "SELECT c.table_name, c.data_type, g.srs_id FROM gpkg_contents c "
            "LEFT JOIN gpkg_geometry_columns g ON g.table_name = c.table_name"
        ).fetchall()
        defined = {r[0] for r in conn.execute("SELECT srs_id FROM gpkg_spatial_ref_sys")}
        total = 0
        views: list[str] = []
        for table, data_type, srs_id in contents:
            if data_type != "features":
                continue  # attribute tables and tiles are not read
            kind = tables.get(table)
            if kind == "view":
                views.append(str(table))
                continue
            if kind != "table":
                continue  # GDAL reports a layer whose table is missing
            info.layers.append(str(table))
            if srs_id is not None and (srs_id not in defined or srs_id in (0, -1)):
                info.undefined_srs.add(str(table))
                what = "未定义坐标系" if srs_id in (0, -1) else "在 gpkg_spatial_ref_sys 中没有定义"
                info.notes.append(f"图层“{table}”的坐标系编号 srs_id={srs_id} {what}，坐标系将按坐标范围推断")
            columns = conn.execute(f"PRAGMA table_info({_quote(str(table))})").fetchall()
            check_fields(max(len(columns) - 2, 0), name, limits, where=f"的图层“{table}”")  # minus fid, geometry
            total += conn.execute(f"SELECT count(*) FROM {_quote(str(table))}").fetchone()[0]
            check_features(total, name, limits)
        if views:
            shown = "、".join(f"“{v}”" for v in views[:5])
            why = (
                f"图层 {shown} 是数据库视图（view），不是存放数据的表：视图在读取时执行文件里写好的查询"
                "（可能无休止地生成记录），出于安全不读取视图"
            )
            if not info.layers:
                raise ImportRejected(f"“{name}”的{why}。请在 GIS 软件中把它导出为普通图层后再上传", "gpkg_view")
            info.notes.append(f"{why}，已跳过；其余图层照常导入")
    except sqlite3.OperationalError as exc:
        if "interrupted" in str(exc):
            checkpoint()  # raises the timeout refusal
        raise ImportRejected(f"“{name}”不是有效的 GeoPackage：{exc}", "unreadable") from None
    except sqlite3.DatabaseError as exc:
        raise ImportRejected(f"“{name}”不是有效的 GeoPackage：{exc}", "unreadable") from None
    finally:
        conn.close()
    return info
