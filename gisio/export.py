"""Write the feature table as GeoJSON, GeoPackage, zipped Shapefile, KML, CSV or a self-contained HTML map.

Every writer takes the feature table of :func:`layers.features.plan_features` (EPSG:4326; columns
``FEATURE_COLUMNS``; geometry ``None`` for county-wide and unlocated rows) and writes the *whole* selection:
rows without a location are exported too (null geometry, an attribute-only table in the Shapefile zip, an empty
``lon``/``lat`` in the CSV), so an export is always the whole plan.

Lists and dicts (``places``, ``attributes``, ``source``) stay JSON in GeoJSON and become JSON text in the tabular
formats.  Shapefile limits (10-character field names, 254-byte strings) are handled as documented in
``docs/shapefile_fields.md`` and :data:`SHP_FIELDS`.

Files are written to a temporary file in the target directory and moved into place with :func:`os.replace`, so a
failed export never leaves half a file behind.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import shutil
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from xml.etree import ElementTree as ET

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from shapely.geometry.base import BaseGeometry

import config
from gisio.errors import GisIOError
from layers.features import FEATURE_COLUMNS

if TYPE_CHECKING:
    import folium

ExportFormat = Literal["geojson", "gpkg", "shp", "kml", "csv", "html"]


@dataclass(frozen=True)
class FormatSpec:
    """What a format is called, its file extension and its MIME type (for download buttons)."""

    label: str
    extension: str
    mime: str
    wgs84_only: bool = False


FORMATS: dict[str, FormatSpec] = {
    "geojson": FormatSpec("GeoJSON（RFC 7946）", ".geojson", "application/geo+json", wgs84_only=True),
    "gpkg": FormatSpec("GeoPackage", ".gpkg", "application/geopackage+sqlite3"),
    "shp": FormatSpec("Shapefile（zip）", ".zip", "application/zip"),
    "kml": FormatSpec("KML（Google 地球）", ".kml", "application/vnd.google-earth.kml+xml", wgs84_only=True),
    "csv": FormatSpec("CSV（经纬度）", ".csv", "text/csv"),
    "html": FormatSpec("离线 HTML 地图", ".html", "text/html", wgs84_only=True),
}

# Properties that hold lists or dicts; tabular formats store them as JSON text.
JSON_FIELDS: tuple[str, ...] = ("places", "attributes", "source")
# Readable labels added to the tabular formats (GIS users symbolise on them); ignored on import.
LABEL_FIELDS: tuple[str, ...] = ("category_label", "precision_label")
# GeoJSON coordinates are rounded to 1e-9 degree (about 0.1 mm): far below the 1e-7 degree round-trip tolerance.
GEOJSON_DECIMALS = 9

# --- Shapefile field map (documented in docs/shapefile_fields.md) --------------------------------------------
# Feature-table property (or source.<key>) -> dBASE field name (at most 10 ASCII characters).
SHP_FIELDS: dict[str, str] = {
    "id": "id",
    "name": "name",
    "category": "category",
    "category_label": "cat_label",
    "county": "county",
    "county_name": "cnty_name",
    "designation": "designat",
    "places": "places",
    "attributes": "attrs",
    "precision": "precision",
    "precision_label": "prec_label",
    "source.seed": "src_seed",
    "source.section": "src_sect",
    "source.lines": "src_lines",
    "source.quote": "src_quote",
    "reason": "reason",
}
SHP_MAX_BYTES = 254
SHP_TRUNCATION_MARK = "…"
# Shapefile parts of the zip: geometry family -> file suffix.
SHP_PARTS: dict[str, str] = {
    "Point": "point",
    "MultiPoint": "multipoint",
    "LineString": "line",
    "MultiLineString": "line",
    "Polygon": "polygon",
    "MultiPolygon": "polygon",
}
SHP_NOGEOM = "nogeom"
SHP_FULL_SUFFIX = "_full.csv"
SHP_README = "FIELDS.txt"

# KML colours are aabbggrr.
_KML_NS = "http://www.opengis.net/kml/2.2"


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote."""

    path: Path
    format: str
    crs: str
    count: int
    located: int
    layers: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())


