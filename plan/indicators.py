"""Headline indicator tables (专栏1 / 表1 / 表2-1), parsed from the flattened plan text.

The seeds are PDF and Word conversions, so one printed table arrives in one of three shapes:

``tab``
    Word conversion: every cell starts a line with a tab, an empty cell is a lone tab, and a line without a tab
    continues the cell above it (a cell wrapped inside the table, e.g. ``医疗`` / ``保障``).
``bare``
    One cell per line, no tabs.  Blank lines are both row separators and empty cells, so they carry no meaning.
``inline``
    PDF text: the cells of a row share a line, separated by spaces; long cells wrap onto the following lines,
    a merged group cell is printed one character per line, and a page break repeats the header.

The shape is detected from the header.  Every headline table ends a row with its 约束性/预期性 cell, which is
how rows are found; the header says how many value cells (unit, base year, target years, nature) a row has, so
values are taken from the right and what is left is number, group and indicator.  A merged group (and its row
number) is carried down to the rows it spans.  Page numbers and repeated headers are skipped.

The only per-plan configuration is which titled table is the headline one: the plan file's
``plan: indicator_table`` (e.g. ``专栏1``, ``表2-1``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import config

if TYPE_CHECKING:  # pandas is imported lazily: parsing does not need it.
    import pandas as pd

NATURES = ("约束性", "预期性")
MARKERS = ("*", "#")


# How far below the title the header row must end, and how long a table row's line may be before we take it
# for running text (cells are short; the longest real cell line is about 40 characters).
_HEADER_SPAN = 40
_PROSE_LEN = 60

_CJK = r"\u3000-\u303f\u3400-\u9fff\uff00-\uffef"
_SINGLE_CJK = re.compile(rf"^[{_CJK}]$")
_SPACE_NEAR_CJK = re.compile(rf"(?<=[{_CJK}])\s+|\s+(?=[{_CJK}])")
_BARE_INT = re.compile(r"^\d{1,4}$")
_PAGE_NUMBER = re.compile(
    r"^(?:[-—–－]\s*\d{1,4}\s*[-—–－]|第\s*\d{1,4}\s*页(?:\s*[,，]?\s*共\s*\d{1,4}\s*页)?|\d{1,4}\s*/\s*\d{1,4})$"
)
_NOTE_START = re.compile(r"^(?:备\s*注|注)\s*[:：]")
_NOTE_ITEM = re.compile(r"(?:^|(?<=。))\s*\d{1,2}\s*[.．、]\s*")
_HEADING = re.compile(r"^(?:\[bookmark|第[一二三四五六七八九十百零〇\d]+\s*[篇章节])")
_DASHES = frozenset("—–-－/／\\、…")
_UNIT_SUFFIX = re.compile(r"[（(]([^（）()]+)[）)]$")


class IndicatorParseError(ValueError):
    """The indicator table is missing or does not have the expected structure; the message says where."""


@dataclass(frozen=True)
class Target:
    """One target-year value of an indicator: the printed text and the number it states, if any."""

    year: int
    text: str
    value: float | None


@dataclass(frozen=True)
class Change:
    """A printed change between two years (e.g. the 2022年比2017年增加〔累计〕 column), kept with its text."""

    since: int
    year: int
    text: str
    value: float | None


@dataclass(frozen=True)
class IndicatorRow:
    """One row of a plan's headline indicator table, printed strings kept next to the parsed numbers."""

    county: str
    number: str | None
    group: str | None
    indicator: str
    unit: str | None
    base_year: int | None
    base_text: str | None
    base_value: float | None
    targets: tuple[Target, ...]
    nature: str | None
    markers: tuple[str, ...]
    notes: tuple[str, ...]
    lines: tuple[int, int]
    changes: tuple[Change, ...] = ()

    def value_in(self, year: int) -> float | None:
        """The number the row prints for ``year`` (its base or one of its targets), if any."""
        if self.base_year == year:
            return self.base_value
        return next((t.value for t in self.targets if t.year == year), None)

    def contradictions(self, tolerance: float = 0.01) -> list[str]:
        """Printed changes that do not agree with the printed values of their two years, as Chinese sentences.

        A change agrees when it equals the later value minus the earlier one, within ``tolerance`` (relative to the
        larger of the two, at least 0.01); a dash printed for a change is not checked.
        """
        out: list[str] = []
        for change in self.changes:
            start, end = self.value_in(change.since), self.value_in(change.year)
            if change.value is None or start is None or end is None:
                continue
            expected = end - start
            if abs(expected - change.value) > max(0.01, tolerance * max(abs(start), abs(end))):
                out.append(
                    f"{self.indicator}：表中写{change.year}年比{change.since}年增加“{change.text}”，"
                    f"但按表中{change.since}年值 {start:g} 与{change.year}年值 {end:g} 应为 {expected:g}"
                )
        return out


