"""Imports: bad input gives a Chinese message naming the problem; CRS and encoding are detected; matching saves
exact locations (points, lines, areas) to the store."""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
import shapely.affinity
from shapely.geometry import LineString, Point, Polygon

import config
from geo.boundaries import load_boundaries
from geo.crs import gcj02_to_wgs84, wgs84_to_gcj02
from gisio.errors import ImportRejected
from gisio.export import export_features
from gisio.match import best_matches, match_by_name, save_matches
from gisio.normalise import suggest_crs
from gisio.read import read_path, read_upload
from gisio.reimport import to_features
from store.db import open_store
from tests.fixtures.gisio.make_fixtures import BAD_DIR, BAD_INPUTS, build_all
from tests.fixtures.gisio.samples import anchor, feature_differences, sample_features


@pytest.fixture(scope="module")
def features() -> gpd.GeoDataFrame:
    return sample_features()


@pytest.fixture(scope="module")
def boundaries() -> gpd.GeoDataFrame:
    return load_boundaries("full")


# --- bad input: one fixture, one test each ----------------------------------------------------------------------


@pytest.mark.parametrize("fixture", sorted(BAD_INPUTS))
def test_bad_input_is_refused_with_its_message(fixture: str, tmp_path: Path, monkeypatch) -> None:
    code, words, kwargs = BAD_INPUTS[fixture]
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))  # everything the importer unpacks goes here
    with pytest.raises(ImportRejected) as caught:
        read_path(BAD_DIR / fixture, **kwargs)
    assert caught.value.code == code
    assert words in str(caught.value)
    assert "Traceback" not in str(caught.value)
    assert list(tmp_path.iterdir()) == []  # nothing left half written, nothing escaped via ../


def test_bad_fixtures_are_up_to_date() -> None:
    built = build_all(include_bomb=False)
    assert set(built) | {"bomb.zip"} == set(BAD_INPUTS)
    for name, data in built.items():
        assert (BAD_DIR / name).read_bytes() == data, f"run python tests/fixtures/gisio/make_fixtures.py ({name})"
    # The bomb: tiny on disk, hundreds of MB unpacked (from its header; unpacking it is what the importer refuses).
    with zipfile.ZipFile(BAD_DIR / "bomb.zip") as zf:
        assert sum(i.file_size for i in zf.infolist()) >= 256 << 20
    assert (BAD_DIR / "bomb.zip").stat().st_size < 4096


def test_size_is_checked_before_the_file_is_read(tmp_path: Path) -> None:
    big = tmp_path / "huge.geojson"
    with big.open("wb") as fh:  # sparse: takes no disk space
        fh.truncate(int(config.MAX_UPLOAD_MB * 1024 * 1024) + 1)
    with pytest.raises(ImportRejected, match=f"超过上限 {config.MAX_UPLOAD_MB:g} MB"):
        read_path(big)


def test_unzipped_shapefile_is_explained() -> None:
    with pytest.raises(ImportRejected, match="打包成 .zip"):
        read_upload(b"\0\0\x27\x0a" + b"\0" * 96, "layer.shp")


# --- encodings ----------------------------------------------------------------------------------------------------


def test_detects_gbk_csv() -> None:
    c = anchor()
    text = f"名称,经度,纬度\n黎明村,{c.x},{c.y}\n"
    result = read_upload(text.encode("gbk"), "gbk.csv")
    assert result.encoding == "GBK"
    assert result.gdf["名称"].tolist() == ["黎明村"]
    assert result.name_field == "名称"


def _shapefile_zip(gdf: gpd.GeoDataFrame, tmp_path: Path, encoding: str, keep: tuple[str, ...]) -> bytes:
    folder = tmp_path / f"shp-{encoding}"
    folder.mkdir()
    pyogrio.write_dataframe(gdf, folder / "layer.shp", encoding=encoding)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for path in folder.iterdir():
            if path.suffix in keep:
                zf.write(path, arcname=path.name)
    return buf.getvalue()


