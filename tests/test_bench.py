"""The benchmark's own pure helpers: the synthetic data set, the table, the expectations of a drawn map.

No timing here: `make bench` measures, these only check that what it measures with is right.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPoint, Point, Polygon, box

from bench.browser import explore_expect
from bench.report import Budget, Row, budget_summary, fmt_ratio, fmt_value, markdown_table, ratio, verdict
from bench.servertime import count_paths
from bench.synthetic import N_VILLAGES, allocate, synthetic_villages
from geo.features import FEATURE_COLUMNS


@pytest.fixture(scope="module")
def districts() -> gpd.GeoDataFrame:
    """Three small 'districts' and a municipal outline row that must be ignored."""
    return gpd.GeoDataFrame(
        {"adcode": ["500000", "500101", "500102", "500103"], "name": ["重庆市", "甲区", "乙区", "丙县"]},
        geometry=[
            box(106, 29, 109, 31),
            box(106, 29, 107, 30),
            box(107, 29, 108, 30),
            Polygon([(108, 29), (109, 29), (108.5, 31)]),
        ],
        crs="EPSG:4326",
    )


def test_synthetic_villages_are_deterministic(districts: gpd.GeoDataFrame) -> None:
    a = synthetic_villages(districts, n=500, seed=7)
    b = synthetic_villages(districts, n=500, seed=7)
    assert a["id"].tolist() == b["id"].tolist()
    assert shapely.equals_exact(a.geometry.values, b.geometry.values, tolerance=0).all()
    c = synthetic_villages(districts, n=500, seed=8)
    assert not shapely.equals_exact(a.geometry.values, c.geometry.values, tolerance=0).all()


def test_synthetic_villages_stay_inside_their_district(districts: gpd.GeoDataFrame) -> None:
    villages = synthetic_villages(districts, n=600, seed=1)
    assert len(villages) == 600
    assert set(villages["county"]) == {"500101", "500102", "500103"}  # never the municipal outline
    polygons = dict(zip(districts["adcode"], districts.geometry))
    for code, geom in zip(villages["county"], villages.geometry):
        assert polygons[code].covers(geom), (code, geom)


def test_the_municipal_data_set_covers_the_38_districts() -> None:
    from geo.boundaries import load_boundaries

    boundaries = load_boundaries("display")
    villages = synthetic_villages(boundaries)
    assert len(villages) == N_VILLAGES
    districts = boundaries[boundaries["adcode"] != "500000"]
    assert set(villages["county"]) == set(districts["adcode"])
    polygons = districts.set_index("adcode").geometry
    assert shapely.covers(polygons.loc[villages["county"]].values, villages.geometry.values).all()


def test_synthetic_villages_are_clearly_synthetic_feature_rows(districts: gpd.GeoDataFrame) -> None:
    villages = synthetic_villages(districts, n=50, seed=1)
    assert list(villages.columns[:-1]) == list(FEATURE_COLUMNS)
    assert villages.crs.to_epsg() == 4326
    assert villages["name"].str.startswith("合成村").all()
    assert villages["id"].is_unique
    assert {s["seed"] for s in villages["source"]} == {"SYNTHETIC"}
    assert (villages.geometry.geom_type == "Point").all()


def test_allocate_is_proportional_and_exact() -> None:
    counts = allocate(20_000, np.array([1.0, 2.0, 7.0]))
    assert counts.sum() == 20_000
    assert counts.tolist() == [2000, 4000, 14000]
    assert allocate(10, np.array([1.0, 1.0, 1.0])).sum() == 10
    with pytest.raises(ValueError):
        allocate(10, np.array([0.0, 0.0]))


def test_every_district_gets_a_village_when_there_are_enough(districts: gpd.GeoDataFrame) -> None:
    tiny = districts.copy()
    tiny.loc[tiny["adcode"] == "500103", "geometry"] = box(108, 29, 108.001, 29.001)
    villages = synthetic_villages(tiny, n=100, seed=3)
    assert set(villages["county"]) == {"500101", "500102", "500103"}


def test_fmt_value_units() -> None:
    assert fmt_value(None, "s") == "—"
    assert fmt_value(1.234, "s") == "1.23 s"
    assert fmt_value(85.4, "ms") == "85 ms"
    assert fmt_value(512, "bytes") == "512 B"
    assert fmt_value(459_811, "bytes") == "459.8 KB"
    assert fmt_value(2_726_396, "bytes") == "2.73 MB"
    assert fmt_value(20000, "count") == "20,000"
    assert fmt_value(317.4, "MiB") == "317 MiB"


def test_ratio_and_its_format() -> None:
    assert ratio(1.0, 4.0) == 0.25
    assert ratio(1.0, None) is None
    assert ratio(1.0, 0.0) is None
    assert fmt_ratio(0.1687) == "0.17×"
    assert fmt_ratio(29.5) == "29.5×"
    assert fmt_ratio(None) == "—"


def test_budget_needs_both_the_limit_and_the_ratio() -> None:
    budget = Budget("≤ 400 KB and ≤ 0.20× baseline", limit=400_000, max_ratio=0.2)
    assert budget.met(300_000, 2_000_000) is True
    assert budget.met(459_811, 2_726_396) is False  # under 1/5, over 400 KB
    assert budget.met(300_000, 1_000_000) is False  # under 400 KB, over 1/5
    assert budget.met(None, 1_000_000) is None
    assert budget.met(300_000, None) is None


def test_markdown_table_shows_both_columns_the_ratio_and_the_verdict() -> None:
    rows = [
        Row("云阳县 500235", "map payload", "bytes", 300_000, 3_000_000, Budget("≤ 400 KB", limit=400_000)),
        Row("云阳县 500235", "warm click", "ms", 200.0, 100.0, Budget("≤ 150 ms", limit=150)),
        Row("重庆市 500000", "drawn", "s", None, 4.5, Budget("≤ 3 s", limit=3), "ours: Timeout | x"),
        Row("all views", "peak memory", "MiB", 317.0, 475.0),
    ]
    table = markdown_table(rows).splitlines()
    assert table[0].startswith("| View | Figure | Ours | Baseline | Ours / baseline |")
    assert len(table) == 2 + len(rows)
    assert "| 300.0 KB | 3.00 MB | 0.10× | ≤ 400 KB | ✅ met |" in table[2]
    assert "| 200 ms | 100 ms | 2.00× | ≤ 150 ms | ❌ missed |" in table[3]
    assert "⚠️ not measured" in table[4] and "Timeout \\| x" in table[4]  # a pipe in a note cannot break the row
    assert table[5].endswith("| 317 MiB | 475 MiB | 0.67× |  |  |")
    assert budget_summary(rows) == (1, 1, 1)
    assert verdict(rows[3]) == ""


def test_explore_expect_counts_one_path_per_shape_and_per_point() -> None:
    geoms = [Point(0, 0), MultiPoint([(0, 0), (1, 1), (2, 2)]), box(0, 0, 1, 1), None, Point()]
    expect = explore_expect(39, geoms)
    assert expect.paths == 39 + 1 + 3 + 1
    assert expect.markers == 0


def test_count_paths_counts_leaflet_vector_layers() -> None:
    js = "L.polygon([[1,2]]); L.polyline([]); L.circleMarker([1,2]); L.marker([1,2]); L.polygon([])"
    assert count_paths(js) == 4


# --- make bench-load: its section of docs/perf.md, its figures ----------------------------------------------------


def test_load_section_is_replaced_or_appended_and_kept_by_make_bench(tmp_path) -> None:
    from bench.__main__ import Settings, write_document
    from bench.report import LOAD_SECTION, extract_section, splice_section

    first = splice_section("# Performance benchmark\n\ntable\n", LOAD_SECTION, "## Load and concurrency\n\nrun 1\n")
    assert first.startswith("# Performance benchmark\n\ntable\n\n<!-- bench.load: begin -->\n## Load")
    second = splice_section(first, LOAD_SECTION, "## Load and concurrency\n\nrun 2\n")
    assert "run 1" not in second and second.count(LOAD_SECTION[0]) == 1 and "run 2" in second
    # `make bench` rewrites the document, with the load section as it was
    path = tmp_path / "perf.md"
    path.write_text(second, encoding="utf-8")
    settings = Settings(runs=1, cold=1, clicks=1, offline_runs=1, scale_runs=1, scale=False, out=path)
    write_document(path, [Row("v", "f", "s", 1.0)], settings, 0.0, ["- CPU: test"], None)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Performance benchmark") and "| v | f |" in text
    assert extract_section(text, LOAD_SECTION) == extract_section(second, LOAD_SECTION)


def test_load_figures_percentiles_and_server_exceptions() -> None:
    from bench.load import percentile, server_exceptions

    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == pytest.approx(50.5, abs=0.6)
    assert percentile(values, 0.95) == pytest.approx(95.05, abs=0.6)
    assert percentile([], 0.5) is None and percentile([7.0], 0.95) == 7.0
    log = "\n".join(
        [
            "  You can now view your Streamlit app in your browser.",
            "2026-01-01 Uncaught app exception",
            "Traceback (most recent call last):",
            '  File "app.py", line 1, in <module>',
            "KeyError: 'x'",
            "INFO something fine",
        ]
    )
    found = server_exceptions(log)
    assert len(found) == 3 and "Uncaught app exception" in found[0] and "KeyError" in found[2]
    assert server_exceptions("all fine\nWarning: deprecated\n") == []


def test_store_load_counts_every_write_of_concurrent_importers_and_savers(tmp_path) -> None:
    from bench.storeload import run

    result = run(str(tmp_path / "edits.gpkg"), "SQLite/GeoPackage", writers=4, n_items=6, n_shared=3)
    assert result.problems == [] and result.lost == 0
    assert result.items_found == result.items_expected == 4 * 6 + 1
    assert result.history_found == result.written == 2 * 6 + 2 * 3 + 2 * (2 * 6) + 2 * 3 + 1


def test_load_section_says_whether_rows_were_lost() -> None:
    from bench.load import LoadResult, SessionStats, section
    from bench.storeload import StoreResult

    stats = SessionStats(panel_ms=[100.0, 200.0])
    ok = StoreResult("PostGIS", writers=8, written=9, items_expected=3, items_found=3, history_found=9)
    bad = StoreResult("SQLite/GeoPackage", writers=8, written=9, items_expected=3, items_found=3, history_found=8)
    result = LoadResult(20, 120.0, [stats], [], 400.0, 1.0, "2026-01-01 00:00", store=[ok, bad])
    text = section(result, ["- CPU: test"])
    assert "PostGIS: 8 processes" in text and "**no row lost**" in text
    assert "**ROWS LOST OR INCONSISTENT**" in text
    assert "| concurrent browser sessions (one server) | 20 |" in text
