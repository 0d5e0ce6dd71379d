"""The workbook planners open (.xlsx): one row per item with Chinese headers, the data dictionary second.

Sheets: ``规划条目`` (every item of the selection: names, designation, places, precision, the headline figures as
numbers beside their printed text, the source, the coordinates and the CRS), ``数据字典`` (every column of every
sheet: its field name, Chinese name, type and meaning), ``指标与目标`` (every figure, one row each),
``主要指标`` (the plan's indicator table, when given) and ``数据说明``.

Every text cell goes through :func:`gisio.tabular.neutralise_formula` (a value such as ``=HYPERLINK(…)`` stays
text) and is stored as a string cell; numbers stay numbers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from gisio.dictionary import DictionaryRow, aliases, dictionary_rows, layer_title
from gisio.metadata import readme_sections
from gisio.package import Package
from gisio.tabular import CELL_LIMIT, coordinate_columns, csv_frame, figure_columns, neutralise_formula, plain_value

ITEMS_SHEET = "规划条目"
DICTIONARY_SHEET = "数据字典"
ATTRIBUTES_SHEET = "指标与目标"
INDICATORS_SHEET = "主要指标"
README_SHEET = "数据说明"
# Characters an XLSX (XML 1.0) cell cannot hold; openpyxl refuses them.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def items_frame(features: gpd.GeoDataFrame, crs: str) -> pd.DataFrame:
    """The ``规划条目`` sheet: readable columns first, codes and coordinates after (no JSON text)."""
    frame = csv_frame(features, crs)
    sources = [plain_value(s) or {} for s in features["source"]]
    frame["places_text"] = ["、".join(map(str, plain_value(p) or [])) for p in features["places"]]
    frame["source_section"] = [s.get("section") for s in sources]
    frame["source_lines"] = [f"{s['lines'][0]}-{s['lines'][-1]}" if s.get("lines") else None for s in sources]
    frame["source_quote"] = [s.get("quote") for s in sources]
    frame["source_seed"] = [s.get("seed") for s in sources]
    first, second = coordinate_columns(crs)
    columns = [
        "id",
        "name",
        "category_label",
        "county_name",
        "designation",
        "places_text",
        "precision_label",
        "reason",
        *figure_columns(),
        "source_section",
        "source_lines",
        "source_quote",
        "source_seed",
        "category",
        "county",
        "precision",
        first,
        second,
        "crs",
        "geometry_wkt",
        "geometry_note",
    ]
    return frame[columns]


def _cell(value: Any) -> Any:
    value = plain_value(value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        value = _ILLEGAL.sub("", value)
        if len(value) > CELL_LIMIT:  # never cut silently: only WKT could be this long, and csv_frame drops it
            value = value[: CELL_LIMIT - 1] + "…"
        return neutralise_formula(value)
    return value


def numbered(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with a first column ``row`` (1, 2, …).

    A number in the first data row is how GDAL's XLSX reader (so QGIS and ogr2ogr) tells that the first row is a
    header; a sheet whose first data row is all text would be read with ``Field1…`` names and the header as data.
    """
    out = pd.DataFrame(frame).reset_index(drop=True)
    out.insert(0, "row", range(1, len(out) + 1))
    return out


def _sheet(ws: Worksheet, frame: pd.DataFrame, headers: Sequence[str]) -> None:
    ws.append([_cell(h) for h in headers])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(vertical="top", wrap_text=True)
    for row in frame.itertuples(index=False):
        ws.append([_cell(v) for v in row])
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text, whatever it looks like
    ws.freeze_panes = "A2"
    if len(frame):
        ws.auto_filter.ref = ws.dimensions
    for n, header in enumerate(headers, start=1):
        values = [str(header)] + [str(v) for v in frame.iloc[:200, n - 1] if v is not None]
        width = max((len(v) for v in values), default=8)
        ws.column_dimensions[get_column_letter(n)].width = min(max(width * 1.6, 8), 60)


def write_xlsx(package: Package, features: gpd.GeoDataFrame, path: Path, *, format_label: str = "Excel") -> list[str]:
    """Write the workbook of ``package`` (``features``: the WGS84 table it was built from); returns the sheets."""
    items = numbered(items_frame(features, package.crs))
    sheets: dict[str, pd.DataFrame] = {ITEMS_SHEET: items, ATTRIBUTES_SHEET: numbered(package.attributes)}
    if package.indicators is not None and len(package.indicators):
        sheets[INDICATORS_SHEET] = numbered(package.indicators)
    readme = pd.DataFrame(readme_sections(package.delivery(format_label)), columns=["section", "content"])
    sheets[README_SHEET] = numbered(readme)
    titles = {ITEMS_SHEET: ITEMS_SHEET, ATTRIBUTES_SHEET: layer_title("attributes"), README_SHEET: README_SHEET}
    titles[INDICATORS_SHEET] = layer_title("indicators")
    rows: list[DictionaryRow] = dictionary_rows(sheets, titles)
    dictionary = pd.DataFrame(
        [[n, r.table_name, r.alias, r.column_name, r.type, r.description] for n, r in enumerate(rows, start=1)],
        columns=["行号", "工作表", "列名", "字段名", "类型", "说明"],
    )
    wb = Workbook()
    first = wb.active
    assert first is not None  # a new workbook has one sheet
    first.title = ITEMS_SHEET
    _sheet(first, items, list(aliases(items.columns).values()))
    _sheet(wb.create_sheet(DICTIONARY_SHEET), dictionary, list(dictionary.columns))
    for name in (ATTRIBUTES_SHEET, INDICATORS_SHEET, README_SHEET):
        if name in sheets:
            frame = sheets[name]
            _sheet(wb.create_sheet(name), frame, list(aliases(frame.columns).values()))
    wb.properties.title = package.title
    wb.properties.creator = "乡村振兴规划一张图"
    wb.save(path)
    return list(wb.sheetnames)
