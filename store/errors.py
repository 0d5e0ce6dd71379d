"""What can go wrong with the store, as narrow exception types with Chinese messages."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from store.model import StoredItem


class StoreError(RuntimeError):
    """The store cannot be opened, read or written (the message says why, in Chinese)."""


class VersionConflict(StoreError):
    """The item changed since the version an edit was based on: the edit is refused, nothing is written.

    ``current`` is the item as it is now (None if it does not exist).
    """

    def __init__(self, message: str, current: StoredItem | None = None) -> None:
        super().__init__(message)
        self.current = current


class AlreadyImported(StoreError):
    """An import that is recorded as done (e.g. the one-time migration of overrides.csv)."""
