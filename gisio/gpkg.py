"""GeoPackage of the feature table: one layer per category, boundaries, attributes and indicator tables."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

import config
from geo.crs import to_crs
from gisio.tabular import json_text, tabular_frame

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
                    "source": json_text(src) if src else None,
                }
            )
    columns = ["feature_id", "n", "label", "text", "value", "unit", "year", "kind", "source"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype({"n": "int64", "value": "float64", "year": "Int64"})


def write_gpkg(
    features: gpd.GeoDataFrame,
    path: Path,
    *,
    crs: str,
    boundaries: gpd.GeoDataFrame | None = None,
    indicators: pd.DataFrame | None = None,
) -> list[str]:
    """One layer per category, then ``boundaries``, ``attributes`` and ``indicators`` tables; returns layer names."""
    table = to_crs(tabular_frame(features), crs)
    layers: list[str] = []
    for category in config.CATEGORIES:
        part = table[table["category"] == category]
        if part.empty:
            continue
        pyogrio.write_dataframe(
            part.reset_index(drop=True),
            path,
            layer=category,
            driver="GPKG",
            geometry_type=_geometry_type(part.geometry),
            promote_to_multi=False,
            layer_options={"DESCRIPTION": config.CATEGORIES[category]},
        )
        layers.append(category)
    if boundaries is not None and len(boundaries):
        bnd = boundaries[["adcode", "name", "geometry"]].copy()
        pyogrio.write_dataframe(
            to_crs(bnd, crs) if bnd.crs else bnd, path, layer=GPKG_BOUNDARIES, driver="GPKG", promote_to_multi=True
        )
        layers.append(GPKG_BOUNDARIES)
    pyogrio.write_dataframe(attributes_table(features), path, layer=GPKG_ATTRIBUTES, driver="GPKG")
    layers.append(GPKG_ATTRIBUTES)
    if indicators is not None and len(indicators):
        pyogrio.write_dataframe(indicators.reset_index(drop=True), path, layer=GPKG_INDICATORS, driver="GPKG")
        layers.append(GPKG_INDICATORS)
    meta = pd.DataFrame(
        {
            "key": ["app", "crs", "counties", "created", "feature_layers"],
            "value": [
                "乡村振兴规划一张图",
                crs,
                ",".join(sorted(set(features["county"].astype(str)))),
                date.today().isoformat(),
                ",".join(c for c in layers if c in config.CATEGORIES),
            ],
        }
    )
    pyogrio.write_dataframe(meta, path, layer=GPKG_META_TABLE, driver="GPKG")
    return layers
