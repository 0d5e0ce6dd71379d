"""A layer exported by this app, read back into the feature table (Shapefile field names and JSON text undone)."""

from __future__ import annotations

import json
import math
from typing import Any

import geopandas as gpd
import numpy as np
from shapely.geometry.base import BaseGeometry

import config
from geo.features import FEATURE_COLUMNS, PROVENANCE_COLUMNS
from gisio.errors import ImportRejected
from gisio.normalise import ImportResult
from gisio.shapefile import SHP_FIELDS
from gisio.tabular import JSON_FIELDS


def _parse_json(value: Any, column: str, fid: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (list, dict)):
        return value
    if isinstance(value, np.ndarray):
        return value.tolist()
    try:
        return json.loads(str(value))
    except json.JSONDecodeError:
        raise ImportRejected(
            f"要素 {fid} 的 {column} 字段不是有效的 JSON（可能在 Shapefile 中被截断）", "bad_attributes"
        ) from None


def to_features(imported: ImportResult | gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The feature table (``FEATURE_COLUMNS`` + geometry, EPSG:4326) from a layer exported by this app.

    Undoes what the tabular formats did: Shapefile field names, the flattened ``source``, JSON text, and the
    promotion of single parts to their layer's ``Multi*`` type (a one-part MultiPoint comes back as a Point).

    Raises
    ------
    ImportRejected
        The layer lacks the feature-table fields (it was not exported by this app).
    """
    gdf = imported.gdf if isinstance(imported, ImportResult) else imported
    gdf = gdf.copy()
    inverse = {v: k for k, v in SHP_FIELDS.items() if "." not in k and v != k}
    gdf = gdf.rename(columns={c: inverse[c] for c in gdf.columns if c in inverse and inverse[c] not in gdf.columns})
    if "source" not in gdf.columns and "src_seed" in gdf.columns:
        sources = []
        for seed, section, lines, quote in zip(gdf["src_seed"], gdf["src_sect"], gdf["src_lines"], gdf["src_quote"]):
            first, _, last = str(lines or "").partition("-")
            span = [int(first), int(last or first)] if first.strip().isdigit() else []
            sources.append({"seed": seed, "section": section, "lines": span, "quote": quote})
        gdf["source"] = sources
    for column in PROVENANCE_COLUMNS:  # exports made before provenance existed: no user geometry
        if column not in gdf.columns:
            gdf[column] = None
    missing = [c for c in FEATURE_COLUMNS if c not in gdf.columns]
    if missing:
        raise ImportRejected(f"该图层不是本系统导出的规划要素（缺少字段 {', '.join(missing)}）", "not_features")
    for column in JSON_FIELDS:
        gdf[column] = [_parse_json(v, column, fid) for v, fid in zip(gdf[column], gdf["id"])]
    for column in ("designation", "reason", "county_name", "name", *PROVENANCE_COLUMNS):
        gdf[column] = [
            None if v is None or (isinstance(v, float) and math.isnan(v)) or v == "" else str(v) for v in gdf[column]
        ]
    gdf["county"] = gdf["county"].astype(str)
    gdf["places"] = [list(v) if v is not None else [] for v in gdf["places"]]
    gdf["attributes"] = [list(v) if v is not None else [] for v in gdf["attributes"]]
    geoms = [_single(g) for g in gdf.geometry.values]
    out = gpd.GeoDataFrame(gdf[list(FEATURE_COLUMNS)], geometry=geoms, crs=config.WGS84)
    return out


def _single(geom: BaseGeometry | None) -> BaseGeometry | None:
    """A one-part Multi* as its single part: the export promoted it to its layer's type (gisio.partition)."""
    if geom is not None and geom.geom_type.startswith("Multi") and len(geom.geoms) == 1:
        return geom.geoms[0]
    return geom
