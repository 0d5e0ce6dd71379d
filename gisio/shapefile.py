"""Zipped Shapefile delivery: one shapefile per category and geometry family, styled, with its dictionary.

Inside the zip: ``<base>_<category>_<family>.shp`` (+ ``.shx .dbf .prj .cpg``) with a ``.qml`` QGIS loads as the
default style and an ``.sld`` for other clients; ``<base>_nogeom.dbf`` holding the items without geometry (with a
``.qml`` of aliases); the long ``attributes`` table and every full-length value as UTF-8 CSVs (formula-leading
text neutralised); ``数据字典.csv``, ``数据说明.txt`` and ``FIELDS.txt``.  Field names are cut to dBASE's 10 characters
as documented in ``docs/shapefile_fields.md`` and :data:`SHP_FIELDS`; strings to 254 bytes (full text in the CSV).
"""

from __future__ import annotations

import tempfile
import warnings
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from geo.crs import crs_label, to_crs
from gisio.dictionary import aliases, dictionary_frame, dictionary_rows, layer_title
from gisio.metadata import DICTIONARY_NAME, README_NAME, LayerSummary, readme_text
from gisio.package import Package, attributes_only
from gisio.partition import ItemLayer, layer_frame
from gisio.styles import item_style
from gisio.tabular import figure_columns, safe_csv, tabular_frame

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
    "location_source": "loc_source",
    "codes": "codes",
    **{column: column for column in figure_columns()},  # fig1_label … fig3_text: 10 characters at most
    "located_by": "loc_by",
    "located_at": "loc_at",
    "located_how": "loc_how",
    "located_note": "loc_note",
}


SHP_MAX_BYTES = 254


SHP_TRUNCATION_MARK = "…"


SHP_NOGEOM = "nogeom"


SHP_FULL_SUFFIX = "_full.csv"


SHP_ATTRIBUTES_SUFFIX = "_attributes.csv"


SHP_README = "FIELDS.txt"


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
    for column in figure_columns():  # keep the figures typed (dBASE numeric fields)
        if column.endswith("_value"):
            out[column] = out[column].astype("float64")
        elif column.endswith("_year"):
            out[column] = pd.array(data[column], dtype="Int64")
    return out, truncated


def _shp_readme(base: str, crs: str, parts: list[str], truncated: list[str]) -> str:
    lines = [
        "乡村振兴规划一张图 — Shapefile 导出说明 / Shapefile export notes",
        "",
        f"坐标系 CRS: {crs_label(crs)}",
        "编码 Encoding: UTF-8（见各 .cpg 文件）",
        f"文件 Files: {', '.join(parts)}",
        f"{base}_{SHP_NOGEOM}.dbf: 无几何的属性表（全县范围或无法定位的条目）",
        f"{base}{SHP_FULL_SUFFIX}: 所有字段的完整值（UTF-8 CSV），用于恢复被截断的文字",
        f"{base}{SHP_ATTRIBUTES_SUFFIX}: 每项指标一行（数值、单位、年份、原文），按 feature_id 关联",
        "各 .shp 旁的同名 .qml 为 QGIS 默认样式（打开即带样式与中文别名），.sld 供其他软件使用。",
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


def _csv_bytes(frame: pd.DataFrame) -> str:
    return safe_csv(frame)


def write_shapefile_zip(
    package: Package, features: gpd.GeoDataFrame, path: Path, *, base: str = "rrmap", format_label: str = "Shapefile"
) -> list[str]:
    """Write the zip of ``package`` (``features``: the WGS84 feature table it was built from); returns the
    item files (``.shp`` and the ``_nogeom.dbf``) in layer order."""
    frame, truncated = shapefile_frame(features)
    frame = to_crs(frame, package.crs)
    property_of = {fieldname: prop for prop, fieldname in SHP_FIELDS.items()}
    written: list[str] = []
    summaries: list[LayerSummary] = []
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".shp.") as tmp:
        tmp_dir = Path(tmp)
        for layer in package.layers:
            part = layer_frame(frame, layer)
            stem = f"{base}_{layer.name}" if layer.spatial else f"{base}_{SHP_NOGEOM}"
            name = f"{stem}.shp" if layer.spatial else f"{stem}.dbf"
            _write_part(part, tmp_dir / name, layer)
            columns = [c for c in part.columns if c != "geometry"]
            style = item_style(
                layer, precisions=set(part["precision"]), aliases=aliases(columns, property_of), name_field="name"
            )
            (tmp_dir / f"{stem}.qml").write_text(style.qml, encoding="utf-8")
            if style.sld:
                (tmp_dir / f"{stem}.sld").write_text(style.sld, encoding="utf-8")
            written.append(name)
            summaries.append(LayerSummary(name, layer.title, layer.count))
        full = tabular_frame(features).drop(columns="geometry")
        (tmp_dir / f"{base}{SHP_FULL_SUFFIX}").write_text(_csv_bytes(full), encoding="utf-8-sig")
        (tmp_dir / f"{base}{SHP_ATTRIBUTES_SUFFIX}").write_text(_csv_bytes(package.attributes), encoding="utf-8-sig")
        stems = {x.name: f"{base}_{x.name}" if x.spatial else f"{base}_{SHP_NOGEOM}" for x in package.layers}
        tables: dict[str, pd.DataFrame] = {
            stems[x.name]: attributes_only(layer_frame(frame, x)) for x in package.layers
        }
        tables[f"{base}_attributes"] = package.attributes
        titles = {stems[x.name]: x.title for x in package.layers}
        titles[f"{base}_attributes"] = layer_title("attributes")
        renames = dict.fromkeys(stems.values(), property_of)
        dictionary = dictionary_frame(dictionary_rows(tables, titles, renames))
        (tmp_dir / DICTIONARY_NAME).write_text(_csv_bytes(dictionary), encoding="utf-8-sig")
        notes = (
            "各 .shp 旁的同名 .qml 为 QGIS 默认样式（打开即带样式与中文别名），.sld 供 GeoServer、ArcGIS 等导入。",
            f"dBASE 字段名最长 10 个字符、文字最长 254 字节：对照与截断见 FIELDS.txt，完整文字见 {base}{SHP_FULL_SUFFIX}。",
        )
        delivery = package.delivery(format_label, layers=summaries, notes=notes)
        (tmp_dir / README_NAME).write_text(readme_text(delivery), encoding="utf-8")
        (tmp_dir / SHP_README).write_text(_shp_readme(base, package.crs, written, truncated), encoding="utf-8")
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for item in sorted(tmp_dir.iterdir()):
                zf.write(item, arcname=item.name)
    return written


def _write_part(part: gpd.GeoDataFrame, target: Path, layer: ItemLayer) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # we already cut strings to 254 bytes
        if layer.spatial:
            pyogrio.write_dataframe(
                part,
                target,
                driver="ESRI Shapefile",
                encoding="UTF-8",
                geometry_type=layer.geometry_type,
                promote_to_multi=False,
            )
        else:
            pyogrio.write_dataframe(attributes_only(part), target, driver="ESRI Shapefile", encoding="UTF-8")