@dataclass(frozen=True)
class _Column:
    """A header column right of the indicator: its role and, for year columns, the year."""

    role: str  # "unit" | "base" | "target" | "change" | "nature"
    year: int | None
    since: int | None = None  # a "change" column's earlier year (2022年比2017年增加: year 2022, since 2017)


@dataclass(frozen=True)
class _Header:
    style: str  # "tab" | "bare" | "inline"
    has_group_column: bool
    values: tuple[_Column, ...]
    signature: tuple[str, ...]  # header lines without whitespace, to recognise a repeated header
    end: int  # 0-based index of the first line after the header


@dataclass
class _Cell:
    text: str
    line: int  # 1-based


# --- numbers --------------------------------------------------------------------------------------------------


def parse_value(text: str | None) -> float | None:
    """The number a printed table cell states, or None.

    Parameters
    ----------
    text
        Cell text as printed, e.g. ``"≥95"``, ``"10.5"``, ``"〔4〕"``, ``"＞90%"``, ``"约2.3"``, ``"1.2万"``,
        ``"2.6：1"``, ``"〔−6.94〕"``, ``"4.0*"``.

    Returns
    -------
    float | None
        Bounds (≥, >, 约) give the bound, brackets (cumulative values) are dropped, ``%`` keeps the number,
        万/亿 multiply, a ratio ``a:b`` gives ``a / b``.  Ranges, dashes and words give None.
    """
    if text is None:
        return None
    t = unicodedata.normalize("NFKC", text)
    t = re.sub(r"\s+", "", t).replace("∶", ":").replace("−", "-").strip("".join(MARKERS))
    bracketed = re.fullmatch(r"[〔\[【(](.*)[〕\]】)]", t)
    if bracketed:
        t = bracketed.group(1)
    t = re.sub(r"^(?:约|≥|≤|>|<|≧|≦|不低于|不少于|不高于|不超过|大于|小于|超过|达到)+", "", t)
    t = re.sub(r"(?:以上|以下|左右)$", "", t)
    number = r"-?\d+(?:\.\d+)?"
    ratio = re.fullmatch(rf"({number}):({number})", t)
    if ratio:
        denominator = float(ratio.group(2))
        return float(ratio.group(1)) / denominator if denominator else None
    plain = re.fullmatch(rf"({number})(%|万|亿)?", t)
    if not plain:
        return None
    scale = {"万": 1e4, "亿": 1e8}.get(plain.group(2) or "", 1.0)
    return float(plain.group(1)) * scale


def _is_value_token(token: str) -> bool:
    """A space-separated token that is a whole value cell (a number or a dash), not a piece of words."""
    bare = token.strip("".join(MARKERS))
    return (bool(bare) and set(bare) <= _DASHES) or parse_value(token) is not None


# --- text helpers ---------------------------------------------------------------------------------------------


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _tidy(text: str) -> str:
    """Collapse whitespace; drop the spaces PDF extraction puts between Chinese text and numbers."""
    return _SPACE_NEAR_CJK.sub("", re.sub(r"\s+", " ", text.strip()))


