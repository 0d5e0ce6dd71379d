"""GeoJSON (RFC 7946) of the feature table: WGS84, right-hand rings, no ``crs`` member.

The delivery is a zip of one GeoJSON file per layer of :mod:`gisio.partition` — a single FeatureCollection mixing
points, lines and ``null`` geometries is valid GeoJSON, but desktop QGIS splits it by geometry type and drops the
items without geometry — plus ``<base>_nogeom.geojson`` holding those items (every geometry ``null``), a ``.qml``
and ``.sld`` style beside each file, ``数据字典.csv`` and ``数据说明.txt``.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from gisio.dictionary import aliases, dictionary_frame, dictionary_rows
from gisio.errors import GisIOError
from gisio.metadata import DICTIONARY_NAME, README_NAME, LayerSummary, readme_text
from gisio.package import Package, attributes_only
from gisio.partition import ItemLayer, promote
from gisio.rfc7946 import rfc7946_problems
from gisio.styles import item_style
from gisio.tabular import check_features, figure_columns, plain_value, properties, safe_csv, tabular_frame

GEOJSON_NOGEOM = "nogeom"

# GeoJSON coordinates are rounded to 1e-9 degree (about 0.1 mm): far below the 1e-7 degree round-trip tolerance.
GEOJSON_DECIMALS = 9


def _round_coords(geom: BaseGeometry, decimals: int) -> BaseGeometry:
    return shapely.transform(geom, lambda c: np.round(c, decimals))


def geojson_geometry(geom: BaseGeometry | None, decimals: int = GEOJSON_DECIMALS) -> dict[str, Any] | None:
    """RFC 7946 geometry member: exteriors counter-clockwise, holes clockwise; ``None`` for no location."""
    if geom is None or geom.is_empty:
        return None
    geom = shapely.orient_polygons(_round_coords(geom, decimals), exterior_cw=False)
    return json.loads(shapely.to_geojson(geom))


def geojson_document(features: gpd.GeoDataFrame) -> dict[str, Any]:
    """The feature table as an RFC 7946 FeatureCollection (WGS84, no ``crs`` member)."""
    check_features(features)
    out = []
    for row, geom in zip(features.to_dict("records"), features.geometry.values):
        props = properties(row)
        out.append({"type": "Feature", "id": props["id"], "geometry": geojson_geometry(geom), "properties": props})
    return {"type": "FeatureCollection", "features": out}


def _checked_text(doc: dict[str, Any]) -> str:
    problems = rfc7946_problems(doc)
    if problems:  # a bug of ours, not of the data: refuse to hand out a broken file
        raise GisIOError("生成的 GeoJSON 不符合 RFC 7946：" + "；".join(problems[:5]), "geojson")
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def write_geojson(features: gpd.GeoDataFrame, path: Path) -> None:
    """One RFC 7946 FeatureCollection of the whole table (``null`` geometry for items without a location)."""
    path.write_text(_checked_text(geojson_document(features)), encoding="utf-8")


# Flat columns added to the feature properties in the delivery: Chinese labels and the headline figures.
EXTRA_PROPERTIES: tuple[str, ...] = ("category_label", "precision_label", *figure_columns())


def layer_document(features: gpd.GeoDataFrame, table: gpd.GeoDataFrame, layer: ItemLayer) -> dict[str, Any]:
    """The FeatureCollection of one layer: the feature properties plus :data:`EXTRA_PROPERTIES`, geometry
    promoted to the layer's type (``null`` for the layer without geometry)."""
    rows = features.iloc[list(layer.positions)]
    extra = table.iloc[list(layer.positions)]
    geoms = list(rows.geometry.values)
    if layer.geometry_type is not None:
        geoms = promote(geoms, layer.geometry_type)
    out = []
    for row, more, geom in zip(rows.to_dict("records"), extra.to_dict("records"), geoms):
        props = properties(row)
        props.update({name: plain_value(more.get(name)) for name in EXTRA_PROPERTIES})
        geometry = geojson_geometry(geom) if layer.spatial else None
        out.append({"type": "Feature", "id": props["id"], "geometry": geometry, "properties": props})
    return {"type": "FeatureCollection", "features": out}


def write_geojson_zip(
    package: Package, features: gpd.GeoDataFrame, path: Path, *, base: str = "rrmap", format_label: str = "GeoJSON"
) -> list[str]:
    """Write the GeoJSON delivery of ``package`` (WGS84) to the zip ``path``; returns the layer files."""
    check_features(features)
    table = tabular_frame(features)
    written: list[str] = []
    summaries: list[LayerSummary] = []
    tables: dict[str, pd.DataFrame] = {}
    titles: dict[str, str] = {}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for layer in package.layers:
            stem = f"{base}_{layer.name}" if layer.spatial else f"{base}_{GEOJSON_NOGEOM}"
            doc = layer_document(features, table, layer)
            zf.writestr(f"{stem}.geojson", _checked_text(doc))
            columns = list(doc["features"][0]["properties"]) if doc["features"] else []
            style = item_style(
                layer, precisions={f["properties"]["precision"] for f in doc["features"]}, aliases=aliases(columns)
            )
            zf.writestr(f"{stem}.qml", style.qml)
            if style.sld:
                zf.writestr(f"{stem}.sld", style.sld)
            written.append(f"{stem}.geojson")
            summaries.append(LayerSummary(f"{stem}.geojson", layer.title, layer.count))
            tables[stem] = attributes_only(package.layer(layer))[[c for c in columns if c in package.items.columns]]
            titles[stem] = layer.title
        dictionary = dictionary_frame(dictionary_rows(tables, titles))
        zf.writestr(DICTIONARY_NAME, "\ufeff" + safe_csv(dictionary))
        notes = (
            "每个图层一个 GeoJSON 文件（RFC 7946，WGS84 经纬度），同名 .qml 为 QGIS 默认样式，.sld 供其他软件使用。",
            f"没有几何的条目在 {base}_{GEOJSON_NOGEOM}.geojson（geometry 为 null）。",
        )
        zf.writestr(README_NAME, readme_text(package.delivery(format_label, layers=summaries, notes=notes)))
    return written
