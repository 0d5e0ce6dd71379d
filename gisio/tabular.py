"""The feature table as flat columns: plain values, JSON text for lists and dicts, Chinese labels; the CSV."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

import config
from geo.crs import is_projected, to_crs
from geo.features import FEATURE_COLUMNS
from gisio.errors import GisIOError

# Properties that hold lists or dicts; tabular formats store them as JSON text.
JSON_FIELDS: tuple[str, ...] = ("places", "attributes", "source", "codes")


def plain_value(value: Any) -> Any:
    """A JSON-friendly copy of a cell value (numpy scalars, tuples, NaN -> None)."""
    if value is None:
        return None
    if isinstance(value, dict):
        return {str(k): plain_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [plain_value(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def properties(row: Mapping[str, Any]) -> dict[str, Any]:
    """The exported properties of one feature-table row, in ``FEATURE_COLUMNS`` order."""
    return {name: plain_value(row.get(name)) for name in FEATURE_COLUMNS}


def json_text(value: Any) -> str | None:
    value = plain_value(value)
    return None if value is None else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def tabular_frame(features: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The feature table with JSON text for list/dict fields and Chinese labels added (a copy)."""
    out = gpd.GeoDataFrame(
        {name: [plain_value(v) for v in features[name]] for name in FEATURE_COLUMNS},
        geometry=list(features.geometry.values),
        crs=features.crs,
    )
    for name in JSON_FIELDS:
        out[name] = [json_text(v) for v in features[name]]
    out.insert(3, "category_label", [config.CATEGORIES.get(c, c) for c in features["category"]])
    out.insert(
        out.columns.get_loc("precision") + 1,
        "precision_label",
        [config.PRECISIONS.get(p, p) for p in features["precision"]],
    )
    return out


def check_features(features: gpd.GeoDataFrame) -> None:
    missing = [c for c in FEATURE_COLUMNS if c not in features.columns]
    if missing:
        raise GisIOError(f"要素表缺少字段 {', '.join(missing)}，无法导出", "features")
    if features.crs is None or not features.crs.equals(config.WGS84):
        raise GisIOError("要素表必须是 EPSG:4326（WGS84）", "features")
    dup = features["id"][features["id"].duplicated()].tolist()
    if dup:
        raise GisIOError(f"要素编号重复：{', '.join(map(str, dup[:5]))}", "features")


def csv_frame(features: gpd.GeoDataFrame, crs: str) -> pd.DataFrame:
    """Feature table as CSV columns: properties (JSON text for lists), ``lon``/``lat`` (``x``/``y`` in a
    projected CRS) for points — a representative point for other shapes — and ``wkt`` for non-point shapes."""
    table = to_crs(tabular_frame(features), crs)
    projected = is_projected(crs)
    xname, yname = ("x", "y") if projected else ("lon", "lat")
    xs: list[float | None] = []
    ys: list[float | None] = []
    wkts: list[str | None] = []
    for geom in table.geometry.values:
        if geom is None or geom.is_empty:
            xs.append(None)
            ys.append(None)
            wkts.append(None)
            continue
        point = geom if geom.geom_type == "Point" else geom.representative_point()
        xs.append(float(point.x))
        ys.append(float(point.y))
        wkts.append(None if geom.geom_type == "Point" else shapely.to_wkt(geom, rounding_precision=-1))
    out = pd.DataFrame(table.drop(columns="geometry"))
    out[xname] = xs
    out[yname] = ys
    out["wkt"] = wkts
    return out


def write_csv(features: gpd.GeoDataFrame, path: Path, crs: str) -> None:
    frame = csv_frame(features, crs)
    buf = io.StringIO()
    # Full float precision (repr) so a round trip is exact; UTF-8 with BOM so Excel shows the Chinese text.
    frame.to_csv(buf, index=False, quoting=csv.QUOTE_MINIMAL, float_format=None)
    path.write_text(buf.getvalue(), encoding="utf-8-sig")