def test_detects_gbk_shapefile_without_cpg(tmp_path: Path) -> None:
    c = anchor()
    gdf = gpd.GeoDataFrame({"名称": ["黎明村", "新华村"]}, geometry=[c, Point(c.x + 0.01, c.y)], crs=config.WGS84)
    data = _shapefile_zip(gdf, tmp_path, "GBK", keep=(".shp", ".shx", ".dbf", ".prj"))
    result = read_upload(data, "gbk_layer.zip")
    assert result.encoding == "GBK"
    assert result.gdf["名称"].tolist() == ["黎明村", "新华村"]


# --- CRS ------------------------------------------------------------------------------------------------------------


def test_shapefile_without_prj_gets_the_gauss_kruger_zone_suggested(
    tmp_path: Path, features: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame
) -> None:
    located = features[features.geometry.notna()]
    gk = located[["id", "geometry"]].to_crs(config.GK_ZONES[36]["no_prefix"])
    data = _shapefile_zip(gk[gk.geom_type == "Point"], tmp_path, "UTF-8", keep=(".shp", ".shx", ".dbf"))
    result = read_upload(data, "no_prj.zip", boundaries=boundaries)
    assert result.crs_origin == "guess"
    assert result.source_crs == config.GK_ZONES[36]["no_prefix"]
    expected = located[located.geom_type == "Point"].set_index("id").geometry
    got = result.gdf.set_index("id").geometry
    for fid, geom in expected.items():
        assert got[fid].distance(geom) < 1e-7


def test_prefixed_gauss_kruger_csv_is_recognised(tmp_path: Path, features: gpd.GeoDataFrame) -> None:
    code = config.GK_ZONES[36]["prefix"]
    path = export_features(features, "csv", tmp_path / "prefixed.csv", crs=code).path
    result = read_path(path)
    assert (result.source_crs, result.crs_origin) == (code, "file")  # the export names its CRS in a column
    assert feature_differences(features, to_features(result)) == []
    # Without that column (a GIS team's own table), the coordinates alone tell the zone and its prefix.
    import pandas as pd

    table = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False).drop(columns="crs")
    bare = tmp_path / "bare.csv"
    table.to_csv(bare, index=False, encoding="utf-8-sig")
    result = read_path(bare)
    assert (result.source_crs, result.crs_origin) == (code, "guess")
    assert not result.crs_ambiguous
    assert feature_differences(features, to_features(result)) == []


def test_lon_lat_from_amap_is_recognised_by_name_and_converted(features: gpd.GeoDataFrame) -> None:
    c = anchor()
    gx, gy = wgs84_to_gcj02(c.x, c.y)
    text = f"name,lon,lat\n测试点,{gx!r},{gy!r}\n"
    result = read_upload(text.encode("utf-8"), "高德拾取坐标.csv")
    assert result.source_crs == "gcj02" and result.crs_origin == "guess"
    point = result.gdf.geometry.iloc[0]
    assert point.distance(c) < 1e-7
    plain = read_upload(text.encode("utf-8"), "points.csv")
    assert plain.source_crs == config.WGS84 and plain.crs_ambiguous  # ask the user: could be GCJ-02
    assert any("GCJ-02" in w for w in plain.warnings)


def test_user_crs_wins_over_the_guess() -> None:
    c = anchor()
    gx, gy = wgs84_to_gcj02(c.x, c.y)
    result = read_upload(f"name,lon,lat\n测试点,{gx!r},{gy!r}\n".encode(), "points.csv", crs="gcj02")
    assert result.crs_origin == "user"
    wx, wy = gcj02_to_wgs84(gx, gy)
    assert result.gdf.geometry.iloc[0].distance(Point(wx, wy)) < 1e-9


def test_swapped_lon_lat_is_named() -> None:
    c = anchor()
    with pytest.raises(ImportRejected, match="填反"):
        read_upload(f"name,lon,lat\n测试点,{c.y},{c.x}\n".encode(), "swapped.csv")


def test_crs_suggestions_cover_zones_with_and_without_prefix() -> None:
    c = anchor()
    from pyproj import Transformer

    for key in ("no_prefix", "prefix"):
        code = config.GK_ZONES[36][key]
        x, y = Transformer.from_crs(config.WGS84, code, always_xy=True).transform(c.x, c.y)
        assert suggest_crs(np.array([[x, y]]))[0].code == code
    assert suggest_crs(np.array([[c.x, c.y]]))[0].code == config.WGS84