def _join(parts: list[str]) -> str:
    """Join the pieces of a wrapped cell: no space in Chinese text, one space between two Latin words."""
    out = ""
    for part in (p.strip() for p in parts):
        if out and part and out[-1].isascii() and out[-1].isalnum() and part[0].isascii() and part[0].isalnum():
            out += " "
        out += part
    return _tidy(out)


def _split_markers(text: str) -> tuple[str, tuple[str, ...]]:
    """Strip leading/trailing ``*`` and ``#`` markers (full or half width) from a cell."""
    t = text.strip().replace("＊", "*").replace("＃", "#")
    leading: list[str] = []
    trailing: list[str] = []
    while t and t[0] in MARKERS:
        leading.append(t[0])
        t = t[1:].lstrip()
    while t and t[-1] in MARKERS:
        trailing.insert(0, t[-1])
        t = t[:-1].rstrip()
    return t, tuple(dict.fromkeys(leading + trailing))


def _is_nature(text: str) -> bool:
    return _squash(text) in NATURES


# --- locating the table and reading its header ----------------------------------------------------------------


def _title_pattern(label: str | None) -> re.Pattern[str]:
    # The seeds also contain 专栏1 project boxes (城口's "专栏1 农业转型升级工程"), so the label alone is not
    # enough: the title must also mention 指标.
    if label is None:  # an unconfigured plan: the first numbered table titled 主要指标
        return re.compile(r"^\s*(?:专栏|表)\s*\d+(?:-\d+)?(?![\d-])\s*[.．]?\s*\S.*主要指标")
    kind = "专栏" if label.startswith("专栏") else "表"
    number = re.escape(label[len(kind) :])
    return re.compile(rf"^\s*{kind}\s*{number}(?![\d-])\s*[.．]?\s*\S.*指标")


def _find_title(lines: list[str], county: str, label: str | None) -> int:
    pattern = _title_pattern(label)
    for index, line in enumerate(lines):
        if pattern.search(line):
            return index
    raise IndicatorParseError(
        f"county {county}: no headline indicator table found (looked for a title line starting with "
        f"{label or '专栏/表 … 主要指标'!r} "
        "and mentioning 指标)"
    )


def _line_cells(block: list[tuple[int, str]], style: str) -> list[_Cell]:
    """The non-empty cells of a ``tab`` or ``bare`` block of (line number, line)."""
    cells: list[_Cell] = []
    for number, raw in block:
        if style == "bare" or raw.startswith("\t") or not cells:
            cells.append(_Cell(raw.strip(), number))
        else:  # a tab cell wrapped onto a line of its own
            cells[-1].text = _join([cells[-1].text, raw])
    return [cell for cell in cells if cell.text]


def _header_cells(block: list[tuple[int, str]], style: str) -> list[_Cell]:
    if style != "inline":
        return _line_cells(block, style)
    # inline: space-separated tokens; letter-spaced words ("指        标") and words printed one character per
    # line ("序" / "号") are joined back
    cells: list[_Cell] = []
    vertical = False
    for number, raw in block:
        merged: list[str] = []
        spaced = False
        for token in raw.split():
            single = bool(_SINGLE_CJK.match(token))
            if single and spaced:
                merged[-1] += token
            else:
                merged.append(token)
            spaced = single
        if not merged:
            continue
        if len(merged) == 1 and _SINGLE_CJK.match(merged[0]):
            if vertical:
                cells[-1].text += merged[0]
            else:
                cells.append(_Cell(merged[0], number))
            vertical = True
            continue
        vertical = False
        cells.extend(_Cell(token, number) for token in merged)
    return cells


def _classify(cell: _Cell) -> tuple[str | None, int | None]:
    t = _squash(cell.text)
    if "属性" in t:
        return "nature", None
    year = re.match(r"(20\d\d)年?", t)
    if year:
        if "比" in t[year.end() :]:
            return "change", int(year.group(1))
        return ("target" if "目标" in t else "year"), int(year.group(1))
    if t == "单位":
        return "unit", None
    if t == "序号":
        return "number", None
    if t in ("分类", "类别", "领域", "类型"):
        return "group", None
    if t.endswith("指标"):
        return "indicator", None
    return None, None


