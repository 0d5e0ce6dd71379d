"""The front door of exports: formats, CRS choice, selection, and one call that writes any format.

Every GIS format is a *delivery* a GIS team can use as it is (issue 15): items in single-type layers with the items
without geometry in their own table (:mod:`gisio.partition`), the app's styles (:mod:`gisio.styles`), Chinese
aliases and a data dictionary (:mod:`gisio.dictionary`), the 数据说明 and metadata (:mod:`gisio.metadata`), in
CGCS2000 (EPSG:4490) unless asked otherwise.  One module per format: :mod:`gisio.gpkg`, :mod:`gisio.shapefile`,
:mod:`gisio.geojson`, :mod:`gisio.kml`, :mod:`gisio.xlsx`, :mod:`gisio.tabular` (CSV), :mod:`gisio.qgis` (QGIS
project); the self-contained HTML map is drawn by :mod:`layers.htmlmap` and only written here.  Every writer takes
the feature table of :func:`geo.features.plan_features` (EPSG:4326) and writes the *whole* selection, so an
export is always the whole plan.

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
from gisio.dictionary import layer_description
from gisio.errors import GisIOError
from gisio.geojson import write_geojson_zip
from gisio.gpkg import write_gpkg
from gisio.kml import kml_document
from gisio.metadata import LayerSummary
from gisio.package import Package, build_package
from gisio.qgis_project import write_qgis_package
from gisio.shapefile import write_shapefile_zip
from gisio.tabular import check_features, write_csv
from gisio.xlsx import ITEMS_SHEET, write_xlsx
from plan.model import Plan


@dataclass(frozen=True)
class FormatSpec:
    """What a format is called, its file extension, MIME type (for download buttons) and constraints.

    ``tag`` tells apart the download names of the zipped formats (``rrmap_500235_shp.zip``); ``needs_qgis``
    marks the format that needs QGIS on the exporting machine.
    """

    label: str
    extension: str
    mime: str
    wgs84_only: bool = False
    tag: str = ""
    needs_qgis: bool = False


FORMATS: dict[str, FormatSpec] = {
    "gpkg": FormatSpec("GeoPackage（推荐：带样式、数据字典和元数据）", ".gpkg", "application/geopackage+sqlite3"),
    "qgis": FormatSpec("QGIS 工程（.qgz + GeoPackage，zip）", ".zip", "application/zip", tag="_qgis", needs_qgis=True),
    "shp": FormatSpec("Shapefile（zip，带 QML/SLD 样式）", ".zip", "application/zip", tag="_shp"),
    "geojson": FormatSpec(
        "GeoJSON（zip，每图层一个 RFC 7946 文件）", ".zip", "application/zip", wgs84_only=True, tag="_geojson"
    ),
    "kml": FormatSpec("KML（Google 地球）", ".kml", "application/vnd.google-earth.kml+xml", wgs84_only=True),
    "xlsx": FormatSpec(
        "Excel 表格（.xlsx，含数据字典）",
        ".xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    "csv": FormatSpec("CSV（UTF-8，含坐标）", ".csv", "text/csv"),
    "html": FormatSpec("离线 HTML 地图", ".html", "text/html", wgs84_only=True),
}


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote.

    ``layers``: the layers, files or sheets written; ``item_layers``: those holding the plan's items (together
    every item exactly once; empty for one-table formats).
    """

    path: Path
    format: str
    crs: str
    count: int
    located: int
    layers: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())
    item_layers: tuple[str, ...] = ()


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

    ``None``/empty -> :data:`config.DEFAULT_EXPORT_CRS` (CGCS2000, EPSG:4490); ``"4326"``/``"wgs84"`` ->
    EPSG:4326; ``"4490"``/``"cgcs2000"`` -> EPSG:4490; ``"gk"`` -> the zone suggested for the data
    (:func:`suggest_gk_crs`); an explicit Gauss-Krüger code (``"4545"``) is kept.
    """
    if choice is None or str(choice).strip() == "":
        return config.DEFAULT_EXPORT_CRS
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
    """``(code, label)`` pairs to offer in the app: CGCS2000 (the default, first), WGS84 and the suggested
    Gauss-Krüger zone."""
    out = [(config.CGCS2000, crs_label(config.CGCS2000) + " — 默认"), (config.WGS84, crs_label(config.WGS84))]
    try:
        gk = suggest_gk_crs(features, boundaries)
    except GisIOError:
        return out
    return out + [(gk, crs_label(gk) + " — 按数据范围自动建议")]


def default_filename(counties: Sequence[str] | str, fmt: str) -> str:
    """ASCII file name for a download, e.g. ``rrmap_500235.gpkg``, ``rrmap_all_shp.zip``."""
    if fmt not in FORMATS:
        raise GisIOError(f"不支持的导出格式“{fmt}”（可用：{', '.join(FORMATS)}）", "format")
    codes = [counties] if isinstance(counties, str) else list(counties)
    tag = codes[0] if len(codes) == 1 else "all"
    tag = re.sub(r"[^A-Za-z0-9_-]", "", tag) or "plan"
    return f"rrmap_{tag}{FORMATS[fmt].tag}{FORMATS[fmt].extension}"


def default_crs(fmt: str) -> str:
    """The CRS a format is exported in when none is chosen: CGCS2000, or WGS84 for WGS84-only formats."""
    spec = FORMATS.get(fmt)
    return config.WGS84 if spec is not None and spec.wgs84_only else config.DEFAULT_EXPORT_CRS


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
    plans: Sequence[Plan] = (),
) -> ExportResult:
    """Write ``features`` (the whole table given: filter first with :func:`select_features`) to ``out``.

    Parameters
    ----------
    features
        Feature table (EPSG:4326) as built by :func:`geo.features.plan_features`.
    fmt
        One of :data:`FORMATS`.
    out
        Target file; written atomically.  Zipped formats get the ``.zip`` extension.
    crs
        ``None`` (default: CGCS2000 EPSG:4490, WGS84 for the WGS84-only formats), ``4326``, ``4490``, ``"gk"``
        (suggested zone) or an explicit Gauss-Krüger EPSG code.  GeoJSON, KML and HTML refuse anything but WGS84.
    boundaries
        County boundaries (``adcode, name, geometry``): districts and municipality layers, and the maps.
    indicators
        Indicator table (:func:`plan.indicators.indicators_frame`) for the GeoPackage, workbook and QGIS project.
    title
        Document title.
    html
        For ``html``: returns the self-contained page (:func:`layers.htmlmap.map_html`); the map is drawn by
        :mod:`layers`, this module only writes it.
    plans
        The plans the features come from: their title, issuer and seed go into the 数据说明 and metadata.

    Raises
    ------
    GisIOError
        Unknown format, CRS not allowed for the format, malformed feature table, QGIS missing (``qgis``) or a
        write failure.
    """
    if fmt not in FORMATS:
        raise GisIOError(f"不支持的导出格式“{fmt}”（可用：{', '.join(FORMATS)}）", "format")
    check_features(features)
    spec = FORMATS[fmt]
    code = resolve_crs(default_crs(fmt) if crs is None else crs, features, boundaries)
    if spec.wgs84_only and code != config.WGS84:
        raise GisIOError(f"{spec.label} 只能使用 WGS84 经纬度（EPSG:4326），不能导出为 {crs_label(code)}", "crs")
    out = Path(out)
    if spec.extension == ".zip" and out.suffix.lower() != ".zip":
        out = out.with_suffix(".zip")  # several files: they always travel as a zip
    base = re.sub(r"[^\w-]", "_", Path(out.name).stem) or "rrmap"
    layers: list[str] = []
    notes: list[str] = []
    try:
        package = (
            None
            if fmt in ("csv", "html")
            else build_package(
                features, crs=code, title=title, boundaries=boundaries, indicators=indicators, plans=plans
            )
        )
    except GeoDataError as exc:
        raise GisIOError(str(exc), "data") from None

    def write(tmp: Path) -> None:
        if fmt == "csv":
            write_csv(features, tmp, code)
            return
        if fmt == "html":
            if html is None:
                raise GisIOError("离线 HTML 地图需要由地图模块生成（layers.htmlmap.map_html）", "format")
            tmp.write_text(html(), encoding="utf-8")
            return
        assert package is not None
        if fmt == "gpkg":
            layers.extend(write_gpkg(package, tmp, format_label=spec.label))
        elif fmt == "shp":
            layers.extend(write_shapefile_zip(package, features, tmp, base=base, format_label=spec.label))
        elif fmt == "geojson":
            layers.extend(write_geojson_zip(package, features, tmp, base=base, format_label=spec.label))
        elif fmt == "kml":
            summaries = [LayerSummary(x.title, x.title, x.count, layer_description(x)) for x in package.layers]
            tmp.write_bytes(kml_document(features, title, package.delivery(spec.label, layers=summaries)))
            layers.extend(x.title for x in package.layers)
        elif fmt == "xlsx":
            layers.extend(write_xlsx(package, features, tmp, format_label=spec.label))
        elif fmt == "qgis":
            layers.extend(write_qgis_package(package, tmp, base=base, format_label=spec.label))

    try:
        atomic_write(out, write)
    except GisIOError:
        raise
    except (OSError, pyogrio.errors.DataSourceError, pyogrio.errors.FieldError, ValueError) as exc:
        raise GisIOError(f"导出 {spec.label} 失败：{exc}", "write") from exc
    located = int(located_mask(features).sum())
    if located < len(features):
        where = "单独的无几何图层/表" if package is not None else "空坐标的行"
        notes.append(f"{len(features) - located} 项为全县范围或无法定位，导出在{where}中")
    return ExportResult(
        out, fmt, code, len(features), located, tuple(layers), tuple(notes), _item_layers(fmt, layers, package)
    )


def _item_layers(fmt: str, written: Sequence[str], package: Package | None) -> tuple[str, ...]:
    """The layers (tables, files, folders, sheets) of an export that hold the plan's items."""
    if package is None:
        return ()
    if fmt in ("gpkg", "shp", "geojson"):  # their writers return the item layers first, in layer order
        return tuple(written[: len(package.layers)])
    if fmt == "kml":
        return tuple(x.title for x in package.layers)
    if fmt == "xlsx":
        return (ITEMS_SHEET,)
    return tuple(x.title for x in package.layers)  # the QGIS project names its layers by their titles


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
