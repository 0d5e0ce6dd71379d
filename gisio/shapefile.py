"""Zipped Shapefile of the feature table, within the format's limits (10-character field names, 254 bytes).

Field names are mapped as documented in ``docs/shapefile_fields.md`` and :data:`SHP_FIELDS`.
"""

from __future__ import annotations

import tempfile
import warnings
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from geo.crs import crs_label, to_crs
from gisio.tabular import tabular_frame

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
    "located_by": "loc_by",
    "located_at": "loc_at",
    "located_how": "loc_how",
    "located_note": "loc_note",
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


def write_shapefile_zip(features: gpd.GeoDataFrame, path: Path, *, crs: str, base: str = "rrmap") -> list[str]:
    """A zip of one shapefile per geometry type, the attribute-only table, the full-value CSV and FIELDS.txt."""
    frame, truncated = shapefile_frame(features)
    frame = to_crs(frame, crs)
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
                pyogrio.write_dataframe(
                    part.reset_index(drop=True), tmp_dir / name, driver="ESRI Shapefile", encoding="UTF-8"
                )
            written.append(name)
        nogeom = frame[frame.geometry.isna()]
        if not nogeom.empty:
            name = f"{base}_{SHP_NOGEOM}.dbf"
            pyogrio.write_dataframe(
                pd.DataFrame(nogeom.drop(columns="geometry")).reset_index(drop=True),
                tmp_dir / name,
                driver="ESRI Shapefile",
                encoding="UTF-8",
            )
            written.append(name)
        full = tabular_frame(features).drop(columns="geometry")
        (tmp_dir / f"{base}{SHP_FULL_SUFFIX}").write_text(full.to_csv(index=False), encoding="utf-8-sig")
        (tmp_dir / SHP_README).write_text(_shp_readme(base, crs, written, truncated), encoding="utf-8")
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for item in sorted(tmp_dir.iterdir()):
                zf.write(item, arcname=item.name)
    return written