def _read_header(lines: list[str], title: int) -> _Header:
    start = title + 1
    while start < len(lines) and not lines[start].strip():
        start += 1
    end = None
    for index in range(start, min(len(lines), start + _HEADER_SPAN)):
        if "属性" in lines[index]:
            end = index + 1
            break
    if end is None:
        raise IndicatorParseError(
            f"line {title + 1}: table title has no header row with 指标属性 within {_HEADER_SPAN} lines"
        )
    block_lines = lines[start:end]
    if block_lines[0].startswith("\t"):
        style = "tab"
        while end < len(lines) and lines[end].strip() and not lines[end].startswith("\t"):
            end += 1  # a header cell wrapped onto a line of its own ("目标" / "属性")
        block_lines = lines[start:end]
    elif len(lines[end - 1].split()) > 1:
        style = "inline"
    else:
        style = "bare"
    block = [(start + offset + 1, raw) for offset, raw in enumerate(block_lines)]
    cells = _header_cells(block, style)

    roles = []
    for cell in cells:
        role, year = _classify(cell)
        if role is None:
            raise IndicatorParseError(f"line {cell.line}: unrecognised header cell {cell.text!r}")
        roles.append((role, year, cell))
    names = [role for role, _, _ in roles]
    if "indicator" not in names or names[-1] != "nature":
        raise IndicatorParseError(
            f"line {start + 1}: header {' | '.join(c.text for c in cells)!r} needs an indicator column and ends "
            "with the 指标属性 column"
        )
    first_value = names.index("indicator") + 1
    year_columns = [i for i, name in enumerate(names) if name in ("year", "target")]
    values: list[_Column] = []
    for index in range(first_value, len(roles)):
        role, year, cell = roles[index]
        if role in ("number", "group", "indicator"):
            raise IndicatorParseError(f"line {cell.line}: header cell {cell.text!r} after the indicator column")
        if role == "year":
            # "2020年 2025年": the first of several plain year columns is the base year
            role = "base" if len(year_columns) > 1 and index == year_columns[0] else "target"
        since = re.search(r"比\s*(20\d\d)", _squash(cell.text)) if role == "change" else None
        values.append(_Column(role, year, int(since.group(1)) if since else None))
    signature = tuple(_squash(raw) for raw in block_lines if raw.strip())
    return _Header(style, "group" in names[:first_value], tuple(values), signature, end)


# --- rows -----------------------------------------------------------------------------------------------------


def _after_repeated_header(lines: list[str], index: int, signature: tuple[str, ...]) -> int | None:
    """Index after a repeated header starting at ``index``, or None when there is none."""
    for expected in signature:
        while index < len(lines) and not lines[index].strip():
            index += 1
        if index >= len(lines) or _squash(lines[index]) != expected:
            return None
        index += 1
    return index


def _next_content(lines: list[str], index: int) -> int:
    while index < len(lines) and not lines[index].strip():
        index += 1
    return index


def _after_page_furniture(
    lines: list[str], index: int, header: _Header, at_row_start: bool, expected: int
) -> int | None:
    """Index after a page number or a repeated header at ``index``; None when the line belongs to the table.

    A bare number is a page number when it is not a table cell (a line without a tab in a ``tab`` table), when a
    repeated header follows it, or when a row starts with it but it is not the next row number.
    """
    raw = lines[index]
    stripped = raw.strip()
    if _squash(stripped) == header.signature[0]:
        after = _after_repeated_header(lines, index, header.signature)
        if after is not None:
            return after
    if _PAGE_NUMBER.match(stripped):
        return index + 1
    if not _BARE_INT.match(stripped):
        return None
    if header.style == "tab":
        return None if raw.startswith("\t") else index + 1
    if _after_repeated_header(lines, _next_content(lines, index + 1), header.signature) is not None:
        return index + 1
    if at_row_start and int(stripped) != expected:
        return index + 1
    return None


