"""Team mode: PostgreSQL + PostGIS through psycopg 3, with the same statements as the GeoPackage.

``RRMAP_DB=postgresql://user@host/db`` selects it.  The tables are created on first use (serialised by an advisory
lock, so several app processes can start at once); the PostGIS extension must exist or be creatable by the user.
Writes run in READ COMMITTED transactions: ``UPDATE … WHERE version = :v`` waits for a concurrent writer's row lock
and then finds the row changed, which is how the optimistic check refuses the second save.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from store.dialect import ITEMS, SRID, Cursor, iso_utc, schema
from store.errors import StoreError

SCHEMA_LOCK = 0x72726D6170  # pg_advisory_xact_lock key of the schema creation ('rrmap')
POOL_SIZE = 4


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


class PostgisDialect:
    """A PostGIS database; a few idle connections are kept for reuse (each operation borrows one)."""

    name = "postgis"
    id_type = "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
    ts_type = "TIMESTAMPTZ"
    geom_type = f"geometry(Geometry, {SRID})"
    history_geom_type = geom_type

    _PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")

    def __init__(self, url: str) -> None:
        try:
            import psycopg
        except ImportError as exc:  # requirements.txt pins it; a trimmed install may lack it
            raise StoreError("团队模式需要 psycopg（pip install -r requirements.txt）") from exc
        self.psycopg = psycopg
        self.url = url
        self._idle: list[Any] = []
        self._lock = threading.Lock()
        try:
            self._ensure_schema()
        except psycopg.Error as exc:
            raise StoreError(f"无法打开团队编辑库 {redact(url)}：{_first_line(exc)}") from exc

    def _ensure_schema(self) -> None:
        with self.write() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            cur.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")
            if cur.fetchone() is None:
                try:
                    cur.execute("CREATE EXTENSION postgis")
                except self.psycopg.errors.InsufficientPrivilege as exc:
                    raise StoreError(
                        f"数据库 {redact(self.url)} 未启用 PostGIS，且当前用户无权启用：请数据库管理员执行 "
                        "CREATE EXTENSION postgis"
                    ) from exc
            cur.execute("SELECT to_regclass(%s)", (ITEMS,))
            if cur.fetchone()[0] is None:
                for stmt in schema(self):
                    cur.execute(stmt)

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None or conn.closed:
            # autocommit: a transaction exists only inside conn.transaction().
            conn = self.psycopg.connect(self.url, autocommit=True, connect_timeout=10)
        try:
            yield conn
        finally:
            # A refused or failed transaction was rolled back: the connection is idle again and can be reused.
            idle = self.psycopg.pq.TransactionStatus.IDLE
            if not conn.closed and conn.info.transaction_status == idle:
                with self._lock:
                    if len(self._idle) < POOL_SIZE:
                        self._idle.append(conn)
                        conn = None
            if conn is not None:
                conn.close()

    @contextmanager
    def write(self) -> Iterator[Cursor]:
        with self._connection() as conn, conn.transaction(), conn.cursor() as cur:
            yield cur

    read = write

    def sql(self, statement: str) -> str:
        return self._PARAM.sub(r"%(\1)s", statement)

    def geom_in(self, param: str) -> str:
        return f"ST_GeomFromWKB(:{param}, {SRID})"

    def geom_out(self, column: str) -> str:
        return f"ST_AsBinary({column})"

    def encode(self, geom: BaseGeometry | None) -> bytes | None:
        return None if geom is None else shapely.to_wkb(geom, byte_order=1, flavor="iso")

    def decode(self, value: Any) -> BaseGeometry | None:
        return None if value is None else shapely.from_wkb(bytes(value))

    def ts_in(self, when: dt.datetime) -> dt.datetime:
        return when

    def ts_out(self, value: Any) -> str:
        return iso_utc(value) if isinstance(value, dt.datetime) else str(value)

    def is_unique_violation(self, exc: BaseException) -> bool:
        return isinstance(exc, self.psycopg.errors.UniqueViolation)

    def is_operational(self, exc: BaseException) -> bool:
        return isinstance(exc, self.psycopg.OperationalError)

    def touch(self, cur: Cursor, when: dt.datetime) -> None:
        """PostGIS keeps no layer metadata to update."""

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
