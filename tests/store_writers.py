"""Writers for the store's concurrency tests (a module of their own, so spawned processes can import them).

Test data, clearly marked: item ids ``test-w<writer>-<n>`` / ``test-contended``, writers ``测试写入者<n>``.
"""

from __future__ import annotations

import random
import time

from shapely.geometry import LineString, Point

from store.db import open_store
from store.errors import VersionConflict

X0, Y0 = 100.0, 20.0  # arbitrary test coordinates far from Chongqing: the store checks shapes, not places


def own_items(url: str, writer: int, n_items: int, n_updates: int) -> int:
    """Create ``n_items`` items of this writer and move each ``n_updates`` times; returns the number of saves."""
    store = open_store(url)
    saves = 0
    try:
        for i in range(n_items):
            item = f"test-w{writer}-{i}"
            point = Point(X0 + writer / 100, Y0 + i / 100)
            who = f"测试写入者{writer}"
            v = store.save(
                item, point, county="test", precision="drawn", expected_version=0, who=who, how="drawn"
            ).version
            saves += 1
            for k in range(n_updates):
                moved = Point(X0 + writer / 100 + (k + 1) / 1000, Y0 + i / 100)
                v = store.save(
                    item, moved, county="test", precision="drawn", expected_version=v, who=who, how="moved"
                ).version
                saves += 1
    finally:
        store.close()
    return saves


def contend(url: str, writer: int, item: str, n_saves: int) -> tuple[int, int]:
    """Save ``n_saves`` edits of the SAME item, re-reading the version after each refusal: (saves, refusals)."""
    store = open_store(url)
    refusals = 0
    rng = random.Random(writer)
    done = 0
    try:
        while done < n_saves:
            current = store.get(item)
            assert current is not None
            time.sleep(rng.random() / 1000)  # widen the read -> write window
            line = LineString([(X0, Y0), (X0 + 0.1 + writer / 100, Y0 + 0.1 + done / 1000)])
            try:
                store.save(
                    item,
                    line,
                    county="test",
                    precision="drawn",
                    expected_version=current.version,
                    who=f"测试写入者{writer}",
                    how="edited",
                    note=f"w{writer} #{done}",
                )
                done += 1
            except VersionConflict:
                refusals += 1
    finally:
        store.close()
    return done, refusals
