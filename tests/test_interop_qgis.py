"""Interop tier: every export of every shipped plan opened in QGIS 3.22 the way desktop QGIS opens a file.

Sublayers are listed with geometry types resolved (what the "add layer" dialog offers), so a layer that mixed
types or dropped the rows without geometry would show here as missing items.  ``make test`` installs QGIS
(python3-qgis) when it is missing; without it these tests fail and say how to install it.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from interop_support import FIXTURE, by_key, cases, layers_of

import config

pytestmark = pytest.mark.interop

SPATIAL_FORMATS = ("gpkg", "shp", "geojson", "kml")
STYLED_FORMATS = ("gpkg", "shp", "geojson")


@pytest.mark.parametrize("key", cases())
def test_every_item_of_the_plan_reaches_qgis(key: str, interop_exports: tuple[Any, ...], qgis_report: dict) -> None:
    export = by_key(interop_exports, key)
    target = f"{key}/project" if export.fmt == "qgis" else key
    layers = [layer for layer in layers_of(qgis_report, target) if layer["name"] in export.item_layers]
    assert sorted(layer["name"] for layer in layers) == sorted(export.item_layers), "an item layer did not open"
    assert all(layer["valid"] for layer in layers)
    ids = [i for layer in layers for i in layer["ids"]]
    twice = [i for i, n in Counter(ids).items() if n > 1]
    assert twice == [], f"items in two layers: {twice[:5]}"
    assert sorted(ids) == sorted(export.ids), f"QGIS shows {len(ids)} of the plan's {len(export.ids)} items"
    assert sum(layer["features"] for layer in layers) == len(export.ids)


@pytest.mark.parametrize("key", cases(SPATIAL_FORMATS))
def test_qgis_recognises_the_epsg_code(key: str, interop_exports: tuple[Any, ...], qgis_report: dict) -> None:
    export = by_key(interop_exports, key)
    spatial = [layer for layer in layers_of(qgis_report, key) if layer["spatial"]]
    assert spatial
    expected = config.WGS84 if export.fmt in ("geojson", "kml") else export.crs
    assert {layer["crs"] for layer in spatial} == {expected}
    if not key.endswith("-gk") and export.fmt in ("gpkg", "shp"):
        assert expected == config.CGCS2000  # the default


def _colours(rule: dict[str, Any]) -> set[str]:
    """Every colour a rule's symbol layers use (fill and outline), as #rrggbb."""
    out = set()
    for layer in rule["symbol"]:
        out.add(layer["color"].lower())
        if "outline_color" in layer:
            r, g, b, *_ = (int(v) for v in layer["outline_color"].split(","))
            out.add(f"#{r:02x}{g:02x}{b:02x}")
    return out


@pytest.mark.parametrize("key", [*cases(STYLED_FORMATS), *(f"{c}/project" for c in cases(("qgis",), gk=False))])
def test_styles_and_chinese_aliases_are_applied(key: str, interop_exports: tuple[Any, ...], qgis_report: dict) -> None:
    export = by_key(interop_exports, key.removesuffix("/project"))
    layers = {layer["name"]: layer for layer in layers_of(qgis_report, key)}
    for name in export.item_layers:
        layer = layers[name]
        assert layer["aliases"].get("name") == "名称" and layer["aliases"].get("id") == "编号", name
        if not layer["spatial"]:
            continue
        category = export.categories[layer["ids"][0]]
        colour = config.category_color(category).lower()
        renderer = layer["renderer"]
        assert renderer and renderer["type"] == "RuleRenderer", f"{name}: no default style applied ({renderer})"
        for rule in renderer["rules"]:
            assert colour in _colours(rule), f"{name}: rule {rule['label']} lacks the category colour {colour}"
            approximate = rule["label"].startswith("近似位置")
            dashed = any("dash" in (s.get("outline_style", "") + s.get("line_style", "")) for s in rule["symbol"])
            assert dashed == approximate, f"{name}: rule {rule['label']} dashed={dashed}"
    if export.fmt in ("gpkg", "qgis"):
        title = "区县边界" if export.fmt == "qgis" else "boundaries"
        boundary = layers[title]
        assert boundary["renderer"]["type"] == "singleSymbol" and boundary["labels"]
        assert boundary["renderer"]["rules"][0]["symbol"][0]["style"] == "no"  # outline only, never a fill
        assert boundary["aliases"]["adcode"] == "行政区划代码"
        assert {"adcode", "name", "level"} <= set(boundary["fields"])


@pytest.mark.parametrize("key", [f"{c}/project" for c in cases(("qgis",), gk=False)])
def test_qgis_project_loads_without_errors_with_its_print_layout(
    key: str, interop_exports: tuple[Any, ...], qgis_report: dict
) -> None:
    export = by_key(interop_exports, key.removesuffix("/project"))
    project = qgis_report["targets"][key]
    assert project["read_ok"] and project["error"] == "" and project["bad_layers"] == []
    assert project["crs"] == export.crs == config.CGCS2000 and project["ellipsoid"] == "EPSG:1024"
    assert not project["absolute_paths"]  # the .qgz finds the GeoPackage beside it wherever it is unzipped
    names = {layer["name"] for layer in project["layers"]}
    assert {"区县边界", "市界（重庆市）", "数据字典", "数据说明"} <= names
    (layout,) = project["layouts"]
    for item in ("QgsLayoutItemMap", "QgsLayoutItemLegend", "QgsLayoutItemScaleBar", "QgsLayoutItemPicture"):
        assert layout["items"].get(item) == 1, item
    assert layout["items"].get("QgsLayoutItemLabel", 0) >= 2  # title and source note
    if export.county != FIXTURE:
        assert any(layer["spatial"] and layer["features"] for layer in project["layers"])


@pytest.mark.parametrize("key", cases(("shp",)))
def test_qgis_reads_the_sld_beside_every_shapefile(
    key: str, interop_exports: tuple[Any, ...], qgis_report: dict
) -> None:
    export = by_key(interop_exports, key)
    spatial = [
        layer for layer in layers_of(qgis_report, key) if layer["spatial"] and layer["name"] in export.item_layers
    ]
    assert spatial
    for layer in spatial:
        sld = layer.get("sld")
        assert sld and sld["ok"], f"{layer['name']}: {sld}"
        assert sld["renderer"]["type"] in ("RuleRenderer", "singleSymbol")
        colour = config.category_color(export.categories[layer["ids"][0]]).lower()
        assert any(colour in _colours(rule) for rule in sld["renderer"]["rules"])
