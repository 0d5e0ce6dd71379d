"""What differs between the backends, and the schema both share.

Every statement of :mod:`store.db` is written once, with ``:name`` parameters; a :class:`Dialect` supplies the
column types of the DDL, the parameter style, how a geometry goes in and comes out, how a transaction starts,
and what a unique-key clash looks like.
"""

from __future__ import annotations

import datetime as dt
from contextlib import AbstractContextManager
from typing import Any, Protocol

from shapely.geometry.base import BaseGeometry

from store.model import HOWS

SRID = 4326
ITEMS = "user_geometry"
HISTORY = "user_geometry_history"
IMPORTS = "user_geometry_imports"


class Cursor(Protocol):
    """The part of a DB-API cursor the store uses."""

    @property
    def rowcount(self) -> int: ...

    def execute(self, statement: str, params: Any = ...) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class Dialect(Protocol):
    """One backend: DDL types, parameter style, geometry in/out, transactions."""

    name: str
    id_type: str  # an auto-increment primary key column
    ts_type: str  # a timestamp column
    geom_type: str  # the current geometry (a features layer)
    history_geom_type: str  # geometries in the history table

    def write(self) -> AbstractContextManager[Cursor]:
        """A write transaction that holds the write lock from its start (commits, or rolls back on error)."""
        ...

    def read(self) -> AbstractContextManager[Cursor]:
        """A read-only transaction."""
        ...

    def sql(self, statement: str) -> str:
        """``statement`` in the driver's parameter style."""
        ...

    def geom_in(self, param: str) -> str:
        """SQL for a geometry bound as ``:param`` (the value from :meth:`encode`)."""
        ...

    def geom_out(self, column: str) -> str:
        """SQL selecting ``column`` so that :meth:`decode` reads it."""
        ...

    def encode(self, geom: BaseGeometry | None) -> Any: ...
    def decode(self, value: Any) -> BaseGeometry | None: ...
    def ts_in(self, when: dt.datetime) -> Any: ...
    def ts_out(self, value: Any) -> str: ...
    def is_unique_violation(self, exc: BaseException) -> bool: ...
    def is_operational(self, exc: BaseException) -> bool:
        """Errors of the database itself (locked, disk full, connection lost), not of our SQL."""
        ...

    def touch(self, cur: Cursor, when: dt.datetime) -> None:
        """Record that the items changed (GeoPackage: ``gpkg_contents.last_change``)."""
        ...

    def close(self) -> None: ...


def iso_utc(when: dt.datetime) -> str:
    """``2026-12-03T10:00:00.123Z`` (GeoPackage DATETIME form)."""
    return when.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def schema(d: Dialect) -> list[str]:
    """CREATE statements of the store's tables, in the dialect's column types."""
    hows = ", ".join(f"'{h}'" for h in HOWS)
    return [
        f"""CREATE TABLE {ITEMS} (
              fid {d.id_type},
              item_id TEXT NOT NULL UNIQUE,
              county TEXT NOT NULL,
              precision TEXT NOT NULL CHECK (precision IN ('exact', 'drawn')),
              version INTEGER NOT NULL CHECK (version >= 1),
              deleted INTEGER NOT NULL DEFAULT 0,
              updated_at {d.ts_type} NOT NULL,
              updated_by TEXT NOT NULL,
              how TEXT NOT NULL CHECK (how IN ({hows})),
              note TEXT NOT NULL DEFAULT '',
              source_file TEXT,
              source_row INTEGER,
              geom {d.geom_type})""",
        f"CREATE INDEX {ITEMS}_county ON {ITEMS} (county)",
        f"""CREATE TABLE {HISTORY} (
              id {d.id_type},
              item_id TEXT NOT NULL REFERENCES {ITEMS} (item_id),
              version INTEGER NOT NULL,
              county TEXT NOT NULL,
              precision TEXT NOT NULL,
              geom_before {d.history_geom_type},
              geom_after {d.history_geom_type},
              who TEXT NOT NULL,
              changed_at {d.ts_type} NOT NULL,
              how TEXT NOT NULL CHECK (how IN ({hows})),
              note TEXT NOT NULL DEFAULT '',
              source_file TEXT,
              source_row INTEGER,
              UNIQUE (item_id, version))""",
        f"""CREATE TABLE {IMPORTS} (
              name TEXT NOT NULL PRIMARY KEY,
              sha256 TEXT NOT NULL,
              imported_at {d.ts_type} NOT NULL,
              who TEXT NOT NULL,
              items INTEGER NOT NULL)""",
    ]