def _is_prose(text: str) -> bool:
    return len(text) > _PROSE_LEN or text.endswith("。") or bool(_HEADING.match(text))


def _row_ends(raw: str, style: str) -> bool:
    tokens = raw.split()
    if not tokens:
        return False
    return _is_nature(tokens[-1]) if style == "inline" else _is_nature(raw)


def _split_cells(rows: list[tuple[int, str]], style: str, width: int) -> tuple[list[_Cell], list[_Cell]]:
    """Cells of one row, split into the leading ones (number, group, indicator) and ``width`` value cells."""
    if style == "inline":
        return _split_inline(rows, width)
    cells = _line_cells(rows, style)
    if len(cells) < width + 1:
        raise IndicatorParseError(
            f"lines {rows[0][0]}-{rows[-1][0]}: row has {len(cells)} cells, the header needs an indicator and "
            f"{width} value cells"
        )
    return cells[:-width], cells[-width:]


@dataclass
class _Token:
    text: str
    line: int
    alone: bool  # the only token on its line


def _split_inline(rows: list[tuple[int, str]], width: int) -> tuple[list[_Cell], list[_Cell]]:
    tokens = [_Token(token, number, len(raw.split()) == 1) for number, raw in rows for token in raw.split()]
    values: list[_Cell] = [_Cell(tokens[-1].text, tokens[-1].line)]  # the nature cell
    index = len(tokens) - 2
    while len(values) < width:
        if index < 0:
            raise IndicatorParseError(
                f"lines {rows[0][0]}-{rows[-1][0]}: row has fewer than the {width} value cells of the header"
            )
        token = tokens[index]
        index -= 1
        if token.alone and not _is_value_token(token.text):
            # words wrapped over several lines ("高于全市平" / "均水平*") are one value cell
            parts = [token]
            while (
                index >= 0
                and tokens[index].alone
                and not _is_value_token(tokens[index].text)
                and not (_SINGLE_CJK.match(tokens[index].text))
            ):
                parts.insert(0, tokens[index])
                index -= 1
            values.insert(0, _Cell(_join([p.text for p in parts]), parts[0].line))
        else:
            values.insert(0, _Cell(token.text, token.line))
    lead_tokens = tokens[: index + 1]
    lead: list[_Cell] = []
    if lead_tokens and _BARE_INT.match(lead_tokens[0].text):
        lead.append(_Cell(lead_tokens[0].text, lead_tokens[0].line))
        lead_tokens = lead_tokens[1:]
    vertical = 0
    while vertical < len(lead_tokens) and lead_tokens[vertical].alone and _SINGLE_CJK.match(lead_tokens[vertical].text):
        vertical += 1
    if vertical >= 2:  # a merged group cell printed one character per line
        lead.append(_Cell("".join(t.text for t in lead_tokens[:vertical]), lead_tokens[0].line))
        lead_tokens = lead_tokens[vertical:]
    if lead_tokens:
        by_line: dict[int, list[str]] = {}
        for token in lead_tokens:
            by_line.setdefault(token.line, []).append(token.text)
        lead.append(_Cell(_join([" ".join(words) for words in by_line.values()]), lead_tokens[0].line))
    return lead, values


@dataclass
class _Carry:
    number: str | None = None
    group: str | None = None


