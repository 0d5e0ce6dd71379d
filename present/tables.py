"""The attribute tables under the map: plan items as rows a planner reads (Chinese column names and labels)."""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import pandas as pd

import config
from present.reasons import explain

TABLE_COLUMNS = {"name": "名称", "category": "类别", "designation": "称号/类型", "places": "地点", "precision": "定位"}


def attribute_table(frame: gpd.GeoDataFrame, extra: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Rows of ``frame`` with the table's columns (plus ``extra``: column -> heading) and the citation."""
    cols = {**TABLE_COLUMNS, **(extra or {})}
    out = pd.DataFrame(frame[list(cols)].copy())
    out["category"] = out["category"].map(lambda c: config.CATEGORIES.get(c, c))
    out["places"] = out["places"].map(lambda ps: "、".join(ps))
    out["precision"] = out["precision"].map(lambda p: config.PRECISIONS.get(p, p))
    if "reason" in out.columns:  # in a planner's words; the data's own wording is in the GIS table
        out["reason"] = out["reason"].map(lambda r: explain(r).planner)
    out["出处"] = frame["source"].map(lambda s: f"{s.get('section', '')}（第{s['lines'][0]}–{s['lines'][-1]}行）")
    return out.rename(columns=cols).reset_index(drop=True)


def gis_reason_table(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    """For GIS staff: id, name and the resolver's own reason of each row (files and fields named as they are)."""
    return pd.DataFrame(
        {"编号": frame["id"].tolist(), "名称": frame["name"].tolist(), "定位依据（原文）": frame["reason"].tolist()}
    )