# --- repair and formats -----------------------------------------------------------------------------------------------


def test_invalid_polygon_is_repaired_with_a_report() -> None:
    c = anchor()
    d = 0.01
    bowtie = Polygon([(c.x, c.y), (c.x + d, c.y + d), (c.x + d, c.y), (c.x, c.y + d)])
    assert not bowtie.is_valid
    doc = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"name": "蝴蝶面"}, "geometry": shapely.geometry.mapping(bowtie)}
        ],
    }
    result = read_upload(json.dumps(doc).encode(), "bowtie.geojson")
    assert result.gdf.geometry.iloc[0].is_valid
    assert len(result.repairs) == 1 and "蝴蝶面" in result.repairs[0] and "已自动修复" in result.repairs[0]


def test_kmz_is_read(tmp_path: Path, features: gpd.GeoDataFrame) -> None:
    kml = export_features(features, "kml", tmp_path / "doc.kml").path
    kmz = tmp_path / "plan.kmz"
    with zipfile.ZipFile(kmz, "w") as zf:
        zf.write(kml, arcname="doc.kml")
    assert feature_differences(features, to_features(read_path(kmz))) == []


def test_foreign_layer_is_not_taken_for_plan_features() -> None:
    c = anchor()
    result = read_upload(f"name,lon,lat\n测试点,{c.x},{c.y}\n".encode(), "points.csv")
    with pytest.raises(ImportRejected, match="不是本系统导出的规划要素"):
        to_features(result)


# --- matching ---------------------------------------------------------------------------------------------------


def _gis_team_points(features: gpd.GeoDataFrame) -> bytes:
    """A GIS team's point file: one point named like a plan entity, one carrying an entity id, one unknown."""
    c = anchor()
    rows = [
        ("", "黎明村", c.x + 0.002, c.y + 0.002),  # same name as g-dv-001
        ("g-belt-001", "柑橘带起点", c.x - 0.002, c.y),  # our id, another name
        ("", "无此地", c.x, c.y - 0.002),
    ]
    text = "id,名称,lon,lat\n" + "".join(f"{i},{n},{x!r},{y!r}\n" for i, n, x, y in rows)
    return text.encode("utf-8")


def test_imported_points_are_matched_by_id_and_name(features: gpd.GeoDataFrame) -> None:
    result = read_upload(_gis_team_points(features), "gis_team.csv", crs="wgs84")
    matches, notes = match_by_name(result, features)
    found = {(m.imported_name, m.entity_id, m.method) for m in best_matches(matches)}
    assert ("黎明村", "g-dv-001", "name") in found
    assert ("g-belt-001", "g-belt-001", "id") in found or ("柑橘带起点", "g-belt-001", "id") in found
    assert any("无此地" in n for n in notes)


def test_saved_matches_become_exact_locations_in_the_store(
    tmp_path: Path, features: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame
) -> None:
    result = read_upload(_gis_team_points(features), "gis_team.csv", crs="wgs84")
    matches, _ = match_by_name(result, features)
    store = open_store(str(tmp_path / "edits.gpkg"))
    saved = save_matches(best_matches(matches), store=store, who="测试GIS", imported=result, boundaries=boundaries)
    assert {s.item_id for s in saved} == {"g-dv-001", "g-belt-001"}
    c = anchor()
    item = store.get("g-dv-001")
    assert item.precision == "exact" and abs(item.geometry.x - (c.x + 0.002)) < 1e-12
    (change,) = store.history("g-dv-001")
    assert (change.how, change.source_file, change.source_row, change.who) == ("imported", "gis_team.csv", 2, "测试GIS")


def test_a_match_outside_its_county_saves_nothing(
    tmp_path: Path, features: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame
) -> None:
    result = read_upload(_gis_team_points(features), "gis_team.csv", crs="wgs84")
    good = best_matches(match_by_name(result, features)[0])
    moved = shapely.affinity.translate(good[0].geometry, xoff=3.0)  # out of the county
    far = dataclasses.replace(good[0], lon=good[0].lon + 3.0, geometry=moved)
    store = open_store(str(tmp_path / "edits.gpkg"))
    with pytest.raises(ImportRejected, match="未写入任何几何"):
        save_matches([*good[1:], far], store=store, who="测试GIS", imported=result, boundaries=boundaries)
    assert store.count("items") == 0 and store.count("history") == 0


