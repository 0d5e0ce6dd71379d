"""GeoPackage tables GDAL's writer does not fill: field aliases, default styles and metadata (sqlite3 only).

* ``gpkg_data_columns`` (the GeoPackage *schema* extension): a Chinese name, title and description per field —
  what GDAL ≥ 3.7 and ArcGIS read as aliases and comments;
* ``layer_styles``: QGIS's own table of default styles (QML and SLD), created exactly as QGIS 3.22 creates it,
  so the layers open styled;
* ``gpkg_metadata`` / ``gpkg_metadata_reference`` (the *metadata* extension): ISO 19139 XML and the plain-text
  数据说明 of the whole GeoPackage.

The DDL is that of the GeoPackage 1.2 specification; GDAL's validator (``validate_gpkg --extra``) passes on the
result (tests/test_interop_gdal.py).  Everything runs in one transaction on a file that is not yet visible (the
export writes a temporary file and moves it into place).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

_DDL_DATA_COLUMNS = """
CREATE TABLE IF NOT EXISTS gpkg_data_columns (
  table_name TEXT NOT NULL,
  column_name TEXT NOT NULL,
  name TEXT,
  title TEXT,
  description TEXT,
  mime_type TEXT,
  constraint_name TEXT,
  CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name),
  CONSTRAINT gdc_tn UNIQUE (table_name, name)
);
CREATE TABLE IF NOT EXISTS gpkg_data_column_constraints (
  constraint_name TEXT NOT NULL,
  constraint_type TEXT NOT NULL,
  value TEXT,
  min NUMERIC,
  min_is_inclusive BOOLEAN,
  max NUMERIC,
  max_is_inclusive BOOLEAN,
  description TEXT,
  CONSTRAINT gdcc_ntv UNIQUE (constraint_name, constraint_type, value)
);
"""
SCHEMA_EXTENSION = "http://www.geopackage.org/spec121/#extension_schema"

_DDL_METADATA = """
CREATE TABLE IF NOT EXISTS gpkg_metadata (
  id INTEGER CONSTRAINT m_pk PRIMARY KEY ASC NOT NULL,
  md_scope TEXT NOT NULL DEFAULT 'dataset',
  md_standard_uri TEXT NOT NULL,
  mime_type TEXT NOT NULL DEFAULT 'text/xml',
  metadata TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS gpkg_metadata_reference (
  reference_scope TEXT NOT NULL,
  table_name TEXT,
  column_name TEXT,
  row_id_value INTEGER,
  timestamp DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  md_file_id INTEGER NOT NULL,
  md_parent_id INTEGER,
  CONSTRAINT crmr_mfi_fk FOREIGN KEY (md_file_id) REFERENCES gpkg_metadata(id),
  CONSTRAINT crmr_mpi_fk FOREIGN KEY (md_parent_id) REFERENCES gpkg_metadata(id)
);
"""
METADATA_EXTENSION = "http://www.geopackage.org/spec120/#extension_metadata"
ISO_19139 = "http://www.isotc211.org/2005/gmd"

# Exactly the table QGIS 3.22 creates for saveStyleToDatabase on a GeoPackage (an 'attributes' table).
_DDL_LAYER_STYLES = """
CREATE TABLE IF NOT EXISTS "layer_styles" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  "f_table_catalog" TEXT(256),
  "f_table_schema" TEXT(256),
  "f_table_name" TEXT(256),
  "f_geometry_column" TEXT(256),
  "styleName" TEXT(30),
  "styleQML" TEXT,
  "styleSLD" TEXT,
  "useAsDefault" BOOLEAN,
  "description" TEXT,
  "owner" TEXT(30),
  "ui" TEXT(30),
  "update_time" DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
"""


@dataclass(frozen=True)
class FieldDoc:
    """Alias (Chinese name) and description of one field of one table."""

    table: str
    column: str
    alias: str
    description: str


@dataclass(frozen=True)
class StyleRow:
    """A default style for one table (``geometry_column`` empty for a table without geometry)."""

    table: str
    geometry_column: str
    name: str
    qml: str
    sld: str
    description: str


@dataclass(frozen=True)
class MetadataRow:
    """One ``gpkg_metadata`` entry, referenced to the whole GeoPackage or to one table."""

    metadata: str
    mime_type: str = "text/xml"
    standard_uri: str = ISO_19139
    scope: str = "dataset"
    table: str | None = None


def _register_extension(cur: sqlite3.Cursor, table: str, name: str, definition: str) -> None:
    cur.execute(
        "SELECT 1 FROM gpkg_extensions WHERE table_name = ? AND column_name IS NULL AND extension_name = ?",
        (table, name),
    )
    if cur.fetchone() is None:
        cur.execute(
            "INSERT INTO gpkg_extensions (table_name, column_name, extension_name, definition, scope) "
            "VALUES (?, NULL, ?, ?, 'read-write')",
            (table, name, definition),
        )


def _ensure_extensions_table(cur: sqlite3.Cursor) -> None:
    cur.execute(
        "CREATE TABLE IF NOT EXISTS gpkg_extensions (table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL,"
        " definition TEXT NOT NULL, scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name,"
        " extension_name))"
    )


def add_data_columns(cur: sqlite3.Cursor, fields: Iterable[FieldDoc]) -> None:
    """Fill ``gpkg_data_columns`` (name and title: the Chinese name; description)."""
    cur.executescript(_DDL_DATA_COLUMNS)
    for table in ("gpkg_data_columns", "gpkg_data_column_constraints"):
        _register_extension(cur, table, "gpkg_schema", SCHEMA_EXTENSION)
    cur.executemany(
        "INSERT OR REPLACE INTO gpkg_data_columns (table_name, column_name, name, title, description) "
        "VALUES (?, ?, ?, ?, ?)",
        [(f.table, f.column, f.alias, f.alias, f.description or None) for f in fields],
    )


def add_layer_styles(cur: sqlite3.Cursor, styles: Iterable[StyleRow]) -> None:
    """Create QGIS's ``layer_styles`` table and add one default style per table."""
    cur.executescript(_DDL_LAYER_STYLES)
    cur.execute("SELECT 1 FROM gpkg_contents WHERE table_name = 'layer_styles'")
    if cur.fetchone() is None:
        cur.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change, srs_id) "
            "VALUES ('layer_styles', 'attributes', 'layer_styles', 'QGIS 默认样式（QML 与 SLD）', "
            "strftime('%Y-%m-%dT%H:%M:%fZ','now'), 0)"
        )
    rows = [(s.table, s.geometry_column, s.name, s.qml, s.sld, s.description) for s in styles]
    cur.executemany(
        "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName, "
        "styleQML, styleSLD, useAsDefault, description, owner, ui) VALUES ('', '', ?, ?, ?, ?, ?, 1, ?, '', NULL)",
        rows,
    )
    cur.execute("SELECT 1 FROM sqlite_master WHERE name = 'gpkg_ogr_contents'")
    if cur.fetchone() is not None:  # GDAL's cached feature counts must include the table we added by hand
        cur.execute("DELETE FROM gpkg_ogr_contents WHERE table_name = 'layer_styles'")
        cur.execute(
            "INSERT INTO gpkg_ogr_contents (table_name, feature_count) SELECT 'layer_styles', COUNT(*) FROM layer_styles"
        )


