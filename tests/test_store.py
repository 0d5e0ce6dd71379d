"""The store of user geometry: the same tests on a GeoPackage file and on a real PostGIS started by the suite.

Test data is marked as such (ids ``test-…``, people ``测试…``) and lives in a temporary store of each test.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pyogrio
import pytest
import store_writers
from shapely.geometry import LineString, Point, Polygon

from geo.errors import GeoDataError
from store.db import Store, open_store
from store.errors import StoreError, VersionConflict
from store.migrate import MIGRATION, import_overrides_file, migrate_overrides
from store.model import NewGeometry

WRITERS = 10
LINE = LineString([(100.0, 20.0), (100.05, 20.02)])
MOVED = LineString([(100.0, 20.0), (100.06, 20.03)])
AREA = Polygon([(100.0, 20.0), (100.1, 20.0), (100.1, 20.1), (100.0, 20.1)])
BOWTIE = Polygon([(100.0, 20.0), (100.1, 20.1), (100.1, 20.0), (100.0, 20.1)])


@pytest.fixture()
def store(store_url: str) -> Store:
    opened = open_store(store_url)
    yield opened
    opened.close()


def save(store: Store, item: str, geom: object, version: int, **kw: object) -> object:
    args = {"county": "test", "precision": "drawn", "who": "测试甲", "how": "drawn", **kw}
    return store.save(item, geom, expected_version=version, **args)


def test_versions_history_delete_and_revert(store: Store) -> None:
    first = save(store, "test-belt", LINE, 0, note="沿河", source=("team.geojson", 7), how="imported")
    assert (first.version, first.deleted, first.updated_by) == (1, False, "测试甲")
    second = save(store, "test-belt", MOVED, 1, who="测试乙", how="edited", note="改走向")
    assert second.version == 2 and store.get("test-belt").geometry.equals(MOVED)
    deleted = store.delete("test-belt", expected_version=2, who="测试甲")
    assert deleted.version == 3 and store.get("test-belt").deleted and store.get("test-belt").geometry is None
    assert store.user_geometries("test") == {}  # a deleted item is not on the map
    reverted = store.revert("test-belt", to_version=1, expected_version=3, who="测试乙")
    item = store.get("test-belt")
    assert reverted.version == item.version == 4 and not item.deleted and item.geometry.equals(LINE)
    history = store.history("test-belt")
    assert [c.version for c in history] == [1, 2, 3, 4]
    assert [c.how for c in history] == ["imported", "edited", "deleted", "reverted"]
    assert [c.who for c in history] == ["测试甲", "测试乙", "测试甲", "测试乙"]
    assert (history[0].source_file, history[0].source_row, history[0].note) == ("team.geojson", 7, "沿河")
    assert history[0].geom_before is None and history[1].geom_before.equals(LINE)
    assert history[1].geom_after.equals(MOVED) and history[2].geom_after is None
    assert history[3].geom_before is None and history[3].geom_after.equals(LINE)
    assert history[3].note == "恢复为第 1 版"
    assert all(c.changed_at.endswith("Z") for c in history)
    user = store.user_geometries("test")["test-belt"]
    assert (user.version, user.precision, user.how, user.who) == (4, "drawn", "reverted", "测试乙")


def test_a_save_based_on_an_old_version_is_refused_and_says_who_changed_it(store: Store) -> None:
    save(store, "test-park", AREA, 0)
    save(store, "test-park", AREA.buffer(0.01), 1, who="测试乙")
    before = store.revision()
    with pytest.raises(VersionConflict) as err:
        save(store, "test-park", AREA.buffer(0.02), 1, who="测试丙")
    message = str(err.value)
    assert "测试乙" in message and "第 1 版" in message and "第 2 版" in message and "未保存" in message
    assert err.value.current is not None and err.value.current.version == 2
    with pytest.raises(VersionConflict, match="为该条目保存了几何"):
        save(store, "test-park", AREA, 0)  # "new drawing" while someone else already placed it
    assert store.revision() == before and store.get("test-park").version == 2


def test_bad_input_saves_nothing(store: Store) -> None:
    save(store, "test-a", LINE, 0)
    before = (store.revision(), store.count("items"), store.count("history"))
    with pytest.raises(GeoDataError, match="自相交"):
        save(store, "test-b", BOWTIE, 0)
    with pytest.raises(GeoDataError, match="两个不同的点"):
        save(store, "test-b", LineString([(100.0, 20.0), (100.0, 20.0)]), 0)
    with pytest.raises(StoreError, match="修改人"):
        save(store, "test-b", LINE, 0, who="  ")
    with pytest.raises(StoreError, match="精度"):
        save(store, "test-b", LINE, 0, precision="town")
    assert (store.revision(), store.count("items"), store.count("history")) == before


def test_a_failure_inside_the_transaction_leaves_the_store_as_it_was(store: Store, monkeypatch) -> None:
    save(store, "test-a", LINE, 0)
    before = (store.revision(), store.count("items"), store.count("history"), store.get("test-a").version)
    calls = {"n": 0}
    original = Store._log

    def failing_log(self: Store, *args: object, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] == 2:  # the second row of the import: the first is already written in this transaction
            raise RuntimeError("simulated failure")
        original(self, *args, **kwargs)

    monkeypatch.setattr(Store, "_log", failing_log)
    rows = [NewGeometry("test-a", "test", MOVED), NewGeometry("test-new", "test", AREA)]
    with pytest.raises(RuntimeError, match="simulated"):
        store.import_items(rows, who="测试导入")
    assert calls["n"] == 2
    assert (store.revision(), store.count("items"), store.count("history"), store.get("test-a").version) == before
    assert store.get("test-new") is None


def test_import_is_one_transaction_and_revision_moves(store: Store) -> None:
    before = store.revision()
    items = store.import_items(
        [NewGeometry("test-p", "test", Point(100.0, 20.0), source_file="pts.csv", source_row=2)], who="测试导入"
    )
    assert [i.version for i in items] == [1] and store.revision() != before
    again = store.import_items([NewGeometry("test-p", "test", Point(100.01, 20.0))], who="测试导入")
    assert again[0].version == 2 and store.history("test-p")[0].source_file == "pts.csv"


def test_migration_of_overrides_csv_runs_once(store: Store, tmp_path: Path) -> None:
    from geo.boundaries import load_boundaries
    from geo.gazetteer import load_gazetteer

    boundaries = load_boundaries("full")
    seat = next(s for s in load_gazetteer() if s.county == "500235")
    csv = tmp_path / "overrides.csv"
    csv.write_text(
        "county,place,lon,lat,crs,note\n"
        f"500235,yy-ib-002,{seat.lon},{seat.lat},wgs84,测试行\n"
        f"500235,{seat.name},{seat.lon + 0.001},{seat.lat},wgs84,\n"
        "500235,yy-ip-002,1,2,wgs84,坏行\n",
        encoding="utf-8",
    )
    count, problems = migrate_overrides(store, path=csv, boundaries=boundaries)
    assert count == 2 and len(problems) == 1 and "第 4 行" in problems[0]
    assert store.imported(MIGRATION)
    assert migrate_overrides(store, path=csv, boundaries=boundaries) == (0, [])  # once
    (change,) = store.history("yy-ib-002")
    assert (change.how, change.source_file, change.source_row, change.precision) == (
        "imported",
        "overrides.csv",
        2,
        "exact",
    )
    users = store.user_geometries("500235")
    assert set(users) == {"yy-ib-002", f"place:500235:{seat.name}"}
    assert users[f"place:500235:{seat.name}"].place == seat.name
    # the same format handed over by a GIS team later: all or nothing
    with pytest.raises(StoreError, match="未导入任何坐标"):
        import_overrides_file(store, csv, who="测试导入", boundaries=boundaries)
    assert store.get("yy-ib-002").version == 1


def test_gpkg_is_a_geopackage_gdal_reads(tmp_path: Path) -> None:
    path = tmp_path / "edits.gpkg"
    store = open_store(str(path))
    save(store, "test-pt", Point(100.0, 20.0), 0)
    save(store, "test-line", LINE, 0)
    save(store, "test-area", AREA, 0)
    save(store, "test-pt", Point(100.01, 20.0), 1, how="moved")
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 10300
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    layers = {name for name, _kind in pyogrio.list_layers(path)}
    assert {"user_geometry", "user_geometry_history", "user_geometry_imports"} <= layers
    frame = pyogrio.read_dataframe(path, layer="user_geometry")
    assert frame.crs.to_epsg() == 4326 and len(frame) == 3
    by_id = dict(zip(frame["item_id"], frame.geometry))
    assert by_id["test-pt"].equals(Point(100.01, 20.0)) and by_id["test-area"].equals(AREA)
    history = pyogrio.read_dataframe(path, layer="user_geometry_history", read_geometry=False)
    assert list(history["version"]) == [1, 1, 1, 2]


def test_postgis_keeps_real_geometry_columns(pg_url: str) -> None:
    import psycopg

    store = open_store(pg_url)
    save(store, "test-area", AREA, 0)
    with psycopg.connect(pg_url) as conn:
        kinds = dict(
            conn.execute("SELECT f_table_name, srid FROM geometry_columns WHERE f_geometry_column = 'geom'").fetchall()
        )
        area = conn.execute("SELECT ST_Area(geom) FROM user_geometry WHERE item_id = 'test-area'").fetchone()[0]
    assert kinds["user_geometry"] == 4326 and area == pytest.approx(AREA.area)
    store.close()


def test_opening_a_file_that_is_not_a_database_says_so(tmp_path: Path) -> None:
    bad = tmp_path / "edits.gpkg"
    bad.write_text("not a database", encoding="utf-8")
    with pytest.raises(StoreError, match="不是可写的 GeoPackage"):
        open_store(str(bad))


# --- concurrency: 10 parallel writers on each backend -------------------------------------------------------------


def test_ten_threads_saving_their_own_items_lose_nothing(store_url: str, store: Store) -> None:
    n_items, n_updates = 10, 4
    start = time.perf_counter()
    with ThreadPoolExecutor(WRITERS) as pool:
        saves = sum(pool.map(lambda w: store_writers.own_items(store_url, w, n_items, n_updates), range(WRITERS)))
    elapsed = time.perf_counter() - start
    print(f"\n{store.backend}: {WRITERS} threads, {saves} saves in {elapsed:.2f} s")
    assert saves == WRITERS * n_items * (1 + n_updates)
    assert store.count("items") == WRITERS * n_items
    assert store.count("history") == saves
    for w in range(WRITERS):
        item = store.get(f"test-w{w}-3")
        assert item.version == 1 + n_updates and item.geometry.equals(Point(100.0 + w / 100 + n_updates / 1000, 20.03))


def test_ten_processes_fighting_over_one_item_lose_no_save(store_url: str, store: Store) -> None:
    """Every save lands exactly once; refused (stale) saves are retried; versions have no gap."""
    save(store, "test-contended", AREA, 0, who="测试种子")
    n = 5
    start = time.perf_counter()
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(WRITERS, mp_context=spawn) as pool:
        results = list(
            pool.map(
                store_writers.contend,
                [store_url] * WRITERS,
                range(WRITERS),
                ["test-contended"] * WRITERS,
                [n] * WRITERS,
            )
        )
    elapsed = time.perf_counter() - start
    saves = sum(r[0] for r in results)
    refusals = sum(r[1] for r in results)
    print(
        f"\n{store.backend}: {WRITERS} processes on one item, {saves} saves, {refusals} refused stale saves, {elapsed:.2f} s"
    )
    assert saves == WRITERS * n
    history = store.history("test-contended")
    assert store.get("test-contended").version == 1 + saves
    assert [c.version for c in history] == list(range(1, saves + 2))
    notes = [c.note for c in history[1:]]
    assert len(set(notes)) == saves  # no save recorded twice, none lost
    for before, after in zip(history, history[1:]):  # each change starts from the one before it
        assert after.geom_before.equals(before.geom_after)


def test_ten_processes_saving_their_own_items_lose_nothing(store_url: str, store: Store) -> None:
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(WRITERS, mp_context=spawn) as pool:
        saves = sum(
            pool.map(store_writers.own_items, [store_url] * WRITERS, range(WRITERS), [5] * WRITERS, [2] * WRITERS)
        )
    assert saves == WRITERS * 5 * 3
    assert store.count("items") == WRITERS * 5
    assert store.count("history") == saves