# --- selection ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeatureFilter:
    """The app's current filter (empty fields do not filter).

    ``text`` matches a substring of the name, designation or any place; ``ids`` keeps exactly those rows (the
    app can pass the ids it currently shows).
    """

    categories: tuple[str, ...] = ()
    precisions: tuple[str, ...] = ()
    counties: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    text: str = ""
    located_only: bool = False

    @classmethod
    def parse(cls, expressions: Iterable[str]) -> FeatureFilter:
        """Build a filter from CLI expressions such as ``precision=town,exact``, ``name~示范``, ``located=yes``.

        Raises
        ------
        GisIOError
            An expression is not ``key=value`` / ``name~text`` or names an unknown key or value.
        """
        values: dict[str, Any] = {}
        keys = {"category": "categories", "precision": "precisions", "county": "counties", "id": "ids"}
        for expr in expressions:
            if "~" in expr and expr.split("~", 1)[0].strip() in ("name", "text"):
                values["text"] = expr.split("~", 1)[1].strip()
                continue
            key, sep, value = expr.partition("=")
            key = key.strip()
            if not sep or not value.strip():
                raise GisIOError(f"筛选条件“{expr}”格式不对，应为 键=值（如 precision=town,exact）或 name~文字", "filter")
            items = tuple(v.strip() for v in value.split(",") if v.strip())
            if key == "located":
                values["located_only"] = value.strip().lower() in ("1", "yes", "true", "是")
            elif key in keys:
                vocab = {"category": config.CATEGORIES, "precision": config.PRECISIONS}.get(key)
                unknown = [v for v in items if vocab is not None and v not in vocab]
                if unknown:
                    raise GisIOError(
                        f"筛选条件“{expr}”中的 {', '.join(unknown)} 不是有效的 {key}（可用：{', '.join(vocab or [])}）",
                        "filter",
                    )
                values[keys[key]] = items
            else:
                raise GisIOError(
                    f"未知的筛选键“{key}”（可用：category、precision、county、id、located、name~文字）", "filter"
                )
        return cls(**values)

    def is_empty(self) -> bool:
        return self == FeatureFilter()


def select_features(
    features: gpd.GeoDataFrame,
    layers: Sequence[str] | None = None,
    feature_filter: FeatureFilter | None = None,
) -> gpd.GeoDataFrame:
    """Rows of ``features`` in the given categories (``layers``) that pass ``feature_filter`` (a copy).

    Raises
    ------
    GisIOError
        A layer name is not a category of ``config.CATEGORIES``.
    """
    unknown = [name for name in layers or () if name not in config.CATEGORIES]
    if unknown:
        raise GisIOError(
            f"未知的图层 {', '.join(unknown)}（可用：{', '.join(config.CATEGORIES)}）", "layers"
        )
    keep = pd.Series(True, index=features.index)
    if layers:
        keep &= features["category"].isin(list(layers))
    flt = feature_filter or FeatureFilter()
    if flt.categories:
        keep &= features["category"].isin(list(flt.categories))
    if flt.precisions:
        keep &= features["precision"].isin(list(flt.precisions))
    if flt.counties:
        keep &= features["county"].astype(str).isin(list(flt.counties))
    if flt.ids:
        keep &= features["id"].isin(list(flt.ids))
    if flt.located_only:
        keep &= features.geometry.notna() & ~features.geometry.is_empty
    if flt.text:
        needle = flt.text

        def hit(row: pd.Series) -> bool:
            hay = [row["name"], row["designation"] or "", *(row["places"] or [])]
            return any(needle in str(h) for h in hay)

        keep &= features.apply(hit, axis=1).astype(bool) if len(features) else keep
    return features[keep].copy()


# --- CRS ------------------------------------------------------------------------------------------------------


def _located_geoms(features: gpd.GeoDataFrame) -> gpd.GeoSeries:
    geoms = features.geometry
    return geoms[geoms.notna() & ~geoms.is_empty]


