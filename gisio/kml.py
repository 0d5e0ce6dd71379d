"""KML 2.2 of the feature table, valid against the OGC KML 2.2 schema.

The document: its name and the 数据说明 as description, the category styles (each in a solid and an approximate
variant), the ``Schema`` of the extended data (Chinese ``displayName`` per field), then one ``Folder`` per layer
of :mod:`gisio.partition` — one geometry type per folder, since GDAL's KML readers (so QGIS) split a mixed folder
by type and drop the placemarks without geometry — and a folder of the items without geometry (placemarks with no
geometry element, which the schema allows).  Element order follows the schema (``Style`` before ``Schema``;
``name, description, styleUrl, ExtendedData``, geometry in a Placemark); ids are XML NCNames.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from xml.etree import ElementTree as ET

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

import config
from gisio.dictionary import field_alias
from gisio.metadata import Delivery, readme_text
from gisio.partition import ItemLayer, item_layers, layer_frame
from gisio.tabular import plain_value, tabular_frame

_KML_NS = "http://www.opengis.net/kml/2.2"
KML_SCHEMA_ID = "rrmap"
_NCNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


def _kml_colour(hex_colour: str, alpha: str = "ff") -> str:
    """KML colours are aabbggrr."""
    rgb = hex_colour.lstrip("#")
    return f"{alpha}{rgb[4:6]}{rgb[2:4]}{rgb[0:2]}".lower()


def _kml_coords(coords: Iterable[Sequence[float]]) -> str:
    return " ".join(f"{x!r},{y!r}" for x, y, *_ in coords)


def ncname(text: str, prefix: str = "f-") -> str:
    """``text`` as an XML NCName (KML ids must be one): kept when it is one, else prefixed and cleaned."""
    if _NCNAME.match(text):
        return text
    return prefix + re.sub(r"[^A-Za-z0-9_.\-]", "_", text)


def _kml_geometry(parent: ET.Element, geom: BaseGeometry) -> None:
    kind = geom.geom_type
    if kind == "Point":
        ET.SubElement(ET.SubElement(parent, "Point"), "coordinates").text = _kml_coords(geom.coords)
    elif kind == "LineString":
        ET.SubElement(ET.SubElement(parent, "LineString"), "coordinates").text = _kml_coords(geom.coords)
    elif kind == "Polygon":
        poly = ET.SubElement(parent, "Polygon")
        geom = shapely.orient_polygons(geom, exterior_cw=False)
        outer = ET.SubElement(ET.SubElement(poly, "outerBoundaryIs"), "LinearRing")
        ET.SubElement(outer, "coordinates").text = _kml_coords(geom.exterior.coords)
        for hole in geom.interiors:
            inner = ET.SubElement(ET.SubElement(poly, "innerBoundaryIs"), "LinearRing")
            ET.SubElement(inner, "coordinates").text = _kml_coords(hole.coords)
    else:
        multi = ET.SubElement(parent, "MultiGeometry")
        for part in geom.geoms:
            _kml_geometry(multi, part)


def _style(doc: ET.Element, style_id: str, colour: str, *, approximate: bool) -> None:
    st = ET.SubElement(doc, "Style", id=style_id)
    icon = ET.SubElement(st, "IconStyle")
    ET.SubElement(icon, "color").text = _kml_colour(colour, "99" if approximate else "ff")
    line = ET.SubElement(st, "LineStyle")
    ET.SubElement(line, "color").text = _kml_colour(colour)
    ET.SubElement(line, "width").text = "2" if approximate else "3"
    poly = ET.SubElement(st, "PolyStyle")
    ET.SubElement(poly, "color").text = _kml_colour(colour, "14" if approximate else "47")


def _field_type(name: str) -> str:
    if name.endswith("_value"):
        return "double"
    if name.endswith("_year"):
        return "int"
    return "string"


def _text(value: object) -> str | None:
    value = plain_value(value)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return repr(value)
    return str(value)


def kml_document(features: gpd.GeoDataFrame, title: str, delivery: Delivery | None = None) -> bytes:
    """KML 2.2 of ``features`` (WGS84): a folder per layer and one for the items without geometry."""
    table = tabular_frame(features)
    fields = [c for c in table.columns if c != "geometry"]
    ET.register_namespace("", _KML_NS)
    kml = ET.Element("kml", xmlns=_KML_NS)
    doc = ET.SubElement(kml, "Document")
    ET.SubElement(doc, "name").text = title
    if delivery is not None:
        ET.SubElement(doc, "description").text = readme_text(delivery)
    for category, style in config.CATEGORY_STYLE.items():
        _style(doc, f"cat-{category}", style["color"], approximate=False)
        _style(doc, f"cat-{category}-approx", style["color"], approximate=True)
    schema = ET.SubElement(doc, "Schema", name=KML_SCHEMA_ID, id=KML_SCHEMA_ID)
    for name in fields:
        simple = ET.SubElement(schema, "SimpleField", name=name, type=_field_type(name))
        ET.SubElement(simple, "displayName").text = field_alias(name)
    for layer in item_layers(features):
        _folder(doc, layer, layer_frame(table, layer), fields)
    ET.indent(kml, space=" ")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(kml, encoding="utf-8")


def _folder(doc: ET.Element, layer: ItemLayer, part: gpd.GeoDataFrame, fields: Sequence[str]) -> None:
    folder = ET.SubElement(doc, "Folder", id=ncname(f"layer-{layer.name}"))
    ET.SubElement(folder, "name").text = layer.title
    for row, geom in zip(part.to_dict("records"), part.geometry.values):
        category = str(row["category"])
        mark = ET.SubElement(folder, "Placemark", id=ncname(str(row["id"])))
        ET.SubElement(mark, "name").text = str(row["name"])
        desc = [f"{config.CATEGORIES.get(category, category)}｜{row['precision_label']}"]
        for key in ("designation", "reason"):
            if plain_value(row.get(key)):
                desc.append(str(row[key]))
        ET.SubElement(mark, "description").text = "\n".join(desc)  # ElementTree escapes the text
        approx = "-approx" if config.is_approximate(category, str(row["precision"])) else ""
        style = category if category in config.CATEGORY_STYLE else "other"
        ET.SubElement(mark, "styleUrl").text = f"#cat-{style}{approx}"
        data = ET.SubElement(ET.SubElement(mark, "ExtendedData"), "SchemaData", schemaUrl=f"#{KML_SCHEMA_ID}")
        for name in fields:
            value = _text(row.get(name))
            if value is not None:
                ET.SubElement(data, "SimpleData", name=name).text = value
        if layer.spatial and geom is not None and not geom.is_empty:
            _kml_geometry(mark, geom)
