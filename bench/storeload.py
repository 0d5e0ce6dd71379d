"""Concurrent importers and savers on the editable store (issue 14's SQLite/GeoPackage and PostGIS backends), then
a count that no row was lost.  Part of ``make bench-load`` (:func:`bench.load.main`); not a test.

Each writer is a separate Python process (``python -m bench.storeload WRITER …``, so SQLite's file locking and
PostgreSQL's connections are exercised as by several app servers; a fresh interpreter rather than multiprocessing's
spawn, which re-runs the parent's ``__main__`` and breaks when that is a Streamlit script):

* an *importer* imports its own items in batches (``Store.import_items``, one transaction each) and then imports
  rows for one item every writer shares;
* a *saver* draws its own items and moves each once (``Store.save`` with the version it read), and saves edits of
  the shared item, re-reading the version after every refusal (optimistic versioning).

Afterwards: every item is there, the history has exactly one row per successful write, the shared item's versions
run 1..N without a gap, and each of its changes starts from the geometry the one before it left.  Bench data,
clearly marked: item ids ``bench-…``, county ``bench``, writers ``基准测试写入者<n>``; coordinates are arbitrary
test values far from Chongqing (the store checks shapes, not places).
"""

from __future__ import annotations

import importlib.util
import json
import random
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

X0, Y0 = 100.0, 20.0  # arbitrary bench coordinates, not a place
SHARED = "bench-shared"
BATCH = 10


@dataclass
class StoreResult:
    """What one backend's run wrote, what was found afterwards, and what was wrong."""

    backend: str
    writers: int = 0
    written: int = 0  # successful writes (history rows expected)
    items_expected: int = 0
    items_found: int = 0
    history_found: int = 0
    conflicts: int = 0  # refused stale saves and colliding imports, retried
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    pending: str | None = None  # why it did not run

    @property
    def lost(self) -> int:
        return max(self.written - self.history_found, 0) + max(self.items_expected - self.items_found, 0)


def _who(writer: int) -> str:
    return f"基准测试写入者{writer}"


def importer(url: str, writer: int, n_items: int, n_shared: int) -> tuple[int, int]:
    """Import ``n_items`` own items in batches, then ``n_shared`` rows for the shared item: (writes, retries)."""
    from shapely.geometry import Point

    from store.db import open_store
    from store.errors import StoreError
    from store.model import NewGeometry

    store = open_store(url)
    writes = retries = 0
    try:
        rows = [
            NewGeometry(f"bench-i{writer}-{i}", "bench", Point(X0 + writer / 100, Y0 + i / 1000), note=f"i{writer}")
            for i in range(n_items)
        ]
        for start in range(0, len(rows), BATCH):
            batch = rows[start : start + BATCH]
            store.import_items(batch, who=_who(writer))
            writes += len(batch)
        done = 0
        while done < n_shared:
            row = NewGeometry(SHARED, "bench", Point(X0 + writer / 100, Y0 + 1 + done / 1000), note=f"i{writer}#{done}")
            try:
                store.import_items([row], who=_who(writer))
                done += 1
                writes += 1
            except StoreError:  # another writer changed the shared item inside our transaction: nothing written
                retries += 1
    finally:
        store.close()
    return writes, retries


def saver(url: str, writer: int, n_items: int, n_shared: int) -> tuple[int, int]:
    """Draw and move ``n_items`` own items, then save ``n_shared`` edits of the shared item: (writes, retries)."""
    from shapely.geometry import LineString, Point

    from store.db import open_store
    from store.errors import VersionConflict

    store = open_store(url)
    writes = retries = 0
    rng = random.Random(writer)
    try:
        for i in range(n_items):
            item = f"bench-s{writer}-{i}"
            v = store.save(
                item,
                Point(X0 + writer / 100, Y0 + 2 + i / 1000),
                county="bench",
                precision="drawn",
                expected_version=0,
                who=_who(writer),
                how="drawn",
            ).version
            store.save(
                item,
                Point(X0 + writer / 100 + 0.001, Y0 + 2 + i / 1000),
                county="bench",
                precision="drawn",
                expected_version=v,
                who=_who(writer),
                how="moved",
            )
            writes += 2
        done = 0
        while done < n_shared:
            current = store.get(SHARED)
            version = current.version if current is not None else 0
            time.sleep(rng.random() / 1000)  # widen the read -> write window, as a user would
            line = LineString([(X0, Y0), (X0 + 0.1 + writer / 100, Y0 + 0.1 + done / 1000)])
            try:
                store.save(
                    SHARED,
                    line,
                    county="bench",
                    precision="drawn",
                    expected_version=version,
                    who=_who(writer),
                    how="edited",
                    note=f"s{writer}#{done}",
                )
                done += 1
                writes += 1
            except VersionConflict:
                retries += 1
    finally:
        store.close()
    return writes, retries


