"""The data dictionary of every export: Chinese names (aliases) and descriptions of layers and fields.

One definition serves every format: the GeoPackage's ``gpkg_data_columns`` and ``data_dictionary`` table, the
aliases in the QML styles (QGIS 3.22 reads aliases from the style, newer GDAL/ArcGIS from ``gpkg_data_columns``),
the KML ``displayName``, the ``数据字典`` sheet of the workbook and the ``数据字典.csv`` of the zipped packages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

import config
from gisio.partition import FAMILY_LABELS, NOGEOM_LAYER, NOGEOM_TITLE, ItemLayer
from gisio.tabular import ATTRIBUTE_KINDS, HEADLINE_FIGURES

# Field name -> (Chinese name, description).  Names shared by several tables mean the same everywhere.
FIELDS: dict[str, tuple[str, str]] = {
    "id": ("编号", "条目编号，在规划数据文件中唯一（如 yy-dv-001）；各表以此关联"),
    "name": ("名称", "规划原文中的名称"),
    "category": ("类别代码", "类别代码：" + "、".join(f"{k} {v}" for k, v in config.CATEGORIES.items())),
    "category_label": ("类别", "类别的中文名称"),
    "county": ("区县代码", "所属规划的行政区划代码（6 位，500000 为重庆市）"),
    "county_name": ("区县", "所属规划的区县名称"),
    "designation": ("称号", "规划给出的称号（如 县级示范村），无则为空"),
    "places": ("关联地名", "原文中与条目相关的地名，按原文顺序（JSON 数组文本）"),
    "attributes": ("指标与目标", "规划给出的指标、目标与说明（JSON 数组文本；逐项见 attributes 表）"),
    "precision": ("定位精度代码", "定位精度代码：" + "、".join(f"{k} {v}" for k, v in config.PRECISIONS.items())),
    "precision_label": ("定位精度", "定位精度的中文说明；近似位置（乡镇驻地、示意）在样式中为空心或虚线"),
    "source": ("出处", "出处（JSON：seed 原文文件、section 章节、lines 起止行号、quote 原文摘句）"),
    "reason": ("定位说明", "如何定位（如 乡镇驻地：某镇）或无法定位的原因"),
    "location_source": ("位置来源", "位置取自的数据集及其条目（如 GeoNames 条目、河流线），或用户文件；无几何时为空"),
    "codes": ("区划代码", "所涉地点的统计用区划代码（JSON 数组：place 地名、code 代码、official_name 规范名称）"),
    "located_by": ("修改人", "用户几何（在图上标绘或导入）的最后修改人；其他条目为空"),
    "located_at": ("修改时间", "用户几何的最后修改时间（ISO 8601，UTC）"),
    "located_how": ("修改方式", "drawn 标绘、moved 移动、edited 修改节点、imported 导入、reverted 恢复旧版本"),
    "located_note": ("修改备注", "用户几何的来源文件与行号、修改备注"),
    # CSV and workbook
    "lon": ("经度", "经度（度）；点要素为其位置，线、面为图形内的代表点"),
    "lat": ("纬度", "纬度（度）；点要素为其位置，线、面为图形内的代表点"),
    "northing": ("X（北坐标）", "高斯-克吕格投影北坐标 X（米），测绘习惯称 X；线、面为图形内的代表点"),
    "easting": ("Y（东坐标）", "高斯-克吕格投影东坐标 Y（米，不含带号），测绘习惯称 Y；线、面为图形内的代表点"),
    "crs": ("坐标系", "坐标列与几何所用坐标系的 EPSG 代码"),
    "geometry_wkt": ("几何（WKT）", "线、面要素的完整几何（WKT 文本），超过单元格上限时为空并见几何说明"),
    "geometry_note": ("几何说明", "没有几何或几何未写入本表的原因"),
    # the workbook's readable source columns
    "places_text": ("关联地名", "原文中与条目相关的地名，按原文顺序，以“、”分隔"),
    "source_seed": ("原文文件", "出处：规划原文文件名（data/seeds）"),
    "source_section": ("出处章节", "出处：章、节或专栏标题"),
    "source_lines": ("出处行号", "出处：原文文件中的起止行号（起-止）"),
    "source_quote": ("原文摘句", "出处：原文摘句（逐字摘录）"),
    # the Shapefile's flattened source (docs/shapefile_fields.md)
    "source.seed": ("原文文件", "出处：规划原文文件名（data/seeds）"),
    "source.section": ("出处章节", "出处：章、节或专栏标题"),
    "source.lines": ("出处行号", "出处：原文文件中的起止行号（起-止）"),
    "source.quote": ("原文摘句", "出处：原文摘句（逐字摘录）"),
    # boundaries
    "adcode": ("行政区划代码", "行政区划代码（6 位）"),
    "level": ("级别", "行政级别：county 区县级（区、县、自治县），province 省级（直辖市）"),
    "level_label": ("级别名称", "行政级别的中文名称"),
    # the long attributes table
    "feature_id": ("条目编号", "所属条目的编号（对应各要素图层的 id）"),
    "n": ("序号", "该指标在条目中的顺序（从 1 开始）"),
    "label": ("指标名称", "指标或说明的名称，照录规划"),
    "text": ("原文", "规划原文写法（逐字，含单位）"),
    "value": ("数值", "从原文读出的数值（实数），无则为空"),
    "unit": ("单位", "数值的单位，照录规划"),
    "year": ("年份", "目标年或基期年，无则为空"),
    "kind": ("类型代码", "类型代码：" + "、".join(f"{k} {v}" for k, v in ATTRIBUTE_KINDS.items())),
    "kind_label": ("类型", "指标类型的中文名称"),
    # the indicators table (plan.indicators.indicators_frame)
    "number": ("序号", "指标在规划指标表中的序号"),
    "group": ("分组", "指标所在的分组（照录规划）"),
    "indicator": ("指标", "指标名称（照录规划）"),
    "base_year": ("基期年份", "基期年份"),
    "base_text": ("基期值（原文）", "基期值的原文写法"),
    "base_value": ("基期值", "基期值（实数）"),
    "nature": ("属性", "约束性或预期性（照录规划）"),
    "markers": ("标记", "指标表中的标记符号"),
    "notes": ("注释", "指标表的注释"),
    "line_first": ("起始行", "指标在原文文件中的起始行号"),
    "line_last": ("结束行", "指标在原文文件中的结束行号"),
    "row": ("行号", "表中的行号（从 1 开始），便于核对与引用"),
    # the dictionary and readme tables themselves
    "table_name": ("表名", "图层或表的名称"),
    "table_title": ("表中文名", "图层或表的中文名称"),
    "column_name": ("字段名", "字段名"),
    "alias": ("中文名", "字段的中文名称（在 QGIS 中作为别名显示）"),
    "type": ("类型", "字段类型"),
    "description": ("说明", "字段说明"),
    "section": ("项目", "说明的项目"),
    "content": ("内容", "说明的内容"),
    "key": ("键", "导出信息的键"),
    "value_text": ("值", "导出信息的值"),
}

_FIGURE_PARTS: dict[str, tuple[str, str]] = {
    "label": ("名称", "指标名称，照录规划"),
    "value": ("数值", "数值（实数），可直接用于统计和分级符号"),
    "unit": ("单位", "单位，照录规划"),
    "year": ("年份", "目标年或基期年"),
    "text": ("原文", "原文写法（逐字，含单位）"),
}
_FIGURE_RE = re.compile(r"^fig(\d+)_(label|value|unit|year|text)$")
_TARGET_RE = re.compile(r"^target_(\d{4})_(text|value)$")

# Tables (and layers) other than the item layers: name -> (Chinese title, description).
TABLES: dict[str, tuple[str, str]] = {
    NOGEOM_LAYER: (NOGEOM_TITLE, "没有几何的规划条目：全县（区）范围的条目和无法定位的条目（原因见 reason）"),
    "boundaries": ("区县边界", "重庆市各区县（区县级）行政区划边界，一个级别"),
    "municipality": ("市界（重庆市）", "重庆市（直辖市）行政区划边界，与区县边界分开"),
    "attributes": ("指标与目标（长表）", "每个条目的每项指标一行：数值、单位、年份、类型和原文，按 feature_id 关联"),
    "indicators": ("主要指标表", "规划主要指标表：基期值与目标值（原文与数值）"),
    "data_dictionary": ("数据字典", "各图层与表的字段：字段名、中文名、类型和说明"),
    "readme": ("数据说明", "本数据的说明：来源规划、坐标系、图层、定位精度、数据来源与许可"),
    "rrmap_export": ("导出信息", "导出程序使用的信息（坐标系、区县、图层列表），供重新导入"),
    "layer_styles": ("图层样式", "QGIS 默认样式（QML 与 SLD）"),
}


@dataclass(frozen=True)
class DictionaryRow:
    """One field of one table, as listed in the data dictionary."""

    table_name: str
    table_title: str
    column_name: str
    alias: str
    type: str
    description: str


def field_info(column: str) -> tuple[str, str]:
    """``(Chinese name, description)`` of a field; patterned fields (``fig2_value``, ``target_2025_text``) too.

    An unknown field gets its own name and an empty description (never an error: a new column must not break
    an export).
    """
    if column in FIELDS:
        return FIELDS[column]
    match = _FIGURE_RE.match(column)
    if match and int(match.group(1)) <= HEADLINE_FIGURES:
        n, part = match.group(1), match.group(2)
        alias, text = _FIGURE_PARTS[part]
        return f"指标{n}{alias}", f"第 {n} 项带数值的指标：{text}（全部指标见 attributes 表）"
    match = _TARGET_RE.match(column)
    if match:
        year, part = match.group(1), match.group(2)
        return (
            (f"{year}年目标（原文）", f"{year} 年目标值的原文写法")
            if part == "text"
            else (f"{year}年目标值", f"{year} 年目标值（实数）")
        )
    return column, ""


def field_alias(column: str) -> str:
    return field_info(column)[0]


def aliases(columns: Iterable[str], names: Mapping[str, str] | None = None) -> dict[str, str]:
    """``{column: Chinese name}`` for ``columns``; ``names`` maps a renamed column (Shapefile) to its property.

    Chinese names are made unique within the table (a second ``序号`` becomes ``序号（n）``): GeoPackage requires it.
    """
    out: dict[str, str] = {}
    used: set[str] = set()
    for column in columns:
        alias = field_alias((names or {}).get(column, column))
        if alias in used:
            alias = f"{alias}（{column}）"
        used.add(alias)
        out[column] = alias
    return out


def layer_title(layer: ItemLayer | str) -> str:
    """Chinese title of an item layer or a table."""
    if isinstance(layer, ItemLayer):
        return layer.title
    return TABLES.get(layer, (layer, ""))[0]


def layer_description(layer: ItemLayer | str) -> str:
    """One-line Chinese description of an item layer or a table."""
    if isinstance(layer, ItemLayer):
        if layer.category is None:
            return TABLES[NOGEOM_LAYER][1]
        family = FAMILY_LABELS.get(layer.family or "", "")
        label = config.CATEGORIES.get(layer.category, layer.category)
        return f"规划条目：{label}，{family}要素（{layer.geometry_type}），{layer.count} 项"
    return TABLES.get(layer, (layer, ""))[1]


def column_type(series: pd.Series) -> str:
    """The type of a column as the dictionary states it (文本/整数/实数/几何)."""
    dtype = series.dtype
    if str(dtype) == "geometry":
        return "几何 GEOMETRY"
    if pd.api.types.is_bool_dtype(dtype):
        return "布尔 BOOLEAN"
    if pd.api.types.is_integer_dtype(dtype):
        return "整数 INTEGER"
    if pd.api.types.is_float_dtype(dtype):
        return "实数 REAL"
    return "文本 TEXT"


def dictionary_rows(
    tables: Mapping[str, pd.DataFrame], titles: Mapping[str, str], names: Mapping[str, Mapping[str, str]] | None = None
) -> list[DictionaryRow]:
    """The dictionary rows of ``tables`` (name -> frame), in table then column order.

    ``titles`` gives each table's Chinese title; ``names`` maps renamed columns back to their property per
    table (the Shapefile's 10-character names), so they get the property's Chinese name and description.
    """
    rows: list[DictionaryRow] = []
    for table, frame in tables.items():
        renamed = (names or {}).get(table, {})
        table_aliases = aliases(list(frame.columns), renamed)
        for column in frame.columns:
            prop = renamed.get(column, column)
            description = field_info(prop)[1]
            if str(frame[column].dtype) == "geometry":
                description = "几何（要素的位置或范围）"
            rows.append(
                DictionaryRow(
                    table,
                    titles.get(table, table),
                    column,
                    table_aliases[column],
                    column_type(frame[column]),
                    description,
                )
            )
    return rows


def dictionary_frame(rows: Iterable[DictionaryRow]) -> pd.DataFrame:
    """The data dictionary as a table (columns ``table_name, table_title, column_name, alias, type, description``)."""
    columns = ["table_name", "table_title", "column_name", "alias", "type", "description"]
    return pd.DataFrame([[getattr(r, c) for c in columns] for r in rows], columns=columns)
