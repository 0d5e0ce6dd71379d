"""The feature table as flat columns: plain values, JSON text for lists and dicts, Chinese labels; the CSV."""

from __future__ import annotations

import csv
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


# The first numeric figures of each item, widened into typed columns (``fig1_value`` …) beside their printed text;
# every figure is in the long ``attributes`` table.
HEADLINE_FIGURES = 3
FIGURE_PARTS: tuple[str, ...] = ("label", "value", "unit", "year", "text")


def figure_columns() -> list[str]:
    """Names of the headline-figure columns: ``fig1_label, fig1_value, fig1_unit, fig1_year, fig1_text, fig2_…``."""
    return [f"fig{n}_{part}" for n in range(1, HEADLINE_FIGURES + 1) for part in FIGURE_PARTS]


def headline_figures(attributes: Any) -> dict[str, Any]:
    """The headline-figure columns of one item: its first :data:`HEADLINE_FIGURES` attributes that have a number."""
    numeric = [a for a in (plain_value(attributes) or []) if isinstance(a, dict) and a.get("value") is not None]
    out: dict[str, Any] = dict.fromkeys(figure_columns())
    for n, attr in enumerate(numeric[:HEADLINE_FIGURES], start=1):
        out[f"fig{n}_label"] = attr.get("label")
        out[f"fig{n}_value"] = float(attr["value"])
        out[f"fig{n}_unit"] = attr.get("unit")
        out[f"fig{n}_year"] = attr.get("year")
        out[f"fig{n}_text"] = attr.get("text")
    return out