class WriterFailed(RuntimeError):
    """A writer process exited with an error (its stderr's last line is the message)."""


WRITERS = {"importer": importer, "saver": saver}


def _writer_process(kind: str, url: str, writer: int, n_items: int, n_shared: int) -> tuple[int, int]:
    """Run one writer in its own interpreter; its (writes, retries)."""
    args = [sys.executable, "-m", "bench.storeload", kind, url, str(writer), str(n_items), str(n_shared)]
    done = subprocess.run(args, capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        raise WriterFailed(f"{kind} {writer}: {tail}")
    writes, retries = json.loads(done.stdout.strip().splitlines()[-1])
    return int(writes), int(retries)


def run(url: str, backend: str, *, writers: int = 8, n_items: int = 40, n_shared: int = 10) -> StoreResult:
    """``writers`` processes (half importers, half savers) on the store at ``url``; then the counts."""
    from shapely.geometry import Point

    from store.db import open_store

    result = StoreResult(backend=backend, writers=writers)
    seed = open_store(url)
    try:
        seed.save(
            SHARED, Point(X0, Y0), county="bench", precision="drawn", expected_version=0, who=_who(-1), how="drawn"
        )
    finally:
        seed.close()
    importers = writers // 2
    savers = writers - importers
    start = time.perf_counter()
    with ThreadPoolExecutor(writers) as pool:
        jobs = [pool.submit(_writer_process, "importer", url, w, n_items, n_shared) for w in range(importers)]
        jobs += [pool.submit(_writer_process, "saver", url, importers + w, n_items, n_shared) for w in range(savers)]
        for job in jobs:
            try:
                writes, retries = job.result()
            except WriterFailed as exc:
                result.problems.append(f"a writer failed: {exc}")
                continue
            result.written += writes
            result.conflicts += retries
    result.seconds = time.perf_counter() - start
    result.written += 1  # the seed of the shared item
    result.items_expected = importers * n_items + savers * n_items + 1
    store = open_store(url)
    try:
        result.items_found = store.count("items")
        result.history_found = store.count("history")
        history = store.history(SHARED)
        shared = store.get(SHARED)
    finally:
        store.close()
    versions = [c.version for c in history]
    if versions != list(range(1, len(versions) + 1)):
        result.problems.append(f"the shared item's versions have gaps or repeats: {versions[:10]}…")
    if shared is None or shared.version != len(versions):
        result.problems.append("the shared item's current version is not its last change")
    for before, after in zip(history, history[1:]):
        if (
            before.geom_after is not None
            and after.geom_before is not None
            and not after.geom_before.equals(before.geom_after)
        ):
            result.problems.append(f"change {after.version} of the shared item does not start from {before.version}")
            break
    if result.written != result.history_found:
        result.problems.append(f"{result.written} writes, {result.history_found} history rows")
    if result.items_expected != result.items_found:
        result.problems.append(f"{result.items_expected} items written, {result.items_found} found")
    return result


def run_backends(pg_url: str | None = None) -> list[StoreResult]:
    """The run on a fresh GeoPackage store, and on PostGIS (``pg_url``, else a throwaway cluster when Debian's
    PostgreSQL is installed, else reported as not run)."""
    if importlib.util.find_spec("store") is None:
        return [StoreResult(backend="—", pending="the editable store (issue 14, package store/) is not installed")]
    out = []
    with tempfile.TemporaryDirectory(prefix="rrmap-storeload-") as tmp:
        out.append(run(str(Path(tmp) / "edits.gpkg"), "SQLite/GeoPackage"))
    if pg_url:
        out.append(run(pg_url, "PostGIS"))
        return out
    try:
        from tests.pg_cluster import Cluster, pg_bindir  # the test suite's throwaway cluster (unix socket only)
    except ImportError:
        out.append(StoreResult(backend="PostGIS", pending="tests/pg_cluster.py is missing"))
        return out
    bindir = pg_bindir()
    if bindir is None or not (bindir / "initdb").exists():
        out.append(StoreResult(backend="PostGIS", pending="PostgreSQL is not installed (`make test` installs it)"))
        return out
    cluster = Cluster(bindir)
    try:
        cluster.start()
        out.append(run(cluster.new_database(), "PostGIS"))
    finally:
        cluster.stop()
    return out


if __name__ == "__main__":  # one writer process of :func:`run`: KIND URL WRITER N_ITEMS N_SHARED
    kind, url, writer, n_items, n_shared = sys.argv[1:6]
    print(json.dumps(WRITERS[kind](url, int(writer), int(n_items), int(n_shared))))
