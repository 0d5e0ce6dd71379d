"""Hostile input (issue 17): every class of malformed or hostile file is refused with a Chinese message that names
the problem, or read correctly with a warning — never a traceback, a hang or a lost row.

The files are generated at test time (tests/fixtures/gisio/make_fixtures.py, ``HOSTILE``); docs/hostile_input.md
lists the same classes with the behaviour decided for each.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import subprocess
import sys
import threading
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from pyproj import Transformer

import config
from gisio import encoding as enc
from gisio.errors import ImportRejected
from gisio.limits import ImportLimits, scan_json
from gisio.match import PlanNameIndex, best_matches, match_by_name
from gisio.read import read_upload
from gisio.watchdog import checkpoint, run_with_deadline
from plan.names import normalise
from tests.fixtures.gisio.make_fixtures import (
    HOSTILE,
    LONG_NAME,
    SIMPLIFIED_NAMES,
    TOO_LONG_NAME,
    TRADITIONAL_NAMES,
    build_hostile,
)
from tests.fixtures.gisio.samples import anchor, sample_features

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build_hostile(tmp_path_factory.mktemp("hostile"))


def read(hostile: dict[str, Path], name: str, **kwargs: object):
    case = HOSTILE[name]
    limits = ImportLimits(**case.limits) if case.limits else None
    return read_upload(hostile[name].read_bytes(), name, limits=limits, **kwargs)


# --- one fixture per class, one test each: the message -------------------------------------------------------------


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_file_gets_its_message(hostile: dict[str, Path], name: str, tmp_path: Path, monkeypatch) -> None:
    case = HOSTILE[name]
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))  # whatever the importer unpacks goes here
    if case.refused:
        with pytest.raises(ImportRejected) as caught:
            read(hostile, name)
        assert caught.value.code == case.refused, str(caught.value)
        assert case.words in str(caught.value)
        assert "Traceback" not in str(caught.value)
    else:
        result = read(hostile, name)
        said = [result.summary(), *result.warnings, *result.repairs]
        assert any(case.words in line for line in said), said
    assert list(tmp_path.iterdir()) == []  # nothing left behind, refused or not


def test_every_class_is_in_the_docs_table() -> None:
    table = (ROOT / "docs" / "hostile_input.md").read_text(encoding="utf-8")
    missing = [name for name in HOSTILE if f"`{name}`" not in table and name not in (LONG_NAME, TOO_LONG_NAME)]
    assert missing == []
    assert "200 个汉字的文件名" in table and "300 个汉字的文件名" in table


# --- correct readings ------------------------------------------------------------------------------------------------


def test_nested_geometry_collection_is_flattened(hostile: dict[str, Path]) -> None:
    geom = read(hostile, "nested_collection.geojson").gdf.geometry.iloc[0]
    assert geom.geom_type == "MultiPoint" and len(geom.geoms) == 2


def test_bowtie_becomes_two_valid_triangles(hostile: dict[str, Path]) -> None:
    result = read(hostile, "bowtie.geojson")
    geom = result.gdf.geometry.iloc[0]
    assert geom.is_valid and geom.geom_type == "MultiPolygon" and len(geom.geoms) == 2
    assert "边界自相交" in result.repairs[0] and "蝴蝶面" in result.repairs[0]


def test_nan_properties_become_empty_values(hostile: dict[str, Path]) -> None:
    row = read(hostile, "nan_properties.geojson").gdf.iloc[0]
    assert row["name"] == "非数"
    assert row["面积"] is None or (isinstance(row["面积"], float) and math.isnan(row["面积"]))


def test_empty_and_null_geometries_keep_their_rows(hostile: dict[str, Path]) -> None:
    result = read(hostile, "empty_geometries.geojson")
    assert result.gdf["name"].tolist() == ["空点", "空面", "正常点"]
    assert result.gdf.geometry.isna().tolist() == [True, True, False]


def test_duplicate_ids_are_kept_and_not_matched_automatically(hostile: dict[str, Path]) -> None:
    result = read(hostile, "duplicate_ids.geojson")
    assert result.gdf["id"].tolist() == ["p-1", "p-1"]


def test_gk_with_zone_prefix_labelled_wgs84_is_read_in_its_zone(hostile: dict[str, Path]) -> None:
    result = read(hostile, "gk_prefix_labelled_4326.geojson")
    assert (result.source_crs, result.crs_origin) == ("EPSG:4524", "guess")
    assert result.gdf.geometry.iloc[0].distance(anchor()) < 1e-6


def test_web_mercator_prj_is_read_and_named(hostile: dict[str, Path]) -> None:
    result = read(hostile, "web_mercator.zip")
    assert (result.source_crs, result.crs_origin) == (config.WEB_MERCATOR, "file")
    assert result.gdf.geometry.iloc[0].distance(anchor()) < 1e-6


def test_web_mercator_prj_over_gauss_kruger_numbers_is_corrected(hostile: dict[str, Path]) -> None:
    result = read(hostile, "web_mercator_over_gk.zip")
    assert result.source_crs == config.GK_ZONES[36]["no_prefix"] and result.crs_origin == "guess"
    assert result.gdf.geometry.iloc[0].distance(anchor()) < 1e-6
    assert config.WEB_MERCATOR in {c.code for c in result.crs_candidates}  # the file's own claim stays offered


def test_big5_dbf_without_cpg_is_decoded(hostile: dict[str, Path]) -> None:
    result = read(hostile, "big5_without_cpg.zip")
    assert result.encoding == "Big5"
    assert result.gdf["名稱"].tolist() == TRADITIONAL_NAMES
    assert "GBK" in result.encoding_candidates  # GBK decodes the bytes too (into nonsense): offered, not chosen


def test_cpg_claiming_utf8_over_gbk_bytes_is_not_trusted(hostile: dict[str, Path]) -> None:
    result = read(hostile, "cpg_utf8_over_gbk.zip")
    assert result.encoding == "GBK"
    assert result.gdf["名称"].tolist() == SIMPLIFIED_NAMES


def test_the_user_can_choose_another_encoding(hostile: dict[str, Path]) -> None:
    result = read(hostile, "big5_without_cpg.zip", encoding="GBK")
    assert result.encoding == "GBK" and "名稱" not in result.gdf.columns


def test_undefined_srs_id_is_decided_from_the_coordinates(hostile: dict[str, Path]) -> None:
    result = read(hostile, "undefined_srs.gpkg")
    assert result.crs_origin == "guess" and result.source_crs == config.WGS84
    assert result.gdf["名称"].tolist() == SIMPLIFIED_NAMES


def test_view_beside_a_table_is_skipped_and_the_table_read(hostile: dict[str, Path]) -> None:
    result = read(hostile, "view_beside_table.gpkg")
    assert result.layers == ("points",) and len(result.gdf) == 3


@pytest.mark.parametrize("name", ["csv_crs_says_projected.csv", "csv_crs_says_wgs84.csv"])
def test_csv_crs_column_that_lies_is_overruled_by_the_coordinates(hostile: dict[str, Path], name: str) -> None:
    result = read(hostile, name)
    assert result.crs_origin == "guess"
    assert result.gdf.geometry.iloc[0].distance(anchor()) < 1e-6


def test_duplicate_csv_headers_keep_both_columns(hostile: dict[str, Path]) -> None:
    result = read(hostile, "csv_duplicate_headers.csv")
    assert result.gdf["名称"].tolist() == ["测试点0", "测试点1"]
    assert result.gdf["名称_2"].tolist() == ["别名0", "别名1"]


def test_utf16_csv_without_bom_is_decoded(hostile: dict[str, Path]) -> None:
    result = read(hostile, "csv_utf16.csv")
    assert result.encoding == "UTF-16LE" and result.gdf["name"].tolist() == ["测试点0", "测试点1"]


def test_long_names_inside_a_zip_are_unpacked_under_aliases(hostile: dict[str, Path]) -> None:
    assert read(hostile, "long_zip_entry.zip").gdf["名称"].tolist() == SIMPLIFIED_NAMES


def test_a_file_name_of_200_chinese_characters_is_read_and_shortened_in_messages(hostile: dict[str, Path]) -> None:
    result = read(hostile, LONG_NAME)
    assert result.filename == LONG_NAME and len(result.gdf) == 3
    assert len(result.summary()) < 200  # the summary names the file shortened


# --- load: 100,000 named points are read and matched, not hung -------------------------------------------------------


def test_100000_named_points_are_read_and_matched(hostile: dict[str, Path]) -> None:
    result = read(hostile, "many_named_points.geojson")
    assert len(result.gdf) == 100_000
    features = sample_features()
    matches, notes = match_by_name(result, features)
    plan_named = set(range(0, 100_000, 7))  # the fixture gives every seventh point a plan name
    assert {m.row for m in matches if m.method == "name"} == plan_named
    assert any("找不到对应的规划条目" in n for n in notes)
    # many points per entity: nothing is safe to accept without asking
    assert best_matches(matches) == []


def test_name_index_gives_exactly_the_pairwise_matches() -> None:
    """The index is an optimisation of the pairwise definition (every entity compared with every name)."""
    features = sample_features()
    entities = list(zip(features["id"], features["name"], features["county"].astype(str)))
    norms = [normalise(str(name)) for _eid, name, _c in entities]

    def pairwise(text: str, min_score: float) -> list[tuple[int, str, float]]:
        key, hits = normalise(text), []
        for i, (_eid, name, _c) in enumerate(entities):
            if name == text:
                hits.append((i, "name", 0.95))
            elif key and norms[i] == key:
                hits.append((i, "normalised", 0.9))
            elif len(key) >= 2 and (key in norms[i] or norms[i] in key) and len(norms[i]) >= 2:
                hits.append((i, "contains", 0.7))
            else:
                ratio = difflib.SequenceMatcher(None, key, norms[i]).ratio()
                if ratio >= min_score:
                    hits.append((i, "fuzzy", round(0.65 * ratio, 3)))
        return [h for h in hits if h[2] >= min_score]

    names = [str(n) for n in features["name"]]
    chars = "".join(names)
    texts = [*names, *(n[:-1] for n in names), *(n + "村" for n in names), *(n[::-1] for n in names)]
    texts += [n[:k] + c + n[k + 1 :] for n in names for k in range(len(n)) for c in chars[:: max(len(chars) // 7, 1)]]
    texts += [chars[i : i + k] for i in range(0, len(chars), 3) for k in (1, 2, 4, 7)]
    for min_score in (0.6, 0.3, 0.0):
        index = PlanNameIndex(entities)
        for text in texts:
            got = [h for h in index.hits(text, min_score) if h[2] >= min_score]
            assert got == pairwise(text, min_score), (text, min_score)


# --- the deadline ---------------------------------------------------------------------------------------------------


def test_a_read_over_its_deadline_is_stopped_with_a_message(hostile: dict[str, Path]) -> None:
    with pytest.raises(ImportRejected) as caught:
        read(hostile, "many_named_points.geojson", timeout=0.01)
    assert caught.value.code == "timeout"
    assert "超过 0.01 秒仍未完成，已停止" in str(caught.value) and "RRMAP_IMPORT_TIMEOUT_S" in str(caught.value)


def test_matching_over_its_deadline_is_stopped_with_a_message(hostile: dict[str, Path]) -> None:
    result = read(hostile, "many_named_points.geojson")
    with pytest.raises(ImportRejected, match="按名称匹配规划条目超过") as caught:
        match_by_name(result, sample_features(), timeout=0.001)
    assert caught.value.code == "timeout"


def test_cooperative_work_stops_at_its_next_checkpoint() -> None:
    seen = threading.Event()
    stopped = threading.Event()

    def spin() -> None:
        try:
            while True:
                seen.set()
                checkpoint()
        except ImportRejected:
            stopped.set()
            raise

    with pytest.raises(ImportRejected, match="测试工作超过"):
        run_with_deadline(spin, what="测试工作", seconds=0.05)
    assert seen.is_set()
    assert stopped.wait(30), "the worker kept running after the deadline"


def test_a_stuck_call_is_abandoned_and_the_caller_answers() -> None:
    release = threading.Event()
    with pytest.raises(ImportRejected) as caught:
        run_with_deadline(lambda: release.wait(), what="卡住的读取", seconds=0.05)  # blocks, never checks
    release.set()
    assert caught.value.code == "timeout"


def test_errors_and_results_of_the_worker_reach_the_caller() -> None:
    assert run_with_deadline(lambda: 42, what="x", seconds=5) == 42
    with pytest.raises(ZeroDivisionError):
        run_with_deadline(lambda: 1 / 0, what="x", seconds=5)


# --- the JSON scan and the encodings -------------------------------------------------------------------------------


def test_json_scan_ignores_brackets_in_strings_and_counts_features(monkeypatch) -> None:
    doc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "x"}},
        "bbox": [1, 2, 3, 4],
        "features": [
            {"type": "Feature", "properties": {"n": 'a"[[[{{\\'}, "geometry": None},
            {"type": "Feature", "properties": {"m": [{"x": [1]}]}, "geometry": None},
        ],
    }
    text = json.dumps(doc)
    expected = scan_json(text, "t", ImportLimits())
    assert (expected.depth, expected.features) == (7, 2)
    for chunk in (1, 2, 3, 5, 7, 11):  # every cut through strings, escapes and brackets gives the same answer
        monkeypatch.setattr("gisio.limits._CHUNK", chunk)
        assert scan_json(text, "t", ImportLimits()) == expected


@pytest.mark.parametrize(
    ("text", "codec", "label"),
    [
        ("黎明村,新华村,云阳县", "utf-8", "UTF-8"),
        ("黎明村,新华村,云阳县", "gb18030", "GBK"),
        ("臺灣,雲陽縣,黎明村舊址", "cp950", "Big5"),
        ("name,lon\n黎明村,1\n", "utf-16", "UTF-16"),
    ],
)
def test_encodings_are_told_apart_by_decoding(text: str, codec: str, label: str) -> None:
    assert enc.detect(text.encode(codec)).label == label


def test_a_right_cpg_is_trusted() -> None:
    raw = "黎明村 新华村".encode("gb18030")
    guess = enc.detect(raw, declared="936", declared_by="a.cpg")
    assert guess.label == "GBK" and guess.note is None


def test_bytes_no_encoding_decodes_are_refused() -> None:
    with pytest.raises(ImportRejected, match="编码无法识别"):
        enc.detect(b"\x80\xff\x80\xff\xfe\x80")


# --- the command line -----------------------------------------------------------------------------------------------


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize("name", ["deep_coordinates.geojson", "unknown_type.geojson", "view_bomb.gpkg"])
def test_cli_prints_the_message_and_exits(hostile: dict[str, Path], name: str) -> None:
    proc = _cli("import", str(hostile[name]))
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: “") and HOSTILE[name].words in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_stops_a_read_at_its_deadline(hostile: dict[str, Path]) -> None:
    proc = _cli("import", str(hostile["many_named_points.geojson"]), env={"RRMAP_IMPORT_TIMEOUT_S": "0.01"})
    assert proc.returncode == 2
    assert "超过 0.01 秒仍未完成" in proc.stderr and "Traceback" not in proc.stderr


# --- after the worst files, a good one still imports (same process, same caches) ----------------------------------


def test_a_good_file_imports_after_the_worst(hostile: dict[str, Path]) -> None:
    for name in ("deep_properties.geojson", "view_bomb.gpkg", "huge_integer.geojson", "million_null_geometries.zip"):
        with pytest.raises(ImportRejected):
            read(hostile, name)
    c = anchor()
    good = read_upload(f"name,lon,lat\n测试点,{c.x!r},{c.y!r}\n".encode(), "good.csv")
    assert good.gdf.geometry.iloc[0].distance(c) < 1e-12


def test_gk_fixture_numbers_are_gauss_kruger() -> None:
    """Guard for the fixtures above: the 'zone prefix' coordinates really are 8-digit zone-36 eastings."""
    x, y = Transformer.from_crs(config.WGS84, "EPSG:4524", always_xy=True).transform(anchor().x, anchor().y)
    assert 36e6 < x < 37e6 and 2e6 < y < 5e6
    frame = gpd.GeoDataFrame(geometry=gpd.points_from_xy([x], [y]), crs="EPSG:4524").to_crs(config.WGS84)
    assert np.isclose(frame.geometry.iloc[0].x, anchor().x)


# --- formula injection: names from an imported file and from a plan file come out inert in tabular exports --------

FORMULA_NAMES = ['=HYPERLINK("http://example.invalid/","点击")', "@cmd|' /C calc'!A0", "+1+1", "-2+3", "\t=1", "\r=2"]


def _tabular_cells(path: Path) -> list[str]:
    """Every text cell of a CSV, of every CSV inside a zip (the Shapefile's full-text table), or of a workbook."""
    import csv
    import io
    import zipfile

    from openpyxl import load_workbook

    if path.suffix == ".xlsx":
        book = load_workbook(path)
        cells = []
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula"
                    cells.append(str(cell.value) if cell.value is not None else "")
        return cells
    texts = [path.read_bytes().decode("utf-8-sig")] if path.suffix == ".csv" else []  # line breaks as written
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as zf:
            texts = [zf.read(n).decode("utf-8-sig") for n in zf.namelist() if n.endswith(".csv")]
    assert texts, f"no table in {path.name}"
    return [cell for text in texts for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


def _live(cells: list[str]) -> list[str]:
    from gisio.tabular import FORMULA_PREFIXES

    return [c for c in cells if c.startswith(FORMULA_PREFIXES)]


def test_formula_names_from_an_imported_file_come_out_inert(tmp_path: Path) -> None:
    """A GIS team returns our GeoJSON with formula-like names; read back and exported again, no cell is live."""
    from gisio.export import export_features
    from gisio.read import read_path
    from gisio.reimport import to_features

    features = sample_features().copy()
    features["name"] = [FORMULA_NAMES[i % len(FORMULA_NAMES)] + "村" for i in range(len(features))]
    features["designation"] = FORMULA_NAMES[0]
    returned = export_features(features, "geojson", tmp_path / "returned.geojson").path
    imported = to_features(read_path(returned))
    assert sorted(imported["name"]) == sorted(features["name"])  # read as written, not altered on the way in
    for fmt, suffix in (("csv", ".csv"), ("xlsx", ".xlsx"), ("shp", ".zip")):
        path = export_features(imported, fmt, tmp_path / f"again{suffix}").path
        cells = _tabular_cells(path)
        assert _live(cells) == [], (fmt, _live(cells)[:3])
        assert "'" + FORMULA_NAMES[0] + "村" in cells, fmt  # the value is there, made inert
        assert "'\r=2村" in cells, fmt  # one cell: a line break inside a value is quoted, never a new row


def test_formula_names_from_a_plan_file_come_out_inert_in_the_shapefile_table(tmp_path: Path) -> None:
    from geo.features import plan_features
    from geo.resolve import resolve_plan
    from gisio.export import export_features
    from plan.loader import load_plan_file

    folder = ROOT / "tests" / "fixtures" / "formula"
    plan = load_plan_file(folder / "plans" / "500235.yaml", folder / "seeds")
    features = plan_features(plan, resolve_plan(plan))
    cells = _tabular_cells(export_features(features, "shp", tmp_path / "plan.zip", plans=[plan]).path)
    assert _live(cells) == []
    assert "'@SUM(1+1)园" in cells
