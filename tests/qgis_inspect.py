"""What QGIS 3.22 makes of our exports — run by Debian's /usr/bin/python3 (PyQGIS), never by the test venv.

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 -I tests/qgis_inspect.py TARGETS.json

``TARGETS.json`` is a list of ``{"key": ..., "path": ..., "kind": "data" | "project"}``.  A ``data`` path (a file,
or a folder of an unzipped package: every .gpkg/.shp/.geojson/.kml/.csv/.xlsx in it and each .dbf without a
.shp) is opened the way desktop QGIS opens a dropped file: its sublayers are listed with the geometry types
resolved and the features counted (a layer that mixes types is offered per type, and rows without geometry are
lost — the problem issue 15 is about), then each sublayer is loaded as a layer, which applies its default style
(GeoPackage ``layer_styles`` or the ``.qml`` beside a file).  A ``project`` is read as QGIS reads a .qgz.  An .sld
beside a shapefile is loaded into a fresh copy of the layer.  Prints one JSON report on stdout.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (
    Qgis,
    QgsApplication,
    QgsProject,
    QgsProviderRegistry,
    QgsVectorLayer,
    QgsWkbTypes,
)

ID_FIELDS = ("id", "编号")
DATA_SUFFIXES = (".gpkg", ".shp", ".geojson", ".kml", ".csv", ".xlsx")


def symbol_layers(symbol: Any) -> list[dict[str, Any]]:
    out = []
    for i in range(symbol.symbolLayerCount()):
        layer = symbol.symbolLayer(i)
        props = layer.properties()
        out.append(
            {
                "class": layer.layerType(),
                "color": layer.color().name(),
                **{
                    k: props[k] for k in ("style", "outline_style", "line_style", "name", "outline_color") if k in props
                },
            }
        )
    return out


def renderer_info(layer: QgsVectorLayer) -> dict[str, Any] | None:
    if not layer.isSpatial() or layer.renderer() is None:
        return None
    renderer = layer.renderer()
    info: dict[str, Any] = {"type": renderer.type()}
    if renderer.type() == "singleSymbol":
        info["rules"] = [{"label": "", "filter": "", "symbol": symbol_layers(renderer.symbol())}]
    elif renderer.type() == "RuleRenderer":
        info["rules"] = [
            {"label": rule.label(), "filter": rule.filterExpression(), "symbol": symbol_layers(rule.symbol())}
            for rule in renderer.rootRule().children()
            if rule.symbol() is not None
        ]
    return info


def layer_info(layer: QgsVectorLayer, *, uri: str = "") -> dict[str, Any]:
    fields = layer.fields()
    id_field = next((name for name in ID_FIELDS if fields.indexFromName(name) >= 0), None)
    ids = [str(f[id_field]) for f in layer.getFeatures()] if id_field and layer.isValid() else []
    return {
        "name": layer.name(),
        "uri": uri or layer.source(),
        "valid": layer.isValid(),
        "features": layer.featureCount(),
        "geometry": QgsWkbTypes.displayString(layer.wkbType()),
        "spatial": layer.isSpatial(),
        "crs": layer.crs().authid() if layer.isSpatial() else None,
        "fields": [f.name() for f in fields],
        "aliases": {f.name(): layer.attributeAlias(i) for i, f in enumerate(fields) if layer.attributeAlias(i)},
        "renderer": renderer_info(layer),
        "labels": bool(layer.labelsEnabled()) if layer.isSpatial() else False,
        "id_field": id_field,
        "ids": ids,
    }


def data_files(path: str) -> list[str]:
    if not os.path.isdir(path):
        return [path]
    names = sorted(os.listdir(path))
    stems = {os.path.splitext(n)[0] for n in names if n.lower().endswith(".shp")}
    out = []
    for name in names:
        stem, ext = os.path.splitext(name)
        if ext.lower() in DATA_SUFFIXES or (ext.lower() == ".dbf" and stem not in stems):
            out.append(os.path.join(path, name))
    return out


def inspect_file(path: str) -> dict[str, Any]:
    flags = Qgis.SublayerQueryFlags(Qgis.SublayerQueryFlag.ResolveGeometryType | Qgis.SublayerQueryFlag.CountFeatures)
    details = QgsProviderRegistry.instance().providerMetadata("ogr").querySublayers(path, flags)
    layers = []
    for detail in details:
        layer = QgsVectorLayer(detail.uri(), detail.name(), "ogr")  # loads the default style
        info = layer_info(layer, uri=detail.uri())
        info["listed_count"] = detail.featureCount()
        sld = os.path.splitext(path)[0] + ".sld"
        if path.lower().endswith(".shp") and os.path.exists(sld):
            fresh = QgsVectorLayer(
                detail.uri(), detail.name(), "ogr", QgsVectorLayer.LayerOptions(False, False)
            )  # no default style
            message, ok = fresh.loadSldStyle(sld)
            info["sld"] = {"ok": bool(ok), "message": message, "renderer": renderer_info(fresh)}
            del fresh
        layers.append(info)
        del layer
    return {"path": path, "layers": layers}


def inspect_project(path: str) -> dict[str, Any]:
    project = QgsProject.instance()
    ok = project.read(path)
    layouts = []
    for layout in project.layoutManager().layouts():
        kinds: dict[str, int] = {}
        for item in layout.items():
            kinds[type(item).__name__] = kinds.get(type(item).__name__, 0) + 1
        layouts.append({"name": layout.name(), "pages": layout.pageCollection().pageCount(), "items": kinds})
    layers = [layer_info(layer) for layer in project.mapLayers().values()]
    report = {
        "path": path,
        "read_ok": bool(ok),
        "error": project.error(),
        "crs": project.crs().authid(),
        "title": project.title(),
        "ellipsoid": project.ellipsoid(),
        "layers": layers,
        "bad_layers": [layer["name"] for layer in layers if not layer["valid"]],
        "layouts": layouts,
        "absolute_paths": project.readBoolEntry("Paths", "/Absolute", False)[0],
    }
    project.clear()
    return report


def main(argv: list[str]) -> int:
    with open(argv[1], encoding="utf-8") as fh:
        targets = json.load(fh)
    QgsApplication.setPrefixPath("/usr", True)
    app = QgsApplication([], False)
    app.initQgis()
    report: dict[str, Any] = {"qgis": Qgis.QGIS_VERSION, "targets": {}}
    for target in targets:
        if target["kind"] == "project":
            report["targets"][target["key"]] = inspect_project(target["path"])
        else:
            files = [inspect_file(path) for path in data_files(target["path"])]
            report["targets"][target["key"]] = {"path": target["path"], "files": files}
    print(json.dumps(report, ensure_ascii=False))
    sys.stdout.flush()
    app.exitQgis()  # every layer was deleted or cleared above: QGIS segfaults if one outlives exitQgis
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
