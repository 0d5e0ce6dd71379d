"""The front door of exports: formats, CRS choice, selection, and one call that writes any format.

The writers live one module per format (:mod:`gisio.geojson`, :mod:`gisio.gpkg`, :mod:`gisio.shapefile`,
:mod:`gisio.kml`, :mod:`gisio.tabular` for CSV); the self-contained HTML map is drawn by :mod:`layers.htmlmap`
and only written here.  Every writer takes the feature table of :func:`geo.features.plan_features` (EPSG:4326; columns
``FEATURE_COLUMNS``; geometry ``None`` for county-wide and unlocated rows) and writes the *whole* selection:
rows without a location are exported too (null geometry, an attribute-only table in the Shapefile zip, an empty
``lon``/``lat`` in the CSV), so an export is always the whole plan.

Lists and dicts (``places``, ``attributes``, ``source``) stay JSON in GeoJSON and become JSON text in the tabular
formats.  Shapefile limits (10-character field names, 254-byte strings) are handled as documented in
``docs/shapefile_fields.md`` and :data:`SHP_FIELDS`.

Files are written with :func:`geo.atomic.atomic_write`, so a failed export never leaves half a file behind.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

import config
from geo.atomic import atomic_write
from geo.crs import GCJ02, crs_label, gk_crs_for, normalise_crs
from geo.errors import GeoDataError
from geo.features import located_mask
from gisio.errors import GisIOError
from gisio.geojson import write_geojson
from gisio.gpkg import write_gpkg
from gisio.kml import kml_document
from gisio.shapefile import write_shapefile_zip
from gisio.tabular import check_features, write_csv


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
                raise GisIOError(
                    f"筛选条件“{expr}”格式不对，应为 键=值（如 precision=town,exact）或 name~文字", "filter"
                )
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
        raise GisIOError(f"未知的图层 {', '.join(unknown)}（可用：{', '.join(config.CATEGORIES)}）", "layers")
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
        keep &= located_mask(features)
    if flt.text:
        needle = flt.text

        def hit(row: pd.Series) -> bool:
            hay = [row["name"], row["designation"] or "", *(row["places"] or [])]
            return any(needle in str(h) for h in hay)

        keep &= features.apply(hit, axis=1).astype(bool) if len(features) else keep
    return features[keep].copy()


def suggest_gk_crs(features: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame | None = None) -> str:
    """The CGCS2000 3-degree Gauss-Krüger zone (EPSG code, no zone prefix) for the located features.

    Falls back to the boundaries of the features' counties when nothing is located.

    Raises
    ------
    GisIOError
        Nothing to decide from, or the data lies outside the zones configured for Chongqing.
    """
    geoms = features.geometry[located_mask(features)]
    if geoms.empty and boundaries is not None and len(features):
        counties = set(features["county"].astype(str))
        geoms = boundaries.loc[boundaries["adcode"].isin(counties), "geometry"]
    if geoms.empty:
        raise GisIOError("没有已定位的要素，无法自动选择高斯-克吕格投影带；请指定 --crs 4326 或 4490", "crs")
    try:
        return gk_crs_for(geoms.total_bounds)
    except GeoDataError as exc:
        raise GisIOError(str(exc), "crs") from None


def resolve_crs(
    choice: str | int | None, features: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame | None = None
) -> str:
    """Canonical EPSG code for an export CRS choice.

    ``None``/``"4326"``/``"wgs84"`` -> EPSG:4326; ``"4490"``/``"cgcs2000"`` -> EPSG:4490; ``"gk"`` -> the zone
    suggested for the data (:func:`suggest_gk_crs`); an explicit Gauss-Krüger code (``"4545"``) is kept.
    """
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


def crs_choices(features: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame | None = None) -> list[tuple[str, str]]:
    """``(code, label)`` pairs to offer in the app: WGS84, CGCS2000 and the suggested Gauss-Krüger zone."""
    out = [(config.WGS84, crs_label(config.WGS84)), (config.CGCS2000, crs_label(config.CGCS2000))]
    try:
        gk = suggest_gk_crs(features, boundaries)
    except GisIOError:
        return out
    return out + [(gk, crs_label(gk) + " — 按数据范围自动建议")]


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
    html: Callable[[], str] | None = None,
) -> ExportResult:
    """Write ``features`` (the whole table given: filter first with :func:`select_features`) to ``out``.

    Parameters
    ----------
    features
        Feature table (EPSG:4326) as built by :func:`geo.features.plan_features`.
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
    html
        For ``html``: returns the self-contained page (:func:`layers.htmlmap.map_html`); the map is drawn by
        :mod:`layers`, this module only writes it.

    Raises
    ------
    GisIOError
        Unknown format, CRS not allowed for the format, malformed feature table or a write failure.
    """
    if fmt not in FORMATS:
        raise GisIOError(f"不支持的导出格式“{fmt}”（可用：{', '.join(FORMATS)}）", "format")
    check_features(features)
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
            layers.extend(write_gpkg(features, tmp, crs=code, boundaries=boundaries, indicators=indicators))
        elif fmt == "shp":
            layers.extend(write_shapefile_zip(features, tmp, crs=code, base=Path(out.name).stem or "rrmap"))
        elif fmt == "kml":
            tmp.write_bytes(kml_document(features, title))
        elif fmt == "csv":
            write_csv(features, tmp, code)
        elif fmt == "html":
            if html is None:
                raise GisIOError("离线 HTML 地图需要由地图模块生成（layers.htmlmap.map_html）", "format")
            tmp.write_text(html(), encoding="utf-8")

    try:
        atomic_write(out, write)
    except GisIOError:
        raise
    except (OSError, pyogrio.errors.DataSourceError, pyogrio.errors.FieldError, ValueError) as exc:
        raise GisIOError(f"导出 {spec.label} 失败：{exc}", "write") from exc
    located = int(located_mask(features).sum())
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