def _team_layer(features: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A GIS team's layer of a line, an area and a point near the sample plan's anchor (test data)."""
    c = anchor()
    line = LineString([(c.x - 0.01, c.y), (c.x + 0.01, c.y + 0.005)])
    area = Polygon([(c.x, c.y), (c.x + 0.01, c.y), (c.x + 0.01, c.y + 0.01), (c.x, c.y + 0.01)])
    return gpd.GeoDataFrame(
        {"名称": ["柑橘产业带", "测试无名", "黎明村"], "XZQDM": [None, "500235123000", "500235123456"]},
        geometry=[line, area, Point(c.x, c.y)],
        crs="EPSG:4326",
    )


def test_lines_and_areas_are_matched_and_saved_as_they_are(
    tmp_path: Path, features: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame
) -> None:
    layer = _team_layer(features)
    matches, notes = match_by_name(layer, features, name_field="名称")
    kinds = {m.entity_id: m.kind for m in best_matches(matches)}
    belt = next(m for m in matches if m.imported_name == "柑橘产业带")
    assert kinds.get(belt.entity_id) == "线"
    store = open_store(str(tmp_path / "edits.gpkg"))
    save_matches([belt], store=store, who="测试GIS", boundaries=boundaries)
    assert store.get(belt.entity_id).geometry.equals(layer.geometry.iloc[0])


def test_official_codes_match_places_that_carry_one(features: gpd.GeoDataFrame) -> None:
    from gisio.match import entity_codes, guess_code_field, normalise_code

    assert normalise_code("500235123") == "500235123000" and normalise_code(500235123456.0) == "500235123456"
    assert normalise_code("5002351") is None and normalise_code(None) is None
    layer = _team_layer(features)
    assert guess_code_field(layer) == "XZQDM"
    # the feature table's codes (test codes): the village's own code identifies its item; a table without codes
    # gives no code matches and matching by name goes on as before
    coded = features.copy()
    coded["codes"] = [
        [
            {"place": "双河镇", "code": "500235123", "official_name": "双河镇"},
            {"place": "黎明村", "code": "500235123456", "official_name": "黎明村村委会"},
        ]
        if fid == "g-dv-001"
        else []
        for fid in coded["id"]
    ]
    uncoded = coded.drop(columns=["codes"])
    assert entity_codes(coded) == {"500235123456": ["g-dv-001"]}
    assert entity_codes(uncoded) == {}
    layer.loc[1, "XZQDM"] = "500235123456"  # an area named nothing like a plan item: only its code can match
    matches, _ = match_by_name(layer, coded, name_field="名称")
    by_code = [m for m in matches if m.method == "code"]
    assert [(m.row, m.entity_id, m.kind) for m in by_code] == [(1, "g-dv-001", "面"), (2, "g-dv-001", "点")]
    matches, _ = match_by_name(layer, uncoded, name_field="名称")
    assert not [m for m in matches if m.method == "code"] and any(m.imported_name == "黎明村" for m in matches)


def test_an_import_whose_crs_is_uncertain_saves_nothing(
    tmp_path: Path, features: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame
) -> None:
    from gisio.normalise import CrsCandidate

    result = read_upload(_gis_team_points(features), "gis_team.csv", crs="wgs84")
    guessed = dataclasses.replace(
        result,
        crs_origin="guess",
        source_crs="EPSG:4545",
        crs_candidates=(CrsCandidate("EPSG:4545", "第36带", "推断"), CrsCandidate("EPSG:4546", "第37带", "推断")),
    )
    assert guessed.crs_ambiguous
    store = open_store(str(tmp_path / "edits.gpkg"))
    with pytest.raises(ImportRejected, match="无法确定该图层的坐标系"):
        save_matches(best_matches(match_by_name(guessed, features)[0]), store=store, who="测试GIS", imported=guessed)
    assert store.count("history") == 0