def _build_row(county: str, rows: list[tuple[int, str]], header: _Header, carry: _Carry) -> tuple[IndicatorRow, bool]:
    """One IndicatorRow from the lines of a table row; also whether the row printed its own number."""
    lead, values = _split_cells(rows, header.style, len(header.values))
    span = f"lines {rows[0][0]}-{rows[-1][0]}"
    number_cell = next((cell for cell in lead if _BARE_INT.match(cell.text)), None)
    number = number_cell.text if number_cell else None
    words = [cell for cell in lead if cell is not number_cell]
    if not words:
        raise IndicatorParseError(f"{span}: row has no indicator name")
    if len(words) > 2:
        raise IndicatorParseError(f"{span}: cannot tell group from indicator in {' | '.join(c.text for c in words)!r}")
    indicator_cell = words[-1]
    own_number = number is not None
    if len(words) == 2:
        group = _tidy(words[0].text)
    elif number is not None and not header.has_group_column:
        group = None  # a numbered row spanning the group column stands on its own
    else:
        group = carry.group
    if number is None:
        number = carry.number
    carry.number, carry.group = number, group

    indicator, markers = _split_markers(_tidy(indicator_cell.text))
    all_markers = list(markers)
    unit: str | None = None
    base_year = base_text = base_value = nature = None
    targets: list[Target] = []
    changes: list[Change] = []
    for column, cell in zip(header.values, values):
        text = _tidy(cell.text)
        if column.role == "nature":
            if not _is_nature(text):
                raise IndicatorParseError(f"line {cell.line}: expected 约束性/预期性, found {text!r}")
            nature = text
            continue
        if column.role == "unit":
            unit = None if not text or set(text) <= _DASHES else text
            continue
        all_markers.extend(_split_markers(text)[1])
        if column.role == "base":
            base_year, base_text, base_value = column.year, text, parse_value(text)
        elif column.role == "target":
            if column.year is not None:  # a target column always has its year (the header gave it)
                targets.append(Target(column.year, text, parse_value(text)))
        elif column.role == "change" and column.year is not None and column.since is not None:
            # e.g. 2022年比2017年增加〔累计〕: kept, so that a change contradicting base and target can be shown
            changes.append(Change(column.since, column.year, text, parse_value(text)))
    if not any(c.role == "unit" for c in header.values):
        suffix = _UNIT_SUFFIX.search(indicator)
        unit = suffix.group(1) if suffix else None
    row = IndicatorRow(
        county=county,
        number=number,
        group=group,
        indicator=indicator,
        unit=unit,
        base_year=base_year,
        base_text=base_text,
        base_value=base_value,
        targets=tuple(targets),
        nature=nature,
        markers=tuple(dict.fromkeys(all_markers)),
        notes=(),
        lines=(rows[0][0], rows[-1][0]),
        changes=tuple(changes),
    )
    return row, own_number


def _read_notes(lines: list[str], index: int) -> list[str]:
    """The numbered items of the 备注/注 block starting at ``index``."""
    parts = [_NOTE_START.sub("", lines[index].strip())]
    index += 1
    while index < len(lines):
        text = lines[index].strip()
        if not text:
            index += 1
            continue
        if re.match(r"^\d{1,2}\s*[.．、]", text) or not parts[-1].endswith("。"):
            parts.append(text)
            index += 1
        else:
            break
    joined = _join(parts)
    return [_tidy(item) for item in _NOTE_ITEM.split(joined) if item.strip()]


