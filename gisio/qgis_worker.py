"""Build a QGIS project (.qgz) from a delivery GeoPackage — run by Debian's Python with PyQGIS, not by the app.

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 gisio/qgis_worker.py SPEC.json

``SPEC.json`` (written by :func:`gisio.qgis_project.build_project`) names the GeoPackage, the .qgz to write, the title,
the CRS, the extent (in that CRS) and the layers in layer-tree order with their Chinese names and groups.  The
project holds the layers with the GeoPackage's default styles (``layer_styles``), no basemap, the CRS and the
CGCS2000 ellipsoid for measurements, and one A4 landscape print layout with title, map, legend, scale bar (km),
north arrow and a source note.  The GeoPackage path is stored relative to the .qgz.  Optionally the layout is
exported as PNG (``png``, ``dpi``).  Prints a JSON summary on stdout; exits non-zero with a message on stderr.

This module imports only the standard library and QGIS: it runs outside the app's virtual environment.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsLayerMetadata,
    QgsLayoutExporter,
    QgsLayoutItemLabel,
    QgsLayoutItemLegend,
    QgsLayoutItemMap,
    QgsLayoutItemPage,
    QgsLayoutItemPicture,
    QgsLayoutItemScaleBar,
    QgsLayoutPoint,
    QgsLayoutSize,
    QgsLegendStyle,
    QgsPrintLayout,
    QgsProject,
    QgsRectangle,
    QgsUnitTypes,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QFile
from qgis.PyQt.QtGui import QFont

CGCS2000_ELLIPSOID = "EPSG:1024"
NORTH_ARROW = ":/images/north_arrows/layout_default_north_arrow.svg"  # what "Add North Arrow" uses
NORTH_ARROW_FALLBACK = "/usr/share/qgis/svg/arrows/NorthArrow_02.svg"
FONT = "Noto Sans CJK SC"


def _font(size: int, bold: bool = False) -> QFont:
    font = QFont(FONT)
    font.setPointSize(size)
    font.setBold(bold)
    return font


def _label(layout: QgsPrintLayout, text: str, *, x: float, y: float, w: float, h: float, size: int) -> None:
    label = QgsLayoutItemLabel(layout)
    label.setText(text)
    label.setFont(_font(size, bold=size >= 16))  # QGIS 3.22: setFont (setTextFormat arrives in 3.24)
    layout.addLayoutItem(label)
    label.attemptMove(QgsLayoutPoint(x, y))
    label.attemptResize(QgsLayoutSize(w, h))


def build(spec: dict[str, Any]) -> dict[str, Any]:
    """Write the project described by ``spec``; returns a summary (layers, invalid ones, layout items)."""
    gpkg = os.path.abspath(spec["gpkg"])
    qgz = os.path.abspath(spec["qgz"])
    project = QgsProject.instance()
    project.clear()
    project.setTitle(spec["title"])
    crs = QgsCoordinateReferenceSystem(spec["crs"])
    if not crs.isValid():
        raise ValueError(f"QGIS does not know the CRS {spec['crs']}")
    project.setCrs(crs)
    project.setEllipsoid(CGCS2000_ELLIPSOID)  # distances and the scale bar in metres, also on a geographic CRS
    project.setDistanceUnits(QgsUnitTypes.DistanceKilometers)
    meta = project.metadata()
    meta.setTitle(spec["title"])
    meta.setAbstract("\n".join([spec.get("abstract", ""), *spec.get("rights", [])]))
    meta.setAuthor(spec.get("author", ""))
    project.setMetadata(meta)

    root = project.layerTreeRoot()
    groups: dict[str, Any] = {}
    layers: list[QgsVectorLayer] = []
    invalid: list[str] = []
    for entry in spec["layers"]:
        layer = QgsVectorLayer(f"{gpkg}|layername={entry['table']}", entry["title"], "ogr")  # default style applied
        if not layer.isValid():
            invalid.append(entry["table"])
            continue
        md = QgsLayerMetadata()
        md.setTitle(entry["title"])
        md.setAbstract(entry.get("description", ""))
        layer.setMetadata(md)
        project.addMapLayer(layer, False)
        group_name = entry.get("group") or ""
        if group_name not in groups:
            groups[group_name] = root.addGroup(group_name) if group_name else root
        node = groups[group_name].addLayer(layer)
        node.setItemVisibilityChecked(bool(entry.get("visible", True)))
        if group_name and not entry.get("expanded", True):
            groups[group_name].setExpanded(False)
        layers.append(layer)
    if invalid:
        raise ValueError("layers QGIS could not open: " + ", ".join(invalid))
    spatial = [layer for layer in layers if layer.isSpatial()]
    minx, miny, maxx, maxy = spec["extent"]
    extent = QgsRectangle(minx, miny, maxx, maxy)
    extent.scale(1.08)

    layout = QgsPrintLayout(project)
    layout.initializeDefaults()
    layout.setName(spec["title"][:60])
    layout.pageCollection().page(0).setPageSize("A4", QgsLayoutItemPage.Landscape)
    _label(layout, spec["title"], x=10, y=6, w=277, h=14, size=18)
    map_item = QgsLayoutItemMap(layout)
    map_item.setRect(0, 0, 10, 10)  # a non-empty rectangle before the extent can be set
    layout.addLayoutItem(map_item)
    map_item.attemptMove(QgsLayoutPoint(10, 22))
    map_item.attemptResize(QgsLayoutSize(200, 170))
    map_item.setCrs(crs)
    map_item.setLayers(spatial)
    map_item.setKeepLayerSet(True)
    map_item.zoomToExtent(extent)
    map_item.setFrameEnabled(True)

    legend = QgsLayoutItemLegend(layout)
    legend.setTitle("图例")
    legend.setLinkedMap(map_item)
    legend.setAutoUpdateModel(False)
    legend.setLegendFilterByMapEnabled(True)  # only what the map shows
    tree = legend.model().rootGroup()
    for node in list(tree.findLayers()):
        if not node.layer().isSpatial():
            node.parent().removeChildNode(node)
    for group in list(tree.children()):
        if hasattr(group, "findLayers") and not group.findLayers() and group is not tree:
            tree.removeChildNode(group)
    layout.addLayoutItem(legend)
    legend.attemptMove(QgsLayoutPoint(215, 22))
    legend.setStyleFont(QgsLegendStyle.Title, _font(11, True))
    legend.adjustBoxSize()

    scale = QgsLayoutItemScaleBar(layout)
    scale.setStyle("Single Box")
    scale.setLinkedMap(map_item)
    scale.setUnits(QgsUnitTypes.DistanceKilometers)
    scale.setUnitLabel("km")
    scale.applyDefaultSize(QgsUnitTypes.DistanceKilometers)
    layout.addLayoutItem(scale)
    scale.attemptMove(QgsLayoutPoint(14, 178))

    arrow = QgsLayoutItemPicture(layout)
    arrow.setMode(QgsLayoutItemPicture.FormatSVG)
    arrow.setPicturePath(NORTH_ARROW if QFile.exists(NORTH_ARROW) else NORTH_ARROW_FALLBACK)
    arrow.setLinkedMap(map_item)
    arrow.setNorthMode(QgsLayoutItemPicture.GridNorth)
    layout.addLayoutItem(arrow)
    arrow.attemptMove(QgsLayoutPoint(192, 25))
    arrow.attemptResize(QgsLayoutSize(14, 14))

    _label(layout, spec.get("footer", ""), x=10, y=194, w=277, h=12, size=7)
    project.layoutManager().addLayout(layout)

    if not project.write(qgz):
        raise ValueError(f"QGIS could not write {qgz}: {project.error()}")
    summary: dict[str, Any] = {
        "qgz": qgz,
        "layers": [layer.name() for layer in layers],
        "layout_items": sorted({type(item).__name__ for item in layout.items()}),
        "scale": round(map_item.scale()),
    }
    if spec.get("png"):
        exporter = QgsLayoutExporter(layout)
        settings = QgsLayoutExporter.ImageExportSettings()
        settings.dpi = int(spec.get("dpi", 120))
        result = exporter.exportToImage(spec["png"], settings)
        if result != QgsLayoutExporter.Success:
            raise ValueError(f"layout export failed ({result})")
        summary["png"] = spec["png"]
    project.clear()
    return summary


def main(argv: list[str]) -> int:
    with open(argv[1], encoding="utf-8") as fh:
        spec = json.load(fh)
    QgsApplication.setPrefixPath("/usr", True)
    app = QgsApplication([], False)
    app.initQgis()
    code = 0
    try:
        print(json.dumps(build(spec), ensure_ascii=False))
    except Exception as exc:  # noqa: BLE001 - any QGIS failure becomes one line for the app to report
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        code = 1
    sys.stdout.flush()
    app.exitQgis()  # layers were released by project.clear(); QGIS segfaults if a layer outlives exitQgis
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
