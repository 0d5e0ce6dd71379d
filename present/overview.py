"""The 概览 (overview) tab: what the plan holds and how well it is located, as plain Markdown.

The first tab a planner sees.  It is Markdown on purpose (no data grid, no chart): the page's first paint then
needs no extra front-end code, so the map draws sooner; the attribute table is one tab away.
"""

from __future__ import annotations

from typing import NamedTuple

import geopandas as gpd

import config
from plan.model import Plan
from present.markup import md

PRECISION_ORDER = ("exact", "drawn", "town", "multi_town", "schematic", "county", "unlocated")


class LocatingCount(NamedTuple):
    """How well one category of a plan is located."""

    category: str
    total: int
    on_map: int
    countywide: int
    unlocated: int


def locating_counts(features: gpd.GeoDataFrame) -> list[LocatingCount]:
    """Per category (in the legend's order): total, drawn on the map, county-wide, unlocated."""
    counts: dict[str, list[int]] = {}
    rows = zip(features["category"].tolist(), features.geometry.isna().tolist(), features["precision"].tolist())
    for cat, missing, precision in rows:
        c = counts.setdefault(cat, [0, 0, 0])
        c[0] += 1
        if not missing:
            c[1] += 1
        elif precision == "county":
            c[2] += 1
    order = [c for c in config.CATEGORIES if c in counts] + sorted(c for c in counts if c not in config.CATEGORIES)
    return [LocatingCount(c, t, m, w, t - m - w) for c in order for t, m, w in [counts[c]]]


def overview_markdown(plan: Plan, features: gpd.GeoDataFrame, shown_count: int | None = None) -> str:
    """The overview of a plan view: provenance, a count table per category and the locating precision.

    Parameters
    ----------
    plan
        The plan of the view.
    features
        Its whole feature table (:func:`geo.features.plan_features`).
    shown_count
        How many rows the current filter shows (``None``: not filtered).
    """
    scope = "全市" if plan.is_municipal else "全县"
    lines = [
        f"**《{md(plan.title)}》** · {md(plan.issuer or '发布机关未注明')} · {md(plan.period or '规划期未注明')}",
        "",
        "每个要素均注明规划原文的章节、行号与引文。",
        "",
    ]
    rows = locating_counts(features)
    total = sum(r[1] for r in rows)
    on_map = sum(r[2] for r in rows)
    countywide = sum(r[3] for r in rows)
    unlocated = sum(r[4] for r in rows)
    summary = f"共 **{total}** 项规划要素：图上 {on_map} 项，{scope}范围 {countywide} 项，无法定位 {unlocated} 项"
    if shown_count is not None and shown_count != total:
        summary += f"；当前筛选显示 {shown_count} 项"
    lines += [summary + "。", "", f"| 类别 | 共 | 图上 | {scope}范围 | 无法定位 |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {md(config.CATEGORIES.get(c, c))} | {t} | {m} | {w} | {u} |" for c, t, m, w, u in rows]
    lines += [f"| **合计** | **{total}** | **{on_map}** | **{countywide}** | **{unlocated}** |", ""]
    counts = features["precision"].value_counts()
    parts = [f"{config.PRECISIONS.get(p, p)} {int(counts[p])}" for p in PRECISION_ORDER if p in counts.index]
    lines += [
        "**定位精度**：" + "，".join(parts) + "。",
        "",
        "空心虚线图标表示近似位置（如村庄标在其所在乡镇驻地）；无法定位与全域条目见“待定位”，逐项属性见“属性表”。",
    ]
    return "\n".join(lines)