def suggest_gk_crs(features: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame | None = None) -> str:
    """The CGCS2000 3-degree Gauss-Krüger zone (EPSG code, no zone prefix) for the located features.

    Falls back to the boundaries of the features' counties when nothing is located.

    Raises
    ------
    GisIOError
        Nothing to decide from, or the data lies outside the zones configured for Chongqing.
    """
    from geo.crs import gk_crs, suggest_gk_zone
    from geo.errors import GeoDataError

    geoms = _located_geoms(features)
    if geoms.empty and boundaries is not None and len(features):
        counties = set(features["county"].astype(str))
        geoms = boundaries.loc[boundaries["adcode"].isin(counties), "geometry"]
    if geoms.empty:
        raise GisIOError("没有已定位的要素，无法自动选择高斯-克吕格投影带；请指定 --crs 4326 或 4490", "crs")
    # The centre of the data's extent, not the centroid of a multi-part union: cheap and stable.
    minx, _miny, maxx, _maxy = geoms.total_bounds
    try:
        return gk_crs(suggest_gk_zone((minx + maxx) / 2.0))
    except GeoDataError as exc:
        raise GisIOError(str(exc), "crs") from None


def resolve_crs(
    choice: str | int | None, features: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame | None = None
) -> str:
    """Canonical EPSG code for an export CRS choice.

    ``None``/``"4326"``/``"wgs84"`` -> EPSG:4326; ``"4490"``/``"cgcs2000"`` -> EPSG:4490; ``"gk"`` -> the zone
    suggested for the data (:func:`suggest_gk_crs`); an explicit Gauss-Krüger code (``"4545"``) is kept.
    """
    from geo.crs import GCJ02, normalise_crs
    from geo.errors import GeoDataError

    if choice is None or str(choice).strip() == "":
        return config.WGS84
    text = str(choice).strip()
    if text.lower() in ("gk", "gauss", "gauss-kruger", "高斯"):
        return suggest_gk_crs(features, boundaries)
    try:
        code = normalise_crs(text)
    except GeoDataError as exc:
        raise GisIOError(str(exc), "crs") from None
    if code == GCJ02:
        raise GisIOError("导出不提供 GCJ-02（火星坐标）：请导出 WGS84 或 CGCS2000，再由高德等平台自行转换", "crs")
    return code


def crs_label(code: str) -> str:
    """Chinese description of an export CRS code."""
    if code == config.WGS84:
        return "WGS84 经纬度（EPSG:4326）"
    if code == config.CGCS2000:
        return "CGCS2000 经纬度（EPSG:4490）"
    for zone, codes in config.GK_ZONES.items():
        if code == codes["no_prefix"]:
            return f"CGCS2000 高斯-克吕格 3度带第{zone}带，中央经线 {codes['cm']}°E，无带号（{code}）"
        if code == codes["prefix"]:
            return f"CGCS2000 高斯-克吕格 3度带第{zone}带，中央经线 {codes['cm']}°E，带带号（{code}）"
    return code


def crs_choices(features: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame | None = None) -> list[tuple[str, str]]:
    """``(code, label)`` pairs to offer in the app: WGS84, CGCS2000 and the suggested Gauss-Krüger zone."""
    out = [(config.WGS84, crs_label(config.WGS84)), (config.CGCS2000, crs_label(config.CGCS2000))]
    try:
        gk = suggest_gk_crs(features, boundaries)
    except GisIOError:
        return out
    return out + [(gk, crs_label(gk) + " — 按数据范围自动建议")]


# --- values ---------------------------------------------------------------------------------------------------


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


def _json_text(value: Any) -> str | None:
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
        out[name] = [_json_text(v) for v in features[name]]
    out.insert(3, "category_label", [config.CATEGORIES.get(c, c) for c in features["category"]])
    out.insert(out.columns.get_loc("precision") + 1, "precision_label",
               [config.PRECISIONS.get(p, p) for p in features["precision"]])  # fmt: skip
    return out


