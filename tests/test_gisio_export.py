"""Exports: every format round-trips through the importer; GeoJSON is RFC 7946; Shapefile limits hold."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import geopandas as gpd
import pyogrio
import pytest
import shapely

import config
from geo.boundaries import load_boundaries
from gisio.errors import GisIOError
from gisio.export import FeatureFilter, export_bytes, export_features, resolve_crs, select_features
from gisio.read import read_path
from gisio.reimport import to_features
from gisio.rfc7946 import rfc7946_problems
from gisio.shapefile import SHP_FIELDS, SHP_MAX_BYTES
from gisio.tabular import CELL_LIMIT
from layers.htmlmap import map_html
from tests.fixtures.gisio.samples import feature_differences, sample_features


def _bound_html(page: str) -> list[str]:
    """The HTML strings passed to bindPopup/bindTooltip (JSON-encoded in the page), decoded."""
    return [json.loads(m.group(1)) for m in re.finditer(r'\.bind(?:Popup|Tooltip)\(("(?:[^"\\]|\\.)*")', page)]


@pytest.fixture(scope="module")
def features() -> gpd.GeoDataFrame:
    return sample_features()


@pytest.fixture(scope="module")
def boundaries() -> gpd.GeoDataFrame:
    return load_boundaries("display")


ROUND_TRIPS = [
    ("geojson", None, None),
    ("gpkg", None, None),
    ("gpkg", "4490", None),
    ("gpkg", "gk", None),
    ("shp", None, None),
    ("shp", "4490", None),
    ("shp", "gk", None),
    ("kml", None, None),
    ("csv", None, None),
    ("csv", "gk", "EPSG:4545"),  # a CSV has no CRS metadata: the GIS team tells us (or we suggest, see import tests)
]


@pytest.mark.parametrize(("fmt", "crs", "read_crs"), ROUND_TRIPS, ids=[f"{f}-{c or '4326'}" for f, c, _ in ROUND_TRIPS])
def test_export_then_import_gives_back_the_same_features(
    tmp_path: Path,
    features: gpd.GeoDataFrame,
    boundaries: gpd.GeoDataFrame,
    fmt: str,
    crs: str | None,
    read_crs: str | None,
) -> None:
    result = export_features(features, fmt, tmp_path / f"plan.{fmt}", crs=crs, boundaries=boundaries)
    assert result.count == len(features)
    imported = read_path(result.path, crs=read_crs)
    assert imported.source_crs == result.crs
    back = to_features(imported)
    assert feature_differences(features, back) == []
    assert back.crs == config.WGS84


def test_geojson_is_a_zip_of_rfc7946_layers_with_the_unlocated_items_in_their_own_file(
    tmp_path: Path, features: gpd.GeoDataFrame
) -> None:
    # Make the polygon's exterior clockwise: the writer must turn it counter-clockwise.
    clockwise = features.copy()
    clockwise["geometry"] = [
        g if g is None else shapely.orient_polygons(g, exterior_cw=True) for g in features.geometry
    ]
    result = export_features(clockwise, "geojson", tmp_path / "plan.geojson")
    assert result.path.suffix == ".zip" and result.crs == config.WGS84
    with zipfile.ZipFile(result.path) as zf:
        docs = {n: json.loads(zf.read(n)) for n in zf.namelist() if n.endswith(".geojson")}
        names = set(zf.namelist())
    assert set(docs) == set(result.item_layers)
    assert {"数据说明.txt", "数据字典.csv"} <= names
    by_id = {}
    for name, doc in docs.items():
        assert rfc7946_problems(doc) == [], name
        assert "crs" not in doc
        kinds = {f["geometry"]["type"] if f["geometry"] else None for f in doc["features"]}
        assert len(kinds) == 1, f"{name} mixes {kinds}"  # one geometry type per file
        if name.endswith("_nogeom.geojson"):
            assert kinds == {None}
        else:
            assert name.replace(".geojson", ".qml") in names and name.replace(".geojson", ".sld") in names
        for feat in doc["features"]:
            assert feat["id"] not in by_id
            by_id[feat["id"]] = feat
    assert sorted(by_id) == sorted(features["id"])  # every item exactly once
    assert by_id["g-rs-001"]["geometry"] is None and by_id["g-oth-001"]["geometry"] is None
    assert by_id["g-dv-001"]["properties"]["places"] == ["双河镇", "黎明村"]
    assert by_id["g-dv-001"]["properties"]["source"]["lines"] == [3, 3]
    assert by_id["g-dv-001"]["properties"]["fig1_value"] == 1.2
    assert {
        "id",
        "name",
        "category",
        "county",
        "county_name",
        "designation",
        "places",
        "attributes",
        "precision",
        "source",
        "reason",
        "location_source",
        "codes",
        "located_by",
        "located_at",
        "located_how",
        "located_note",
    } <= set(by_id["g-dv-001"]["properties"])


def test_rfc7946_checker_finds_clockwise_rings_crs_members_and_bad_positions() -> None:
    ring = [[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]]  # clockwise
    doc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "EPSG:4545"}},
        "features": [
            {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [ring]}},
            {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [500000.0, 3.3e6]}},
        ],
    }
    problems = rfc7946_problems(doc)
    assert any("crs member" in p for p in problems)
    assert any("clockwise" in p for p in problems)
    assert any("not WGS84" in p for p in problems)


def test_shapefile_zip_has_one_file_per_category_and_geometry_type_styles_and_field_map(
    tmp_path: Path, features: gpd.GeoDataFrame
) -> None:
    result = export_features(features, "shp", tmp_path / "plan.zip")
    with zipfile.ZipFile(result.path) as zf:
        names = set(zf.namelist())
        readme = zf.read("FIELDS.txt").decode("utf-8")
        cpgs = {n: zf.read(n).decode("ascii").strip() for n in names if n.endswith(".cpg")}
        qml = zf.read("plan_demo_village_point.qml").decode("utf-8")
    shps = sorted(n for n in names if n.endswith(".shp"))
    assert shps == [
        "plan_demo_town_point.shp",
        "plan_demo_village_point.shp",
        "plan_ecological_polygon.shp",
        "plan_industrial_belt_line.shp",
    ]
    assert list(result.item_layers) == [*[s for s in result.layers if s.endswith(".shp")], "plan_nogeom.dbf"]
    for shp in shps:  # a QGIS default style and an SLD beside every shapefile
        assert shp.replace(".shp", ".qml") in names and shp.replace(".shp", ".sld") in names
    assert 'name="名称"' in qml and 'field="cat_label"' in qml and "RuleRenderer" in qml
    assert {"plan_nogeom.dbf", "plan_full.csv", "plan_attributes.csv", "数据字典.csv", "数据说明.txt"} <= names
    assert cpgs and set(cpgs.values()) == {"UTF-8"}
    for prop, fieldname in SHP_FIELDS.items():
        assert len(fieldname) <= 10
        assert re.search(rf"{re.escape(prop)}\s+-> {fieldname}\b", readme)
    docs = (Path(__file__).resolve().parent.parent / "docs" / "shapefile_fields.md").read_text(encoding="utf-8")
    for prop, fieldname in SHP_FIELDS.items():
        assert f"`{fieldname}`" in docs and f"`{prop}`" in docs


def test_shapefile_alone_cuts_long_text_at_254_bytes_and_sidecar_restores_it(
    tmp_path: Path, features: gpd.GeoDataFrame
) -> None:
    path = export_features(features, "shp", tmp_path / "plan.zip").path
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(path) as zf:
        zf.extractall(unpacked)
    point_layer = gpd.read_file(unpacked / "plan_demo_village_point.shp")
    attrs = point_layer.set_index("id").loc["g-dv-001", "attrs"]
    assert len(attrs.encode("utf-8")) <= SHP_MAX_BYTES and attrs.endswith("…")
    # Without the sidecar the truncated JSON cannot become the feature table again: a clear error, not garbage.
    bare = tmp_path / "bare.zip"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bare, "w") as dst:
        for item in src.namelist():
            if not item.endswith("_full.csv"):
                dst.writestr(item, src.read(item))
    with pytest.raises(GisIOError, match="被截断"):
        to_features(read_path(bare))
    # With it, the full value is back.
    back = to_features(read_path(path)).set_index("id")
    assert back.loc["g-dv-001", "attributes"] == features.set_index("id").loc["g-dv-001", "attributes"]


def test_gpkg_has_single_type_item_layers_a_no_geometry_table_boundaries_and_tables(
    tmp_path: Path, features: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame
) -> None:
    import pandas as pd

    indicators = pd.DataFrame({"county": ["500235"], "indicator": ["测试指标"], "base_value": [1.0]})
    result = export_features(features, "gpkg", tmp_path / "plan.gpkg", boundaries=boundaries, indicators=indicators)
    assert result.crs == config.CGCS2000  # the default
    listed = dict(pyogrio.list_layers(result.path))
    assert list(result.item_layers) == [
        "demo_town_point",
        "demo_village_point",
        "industrial_belt_line",
        "ecological_polygon",
        "no_geometry",
    ]
    assert listed["demo_town_point"] == "MultiPoint" and listed["demo_village_point"] == "Point"
    assert listed["no_geometry"] is None  # an attribute table: no geometry column
    ids = []
    for layer in result.item_layers:
        ids += list(pyogrio.read_dataframe(result.path, layer=layer, read_geometry=False)["id"])
    assert sorted(ids) == sorted(features["id"])  # every item exactly once
    districts = pyogrio.read_dataframe(result.path, layer="boundaries")
    municipality = pyogrio.read_dataframe(result.path, layer="municipality")
    assert set(districts["level"]) == {"county"} and config.MUNICIPAL_ADCODE not in set(districts["adcode"])
    assert list(municipality["adcode"]) == [config.MUNICIPAL_ADCODE] and set(municipality["level"]) == {"province"}
    assert {"adcode", "name", "level"} <= set(districts.columns)
    for table in ("indicators", "attributes", "data_dictionary", "readme"):
        assert listed[table] is None
    table = pyogrio.read_dataframe(result.path, layer="attributes")
    assert set(table["feature_id"]) == {"g-dv-001", "g-belt-001", "g-rs-001"}


def test_gk_zone_is_suggested_from_the_data(features: gpd.GeoDataFrame) -> None:
    code = resolve_crs("gk", features)
    zone = next(z for z, c in config.GK_ZONES.items() if c["no_prefix"] == code)
    minx, _, maxx, _ = features.dropna(subset=["geometry"]).total_bounds
    assert abs((minx + maxx) / 2 - float(config.GK_ZONES[zone]["cm"])) <= 1.5


@pytest.mark.parametrize("fmt", ["geojson", "kml", "html"])
def test_wgs84_only_formats_refuse_other_crs(tmp_path: Path, features: gpd.GeoDataFrame, fmt: str) -> None:
    with pytest.raises(GisIOError, match="WGS84"):
        export_features(features, fmt, tmp_path / f"x.{fmt}", crs="4490")
    assert not list(tmp_path.iterdir())


def test_failed_export_leaves_nothing_behind(tmp_path: Path, features: gpd.GeoDataFrame, monkeypatch) -> None:
    import gisio.export as export

    target = tmp_path / "plan.gpkg"
    target.write_bytes(b"previous export")

    def broken(*_args: object, **_kwargs: object) -> list[str]:
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(export, "write_gpkg", broken)
    with pytest.raises(GisIOError, match="disk full"):
        export_features(features, "gpkg", target)
    assert target.read_bytes() == b"previous export"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.gpkg"]


def test_filter_of_the_app_selects_rows(features: gpd.GeoDataFrame) -> None:
    flt = FeatureFilter.parse(["precision=town,exact", "name~新华"])
    assert list(select_features(features, feature_filter=flt)["id"]) == ["g-dv-002"]
    assert list(select_features(features, layers=["ecological"])["id"]) == ["g-eco-001"]
    assert len(select_features(features, feature_filter=FeatureFilter(located_only=True))) == 5
    with pytest.raises(GisIOError, match="未知的筛选键"):
        FeatureFilter.parse(["colour=red"])
    with pytest.raises(GisIOError, match="不是有效的 precision"):
        FeatureFilter.parse(["precision=somewhere"])


def test_html_export_is_self_contained_and_escapes_names(
    tmp_path: Path, features: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame
) -> None:
    risky = features.copy()
    risky.loc[risky["id"] == "g-dv-002", "name"] = '<img src=x onerror="alert(1)">'
    html = map_html(risky, boundaries=boundaries, title="测试<标题>")
    path = export_features(risky, "html", tmp_path / "map.html", boundaries=boundaries, html=html).path
    page = path.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", page)
    assert not re.search(r"<link[^>]+href=[\"']?(https?:)?//", page)
    assert "L.map(" in page and "leaflet" in page.lower()
    assert "<img src=x" not in page
    bound = _bound_html(page)
    assert any("&lt;img src=x onerror=" in text for text in bound)
    assert not any("<img" in text for text in bound)
    assert "测试&lt;标题&gt;" in page


def test_csv_has_lon_lat_the_crs_and_a_bom_for_excel(tmp_path: Path, features: gpd.GeoDataFrame) -> None:
    raw = export_features(features, "csv", tmp_path / "plan.csv").path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert {"lon", "lat", "crs", "geometry_wkt", "geometry_note", "id", "name", "fig1_value"} <= set(rows[0])
    assert "wkt" not in rows[0]  # GDAL, so QGIS, would take a column named WKT as the geometry and drop the rest
    assert {r["crs"] for r in rows} == {config.CGCS2000}
    assert len(rows) == len(features)


def test_gauss_kruger_columns_are_named_northing_and_easting_and_state_the_zone(
    tmp_path: Path, features: gpd.GeoDataFrame
) -> None:
    result = export_features(features, "csv", tmp_path / "plan.csv", crs="gk")
    rows = list(csv.DictReader(io.StringIO(result.path.read_text(encoding="utf-8-sig"))))
    assert {"northing", "easting"} <= set(rows[0]) and not {"x", "y", "lon", "lat"} & set(rows[0])
    row = next(r for r in rows if r["id"] == "g-dv-002")
    # Chongqing lies about 3.2-3.6 million metres north of the equator; eastings are 6-digit without the zone.
    assert 3.0e6 < float(row["northing"]) < 3.8e6 and 2.0e5 < float(row["easting"]) < 8.0e5
    assert {r["crs"] for r in rows} == {result.crs} and result.crs in {z["no_prefix"] for z in config.GK_ZONES.values()}


def test_kml_has_a_folder_per_layer_and_one_for_items_without_geometry(
    tmp_path: Path, features: gpd.GeoDataFrame
) -> None:
    result = export_features(features, "kml", tmp_path / "plan.kml")
    root = ET.parse(result.path).getroot()
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    folders = {f.findtext("k:name", namespaces=ns): f for f in root.iter("{http://www.opengis.net/kml/2.2}Folder")}
    assert list(folders) == list(result.item_layers)
    nogeom = folders["全域与未定位条目（无几何）"]
    marks = nogeom.findall("k:Placemark", ns)
    assert {m.get("id") for m in marks} == {"g-rs-001", "g-oth-001"}
    assert all(m.find("k:Point", ns) is None and m.find("k:MultiGeometry", ns) is None for m in marks)
    doc = root.find("k:Document", ns)
    tags = [child.tag.split("}")[1] for child in doc]
    assert tags.index("Schema") > max(i for i, t in enumerate(tags) if t == "Style")  # the schema's order
    assert b"&lt;b&gt;" in result.path.read_bytes()


def test_export_bytes_names_the_download(features: gpd.GeoDataFrame) -> None:
    data, name, mime = export_bytes(features, "shp")
    assert name == "rrmap_500235_shp.zip" and mime == "application/zip" and data[:2] == b"PK"
    assert export_bytes(features, "gpkg")[1] == "rrmap_500235.gpkg"


def test_points_and_multipoints_in_one_category_keep_their_types(tmp_path: Path, features: gpd.GeoDataFrame) -> None:
    mixed = features.copy()
    single = mixed.loc[mixed["id"] == "g-dv-002", "geometry"].iloc[0]
    mixed.loc[mixed["id"] == "g-dv-002", "geometry"] = shapely.MultiPoint([single, (single.x + 0.001, single.y)])
    for fmt in ("gpkg", "shp"):
        back = to_features(read_path(export_features(mixed, fmt, tmp_path / f"mixed.{fmt}").path))
        assert feature_differences(mixed, back) == []


def test_csv_carries_polygons_that_fit_a_cell_and_notes_those_that_do_not(
    tmp_path: Path, features: gpd.GeoDataFrame
) -> None:
    detailed = features.copy()
    centre = detailed.loc[detailed["id"] == "g-eco-001", "geometry"].iloc[0].centroid
    detailed.loc[detailed["id"] == "g-eco-001", "geometry"] = centre.buffer(0.02, quad_segs=100)  # 400 vertices
    back = to_features(read_path(export_features(detailed, "csv", tmp_path / "fits.csv").path))
    assert feature_differences(detailed, back) == []
    detailed.loc[detailed["id"] == "g-eco-001", "geometry"] = centre.buffer(0.02, quad_segs=2500)  # 10k vertices
    path = export_features(detailed, "csv", tmp_path / "big.csv").path
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig")))}
    assert rows["g-eco-001"]["geometry_wkt"] == "" and "超过电子表格单元格上限" in rows["g-eco-001"]["geometry_note"]
    assert max(len(v) for r in rows.values() for v in r.values()) <= CELL_LIMIT
    # The representative point stays: inside the shape.
    point = shapely.Point(float(rows["g-eco-001"]["lon"]), float(rows["g-eco-001"]["lat"]))
    assert detailed.loc[detailed["id"] == "g-eco-001", "geometry"].iloc[0].contains(point)


def test_imported_layer_is_drawn_with_escaped_labels() -> None:
    import folium

    from layers.htmlmap import imported_layer
    from tests.fixtures.gisio.samples import anchor

    c = anchor()
    gdf = gpd.GeoDataFrame({"名称": ["<script>x</script>"]}, geometry=[c], crs=config.WGS84)
    fmap = folium.Map(tiles=None)
    imported_layer(gdf, label_field="名称").add_to(fmap)
    page = fmap.get_root().render()
    assert "L.circleMarker(" in page
    # one data-driven layer carries the points: [style, [[lat, lng, tooltip, popup], ...], options, options]
    found = re.findall(r"var imported_points_\w+ = \(function \(data\) \{.*?\}\)\((.*?)\);\n", page, flags=re.S)
    (row,) = json.loads(found[0])[1]
    assert row[2] == "&lt;script&gt;x&lt;/script&gt;"  # the tooltip: the label, escaped
    assert "<script>" not in row[3] and "&lt;script&gt;" in row[3]  # the popup lists the attributes, escaped
    assert "<script>x" not in page
