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
    """Display table: one row per indicator, printed texts verbatim."""
    years = sorted({t.year for r in rows for t in r.targets})
    records = []
    for r in rows:
        rec: dict[str, Any] = {
            "序号": r.number or "",
            "类别": r.group or "",
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


def chart_frame(rows: Sequence[IndicatorRow]) -> pd.DataFrame:
    """Long table for a base-vs-target bar chart: numeric values only.

    Columns: ``indicator, unit, nature, series ("基期 2020" / "目标 2025"), order, value, text``.  An indicator
    appears only if it has a numeric base and at least one numeric target (so the bars compare like with like).
    """
    records = []
    for r in rows:
        targets = [t for t in r.targets if t.value is not None]
        if r.base_value is None or not targets:
            continue
        label = f"{r.indicator}"
        records.append(
            {
                "indicator": label,
                "unit": r.unit or "",
                "nature": r.nature or "未注明",
                "series": f"基期 {r.base_year or ''}".strip(),
                "order": 0,
                "value": r.base_value,
                "text": r.base_text,
            }
        )
        for i, t in enumerate(targets, start=1):
            records.append(
                {
                    "indicator": label,
                    "unit": r.unit or "",
                    "nature": r.nature or "未注明",
                    "series": f"目标 {t.year}",
                    "order": i,
                    "value": t.value,
                    "text": t.text,
                }
            )
    return pd.DataFrame.from_records(
        records, columns=["indicator", "unit", "nature", "series", "order", "value", "text"]
    )


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
