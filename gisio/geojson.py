"""GeoJSON (RFC 7946) of the feature table: WGS84, right-hand rings, no ``crs`` member."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from gisio.errors import GisIOError
from gisio.rfc7946 import rfc7946_problems
from gisio.tabular import check_features, properties

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


def write_geojson(features: gpd.GeoDataFrame, path: Path) -> None:
    doc = geojson_document(features)
    problems = rfc7946_problems(doc)
    if problems:  # a bug of ours, not of the data: refuse to hand out a broken file
        raise GisIOError("生成的 GeoJSON 不符合 RFC 7946：" + "；".join(problems[:5]), "geojson")
    path.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False), encoding="utf-8")