def parse_indicator_table(text: str, county: str, *, table_label: str | None = None) -> list[IndicatorRow]:
    """Parse the headline indicator table of a plan.

    Parameters
    ----------
    text
        The whole seed text of the plan.
    county
        The plan's adcode, stored on every row.
    table_label
        The headline table's label as printed (``专栏1``, ``表2-1``); default: the first numbered table whose
        title mentions 主要指标.

    Returns
    -------
    list[IndicatorRow]
        One row per indicator, in printed order.

    Raises
    ------
    IndicatorParseError
        If the table is missing or a row does not fit the header; the message gives the line numbers.
    """
    lines = text.splitlines()
    title = _find_title(lines, county, table_label)
    header = _read_header(lines, title)
    style = header.style

    rows: list[IndicatorRow] = []
    carry = _Carry()
    current: list[tuple[int, str]] = []
    notes: list[str] = []
    expected_number = 1
    index = header.end
    while index < len(lines):
        raw = lines[index]
        stripped = raw.strip()
        if not stripped and not (style == "tab" and raw.startswith("\t")):  # a lone tab is an empty cell
            index += 1
            continue
        after = _after_page_furniture(lines, index, header, at_row_start=not current, expected=expected_number)
        if after is not None:
            index = after
            continue
        if not current:
            if _NOTE_START.match(stripped):
                notes = _read_notes(lines, index)
                break
            if (style == "tab" and not raw.startswith("\t")) or (style != "tab" and _is_prose(stripped)):
                break
        elif _NOTE_START.match(stripped) or _is_prose(stripped):
            raise IndicatorParseError(
                f"line {current[0][0]}: table row ends at line {index + 1} ({stripped[:20]!r}…) without its "
                "约束性/预期性 cell"
            )
        current.append((index + 1, raw))
        index += 1
        if _row_ends(raw, style):
            row, own_number = _build_row(county, current, header, carry)
            rows.append(row)
            if own_number and row.number is not None:
                expected_number = int(row.number) + 1
            current = []
    if current:
        raise IndicatorParseError(
            f"line {current[0][0]}: table row runs to the end of the text without its 约束性/预期性 cell"
        )
    if not rows:
        raise IndicatorParseError(f"line {title + 1}: indicator table has a header but no rows")
    return [_with_notes(row, notes) for row in rows]


def _with_notes(row: IndicatorRow, notes: list[str]) -> IndicatorRow:
    explained = tuple(note for note in notes if any(marker in note for marker in row.markers))
    if not explained:
        return row
    return replace(row, notes=explained)


def load_indicators(county: str, *, plans_dir: Path | None = None, seeds_dir: Path | None = None) -> list[IndicatorRow]:
    """Parse the headline indicator table of a plan: its seed and table label come from the plan file.

    Raises
    ------
    IndicatorParseError
        For a county without a (valid) plan file, a missing seed file or a table that does not parse; the
        message names the file.
    """
    from plan.loader import plan_header
    from plan.model import PlanDataError

    try:
        meta = plan_header(county, plans_dir)
    except PlanDataError as exc:
        raise IndicatorParseError(f"no plan for county {county!r}: {exc}") from exc
    label = str(meta["indicator_table"]) if meta.get("indicator_table") else None
    path = Path(seeds_dir or config.SEEDS_DIR) / str(meta.get("seed") or "")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise IndicatorParseError(f"{path}: cannot read seed ({exc.strerror})") from exc
    try:
        return parse_indicator_table(text, county, table_label=label)
    except IndicatorParseError as exc:
        raise IndicatorParseError(f"{path.name}: {exc}") from exc


_FRAME_HEAD = (
    "county",
    "number",
    "group",
    "indicator",
    "unit",
    "base_year",
    "base_text",
    "base_value",
)
_FRAME_TAIL = ("nature", "markers", "notes", "line_first", "line_last")


def indicators_frame(rows: list[IndicatorRow]) -> pd.DataFrame:
    """One flat row per indicator; targets spread into ``target_<year>_text`` / ``target_<year>_value``.

    ``markers`` and ``notes`` are joined into strings (empty when there are none).
    """
    import pandas as pd

    years = sorted({target.year for row in rows for target in row.targets})
    columns = list(_FRAME_HEAD)
    for year in years:
        columns += [f"target_{year}_text", f"target_{year}_value"]
    columns += list(_FRAME_TAIL)
    records = []
    for row in rows:
        record: dict[str, object] = {name: getattr(row, name) for name in _FRAME_HEAD}
        by_year = {target.year: target for target in row.targets}
        for year in years:
            target = by_year.get(year)
            record[f"target_{year}_text"] = target.text if target else None
            record[f"target_{year}_value"] = target.value if target else None
        record.update(
            nature=row.nature,
            markers="".join(row.markers),
            notes="\n".join(row.notes),
            line_first=row.lines[0],
            line_last=row.lines[1],
        )
        records.append(record)
    return pd.DataFrame.from_records(records, columns=columns)
