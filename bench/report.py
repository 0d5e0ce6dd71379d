"""The benchmark's table: rows of (view, figure, ours, baseline), the ratio ours/baseline and the budget verdict.

Pure functions (no timing, no I/O) so tests can check the formatting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MISSING = "—"


@dataclass(frozen=True)
class Budget:
    """``ours <= limit`` (in the row's unit) and, when given, ``ours / baseline <= max_ratio``."""

    text: str
    limit: float | None = None
    max_ratio: float | None = None

    def met(self, ours: float | None, baseline: float | None) -> bool | None:
        """True/False, or None when the figure is missing (a failed or skipped measurement)."""
        if ours is None:
            return None
        if self.limit is not None and ours > self.limit:
            return False
        if self.max_ratio is not None:
            r = ratio(ours, baseline)
            if r is None:
                return None
            if r > self.max_ratio:
                return False
        return True


@dataclass(frozen=True)
class Row:
    view: str
    figure: str
    unit: str  # "s", "ms", "bytes", "MiB", "count"
    ours: float | None
    baseline: float | None = None
    budget: Budget | None = None
    note: str = ""


def ratio(ours: float | None, baseline: float | None) -> float | None:
    """ours / baseline, or None when either is missing or the baseline is zero."""
    if ours is None or baseline is None or baseline == 0:
        return None
    return ours / baseline


def fmt_value(value: float | None, unit: str) -> str:
    """A figure with its unit, rounded for reading: 1.23 s, 85 ms, 449.0 KB, 2.60 MB, 512 MiB, 20,000."""
    if value is None:
        return MISSING
    if unit == "s":
        return f"{value:.2f} s" if value < 100 else f"{value:.0f} s"
    if unit == "ms":
        return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"
    if unit == "bytes":
        if value < 1000:
            return f"{value:.0f} B"
        if value < 1_000_000:
            return f"{value / 1000:.1f} KB"
        return f"{value / 1_000_000:.2f} MB"
    if unit == "MiB":
        return f"{value:.0f} MiB"
    if unit == "count":
        return f"{value:,.0f}"
    return f"{value:g} {unit}"


def fmt_ratio(value: float | None) -> str:
    if value is None:
        return MISSING
    if value >= 100:
        return f"{value:.0f}×"
    return f"{value:.2f}×" if value < 10 else f"{value:.1f}×"


def verdict(row: Row) -> str:
    if row.budget is None:
        return ""
    met = row.budget.met(row.ours, row.baseline)
    return {True: "✅ met", False: "❌ missed", None: "⚠️ not measured"}[met]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(rows: Sequence[Row]) -> str:
    """The rows as a GitHub-flavoured Markdown table (ratio = ours / baseline; lower is better)."""
    head = "| View | Figure | Ours | Baseline | Ours / baseline | Budget | Verdict |"
    sep = "|---|---|---:|---:|---:|---|---|"
    lines = [head, sep]
    for row in rows:
        figure = row.figure + (f" ({row.note})" if row.note else "")
        cells = [
            row.view,
            figure,
            fmt_value(row.ours, row.unit),
            fmt_value(row.baseline, row.unit),
            fmt_ratio(ratio(row.ours, row.baseline)),
            row.budget.text if row.budget else "",
            verdict(row),
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def budget_summary(rows: Sequence[Row]) -> tuple[int, int, int]:
    """(met, missed, not measured) over the rows that have a budget."""
    met = missed = unknown = 0
    for row in rows:
        if row.budget is None:
            continue
        result = row.budget.met(row.ours, row.baseline)
        if result is True:
            met += 1
        elif result is False:
            missed += 1
        else:
            unknown += 1
    return met, missed, unknown


# --- sections of docs/perf.md written by other commands -----------------------------------------------------------

# ``make bench`` rewrites docs/perf.md; ``make bench-load`` owns the part between these markers, which ``make bench``
# keeps as it is (and which ``make bench-load`` replaces, or appends when missing).
LOAD_SECTION = ("<!-- bench.load: begin -->", "<!-- bench.load: end -->")


def extract_section(document: str, markers: tuple[str, str]) -> str:
    """The block between ``markers`` (markers included), or "" when the document has none."""
    begin, end = markers
    start = document.find(begin)
    stop = document.find(end, start + len(begin)) if start >= 0 else -1
    if start < 0 or stop < 0:
        return ""
    return document[start : stop + len(end)]


def splice_section(document: str, markers: tuple[str, str], body: str) -> str:
    """``document`` with the block between ``markers`` replaced by ``body`` (appended when there is no block)."""
    block = f"{markers[0]}\n{body.rstrip()}\n{markers[1]}"
    old = extract_section(document, markers)
    if old:
        return document.replace(old, block)
    return (document.rstrip() + "\n\n" if document.strip() else "") + block + "\n"
