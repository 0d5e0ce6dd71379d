"""KML 2.2 of the feature table: one Placemark per item, extended data in a schema, category styles."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from xml.etree import ElementTree as ET

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

import config
from gisio.tabular import plain_value, tabular_frame

# KML colours are aabbggrr.
_KML_NS = "http://www.opengis.net/kml/2.2"


def _kml_colour(hex_colour: str, alpha: str = "ff") -> str:
    rgb = hex_colour.lstrip("#")
    return f"{alpha}{rgb[4:6]}{rgb[2:4]}{rgb[0:2]}".lower()


def _kml_coords(coords: Iterable[Sequence[float]]) -> str:
    return " ".join(f"{x!r},{y!r}" for x, y, *_ in coords)


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


KML_SCHEMA_ID = "rrmap"


def kml_document(features: gpd.GeoDataFrame, title: str) -> bytes:
    """KML 2.2: a folder per category, a style per category, every property as SchemaData."""
    table = tabular_frame(features)
    fields = [c for c in table.columns if c != "geometry"]
    ET.register_namespace("", _KML_NS)
    kml = ET.Element("kml", xmlns=_KML_NS)
    doc = ET.SubElement(kml, "Document")
    ET.SubElement(doc, "name").text = title
    schema = ET.SubElement(doc, "Schema", name=KML_SCHEMA_ID, id=KML_SCHEMA_ID)
    for name in fields:
        ET.SubElement(schema, "SimpleField", name=name, type="string")
    for category, style in config.CATEGORY_STYLE.items():
        st = ET.SubElement(doc, "Style", id=f"cat-{category}")
        icon = ET.SubElement(st, "IconStyle")
        ET.SubElement(icon, "color").text = _kml_colour(style["color"])
        line = ET.SubElement(st, "LineStyle")
        ET.SubElement(line, "color").text = _kml_colour(style["color"])
        ET.SubElement(line, "width").text = "3"
        poly = ET.SubElement(st, "PolyStyle")
        ET.SubElement(poly, "color").text = _kml_colour(style["color"], "66")
    for category, label in config.CATEGORIES.items():
        part = table[table["category"] == category]
        if part.empty:
            continue
        folder = ET.SubElement(doc, "Folder")
        ET.SubElement(folder, "name").text = label
        for row, geom in zip(part.to_dict("records"), part.geometry.values):
            mark = ET.SubElement(folder, "Placemark", id=str(row["id"]))
            ET.SubElement(mark, "name").text = str(row["name"])
            desc = [f"{config.CATEGORIES.get(category)}｜{row['precision_label']}"]
            for key in ("designation", "reason"):
                if plain_value(row.get(key)):
                    desc.append(str(row[key]))
            ET.SubElement(mark, "description").text = "\n".join(desc)  # ElementTree escapes the text
            ET.SubElement(mark, "styleUrl").text = f"#cat-{category}"
            data = ET.SubElement(ET.SubElement(mark, "ExtendedData"), "SchemaData", schemaUrl=f"#{KML_SCHEMA_ID}")
            for name in fields:
                value = plain_value(row.get(name))
                if value is not None:
                    ET.SubElement(data, "SimpleData", name=name).text = str(value)
            if geom is not None and not geom.is_empty:
                _kml_geometry(mark, geom)
    ET.indent(kml, space=" ")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(kml, encoding="utf-8")
