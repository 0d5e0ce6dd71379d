"""Indicator tables and charts: base vs target per indicator, 约束性/预期性 marked, comparison across plans."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from plan.indicators import IndicatorRow

NATURE_COLORS = {"约束性": "#B22222", "预期性": "#1F77B4"}
_UNIT_RE = re.compile(r"[（(][^（()）]*[)）]\s*$")


def indicator_key(name: str) -> str:
    """Comparison key of an indicator name: unit in brackets and spaces removed (…增速（%） -> …增速)."""
    return _UNIT_RE.sub("", re.sub(r"\s+", "", name))


def table_frame(rows: Sequence[IndicatorRow]) -> pd.DataFrame:
    """Display table: one row per indicator, printed texts verbatim.

    Rows are numbered 1…n in table order (the printed numbers restart per group, so they repeat); the group of a
    row is carried down from the row that opened it (the printed table leaves those cells blank).
    """
    years = sorted({t.year for r in rows for t in r.targets})
    records = []
    group = ""
    for n, r in enumerate(rows, start=1):
        group = r.group or group
        rec: dict[str, Any] = {
            "序号": n,
            "类别": group,
            "指标": r.indicator,
            "单位": r.unit or "",
            "基期": f"{r.base_text}（{r.base_year}年）" if r.base_text and r.base_year else (r.base_text or ""),
        }
        by_year = {t.year: t.text for t in r.targets}
        for y in years:
            rec[f"{y}年目标"] = by_year.get(y, "")
        for change in r.changes:
            rec[f"{change.year}年比{change.since}年增加"] = change.text
        rec["属性"] = r.nature or ""
        rec["原文行"] = f"{r.lines[0]}–{r.lines[1]}"
        records.append(rec)
    return pd.DataFrame.from_records(records)


def contradictions(rows: Sequence[IndicatorRow]) -> list[str]:
    """Every printed change of the table that disagrees with the printed values it compares (Chinese sentences)."""
    return [line for r in rows for line in r.contradictions()]


CHART_COLUMNS = ["indicator", "title", "unit", "nature", "series", "kind", "year", "order", "value", "text"]


def chart_frame(rows: Sequence[IndicatorRow]) -> pd.DataFrame:
    """Long table for one chart per indicator: every year the plan gives (base, intermediate and final targets).

    Columns: ``indicator, title ("指标（单位）· 属性"), unit, nature, series ("基期 2020" / "目标 2025"), kind
    ("基期"/"目标"), year, order, value (None for a printed target that is not a number), text``.  An indicator
    without any number is left out (there is nothing to draw; the table has it).
    """
    records = []
    for r in rows:
        points: list[tuple[str, int | None, float | None, str]] = []
        if r.base_text:
            points.append(("基期", r.base_year, r.base_value, r.base_text))
        points += [("目标", t.year, t.value, t.text) for t in r.targets]
        if not any(value is not None for _k, _y, value, _t in points):
            continue
        nature = r.nature or "未注明"
        unit = f"（{r.unit}）" if r.unit and r.unit not in r.indicator else ""
        for order, (kind, year, value, text) in enumerate(points):
            records.append(
                {
                    "indicator": r.indicator,
                    "title": f"{r.indicator}{unit} · {nature}",
                    "unit": r.unit or "",
                    "nature": nature,
                    "series": f"{kind} {year or ''}".strip(),
                    "kind": kind,
                    "year": year,
                    "order": order,
                    "value": value,
                    "text": text,
                }
            )
    return pd.DataFrame.from_records(records, columns=CHART_COLUMNS)


def common_indicators(
    rows_by_plan: Mapping[str, Sequence[IndicatorRow]], names: Mapping[str, str], min_plans: int = 2
) -> pd.DataFrame:
    """Indicators appearing (same :func:`indicator_key`) in at least ``min_plans`` plans.

    Returns a long table ``指标, 规划, 单位, 基期, 目标, 属性`` with the printed texts, sorted by indicator.
    """
    seen: dict[str, dict[str, IndicatorRow]] = {}
    for code, rows in rows_by_plan.items():
        for r in rows:
            seen.setdefault(indicator_key(r.indicator), {}).setdefault(code, r)
    records = []
    for key in sorted(seen):
        plans = seen[key]
        if len(plans) < min_plans:
            continue
        for code, r in plans.items():
            last = max(r.targets, key=lambda t: t.year) if r.targets else None
            records.append(
                {
                    "指标": key,
                    "规划": names.get(code, code),
                    "单位": r.unit or "",
                    "基期": f"{r.base_text or '—'}" + (f"（{r.base_year}）" if r.base_year else ""),
                    "目标": f"{last.text}（{last.year}）" if last else "—",
                    "属性": r.nature or "",
                }
            )
    return pd.DataFrame.from_records(records, columns=["指标", "规划", "单位", "基期", "目标", "属性"])


def comparison_chart_frame(
    rows_by_plan: Mapping[str, Sequence[IndicatorRow]], names: Mapping[str, str], min_plans: int = 2
) -> pd.DataFrame:
    """Numbers of the indicators several plans share, for small multiples: ``指标, 规划, 时点, 年份, 数值, 原文``.

    One row per plan and year with a number (base and targets); indicators as in :func:`common_indicators`.
    """
    seen: dict[str, dict[str, IndicatorRow]] = {}
    for code, rows in rows_by_plan.items():
        for r in rows:
            seen.setdefault(indicator_key(r.indicator), {}).setdefault(code, r)
    records = []
    for key in sorted(seen):
        plans = seen[key]
        if len(plans) < min_plans:
            continue
        for code, r in plans.items():
            points = [("基期", r.base_year, r.base_value, r.base_text)] + [
                ("目标", t.year, t.value, t.text) for t in r.targets
            ]
            for kind, year, value, text in points:
                if value is None:
                    continue
                records.append(
                    {
                        "指标": key,
                        "规划": names.get(code, code),
                        "时点": f"{kind} {year or ''}".strip(),
                        "年份": year,
                        "数值": value,
                        "原文": text or "",
                    }
                )
    return pd.DataFrame.from_records(records, columns=["指标", "规划", "时点", "年份", "数值", "原文"])