def tabular_frame(features: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The feature table as flat, typed columns (a copy).

    JSON text for list/dict fields, Chinese labels beside the codes, and the headline figures as numeric columns
    (``fig<n>_value`` float, NaN when absent; ``fig<n>_year`` nullable integer) with their printed text beside them.
    """
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
    figures = pd.DataFrame([headline_figures(a) for a in features["attributes"]], columns=figure_columns())
    for column in figure_columns():
        values = list(figures[column])
        if column.endswith("_value"):
            out[column] = pd.array([math.nan if v is None else v for v in values], dtype="float64")
        elif column.endswith("_year"):
            out[column] = pd.array(values, dtype="Int64")
        else:
            out[column] = pd.array(values, dtype="str")
    geometry = out.pop(out.geometry.name)
    out["geometry"] = geometry
    return out.set_geometry("geometry")


# --- spreadsheet safety -----------------------------------------------------------------------------------------
# A cell starting with one of these is run as a formula by Excel or Calc (=HYPERLINK(…), +cmd|…, @SUM …): OWASP's
# "CSV injection" advice is to prefix such a value with a single quote, which makes it plain text.
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value: Any) -> Any:
    """``value`` made inert for spreadsheets: text starting with = + - @ tab or CR gets a leading ``'`` (OWASP).

    Anything that is not text (numbers, None) is returned as it is.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with :func:`neutralise_formula` applied to every text cell and column name."""
    out = pd.DataFrame(frame).copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = [neutralise_formula(v) for v in out[column]]
    return out.rename(columns={c: neutralise_formula(c) for c in out.columns})


def safe_csv(frame: pd.DataFrame, **to_csv: Any) -> str:
    """``frame`` as formula-safe CSV text: cells neutralised (:func:`neutralise_frame`) and rows ended by CRLF
    (RFC 4180), so that a cell holding a line break is quoted.  With the default LF ending a bare CR is written
    unquoted; Excel starts a new row there, and the rest of the cell (``=…``) would be a live formula."""
    return neutralise_frame(frame).to_csv(index=False, lineterminator="\r\n", **to_csv)


# Kinds of a figure (plan.model.ATTRIBUTE_KINDS) in Chinese.
ATTRIBUTE_KINDS: dict[str, str] = {
    "target": "目标值",
    "base": "基期值",
    "current": "现状值",
    "count": "数量",
    "investment": "投资",
    "other": "其他",
}


def attributes_table(features: gpd.GeoDataFrame) -> pd.DataFrame:
    """Every figure and statement of every item, one row each, keyed by ``feature_id`` (the long table).

    ``value`` is a float and ``year`` a nullable integer where the plan gives them; ``text`` is the printed form.
    """
    rows = []
    for fid, attrs in zip(features["id"], features["attributes"]):
        for n, attr in enumerate(plain_value(attrs) or [], start=1):
            src = attr.get("source") or {}
            kind = attr.get("kind")
            rows.append(
                {
                    "feature_id": fid,
                    "n": n,
                    "label": attr.get("label"),
                    "text": attr.get("text"),
                    "value": attr.get("value"),
                    "unit": attr.get("unit"),
                    "year": attr.get("year"),
                    "kind": kind,
                    "kind_label": ATTRIBUTE_KINDS.get(kind, kind) if kind else None,
                    "source": json_text(src) if src else None,
                }
            )
    columns = ["feature_id", "n", "label", "text", "value", "unit", "year", "kind", "kind_label", "source"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype({"n": "int64", "value": "float64", "year": "Int64"})


def check_features(features: gpd.GeoDataFrame) -> None:
    missing = [c for c in FEATURE_COLUMNS if c not in features.columns]
    if missing:
        raise GisIOError(f"要素表缺少字段 {', '.join(missing)}，无法导出", "features")
    if features.crs is None or not features.crs.equals(config.WGS84):
        raise GisIOError("要素表必须是 EPSG:4326（WGS84）", "features")
    dup = features["id"][features["id"].duplicated()].tolist()
    if dup:
        raise GisIOError(f"要素编号重复：{', '.join(map(str, dup[:5]))}", "features")


# Longest text a spreadsheet cell holds (Excel and Calc): longer WKT would be cut, so it is left out with a note.
CELL_LIMIT = 32767
WKT_COLUMN = "geometry_wkt"  # not "WKT": GDAL (so QGIS) would take a column named WKT as the layer's geometry
WKT_NOTE_COLUMN = "geometry_note"
CRS_COLUMN = "crs"


def coordinate_columns(crs: str) -> tuple[str, str]:
    """Names of the coordinate columns in ``crs``: ``lon, lat`` in degrees; ``northing, easting`` for Gauss-Krüger.

    Chinese survey practice calls the northing X and the easting Y, the reverse of the mathematical x/y, so
    projected coordinates are named by direction and never ``x``/``y``.
    """
    return ("northing", "easting") if is_projected(crs) else ("lon", "lat")


def csv_frame(features: gpd.GeoDataFrame, crs: str) -> pd.DataFrame:
    """Feature table as spreadsheet columns: :func:`tabular_frame`'s, then the coordinates and the geometry.

    Points give their coordinates; other shapes a representative point (inside the shape).  ``crs`` names the
    reference system on every row; ``geometry_wkt`` holds the shape of non-point items when it fits a spreadsheet
    cell (:data:`CELL_LIMIT` characters), otherwise ``geometry_note`` says where to find it.
    """
    table = to_crs(tabular_frame(features), crs)
    first, second = coordinate_columns(crs)
    projected = is_projected(crs)
    xs: list[float | None] = []
    ys: list[float | None] = []
    wkts: list[str | None] = []
    notes: list[str | None] = []
    for geom in table.geometry.values:
        if geom is None or geom.is_empty:
            xs.append(None)
            ys.append(None)
            wkts.append(None)
            notes.append("无几何（全域或未定位条目）")
            continue
        point = geom if geom.geom_type == "Point" else geom.representative_point()
        xs.append(float(point.x))
        ys.append(float(point.y))
        if geom.geom_type == "Point":
            wkts.append(None)
            notes.append(None)
            continue
        wkt = shapely.to_wkt(geom, rounding_precision=-1)
        if len(wkt) <= CELL_LIMIT:
            wkts.append(wkt)
            notes.append(None)
        else:
            wkts.append(None)
            notes.append(
                f"几何过长（WKT {len(wkt):,} 个字符，超过电子表格单元格上限 {CELL_LIMIT:,}），未写入本表；"
                f"坐标列为图形内的代表点，完整图形见 GeoPackage、Shapefile 或 GeoJSON 导出"
            )
    out = pd.DataFrame(table.drop(columns="geometry"))
    # Gauss-Krüger: northing (X) first, as Chinese survey tables list them.
    out[first] = ys if projected else xs
    out[second] = xs if projected else ys
    out[CRS_COLUMN] = crs
    out[WKT_COLUMN] = wkts
    out[WKT_NOTE_COLUMN] = notes
    return out


def write_csv(features: gpd.GeoDataFrame, path: Path, crs: str) -> None:
    """The CSV export: formula-leading text made inert, UTF-8 with a BOM so Excel and Calc read the Chinese."""
    # Full float precision (repr) so a round trip is exact; newline="" keeps the CRLF row ends as they are.
    text = safe_csv(csv_frame(features, crs), quoting=csv.QUOTE_MINIMAL, float_format=None)
    path.write_text(text, encoding="utf-8-sig", newline="")
