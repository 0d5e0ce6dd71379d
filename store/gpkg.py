"""The embedded backend: one GeoPackage file written with Python's own sqlite3.

The file is a valid GeoPackage 1.3 (application_id ``GPKG``, the mandatory metadata tables, geometries in
GeoPackage binary with ISO WKB), so QGIS and GDAL open it as they are: ``user_geometry`` is a features layer (the
current geometry of every item), ``user_geometry_history`` and ``user_geometry_imports`` attribute tables.

Concurrency: WAL journal (readers never block the writer), ``busy_timeout`` (writers queue instead of failing),
``BEGIN IMMEDIATE`` for every write (the write lock is taken at the start, so two read-then-write transactions
cannot deadlock).  Each operation opens its own connection: Streamlit runs every script run in a new thread.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from store.dialect import HISTORY, IMPORTS, ITEMS, SRID, Cursor, iso_utc, schema
from store.errors import StoreError

APPLICATION_ID = 0x47504B47  # 'GPKG'
USER_VERSION = 10300  # GeoPackage 1.3 (GDAL 3.6 warns on 1.4)
BUSY_TIMEOUT_MS = 30_000

# --- GeoPackage binary geometry (OGC 12-128r18, 2.1.3) ---------------------------------------------------------

_ENVELOPE_DOUBLES = {0: 0, 1: 4, 2: 6, 3: 6, 4: 8}


def gpb_encode(geom: BaseGeometry | None, srid: int = SRID) -> bytes | None:
    """GeoPackage binary: ``GP``, version 0, flags, srs_id, envelope [minx, maxx, miny, maxy], ISO WKB."""
    if geom is None:
        return None
    wkb = shapely.to_wkb(geom, byte_order=1, flavor="iso", include_srid=False)
    if geom.is_empty:
        return b"GP" + bytes([0, 0b0001_0001]) + struct.pack("<i", srid) + wkb  # empty flag, no envelope
    if geom.geom_type == "Point":
        return b"GP" + bytes([0, 0b0000_0001]) + struct.pack("<i", srid) + wkb  # a point needs no envelope
    minx, miny, maxx, maxy = geom.bounds
    return b"GP" + bytes([0, 0b0000_0011]) + struct.pack("<i4d", srid, minx, maxx, miny, maxy) + wkb


def _gpb_split(blob: bytes) -> tuple[int, tuple[float, ...], bool, bytes]:
    if blob[:2] != b"GP":
        raise StoreError("编辑库中的几何不是 GeoPackage 格式（文件可能被其他程序改写）")
    flags = blob[3]
    order = "<" if flags & 1 else ">"
    n = _ENVELOPE_DOUBLES.get((flags >> 1) & 0b111)
    if n is None:
        raise StoreError("编辑库中的几何头信息无效")
    srid = struct.unpack(order + "i", blob[4:8])[0]
    envelope = struct.unpack(f"{order}{n}d", blob[8 : 8 + 8 * n]) if n else ()
    return srid, envelope, bool(flags & 0b1_0000), blob[8 + 8 * n :]


def gpb_decode(blob: bytes | None) -> BaseGeometry | None:
    """The geometry of a GeoPackage binary blob (None for NULL)."""
    if blob is None:
        return None
    return shapely.from_wkb(_gpb_split(bytes(blob))[3])


# The R-tree triggers GDAL/QGIS add with a spatial index call ST_* functions of SpatiaLite; registering them on our
# connections keeps writes working if the file gets such an index later.
def _envelope(blob: bytes | None, i: int) -> float | None:
    if blob is None:
        return None
    _srid, envelope, empty, wkb = _gpb_split(bytes(blob))
    if empty:
        return None
    if envelope:
        return float(envelope[i])
    minx, miny, maxx, maxy = shapely.from_wkb(wkb).bounds
    return float((minx, maxx, miny, maxy)[i])


def _is_empty(blob: bytes | None) -> int | None:
    return None if blob is None else int(_gpb_split(bytes(blob))[2])


def _register_functions(conn: sqlite3.Connection) -> None:
    for i, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
        conn.create_function(name, 1, lambda b, i=i: _envelope(b, i), deterministic=True)
    conn.create_function("ST_IsEmpty", 1, _is_empty, deterministic=True)


_WGS84_WKT = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],'
    'AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,'
    'AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]'
)
_METADATA = [
    """CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY,
         organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL,
         description TEXT)""",
    """CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
         identifier TEXT UNIQUE, description TEXT DEFAULT '',
         last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
         min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
         CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))""",
    """CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
         geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
         CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
         CONSTRAINT uk_gc_table_name UNIQUE (table_name),
         CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
         CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))""",
]
_SRS_ROWS = [
    ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian coordinate reference system"),
    ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic coordinate reference system"),
    ("WGS 84 geodetic", 4326, "EPSG", 4326, _WGS84_WKT, "longitude/latitude coordinates on the WGS 84 spheroid"),
]
_CONTENTS = [
    (ITEMS, "features", "标绘与导入的几何（当前版本）", SRID),
    (HISTORY, "attributes", "每一次修改：修改前后的几何、修改人、时间、方式", None),
    (IMPORTS, "attributes", "已导入的文件（迁移只做一次）", None),
]


class GpkgDialect:
    """One GeoPackage file; created with its metadata tables on first use."""

    name = "gpkg"
    id_type = "INTEGER PRIMARY KEY AUTOINCREMENT"
    ts_type = "DATETIME"  # ISO 8601 UTC text, as GeoPackage defines DATETIME
    geom_type = "GEOMETRY"  # the declared type is the geometry type name (GeoPackage requirement 25)
    history_geom_type = "BLOB"  # GeoPackage-binary blobs in an attributes table

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"无法创建编辑库目录 {path.parent}：{exc.strerror or exc}") from exc
        try:
            self._ensure_schema()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"无法打开编辑库 {path}（{exc}）：它不是可写的 GeoPackage/SQLite 文件") from exc

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: no implicit BEGIN; every transaction is started explicitly.
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        _register_functions(conn)
        return conn

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[Cursor]:
        conn = self._connect()
        try:
            conn.execute(begin)
            try:
                yield conn.cursor()
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()

    def write(self) -> Any:
        return self._transaction("BEGIN IMMEDIATE")  # the write lock now: no deadlock on a read->write upgrade

    def read(self) -> Any:
        return self._transaction("BEGIN")  # one snapshot for a multi-statement read

    def sql(self, statement: str) -> str:
        return statement  # sqlite3 takes :name parameters

    def geom_in(self, param: str) -> str:
        return f":{param}"

    def geom_out(self, column: str) -> str:
        return column

    def encode(self, geom: BaseGeometry | None) -> bytes | None:
        return gpb_encode(geom)

    def decode(self, value: Any) -> BaseGeometry | None:
        return gpb_decode(value)

    def ts_in(self, when: dt.datetime) -> str:
        return iso_utc(when)

    def ts_out(self, value: Any) -> str:
        return str(value)

    def is_unique_violation(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc)

    def is_operational(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.OperationalError | sqlite3.DatabaseError) and not isinstance(
            exc, sqlite3.IntegrityError | sqlite3.ProgrammingError
        )

    def touch(self, cur: Cursor, when: dt.datetime) -> None:
        cur.execute("UPDATE gpkg_contents SET last_change = :t WHERE table_name = :n", {"t": iso_utc(when), "n": ITEMS})

    def close(self) -> None:
        """Nothing stays open between operations."""

    def _ensure_schema(self) -> None:
        conn = self._connect()
        try:
            # WAL is a property of the file: set once, outside a transaction.
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("BEGIN IMMEDIATE")
            try:
                tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
                if ITEMS not in tables:
                    if "gpkg_contents" not in tables:
                        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                        conn.execute(f"PRAGMA user_version = {USER_VERSION}")
                        for stmt in _METADATA:
                            conn.execute(stmt)
                    # An existing GeoPackage (ours added to it) may lack WGS84.
                    conn.executemany("INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)", _SRS_ROWS)
                    for stmt in schema(self):
                        conn.execute(stmt)
                    for table, kind, description, srs in _CONTENTS:
                        conn.execute(
                            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id)"
                            " VALUES (?, ?, ?, ?, ?)",
                            (table, kind, table, description, srs),
                        )
                    conn.execute(
                        "INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', 'GEOMETRY', ?, 0, 0)", (ITEMS, SRID)
                    )
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()