def add_metadata(cur: sqlite3.Cursor, rows: Iterable[MetadataRow]) -> None:
    """Add ``gpkg_metadata`` entries, each referenced to the GeoPackage or to its table."""
    cur.executescript(_DDL_METADATA)
    for table in ("gpkg_metadata", "gpkg_metadata_reference"):
        _register_extension(cur, table, "gpkg_metadata", METADATA_EXTENSION)
    for row in rows:
        cur.execute(
            "INSERT INTO gpkg_metadata (md_scope, md_standard_uri, mime_type, metadata) VALUES (?, ?, ?, ?)",
            (row.scope, row.standard_uri, row.mime_type, row.metadata),
        )
        scope = "geopackage" if row.table is None else "table"
        cur.execute(
            "INSERT INTO gpkg_metadata_reference (reference_scope, table_name, md_file_id) VALUES (?, ?, ?)",
            (scope, row.table, cur.lastrowid),
        )


def geometry_columns(path: Path) -> dict[str, str]:
    """``{table: geometry column}`` of a GeoPackage's feature tables."""
    with sqlite3.connect(path) as conn:
        return dict(conn.execute("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchall())


def finish_gpkg(
    path: Path,
    *,
    fields: Iterable[FieldDoc],
    styles: Iterable[StyleRow],
    metadata: Iterable[MetadataRow],
    identifiers: Mapping[str, tuple[str, str]] | None = None,
) -> None:
    """Add aliases, styles and metadata to the GeoPackage at ``path`` in one transaction.

    ``identifiers`` maps a table to its ``gpkg_contents`` identifier (Chinese title) and description.
    """
    conn = sqlite3.connect(path)
    try:
        with conn:  # one transaction: all or nothing
            cur = conn.cursor()
            _ensure_extensions_table(cur)
            for table, (identifier, description) in (identifiers or {}).items():
                cur.execute(
                    "UPDATE gpkg_contents SET identifier = ?, description = ? WHERE table_name = ?",
                    (identifier, description, table),
                )
            add_data_columns(cur, fields)
            add_layer_styles(cur, styles)
            add_metadata(cur, metadata)
    finally:
        conn.close()