def _check_input(features: gpd.GeoDataFrame) -> None:
    missing = [c for c in FEATURE_COLUMNS if c not in features.columns]
    if missing:
        raise GisIOError(f"要素表缺少字段 {', '.join(missing)}，无法导出", "features")
    if features.crs is None or not features.crs.equals(config.WGS84):
        raise GisIOError("要素表必须是 EPSG:4326（WGS84）", "features")
    dup = features["id"][features["id"].duplicated()].tolist()
    if dup:
        raise GisIOError(f"要素编号重复：{', '.join(map(str, dup[:5]))}", "features")


def _to_crs(features: gpd.GeoDataFrame, crs: str) -> gpd.GeoDataFrame:
    if crs == config.WGS84:
        return features.copy()
    return features.to_crs(crs)


# --- atomic writing -------------------------------------------------------------------------------------------


def atomic_write(out: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` and move the finished file to ``out``; on any error nothing is left behind."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
    try:
        tmp = tmp_dir / out.name
        write(tmp)
        if not tmp.is_file():
            raise GisIOError(f"导出失败：没有生成文件 {out.name}", "write")
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return out


# --- GeoJSON --------------------------------------------------------------------------------------------------


def _round_coords(geom: BaseGeometry, decimals: int) -> BaseGeometry:
    return shapely.transform(geom, lambda c: np.round(c, decimals))


def geojson_geometry(geom: BaseGeometry | None, decimals: int = GEOJSON_DECIMALS) -> dict[str, Any] | None:
    """RFC 7946 geometry member: exteriors counter-clockwise, holes clockwise; ``None`` for no location."""
    if geom is None or geom.is_empty:
        return None
    geom = shapely.orient_polygons(_round_coords(geom, decimals), exterior_cw=False)
    return json.loads(shapely.to_geojson(geom))  # type: ignore[no-any-return]


def geojson_document(features: gpd.GeoDataFrame) -> dict[str, Any]:
    """The feature table as an RFC 7946 FeatureCollection (WGS84, no ``crs`` member)."""
    _check_input(features)
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


_GEOMETRY_TYPES = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon",
                   "GeometryCollection"}  # fmt: skip


def _ring_area(ring: Sequence[Sequence[float]]) -> float:
    return 0.5 * sum(x1 * y2 - x2 * y1 for (x1, y1, *_), (x2, y2, *_) in zip(ring, ring[1:]))


def rfc7946_problems(doc: Any) -> list[str]:
    """Ways in which a parsed GeoJSON document breaks RFC 7946 (empty list: it conforms).

    Checks the object structure, the absence of ``crs``, positions (2 or 3 finite numbers, lon/lat in range),
    LineString length, closed rings of at least four positions, and the right-hand rule (exterior rings
    counter-clockwise, holes clockwise).
    """
    problems: list[str] = []

    def position(p: Any, where: str) -> None:
        if not isinstance(p, list) or len(p) not in (2, 3) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in p
        ):
            problems.append(f"{where}: bad position {p!r}")
        elif not (-180 <= p[0] <= 180 and -90 <= p[1] <= 90):
            problems.append(f"{where}: position {p!r} is not WGS84 lon/lat")

    def ring(r: Any, where: str, exterior: bool) -> None:
        if not isinstance(r, list) or len(r) < 4:
            problems.append(f"{where}: ring needs at least 4 positions")
            return
        for p in r:
            position(p, where)
        if r[0] != r[-1]:
            problems.append(f"{where}: ring is not closed")
        area = _ring_area(r)
        if exterior and area < 0:
            problems.append(f"{where}: exterior ring is clockwise")
        if not exterior and area > 0:
            problems.append(f"{where}: hole is counter-clockwise")

    def polygon(rings: Any, where: str) -> None:
        if not isinstance(rings, list) or not rings:
            problems.append(f"{where}: polygon without rings")
            return
        for i, r in enumerate(rings):
            ring(r, f"{where} ring {i}", exterior=(i == 0))

    def geometry(g: Any, where: str) -> None:
        if g is None:
            return
        if not isinstance(g, dict) or g.get("type") not in _GEOMETRY_TYPES:
            problems.append(f"{where}: not a geometry object")
            return
        if "crs" in g:
            problems.append(f"{where}: has a crs member")
        kind, coords = g["type"], g.get("coordinates")
        if kind == "GeometryCollection":
            for i, part in enumerate(g.get("geometries") or []):
                geometry(part, f"{where} part {i}")
            return
        if not isinstance(coords, list):
            problems.append(f"{where}: coordinates missing")
            return
        if kind == "Point":
            position(coords, where)
        elif kind in ("MultiPoint", "LineString"):
            if kind == "LineString" and len(coords) < 2:
                problems.append(f"{where}: LineString needs two positions")
            for p in coords:
                position(p, where)
        elif kind == "MultiLineString":
            for line in coords:
                if not isinstance(line, list) or len(line) < 2:
                    problems.append(f"{where}: LineString needs two positions")
                    continue
                for p in line:
                    position(p, where)
        elif kind == "Polygon":
            polygon(coords, where)
        elif kind == "MultiPolygon":
            for i, poly in enumerate(coords):
                polygon(poly, f"{where} polygon {i}")

    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        return ["top level is not a FeatureCollection"]
    if "crs" in doc:
        problems.append("FeatureCollection has a crs member (not allowed by RFC 7946)")
    feats = doc.get("features")
    if not isinstance(feats, list):
        return problems + ["features is not an array"]
    for i, feat in enumerate(feats):
        where = f"feature {i}"
        if not isinstance(feat, dict) or feat.get("type") != "Feature":
            problems.append(f"{where}: not a Feature")
            continue
        if "geometry" not in feat or "properties" not in feat:
            problems.append(f"{where}: needs geometry and properties members")
        if "id" in feat and not isinstance(feat["id"], (str, int, float)):
            problems.append(f"{where}: id must be a string or number")
        if feat.get("properties") is not None and not isinstance(feat["properties"], dict):
            problems.append(f"{where}: properties must be an object or null")
        geometry(feat.get("geometry"), where)
    return problems


# --- GeoPackage -----------------------------------------------------------------------------------------------

GPKG_META_TABLE = "rrmap_export"
GPKG_BOUNDARIES = "boundaries"
GPKG_INDICATORS = "indicators"
GPKG_ATTRIBUTES = "attributes"


def _geometry_type(geoms: gpd.GeoSeries) -> str:
    """The layer's declared type: the single type of its rows, else GEOMETRY ("Unknown").

    Point and MultiPoint rows are not promoted to MultiPoint: an import must give back what was exported.
    """
    kinds = set(geoms[geoms.notna()].geom_type)
    return kinds.pop() if len(kinds) == 1 else "Unknown"


def attributes_table(features: gpd.GeoDataFrame) -> pd.DataFrame:
    """One row per entity attribute (figures and targets), keyed by feature id; for GIS joins."""
    rows = []
    for fid, attrs in zip(features["id"], features["attributes"]):
        for n, attr in enumerate(attrs or [], start=1):
            src = attr.get("source") or {}
            rows.append(
                {
                    "feature_id": fid,
                    "n": n,
                    "label": attr.get("label"),
                    "text": attr.get("text"),
                    "value": attr.get("value"),
                    "unit": attr.get("unit"),
                    "year": attr.get("year"),
                    "kind": attr.get("kind"),
                    "source": _json_text(src) if src else None,
                }
            )
    columns = ["feature_id", "n", "label", "text", "value", "unit", "year", "kind", "source"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype({"n": "int64", "value": "float64", "year": "Int64"})


def write_gpkg(
    features: gpd.GeoDataFrame,
    path: Path,
    crs: str,
    boundaries: gpd.GeoDataFrame | None = None,
    indicators: pd.DataFrame | None = None,
) -> list[str]:
    """One layer per category, then ``boundaries``, ``attributes`` and ``indicators`` tables; returns layer names."""
    table = _to_crs(tabular_frame(features), crs)
    layers: list[str] = []
    for category in config.CATEGORIES:
        part = table[table["category"] == category]
        if part.empty:
            continue
        pyogrio.write_dataframe(
            part.reset_index(drop=True), path, layer=category, driver="GPKG",
            geometry_type=_geometry_type(part.geometry), promote_to_multi=False,
            layer_options={"DESCRIPTION": config.CATEGORIES[category]},
        )  # fmt: skip
        layers.append(category)
    if boundaries is not None and len(boundaries):
        bnd = boundaries[["adcode", "name", "geometry"]].copy()
        pyogrio.write_dataframe(_to_crs(bnd, crs) if bnd.crs else bnd, path, layer=GPKG_BOUNDARIES, driver="GPKG",
                                promote_to_multi=True)  # fmt: skip
        layers.append(GPKG_BOUNDARIES)
    pyogrio.write_dataframe(attributes_table(features), path, layer=GPKG_ATTRIBUTES, driver="GPKG")
    layers.append(GPKG_ATTRIBUTES)
    if indicators is not None and len(indicators):
        pyogrio.write_dataframe(indicators.reset_index(drop=True), path, layer=GPKG_INDICATORS, driver="GPKG")
        layers.append(GPKG_INDICATORS)
    meta = pd.DataFrame(
        {
            "key": ["app", "crs", "counties", "created", "feature_layers"],
            "value": ["乡村振兴规划一张图", crs, ",".join(sorted(set(features["county"].astype(str)))),
                      date.today().isoformat(), ",".join(c for c in layers if c in config.CATEGORIES)],
        }
    )  # fmt: skip
    pyogrio.write_dataframe(meta, path, layer=GPKG_META_TABLE, driver="GPKG")
    return layers


# --- Shapefile ------------------------------------------------------------------------------------------------


def truncate_bytes(text: str | None, limit: int = SHP_MAX_BYTES) -> tuple[str | None, bool]:
    """Cut ``text`` on a character boundary so that its UTF-8 form fits ``limit`` bytes (marked with …)."""
    if text is None or len(text.encode("utf-8")) <= limit:
        return text, False
    budget = limit - len(SHP_TRUNCATION_MARK.encode("utf-8"))
    cut = text.encode("utf-8")[:budget].decode("utf-8", errors="ignore")
    return cut + SHP_TRUNCATION_MARK, True


def shapefile_frame(features: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, list[str]]:
    """The feature table with dBASE field names and strings cut to 254 bytes; also what was truncated."""
    table = tabular_frame(features)
    data: dict[str, list[Any]] = {}
    for prop, fieldname in SHP_FIELDS.items():
        if prop.startswith("source."):
            key = prop.split(".", 1)[1]
            values = [(src or {}).get(key) for src in features["source"]]
            if key == "lines":
                values = [f"{v[0]}-{v[-1]}" if v else None for v in values]
            data[fieldname] = [None if v is None else str(v) for v in values]
        else:
            data[fieldname] = list(table[prop])
    truncated: list[str] = []
    for fieldname, values in data.items():
        for i, value in enumerate(values):
            if isinstance(value, str):
                values[i], cut = truncate_bytes(value)
                if cut:
                    truncated.append(f"{data['id'][i]}.{fieldname}")
    out = gpd.GeoDataFrame(data, geometry=list(table.geometry.values), crs=table.crs)
    return out, truncated


def _shp_readme(base: str, crs: str, parts: Sequence[str], truncated: Sequence[str]) -> str:
    lines = [
        "乡村振兴规划一张图 — Shapefile 导出说明 / Shapefile export notes",
        "",
        f"坐标系 CRS: {crs_label(crs)}",
        "编码 Encoding: UTF-8（见各 .cpg 文件）",
        f"文件 Files: {', '.join(parts)}",
        f"{base}_{SHP_NOGEOM}.dbf: 无几何的属性表（全县范围或无法定位的条目）",
        f"{base}{SHP_FULL_SUFFIX}: 所有字段的完整值（UTF-8 CSV），用于恢复被截断的文字",
        "",
        "字段对照 Field map (feature property -> dBASE field, max 10 characters):",
    ]
    lines += [f"  {prop:<16} -> {fieldname}" for prop, fieldname in SHP_FIELDS.items()]
    lines += [
        "",
        f"文字超过 {SHP_MAX_BYTES} 字节（约 84 个汉字）时截断并以“{SHP_TRUNCATION_MARK}”结尾。",
        "places、attrs 为 JSON 文本；src_lines 为“起始行-结束行”。",
        f"本次截断的字段 Truncated values: {len(truncated)}",
        *[f"  {t}" for t in truncated],
        "",
    ]
    return "\n".join(lines)


def write_shapefile_zip(features: gpd.GeoDataFrame, path: Path, crs: str, base: str = "rrmap") -> list[str]:
    """A zip of one shapefile per geometry type, the attribute-only table, the full-value CSV and FIELDS.txt."""
    frame, truncated = shapefile_frame(features)
    frame = _to_crs(frame, crs)
    written: list[str] = []
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".shp.") as tmp:
        tmp_dir = Path(tmp)
        kinds = frame.geometry.geom_type.where(frame.geometry.notna(), None)
        for suffix in dict.fromkeys(SHP_PARTS.values()):
            part = frame[kinds.map(lambda k: SHP_PARTS.get(k) if k else None) == suffix]
            if part.empty:
                continue
            name = f"{base}_{suffix}.shp"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # we already cut strings to 254 bytes
                pyogrio.write_dataframe(part.reset_index(drop=True), tmp_dir / name, driver="ESRI Shapefile",
                                        encoding="UTF-8")  # fmt: skip
            written.append(name)
        nogeom = frame[frame.geometry.isna()]
        if not nogeom.empty:
            name = f"{base}_{SHP_NOGEOM}.dbf"
            pyogrio.write_dataframe(pd.DataFrame(nogeom.drop(columns="geometry")).reset_index(drop=True),
                                    tmp_dir / name, driver="ESRI Shapefile", encoding="UTF-8")  # fmt: skip
            written.append(name)
        full = tabular_frame(features).drop(columns="geometry")
        (tmp_dir / f"{base}{SHP_FULL_SUFFIX}").write_text(full.to_csv(index=False), encoding="utf-8-sig")
        (tmp_dir / SHP_README).write_text(_shp_readme(base, crs, written, truncated), encoding="utf-8")
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for item in sorted(tmp_dir.iterdir()):
                zf.write(item, arcname=item.name)
    return written


# --- KML ------------------------------------------------------------------------------------------------------


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
        for part in geom.geoms:  # type: ignore[attr-defined]
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


# --- CSV ------------------------------------------------------------------------------------------------------


def csv_frame(features: gpd.GeoDataFrame, crs: str) -> pd.DataFrame:
    """Feature table as CSV columns: properties (JSON text for lists), ``lon``/``lat`` (``x``/``y`` in a
    projected CRS) for points — a representative point for other shapes — and ``wkt`` for non-point shapes."""
    table = _to_crs(tabular_frame(features), crs)
    projected = _is_projected(crs)
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


def _is_projected(crs: str) -> bool:
    from pyproj import CRS

    return bool(CRS.from_user_input(crs).is_projected)


def write_csv(features: gpd.GeoDataFrame, path: Path, crs: str) -> None:
    frame = csv_frame(features, crs)
    buf = io.StringIO()
    # Full float precision (repr) so a round trip is exact; UTF-8 with BOM so Excel shows the Chinese text.
    frame.to_csv(buf, index=False, quoting=csv.QUOTE_MINIMAL, float_format=None)
    path.write_text(buf.getvalue(), encoding="utf-8-sig")


# --- front door -----------------------------------------------------------------------------------------------


def default_filename(counties: Sequence[str] | str, fmt: str) -> str:
    """ASCII file name for a download, e.g. ``rrmap_500235.geojson`` or ``rrmap_all.gpkg``."""
    if fmt not in FORMATS:
        raise GisIOError(f"不支持的导出格式“{fmt}”（可用：{', '.join(FORMATS)}）", "format")
    codes = [counties] if isinstance(counties, str) else list(counties)
    tag = codes[0] if len(codes) == 1 else "all"
    tag = re.sub(r"[^A-Za-z0-9_-]", "", tag) or "plan"
    return f"rrmap_{tag}{FORMATS[fmt].extension}"


def export_features(
    features: gpd.GeoDataFrame,
    fmt: str,
    out: Path,
    *,
    crs: str | int | None = None,
    boundaries: gpd.GeoDataFrame | None = None,
    indicators: pd.DataFrame | None = None,
    title: str = "乡村振兴规划一张图",
    fmap: folium.Map | None = None,
) -> ExportResult:
    """Write ``features`` (the whole table given: filter first with :func:`select_features`) to ``out``.

    Parameters
    ----------
    features
        Feature table (EPSG:4326) as built by :func:`layers.features.plan_features`.
    fmt
        One of :data:`FORMATS`.
    out
        Target file; written atomically.
    crs
        ``4326`` (default), ``4490``, ``"gk"`` (suggested zone) or an explicit Gauss-Krüger EPSG code.
        GeoJSON, KML and HTML are WGS84 by definition and refuse anything else.
    boundaries
        County boundaries (``adcode, name, geometry``) for the GeoPackage layer and the maps.
    indicators
        Indicator table (:func:`plan.indicators.indicators_frame`) for the GeoPackage.
    title
        Document title (KML, HTML).
    fmap
        For ``html``: the app's own folium map; default builds one with :func:`gisio.htmlmap.build_map`.

    Raises
    ------
    GisIOError
        Unknown format, CRS not allowed for the format, malformed feature table or a write failure.
    """
    if fmt not in FORMATS:
        raise GisIOError(f"不支持的导出格式“{fmt}”（可用：{', '.join(FORMATS)}）", "format")
    _check_input(features)
    code = resolve_crs(crs, features, boundaries)
    spec = FORMATS[fmt]
    if spec.wgs84_only and code != config.WGS84:
        raise GisIOError(f"{spec.label} 只能使用 WGS84 经纬度（EPSG:4326），不能导出为 {crs_label(code)}", "crs")
    out = Path(out)
    if fmt == "shp" and out.suffix.lower() != ".zip":
        out = out.with_suffix(".zip")  # a Shapefile is several files: it always travels as a zip
    layers: list[str] = []
    notes: list[str] = []

    def write(tmp: Path) -> None:
        if fmt == "geojson":
            write_geojson(features, tmp)
        elif fmt == "gpkg":
            layers.extend(write_gpkg(features, tmp, code, boundaries, indicators))
        elif fmt == "shp":
            layers.extend(write_shapefile_zip(features, tmp, code, base=Path(out.name).stem or "rrmap"))
        elif fmt == "kml":
            tmp.write_bytes(kml_document(features, title))
        elif fmt == "csv":
            write_csv(features, tmp, code)
        elif fmt == "html":
            from gisio.htmlmap import build_map, standalone_html

            html = standalone_html(fmap if fmap is not None else build_map(features, boundaries, title))
            tmp.write_text(html, encoding="utf-8")

    try:
        atomic_write(out, write)
    except GisIOError:
        raise
    except (OSError, pyogrio.errors.DataSourceError, pyogrio.errors.FieldError, ValueError) as exc:
        raise GisIOError(f"导出 {spec.label} 失败：{exc}", "write") from exc
    located = int((features.geometry.notna() & ~features.geometry.is_empty).sum())
    if located < len(features):
        notes.append(f"{len(features) - located} 项为全县范围或无法定位，以空几何导出")
    return ExportResult(out, fmt, code, len(features), located, tuple(layers), tuple(notes))


def export_bytes(
    features: gpd.GeoDataFrame, fmt: str, *, filename: str | None = None, **kwargs: Any
) -> tuple[bytes, str, str]:
    """Export to memory for a download button: ``(data, file name, MIME type)``.

    Takes the keyword arguments of :func:`export_features`.
    """
    counties = sorted(set(features["county"].astype(str))) if len(features) else ["plan"]
    name = filename or default_filename(counties, fmt)
    with tempfile.TemporaryDirectory(prefix="rrmap-export-") as tmp:
        result = export_features(features, fmt, Path(tmp) / name, **kwargs)
        data = result.path.read_bytes()
    return data, name, FORMATS[fmt].mime
