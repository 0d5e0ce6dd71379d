"""The store's API: the current geometry of each item, every change as a row of history, optimistic versioning.

    store = open_store()                                   # config.DB: a .gpkg path or a postgresql:// URL
    item = store.save("yy-ib-002", line, county="500235", precision="drawn", expected_version=0, who="李工",
                      how="drawn", note="沿澎溪河")            # 0: the item has no geometry yet
    item = store.save("yy-ib-002", moved, …, expected_version=item.version, how="edited")   # VersionConflict if stale
    store.revert("yy-ib-002", to_version=1, expected_version=item.version, who="王工")
    store.history("yy-ib-002")

Every write is one transaction: it either changes the item and adds its history row, or changes nothing.  A
save based on a version that is no longer the current one is refused (:class:`store.errors.VersionConflict`),
never silently applied.  Deleting keeps the row (``deleted``) and its history; reverting writes a new version.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import config
from geo.errors import GeoDataError
from geo.usergeo import USER_PRECISIONS, UserGeometry, beijing_time, shape_problem
from store.dialect import HISTORY, IMPORTS, ITEMS, Cursor, Dialect
from store.errors import AlreadyImported, StoreError, VersionConflict
from store.model import HOWS, Change, NewGeometry, StoredItem

T = TypeVar("T")

_ITEM_COLUMNS = (
    "item_id, county, precision, {geom}, version, deleted, updated_by, updated_at, how, note, source_file, source_row"
)
_HISTORY_COLUMNS = (
    "item_id, version, county, precision, {before}, {after}, who, changed_at, how, note, source_file, source_row"
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def is_postgres_url(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


class Store:
    """User geometry and its history on one backend (see :func:`open_store`)."""

    def __init__(self, dialect: Dialect, location: str) -> None:
        self.d = dialect
        self.location = location  # a path or a URL without password, for messages

    @property
    def backend(self) -> str:
        """``gpkg`` or ``postgis``."""
        return self.d.name

    def close(self) -> None:
        self.d.close()

    # -- plumbing ---------------------------------------------------------------------------------------------

    def _x(self, cur: Cursor, statement: str, params: dict[str, Any] | None = None) -> Cursor:
        cur.execute(self.d.sql(statement), params or {})
        return cur

    def _guard(self, work: Callable[[], T]) -> T:
        """Run ``work``; database failures (locked, disk full, connection lost) become a Chinese StoreError."""
        try:
            return work()
        except (StoreError, GeoDataError):
            raise
        except Exception as exc:
            if self.d.is_operational(exc):
                raise StoreError(f"编辑库暂时无法读写（{self.location}）：{exc}；未保存任何修改") from exc
            raise

    def _item(self, row: Sequence[Any]) -> StoredItem:
        return StoredItem(
            item_id=row[0],
            county=row[1],
            precision=row[2],
            geometry=self.d.decode(row[3]),
            version=int(row[4]),
            deleted=bool(row[5]),
            updated_by=row[6],
            updated_at=self.d.ts_out(row[7]),
            how=row[8],
            note=row[9] or "",
            source_file=row[10],
            source_row=row[11],
        )

    def _select_item(self, cur: Cursor, item_id: str) -> StoredItem | None:
        columns = _ITEM_COLUMNS.format(geom=self.d.geom_out("geom"))
        row = self._x(cur, f"SELECT {columns} FROM {ITEMS} WHERE item_id = :item_id", {"item_id": item_id}).fetchone()
        return None if row is None else self._item(row)

    def _log(
        self,
        cur: Cursor,
        item: StoredItem,
        *,
        before: Any,
        after: Any,
        when: dt.datetime,
    ) -> None:
        self._x(
            cur,
            f"""INSERT INTO {HISTORY} (item_id, version, county, precision, geom_before, geom_after, who, changed_at,
                                        how, note, source_file, source_row)
                VALUES (:item_id, :version, :county, :precision, {self.d.geom_in("before")}, {self.d.geom_in("after")},
                        :who, :when, :how, :note, :source_file, :source_row)""",
            {
                "item_id": item.item_id,
                "version": item.version,
                "county": item.county,
                "precision": item.precision,
                "before": before,
                "after": after,
                "who": item.updated_by,
                "when": self.d.ts_in(when),
                "how": item.how,
                "note": item.note,
                "source_file": item.source_file,
                "source_row": item.source_row,
            },
        )
        self.d.touch(cur, when)

    def _write(self, cur: Cursor, new: StoredItem, expected_version: int, when: dt.datetime) -> StoredItem:
        """Insert (``expected_version`` 0) or update the item and log the change, inside the caller's transaction.

        Raises VersionConflict when the item is not at ``expected_version``.
        """
        encoded = self.d.encode(new.geometry)
        params = {
            "item_id": new.item_id,
            "county": new.county,
            "precision": new.precision,
            "g": encoded,
            "deleted": int(new.deleted),
            "who": new.updated_by,
            "when": self.d.ts_in(when),
            "how": new.how,
            "note": new.note,
            "source_file": new.source_file,
            "source_row": new.source_row,
            "v": expected_version,
        }
        before: Any = None
        if expected_version == 0:
            if self._select_item(cur, new.item_id) is not None:
                raise VersionConflict(f"{new.item_id} 已有几何", None)
            self._x(
                cur,
                f"""INSERT INTO {ITEMS} (item_id, county, precision, version, deleted, updated_by, updated_at, how,
                                         note, source_file, source_row, geom)
                    VALUES (:item_id, :county, :precision, 1, :deleted, :who, :when, :how, :note, :source_file,
                            :source_row, {self.d.geom_in("g")})""",
                params,
            )
        else:
            row = self._x(
                cur,
                f"SELECT {self.d.geom_out('geom')} FROM {ITEMS} WHERE item_id = :item_id AND version = :v",
                params,
            ).fetchone()
            if row is None:
                raise VersionConflict(f"{new.item_id} 已不是第 {expected_version} 版", None)
            before = self.d.encode(self.d.decode(row[0]))
            # The optimistic check: 0 rows when another save came first (PostgreSQL re-checks the WHERE after
            # waiting for that writer's row lock; SQLite writers are serialised by BEGIN IMMEDIATE).
            updated = self._x(
                cur,
                f"""UPDATE {ITEMS} SET geom = {self.d.geom_in("g")}, version = version + 1, county = :county,
                           precision = :precision, deleted = :deleted, updated_by = :who, updated_at = :when,
                           how = :how, note = :note, source_file = :source_file, source_row = :source_row
                    WHERE item_id = :item_id AND version = :v""",
                params,
            )
            if updated.rowcount != 1:
                raise VersionConflict(f"{new.item_id} 已被他人修改", None)
        saved = StoredItem(
            item_id=new.item_id,
            county=new.county,
            precision=new.precision,
            geometry=new.geometry,
            version=expected_version + 1,
            deleted=new.deleted,
            updated_by=new.updated_by,
            updated_at=self.d.ts_out(self.d.ts_in(when)),
            how=new.how,
            note=new.note,
            source_file=new.source_file,
            source_row=new.source_row,
        )
        self._log(cur, saved, before=before, after=encoded, when=when)
        return saved

    def _change(self, new: StoredItem, expected_version: int) -> StoredItem:
        """One write transaction around :meth:`_write`; a refused save says who changed the item and when."""

        def work() -> StoredItem:
            with self.d.write() as cur:
                return self._write(cur, new, expected_version, _now())

        try:
            return self._guard(work)
        except VersionConflict as exc:
            raise self._conflict(new.item_id, expected_version) from exc
        except Exception as exc:
            if self.d.is_unique_violation(exc):  # a concurrent save of the same version: a lost race, no lost row
                raise self._conflict(new.item_id, expected_version) from exc
            raise

    def _conflict(self, item_id: str, expected_version: int) -> VersionConflict:
        current = self.get(item_id)
        if current is None:
            return VersionConflict(f"该条目的几何已不存在（你载入的是第 {expected_version} 版），未保存", None)
        if expected_version == 0:
            what = f"在你开始标绘后，{current.updated_by} 已于 {beijing_time(current.updated_at)} 为该条目保存了几何"
        else:
            what = (
                f"该条目在你载入（第 {expected_version} 版）之后已被 {current.updated_by} 于 "
                f"{beijing_time(current.updated_at)} 修改（现为第 {current.version} 版）"
            )
        return VersionConflict(what + "。你的修改未保存：请载入最新版本后再修改。", current)

    @staticmethod
    def _check(item_id: str, precision: str, geometry: Any, who: str, how: str) -> None:
        if not item_id:
            raise StoreError("条目编号为空，未保存")
        if precision not in USER_PRECISIONS:
            raise StoreError(f"精度“{precision}”不是用户几何的精度（{'、'.join(USER_PRECISIONS)}），未保存")
        if how not in HOWS:
            raise StoreError(f"修改方式“{how}”无效，未保存")
        if not who.strip():
            raise StoreError("请先填写修改人姓名，未保存")
        if geometry is not None:
            problem = shape_problem(geometry)
            if problem:
                raise GeoDataError(f"{problem}，未保存")

    # -- writing ----------------------------------------------------------------------------------------------

    def save(
        self,
        item_id: str,
        geometry: Any,
        *,
        county: str,
        precision: str,
        expected_version: int,
        who: str,
        how: str,
        note: str = "",
        source: tuple[str, int | None] | None = None,
    ) -> StoredItem:
        """Give ``item_id`` a new geometry (WGS84), based on ``expected_version`` (0: it has none yet).

        Raises
        ------
        VersionConflict
            The item is not at ``expected_version`` any more: nothing is written.
        geo.errors.GeoDataError
            The geometry is not a valid point, line or area.
        StoreError
            Bad arguments, or the database cannot be written.
        """
        self._check(item_id, precision, geometry, who, how)
        new = StoredItem(
            item_id=item_id,
            county=county,
            precision=precision,
            geometry=geometry,
            version=0,
            deleted=False,
            updated_by=who.strip(),
            updated_at="",
            how=how,
            note=note.strip(),
            source_file=source[0] if source else None,
            source_row=source[1] if source else None,
        )
        return self._change(new, expected_version)

    def delete(self, item_id: str, *, expected_version: int, who: str, note: str = "") -> StoredItem:
        """Remove the item's geometry (a new version with none; history keeps every earlier one)."""
        current = self.get(item_id)
        if current is None:
            raise VersionConflict("该条目没有可删除的几何", None)
        self._check(item_id, current.precision, None, who, "deleted")
        new = StoredItem(
            item_id=item_id,
            county=current.county,
            precision=current.precision,
            geometry=None,
            version=0,
            deleted=True,
            updated_by=who.strip(),
            updated_at="",
            how="deleted",
            note=note.strip(),
        )
        return self._change(new, expected_version)

    def revert(self, item_id: str, *, to_version: int, expected_version: int, who: str, note: str = "") -> StoredItem:
        """A new version with the geometry of ``to_version`` (deleted again if it had none)."""
        target = next((c for c in self.history(item_id) if c.version == to_version), None)
        if target is None:
            raise StoreError(f"{item_id} 没有第 {to_version} 版")
        self._check(item_id, target.precision, None, who, "reverted")
        new = StoredItem(
            item_id=item_id,
            county=target.county,
            precision=target.precision,
            geometry=target.geom_after,
            version=0,
            deleted=target.geom_after is None,
            updated_by=who.strip(),
            updated_at="",
            how="reverted",
            note=(note.strip() or f"恢复为第 {to_version} 版"),
            source_file=target.source_file,
            source_row=target.source_row,
        )
        return self._change(new, expected_version)

    def import_items(
        self,
        rows: Iterable[NewGeometry],
        *,
        who: str,
        record: tuple[str, str] | None = None,
    ) -> list[StoredItem]:
        """Save every row in ONE transaction (all or nothing), each as a new version of its item.

        An import deliberately replaces what is there, so each row is based on the item's current version, read
        inside the transaction.  ``record``: ``(name, sha256)`` of the import, noted in the imports table; an
        import already noted raises :class:`AlreadyImported` and writes nothing (the one-time migration).
        """
        items = list(rows)
        for row in items:
            self._check(row.item_id, row.precision, row.geometry, who, "imported")

        def work() -> list[StoredItem]:
            when = _now()
            out: list[StoredItem] = []
            with self.d.write() as cur:
                if record is not None:
                    name, digest = record
                    if self._x(cur, f"SELECT 1 FROM {IMPORTS} WHERE name = :n", {"n": name}).fetchone():
                        raise AlreadyImported(f"{name} 已导入过")
                    self._x(
                        cur,
                        f"INSERT INTO {IMPORTS} (name, sha256, imported_at, who, items) VALUES (:n, :s, :t, :w, :i)",
                        {"n": name, "s": digest, "t": self.d.ts_in(when), "w": who.strip(), "i": len(items)},
                    )
                for row in items:
                    current = self._select_item(cur, row.item_id)
                    new = StoredItem(
                        item_id=row.item_id,
                        county=row.county,
                        precision=row.precision,
                        geometry=row.geometry,
                        version=0,
                        deleted=False,
                        updated_by=who.strip(),
                        updated_at="",
                        how="imported",
                        note=row.note,
                        source_file=row.source_file,
                        source_row=row.source_row,
                    )
                    out.append(self._write(cur, new, current.version if current else 0, when))
            return out

        try:
            return self._guard(work)
        except Exception as exc:
            if self.d.is_unique_violation(exc):
                if record is not None and self.imported(record[0]):
                    raise AlreadyImported(f"{record[0]} 已导入过") from exc
                raise StoreError("导入时有人同时修改了相同的条目，未导入任何几何；请重试") from exc
            raise

    # -- reading ----------------------------------------------------------------------------------------------

    def get(self, item_id: str) -> StoredItem | None:
        """The item's current state (also when deleted), or None if it never had a user geometry."""

        def work() -> StoredItem | None:
            with self.d.read() as cur:
                return self._select_item(cur, item_id)

        return self._guard(work)

    def items(self, county: str | None = None, *, include_deleted: bool = False) -> list[StoredItem]:
        """Every item (of ``county`` if given), by id."""
        where = []
        if county is not None:
            where.append("county = :county")
        if not include_deleted:
            where.append("deleted = 0")
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        columns = _ITEM_COLUMNS.format(geom=self.d.geom_out("geom"))

        def work() -> list[StoredItem]:
            with self.d.read() as cur:
                found = self._x(
                    cur, f"SELECT {columns} FROM {ITEMS} {clause} ORDER BY item_id", {"county": county}
                ).fetchall()
            return [self._item(r) for r in found]

        return self._guard(work)

    def user_geometries(self, county: str) -> dict[str, UserGeometry]:
        """item id -> :class:`geo.usergeo.UserGeometry` of the items of ``county`` that have a geometry."""
        out: dict[str, UserGeometry] = {}
        for item in self.items(county):
            user = item.user_geometry()
            if user is not None:
                out[item.item_id] = user
        return out

    def history(self, item_id: str) -> list[Change]:
        """Every change of the item, oldest first."""
        columns = _HISTORY_COLUMNS.format(before=self.d.geom_out("geom_before"), after=self.d.geom_out("geom_after"))

        def work() -> list[Change]:
            with self.d.read() as cur:
                found = self._x(
                    cur,
                    f"SELECT {columns} FROM {HISTORY} WHERE item_id = :item_id ORDER BY version",
                    {"item_id": item_id},
                ).fetchall()
            return [
                Change(
                    item_id=r[0],
                    version=int(r[1]),
                    county=r[2],
                    precision=r[3],
                    geom_before=self.d.decode(r[4]),
                    geom_after=self.d.decode(r[5]),
                    who=r[6],
                    changed_at=self.d.ts_out(r[7]),
                    how=r[8],
                    note=r[9] or "",
                    source_file=r[10],
                    source_row=r[11],
                )
                for r in found
            ]

        return self._guard(work)

    def revision(self) -> str:
        """A token that changes whenever anything is written (caches of views key on it).

        History rows are never removed, so their count and highest id change with every committed write (the id
        alone could commit out of order on PostgreSQL).
        """

        def work() -> str:
            with self.d.read() as cur:
                count, top = self._x(cur, f"SELECT COUNT(*), COALESCE(MAX(id), 0) FROM {HISTORY}").fetchone()
            return f"{count}.{top}"

        return self._guard(work)

    def imported(self, name: str) -> bool:
        """Whether an import named ``name`` is recorded."""

        def work() -> bool:
            with self.d.read() as cur:
                return self._x(cur, f"SELECT 1 FROM {IMPORTS} WHERE name = :n", {"n": name}).fetchone() is not None

        return self._guard(work)

    def count(self, table: str = "items") -> int:
        """Rows in ``items``, ``history`` or ``imports`` (tests and the CLI)."""
        name = {"items": ITEMS, "history": HISTORY, "imports": IMPORTS}[table]

        def work() -> int:
            with self.d.read() as cur:
                return int(self._x(cur, f"SELECT COUNT(*) FROM {name}").fetchone()[0])

        return self._guard(work)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def open_store(url: str | None = None) -> Store:
    """Open (creating on first use) the store ``url`` names: a GeoPackage path (``sqlite:///path`` also accepted)
    or a ``postgresql://`` URL.  Default: ``config.DB`` (``RRMAP_DB``).

    Raises
    ------
    StoreError
        The file or database cannot be opened or created (the message says which and why).
    """
    target = url or config.DB
    if is_postgres_url(target):
        from store.postgis import PostgisDialect, redact

        return Store(PostgisDialect(target), redact(target))
    from store.gpkg import GpkgDialect

    path = Path(target.removeprefix("sqlite:///").removeprefix("gpkg:///")).expanduser()
    return Store(GpkgDialect(path), str(path))
