"""The store's records: the current geometry of an item, one change of its history, a row to import."""

from __future__ import annotations

from dataclasses import dataclass

from shapely.geometry.base import BaseGeometry

from geo.usergeo import UserGeometry

# How a change came about (the history's ``how`` column; labels in geo.usergeo.HOW_LABELS).
HOWS: tuple[str, ...] = ("drawn", "moved", "edited", "imported", "reverted", "deleted")


@dataclass(frozen=True)
class StoredItem:
    """The current state of one item (``geometry`` is None once deleted); ``updated_at`` is ISO 8601 UTC."""

    item_id: str
    county: str
    precision: str
    geometry: BaseGeometry | None
    version: int
    deleted: bool
    updated_by: str
    updated_at: str
    how: str
    note: str = ""
    source_file: str | None = None
    source_row: int | None = None

    @property
    def source(self) -> str:
        """``file 第 n 行`` for an imported geometry, else empty."""
        if not self.source_file:
            return ""
        return f"{self.source_file} 第 {self.source_row} 行" if self.source_row else self.source_file

    def user_geometry(self) -> UserGeometry | None:
        """The item as :class:`geo.usergeo.UserGeometry` (None when deleted)."""
        if self.deleted or self.geometry is None:
            return None
        return UserGeometry(
            item_id=self.item_id,
            county=self.county,
            geometry=self.geometry,
            precision=self.precision,
            who=self.updated_by,
            when=self.updated_at,
            how=self.how,
            note=self.note,
            version=self.version,
            source=self.source,
        )


@dataclass(frozen=True)
class Change:
    """One row of an item's history: the geometry before and after version ``version``."""

    item_id: str
    version: int
    county: str
    precision: str
    geom_before: BaseGeometry | None
    geom_after: BaseGeometry | None
    who: str
    changed_at: str
    how: str
    note: str = ""
    source_file: str | None = None
    source_row: int | None = None


@dataclass(frozen=True)
class NewGeometry:
    """One geometry to import (``source_file``/``source_row``: where it came from)."""

    item_id: str
    county: str
    geometry: BaseGeometry
    precision: str = "exact"
    note: str = ""
    source_file: str | None = None
    source_row: int | None = None
