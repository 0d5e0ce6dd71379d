"""``data/overrides.csv`` into the store: once as a migration, and whenever a GIS team hands over such a file.

Each valid row becomes a new version of its item (an entity id, or a place: ``place:<county>:<name>``), with the
file and row in its history.  The migration is recorded in the store, so it runs once per store however many app
processes start; the file itself is never written again (saving goes to the store).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

import config
from geo.overrides import OverrideRow, is_entity_id, load_overrides
from geo.usergeo import place_item_id
from store.db import Store, open_store, sha256_of
from store.errors import AlreadyImported, StoreError
from store.model import NewGeometry, StoredItem

MIGRATION = "migration:overrides.csv"
MIGRATION_USER = "迁移（data/overrides.csv）"


def override_geometry(row: OverrideRow, *, source_file: str) -> NewGeometry:
    """One overrides row as a geometry to import (exact: a user-supplied coordinate)."""
    item_id = row.place if is_entity_id(row.place) else place_item_id(row.county, row.place)
    return NewGeometry(
        item_id=item_id,
        county=row.county,
        geometry=row.geometry,
        precision="exact",
        note=row.note,
        source_file=source_file,
        source_row=row.line,
    )


def migrate_overrides(
    store: Store, *, path: Path | None = None, boundaries: gpd.GeoDataFrame | None = None
) -> tuple[int, list[str]]:
    """Import the overrides file into ``store`` unless that was done before.

    Returns
    -------
    tuple
        ``(rows imported, problems)``: 0 when the migration was already recorded; one Chinese message per bad
        row (bad rows are left out; they stay in the file).
    """
    path = path or config.OVERRIDES_PATH
    if store.imported(MIGRATION):
        return 0, []
    rows, problems = load_overrides(path, boundaries)
    data = path.read_bytes() if path.exists() else b""
    new = [override_geometry(r, source_file=path.name) for r in rows]
    try:
        store.import_items(new, who=MIGRATION_USER, record=(MIGRATION, sha256_of(data)))
    except AlreadyImported:  # another process migrated in the meantime
        return 0, []
    return len(new), problems


def import_overrides_file(
    store: Store, path: Path, *, who: str, boundaries: gpd.GeoDataFrame | None = None
) -> list[StoredItem]:
    """Import an overrides-format file (``county,place,lon,lat,crs,note``) handed over by a GIS team.

    All or nothing: a file with any bad row imports nothing.

    Raises
    ------
    StoreError
        The file has bad rows (listed), or none at all.
    """
    rows, problems = load_overrides(path, boundaries)
    if problems:
        raise StoreError("坐标文件有误，未导入任何坐标：" + "；".join(problems[:10]))
    if not rows:
        raise StoreError(f"{path.name} 中没有坐标行，未导入")
    return store.import_items([override_geometry(r, source_file=path.name) for r in rows], who=who)


def open_migrated(url: str | None = None, *, boundaries: gpd.GeoDataFrame | None = None) -> tuple[Store, list[str]]:
    """Open the store (``config.DB`` by default) and migrate ``data/overrides.csv`` into it if not done yet.

    Returns
    -------
    tuple
        ``(store, problems)``: problems of bad overrides rows met by the migration (left out), in Chinese.

    Raises
    ------
    StoreError
        The store cannot be opened or written.
    """
    store = open_store(url)
    _count, problems = migrate_overrides(store, boundaries=boundaries)
    return store, problems
