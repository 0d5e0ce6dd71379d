"""`cli.py export / png / import` on the fixture plan, and export checks on every real plan."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
from PIL import Image

import cli
import config
from gisio.export import FORMATS
from gisio.read import read_path
from gisio.reimport import to_features
from gisio.rfc7946 import rfc7946_problems
from plan.loader import available_plans
from store.db import open_store
from tests.fixtures.gisio.make_fixtures import BAD_DIR
from tests.fixtures.gisio.samples import feature_differences, sample_features, sample_plan


@pytest.fixture()
def fixture_plan(monkeypatch) -> gpd.GeoDataFrame:
    """Make the CLI see the fixture plan (county 500235) instead of the real one."""
    features = sample_features()
    monkeypatch.setattr(cli, "_exchange_features", lambda county: ([sample_plan()], features))
    return features


def test_cli_export_writes_each_format(tmp_path: Path, fixture_plan: gpd.GeoDataFrame, capsys) -> None:
    assert cli.EXPORT_FORMATS == tuple(FORMATS)  # the CLI offers exactly the formats gisio writes
    for fmt in cli.EXPORT_FORMATS:
        out = tmp_path / f"plan.{fmt}"
        assert cli.main(["export", "--county", "500235", "--format", fmt, "--out", str(out)]) == 0
        written = out.with_suffix(".zip") if FORMATS[fmt].extension == ".zip" else out
        assert written.is_file() and written.stat().st_size > 0
    printed = capsys.readouterr().out
    assert "7 features (5 located)" in printed and "EPSG:4490" in printed  # CGCS2000 unless asked otherwise


def test_cli_export_of_the_qgis_project_without_qgis_says_how_to_install_it(
    tmp_path: Path, fixture_plan: gpd.GeoDataFrame, capsys, monkeypatch
) -> None:
    monkeypatch.setattr(config, "QGIS_PYTHON", str(tmp_path / "no-such-python"))
    code = cli.main(["export", "--county", "500235", "--format", "qgis", "--out", str(tmp_path / "p.zip")])
    assert code == 2
    err = capsys.readouterr().err
    assert "python3-qgis" in err and "Traceback" not in err
    assert not list(tmp_path.glob("*.zip"))


def test_cli_export_applies_layers_filter_and_gk(tmp_path: Path, fixture_plan: gpd.GeoDataFrame) -> None:
    out = tmp_path / "plan.gpkg"
    code = cli.main(
        [
            "export",
            "--county",
            "500235",
            "--format",
            "gpkg",
            "--crs",
            "gk",
            "--layers",
            "demo_village",
            "--filter",
            "precision=exact",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    back = to_features(read_path(out))
    assert list(back["id"]) == ["g-dv-002"]
    assert read_path(out).source_crs == config.GK_ZONES[36]["no_prefix"]


def test_cli_export_reports_bad_options_in_chinese(tmp_path: Path, fixture_plan: gpd.GeoDataFrame, capsys) -> None:
    out = tmp_path / "x.kml"
    code = cli.main(["export", "--county", "500235", "--format", "kml", "--crs", "gk", "--out", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert "只能使用 WGS84" in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())


def test_cli_png_writes_the_presentation_map(tmp_path: Path, fixture_plan: gpd.GeoDataFrame, capsys) -> None:
    out = tmp_path / "map.png"
    assert cli.main(["png", "--county", "500235", "--out", str(out)]) == 0
    with Image.open(out) as img:
        assert img.size == (1920, 1080)
    captured = capsys.readouterr()
    assert "[100%] 完成" in captured.err and "Noto Sans CJK" in captured.out


def test_cli_import_reports_and_refuses_bad_files(tmp_path: Path, fixture_plan: gpd.GeoDataFrame, capsys) -> None:
    good = tmp_path / "plan.zip"  # the GeoJSON delivery: one file per layer
    assert cli.main(["export", "--county", "500235", "--format", "geojson", "--out", str(good)]) == 0
    capsys.readouterr()
    assert cli.main(["import", str(good), "--out", str(tmp_path / "normalised.geojson")]) == 0
    assert "7 个要素（5 个有几何）" in capsys.readouterr().out
    assert cli.main(["import", str(BAD_DIR / "parent_paths.zip")]) == 2
    err = capsys.readouterr().err
    assert "不安全的路径" in err and "Traceback" not in err


def test_cli_import_matches_and_saves_into_the_store(
    tmp_path: Path, fixture_plan: gpd.GeoDataFrame, capsys, monkeypatch
) -> None:
    monkeypatch.setattr(config, "DB", str(tmp_path / "edits.gpkg"))  # this test's own store
    edited = fixture_plan[fixture_plan["id"] == "g-dv-002"].copy()
    layer = tmp_path / "gis_team.geojson"
    edited.to_file(layer, driver="GeoJSON")
    assert cli.main(["import", str(layer), "--county", "500235", "--save"]) == 2  # who saves?
    assert "--who" in capsys.readouterr().err
    code = cli.main(["import", str(layer), "--county", "500235", "--save", "--who", "测试GIS"])
    assert code == 0
    out = capsys.readouterr().out
    assert "g-dv-002" in out and "saved 1 exact location" in out
    assert cli.main(["history", "g-dv-002"]) == 0
    out = capsys.readouterr().out
    assert "测试GIS" in out and "导入" in out and "gis_team.geojson 1" in out
    item = open_store(config.DB).get("g-dv-002")
    assert (item.precision, item.updated_by, item.how, item.version) == ("exact", "测试GIS", "imported", 1)


# --- the real plans ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("county", available_plans())
def test_real_plan_geojson_export_is_rfc7946_and_round_trips(tmp_path: Path, county: str) -> None:
    out = tmp_path / f"{county}.zip"
    assert cli.main(["export", "--county", county, "--format", "geojson", "--out", str(out)]) == 0
    _plans, features = cli._exchange_features(county)
    ids = []
    with zipfile.ZipFile(out) as zf:
        for name in (n for n in zf.namelist() if n.endswith(".geojson")):
            doc = json.loads(zf.read(name))
            assert rfc7946_problems(doc) == [], name
            ids += [f["id"] for f in doc["features"]]
    assert sorted(ids) == sorted(features["id"])  # the whole plan, located or not, each item once
    assert feature_differences(features, to_features(read_path(out)), tolerance=1e-8) == []


def _csv_geometry_left_out(path: Path) -> set[str]:
    """Ids whose shape the CSV left out because its WKT does not fit a spreadsheet cell."""
    rows = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig")))
    return {r["id"] for r in rows if "单元格上限" in (r.get("geometry_note") or "")}


@pytest.mark.parametrize("county", available_plans())
def test_real_plan_round_trips_through_every_table_format(tmp_path: Path, county: str) -> None:
    _plans, features = cli._exchange_features(county)
    for fmt, crs in (("gpkg", "gk"), ("shp", "4490"), ("kml", "4326"), ("csv", "4326")):
        out = tmp_path / f"{county}.{fmt}"
        assert cli.main(["export", "--county", county, "--format", fmt, "--crs", crs, "--out", str(out)]) == 0
        written = out.with_suffix(".zip") if fmt == "shp" else out
        problems = feature_differences(features, to_features(read_path(written)))
        if fmt == "csv":  # a district polygon is longer than a cell holds: a representative point and a note
            left_out = _csv_geometry_left_out(written)
            problems = [p for p in problems if not (p.split(":")[0] in left_out and " vs Point" in p)]
        assert problems == [], fmt


@pytest.mark.parametrize("county", available_plans())
def test_real_plan_png_renders_its_chinese_text(tmp_path: Path, county: str) -> None:
    out = tmp_path / f"{county}.png"
    # render_png refuses to write a PNG when a character is missing from the CJK font (no tofu).
    assert cli.main(["png", "--county", county, "--out", str(out)]) == 0
    with Image.open(out) as img:
        assert img.size == (1920, 1080)
