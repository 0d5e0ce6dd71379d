"""Headline indicator tables: every row of the five plans, pinned against the printed tables.

The expectations below were typed from the seeds by reading each table (``sed -n`` over the line ranges in
the comments), not from parser output.  Columns: number | group | indicator | unit | base | targets (";" between
target years) | nature | markers.  An empty field is None.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from shipped import SHIPPED_PLANS

import config
from plan.indicators import (
    IndicatorParseError,
    IndicatorRow,
    indicators_frame,
    load_indicators,
    parse_indicator_table,
    parse_value,
)
from plan.loader import load_plan

FIXTURES = Path(__file__).parent / "fixtures" / "indicators"

# 云阳县, 000_…txt lines 40-188: one cell per line, no tabs; group cells only on the first row of a group.
YUNYANG = """
1||地区生产总值年均增速（%）|%|8.6|高于渝东北平均水平|预期性|
2||农村常住居民人均可支配收入年均增速（%）|%|/|高于渝东北平均水平|预期性|
3||农村义务教育巩固率（%）|%|98.9|99|约束性|
4|医疗保障巩固|基本医保参保率（%）|%|95|95|约束性|
4|医疗保障巩固|标准化村卫生室比重（%）|%|100|100|预期性|
4|医疗保障巩固|乡村医生中执业（助理）医师比例（%）|%|/|27|预期性|
5||农村自来水普及率（%）|%|86.3|90|预期性|
6|农村人居环境|农村卫生户厕普及率（%）|%|80.17|90|预期性|
6|农村人居环境|行政村生活垃圾有效治理比例（%）|%|—|90|预期性|
6|农村人居环境|常住人口200户或500人以上的农村聚居点污水处理设施建设（座）|座|—|/|预期性|#
7|就业保障|公益岗位脱贫人口就业比重（%）|%|/|保持规模总体稳定|预期性|
7|就业保障|有劳动能力、有就业意愿和培训需求的群众培训比重（%）|%|100|100|预期性|
7|就业保障|转移就业比重（%）|%|—|85|预期性|
8|产业发展|农业产值年均增速（%）|%|12.5|4|预期性|
8|产业发展|农产品加工业产值与农业总产值比||1.5:1|2:1|预期性|
8|产业发展|农林牧渔服务业产值年均增速（%）|%|/|高于渝东北平均水平|预期性|
8|产业发展|粮食综合生产能力（万吨）|万吨|40.73|≥42|约束性|#
8|产业发展|耕地中高标准农田占比（%）|%|/|61|约束性|#
9||易地扶贫搬迁安置点五通五有覆盖率（%）|%|/|100|预期性|
10||村民小组通硬化路的比例（%）|%|95.5|98|预期性|
11||易返贫致贫监测对象帮扶率（%）|%|—|100|约束性|
"""

# 涪陵区, 001_…txt lines 70-208: tab cells; the group cell "医疗" / "保障" is wrapped over two lines.
FULING = """
1||地区生产总值年均增速（%）|%|8.3|7*|预期性|*
2||农村常住居民人均可支配收入年均增速（%）|%|9.6|高于全区平均水平|预期性|
3||九年义务教育巩固率（%）|%|98.5|99|约束性|
4|医疗保障|农村人口基本医保参保率（%）|%|95|95|约束性|
4|医疗保障|标准化村卫生室比重（%）|%|100|100|预期性|
4|医疗保障|乡村医生中执业（助理）医师比例（%）|%|26|32|预期性|
5||农村自来水普及率（%）|%|96|98|预期性|
6|农村人居环境|农村卫生户厕普及率（%）|%|88|90|预期性|
6|农村人居环境|行政村生活垃圾有效治理比例（%）|%|—|90|预期性|
6|农村人居环境|常住人口200户或500人以上的农村聚居点污水处理设施建设（座）|座|—|30|预期性|
7|就业保障|公益岗位脱贫人口就业比重（%）|%|—|15|预期性|
7|就业保障|有劳动能力、有就业意愿和培训需求的群众培训比重（%）|%|100|100|预期性|
7|就业保障|转移就业比重（%）|%|—|85|预期性|
8|乡村产业发展|农业产值增速（%）|%|5.2|4.0*|预期性|*
8|乡村产业发展|农产品加工产值与农业总产值比||2.6：1|3.6∶1|预期性|
8|乡村产业发展|粮食综合生产能力（万吨）|万吨|44.2|≥44|约束性|
8|乡村产业发展|耕地中高标准农田占比（%）|%|18.7|30|约束性|
9||村民小组通硬化路的比例（%）|%|100|100|预期性|
10||易返贫致贫监测对象帮扶率（%）|%|—|100|约束性|
"""

# 彭水, 002_…txt lines 46-153: tab cells, no base-year column; indicators wrapped over a blank line.
PENGSHUI = """
1||农村常住居民人均可支配收入增长（%）|%||高于全市平均水平|预期性|
2||农村义务教育巩固率（%）|%||96|约束性|
3|医疗保障巩固|农村人口基本医保参保率（%）|%||95|约束性|
3|医疗保障巩固|标准化村卫生室比重（%）|%||100|预期性|
3|医疗保障巩固|乡村医生中执业（助理）医师比例（%）|%||27|预期性|
4||农村自来水普及率（%）|%||88|预期性|
5|农村人居环境|农村卫生户厕普及率（%）|%||90|预期性|
5|农村人居环境|行政村生活垃圾有效治理比例（%）|%||90|预期性|
5|农村人居环境|常住人口200户或500人以上的农村聚居点污水处理设施建设|||基本完成|约束性|
6|就业保障|公益岗位脱贫人口就业比重（%）|%||保持稳定|预期性|
6|就业保障|培训比重（%）|%||100|预期性|
6|就业保障|劳务协作转移就业比重（%）|%||85|预期性|
7|产业发展|农业增加值增速（%）|%||高于全市平均水平|预期性|
7|产业发展|农产品加工产值与农业总产值比|||1.2:1|预期性|
8||易地扶贫搬迁安置点五通五有覆盖率（%）|%||100|预期性|
9||具备条件的村民小组通硬化路的比例（%）|%||100|预期性|
10||易返贫致贫对象帮扶率（%）|%||100|约束性|
"""

# 重庆市, 003_…txt lines 431-556: PDF text, cells on one line, wrapped cells, vertical group cells, a repeated
# header at lines 449-452.
CHONGQING = """
1||地区生产总值增长（%）|%|3.7|高于全市平均水平*|预期性|*
2||农村常住居民人均可支配收入增速（%）|%|8.3|高于全市平均水平*|预期性|*
3||农村义务教育巩固率（%）|%|95|96|约束性|
4|医疗保障|农村人口基本医保参保率（%）|%|95|95|约束性|
4|医疗保障|标准化村卫生室比重（%）|%|100|100|预期性|
4|医疗保障|乡村医生中执业（助理）医师比例（%）|%|22|27|预期性|
5||农村自来水普及率（%）|%|82.5|85|预期性|
6|农村人居环境|农村卫生户厕普及率（%）|%|82|90|预期性|
6|农村人居环境|行政村生活垃圾有效治理比例（%）|%|—|90|预期性|
6|农村人居环境|常住人口200户或500人以上的农村聚居点污水处理设施建设（座）|座|—|350|预期性|#
7|就业保障|公益岗位脱贫人口就业比重（%）|%|15|保持规模总体稳定|预期性|
7|就业保障|有劳动能力、有就业意愿和培训需求的群众培训比重（%）|%|100|100|预期性|
7|就业保障|转移就业比重（%）|%|—|85|预期性|
8|乡村产业发展|农业产值增速（%）|%|5.1|4.0*|预期性|*
8|乡村产业发展|农产品加工产值与农业总产值比||1.2：1|2∶1|预期性|
8|乡村产业发展|农林牧渔服务业产值增速（%）|%|5.2|高于全市平均水平*|预期性|*
8|乡村产业发展|粮食综合生产能力（万吨）|万吨|1075|≥1075|约束性|#
8|乡村产业发展|耕地中高标准农田占比（%）|%|44.7|61|约束性|#
9||易地扶贫搬迁安置点五通五有覆盖率（%）|%|90|100|预期性|
10||村民小组通硬化路的比例（%）|%|92.3|98|预期性|
11||易返贫致贫监测对象帮扶率（%）|%|—|100|约束性|
"""

# 城口县, 004_…txt lines 63-418: tab cells, explicit 分类 and 单位 columns, 2017 base and 2020/2022/2025 targets
# (the "2022年比2017年增加" column is not a target and is not kept).
CHENGKOU = """
1|产业兴旺|粮食综合生产能力|万吨|8.8|8.6;8.7;8|约束性|
2|产业兴旺|现代山地特色高效农业增加值|亿元|8.62|12.27;13.4;15.3|预期性|*
3|产业兴旺|休闲农业和乡村旅游接待人次|亿人次|0.0314|0.045;0.065;0.12|预期性|
4|产业兴旺|农产品加工产值与农业总产值比||1.6|2.0;2.3;2.6|预期性|
5|产业兴旺|农业科技进步贡献率|%|54.5|57;58.5;60.5|预期性|
6|产业兴旺|耕种收综合机械化水平|%|37.89|37.63;38;38.5|预期性|*
7|产业兴旺|农业劳动生产率|万元/人|2.7|4.3;5;6|预期性|
8|产业兴旺|农产品“两品一标”总数|个|78|82;90;95|预期性|*
9|生态宜居|畜禽粪污综合利用率|%|65|75;75;75|约束性|
10|生态宜居|村落绿化覆盖率|%|40|43;45;50|预期性|
11|生态宜居|对生活垃圾进行处理的村占比|%|86|93;95;97|预期性|
12|生态宜居|农村生活污水处理率|%|54|62;65;70|预期性|*
13|生态宜居|农村卫生厕所普及率|%|49.7|70;>72;100|预期性|
14|乡风文明|村综合性文化服务中心覆盖率|%|100|100;100;100|预期性|
15|乡风文明|县级以上文明村和乡镇占比|%|26.02|>45;>55;70|预期性|
16|乡风文明|农村义务教育学校专任教师本科以上学历比例|%|57.32|65.14;75;78|预期性|
17|乡风文明|农村居民教育文化娱乐支出占比|%|8.5|10;10.4;11.5|预期性|
18|乡风文明|梦想课堂参与度|%|25|40;60;80|预期性|*
19|治理有效|村规划管理覆盖率|%|100|100;100;100|预期性|
20|治理有效|建有综合服务站的村占比|%|96|100;100;100|预期性|
21|治理有效|村党组织书记兼任村委会主任的村占比|%|9.8|>35;>50;80|预期性|
22|治理有效|有村规民约的村占比|%|100|100;100;100|预期性|
23|治理有效|集体经济强村比重|%|1|6;9;11|预期性|
24|治理有效|农村居民恩格尔系数|%|37.54|33.2;30.6;27.92|预期性|
25|治理有效|城乡居民收入比||2.88：1|2.67:1;2.53:1;2.38:1|预期性|
26|生活富裕|城乡养老保险参保率|%|70|≥90;≥92;95|预期性|*
27|生活富裕|城乡基本医疗保险参保率|%|95|≥95;≥95;≥95|预期性|*
28|生活富裕|农村自来水普及率|%|73|80;85;90|预期性|
29|生活富裕|具备条件的建制村通硬化路比例|%|98|100;100;100|约束性|
30|生活富裕|农村公路村民小组通畅率|%|57|89;95;100|预期性|*
"""

# county: (expected table, base year, target years, {marker: note})
PLANS: dict[str, tuple[str, int | None, tuple[int, ...], dict[str, str]]] = {
    "500235": (YUNYANG, 2020, (2025,), {"#": "带#指标值为推动全市达到的目标。"}),
    "500102": (FULING, 2020, (2025,), {"*": "带*为规划期平均数。"}),
    "500243": (PENGSHUI, None, (2025,), {}),
    "500000": (
        CHONGQING,
        2020,
        (2025,),
        {"*": "带*为规划期平均数。", "#": "带#指标值为推动全市达到的目标并与全市指标值保持一致。"},
    ),
    "500229": (CHENGKOU, 2017, (2020, 2022, 2025), {"*": "本指标体系中带“*”指标为非国家指标。"}),
}


def expected_rows(table: str) -> list[tuple[object, ...]]:
    rows = []
    for line in table.strip().splitlines():
        number, group, indicator, unit, base, targets, nature, markers = line.split("|")
        rows.append(
            (
                number,
                group or None,
                indicator,
                unit or None,
                base or None,
                tuple(targets.split(";")),
                nature,
                tuple(markers),
            )
        )
    return rows


def printed(row: IndicatorRow) -> tuple[object, ...]:
    return (
        row.number,
        row.group,
        row.indicator,
        row.unit,
        row.base_text,
        tuple(t.text for t in row.targets),
        row.nature,
        row.markers,
    )


@pytest.fixture(scope="module")
def parsed() -> dict[str, list[IndicatorRow]]:
    return {county: load_indicators(county) for county in PLANS}


# --- the five plans -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("county", list(PLANS))
def test_rows_match_printed_table(parsed: dict[str, list[IndicatorRow]], county: str) -> None:
    table, _, _, _ = PLANS[county]
    assert [printed(row) for row in parsed[county]] == expected_rows(table)


@pytest.mark.parametrize("county", list(PLANS))
def test_years_come_from_the_header(parsed: dict[str, list[IndicatorRow]], county: str) -> None:
    _, base_year, target_years, _ = PLANS[county]
    for row in parsed[county]:
        assert row.county == county
        assert row.base_year == (base_year if row.base_text is not None else None)
        assert tuple(t.year for t in row.targets) == target_years


@pytest.mark.parametrize("county", list(PLANS))
def test_marker_rows_carry_the_note_that_explains_them(parsed: dict[str, list[IndicatorRow]], county: str) -> None:
    _, _, _, notes = PLANS[county]
    for row in parsed[county]:
        assert row.notes == tuple(notes[m] for m in row.markers), row.indicator
        assert not any(m in row.indicator for m in "*#＊＃"), row.indicator


@pytest.mark.parametrize("county", list(PLANS))
def test_numbers_are_parsed_from_the_printed_text(parsed: dict[str, list[IndicatorRow]], county: str) -> None:
    for row in parsed[county]:
        assert row.base_value == parse_value(row.base_text)
        for target in row.targets:
            assert target.value == parse_value(target.text)


@pytest.mark.parametrize("county", list(PLANS))
def test_line_span_covers_indicator_and_nature(parsed: dict[str, list[IndicatorRow]], county: str) -> None:
    lines = (config.SEEDS_DIR / SHIPPED_PLANS[county]).read_text(encoding="utf-8").splitlines()
    for row in parsed[county]:
        first, last = row.lines
        span = "".join("".join(line.split()) for line in lines[first - 1 : last])
        assert span.endswith(row.nature), (row.indicator, row.lines)
        assert row.indicator[:6] in span, (row.indicator, row.lines)


def test_pinned_line_spans(parsed: dict[str, list[IndicatorRow]]) -> None:
    spans = {(r.county, r.number, r.indicator[:8]): r.lines for rows in parsed.values() for r in rows}
    assert spans[("500235", "1", "地区生产总值年均")] == (47, 51)
    assert spans[("500102", "4", "农村人口基本医保")] == (96, 103)  # group cell 医疗 / 保障 starts the row
    assert spans[("500243", "3", "乡村医生中执业（")] == (75, 81)
    assert spans[("500000", "7", "公益岗位脱贫人口")] == (497, 511)  # vertical 就业保障, wrapped target
    assert spans[("500229", "30", "农村公路村民小组")] == (404, 413)


def test_selected_values(parsed: dict[str, list[IndicatorRow]]) -> None:
    by_name = {(r.county, r.indicator): r for rows in parsed.values() for r in rows}
    grain = by_name[("500235", "粮食综合生产能力（万吨）")]
    assert (grain.base_value, grain.targets[0].value) == (40.73, 42.0)
    ratio = by_name[("500102", "农产品加工产值与农业总产值比")]
    assert (ratio.base_value, ratio.targets[0].value) == (2.6, 3.6)
    assert by_name[("500000", "地区生产总值增长（%）")].targets[0].value is None
    assert by_name[("500243", "常住人口200户或500人以上的农村聚居点污水处理设施建设")].targets[0].value is None
    civil = by_name[("500229", "县级以上文明村和乡镇占比")]
    assert [t.value for t in civil.targets] == [45.0, 55.0, 70.0]
    assert by_name[("500229", "农业劳动生产率")].unit == "万元/人"


# --- numbers --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("≥95", 95.0),
        ("10.5", 10.5),
        ("[5]", 5.0),
        ("〔4〕", 4.0),
        ("＞90%", 90.0),
        ("约2.3", 2.3),
        ("1.2万", 12000.0),
        ("2.6：1", 2.6),
        ("3.6∶1", 3.6),
        ("1:2", 0.5),
        ("〔−6.94〕", -6.94),
        ("−0.35", -0.35),
        ("〔>28.98〕", 28.98),
        ("4.0*", 4.0),
        (" 57", 57.0),
        ("95%以上", 95.0),
        ("—", None),
        ("/", None),
        ("5-10", None),
        ("5～10", None),
        ("高于全市平均水平*", None),
        ("基本完成", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_value(text: str | None, value: float | None) -> None:
    result = parse_value(text)
    assert result == value or (value is not None and result is not None and math.isclose(result, value))


# --- page furniture and broken input --------------------------------------------------------------------------


def test_inline_table_skips_page_numbers_and_repeated_headers() -> None:
    rows = parse_indicator_table(
        (FIXTURES / "inline_page_break.txt").read_text(encoding="utf-8"), "500000", table_label="专栏1"
    )
    assert [(r.number, r.group, r.indicator, r.base_text, r.targets[0].text) for r in rows] == [
        ("1", None, "地区生产总值增长（%）", "3.7", "高于全市平均水平*"),
        ("2", None, "农村义务教育巩固率（%）", "95", "96"),
        ("3", "医疗保障", "农村人口基本医保参保率（%）", "95", "95"),
        ("3", "医疗保障", "标准化村卫生室比重（%）", "100", "100"),  # group carried over the page break
        ("3", "医疗保障", "常住人口200户或500人以上的农村聚居点污水处理设施建设（座）", "—", "350"),
        ("4", None, "粮食综合生产能力（万吨）", "1075", "≥1075"),
    ]
    assert rows[-1].notes == ("带#指标值为推动全市达到的目标并与全市指标值保持一致。",)


def test_tab_table_skips_page_number_and_repeated_header_inside_a_group() -> None:
    rows = parse_indicator_table(
        (FIXTURES / "tab_page_break.txt").read_text(encoding="utf-8"), "500102", table_label="专栏1"
    )
    assert [(r.number, r.group, r.indicator, r.base_text, r.targets[0].text, r.nature) for r in rows] == [
        ("1", None, "地区生产总值年均增速（%）", "8.3", "7*", "预期性"),
        ("2", "医疗保障", "农村人口基本医保参保率（%）", "95", "95", "约束性"),
        ("2", "医疗保障", "乡村医生中执业（助理）医师比例（%）", "26", "32", "预期性"),
        ("3", None, "易返贫致贫监测对象帮扶率（%）", "—", "100", "约束性"),
    ]
    assert rows[2].lines == (32, 39)


def test_bare_table_tells_page_numbers_from_row_numbers() -> None:
    rows = parse_indicator_table(
        (FIXTURES / "bare_page_number.txt").read_text(encoding="utf-8"), "500235", table_label="专栏1"
    )
    assert [(r.number, r.group, r.indicator, r.base_text) for r in rows] == [
        ("1", None, "地区生产总值年均增速（%）", "8.6"),
        ("2", "农村人居环境", "农村卫生户厕普及率（%）", "80.17"),
        ("2", "农村人居环境", "行政村生活垃圾有效治理比例（%）", "—"),
        ("2", "农村人居环境", "粮食综合生产能力（万吨）", "40.73"),
        ("3", None, "村民小组通硬化路的比例（%）", "95.5"),
    ]
    assert rows[3].markers == ("#",)


def test_missing_table_raises_clear_error() -> None:
    text = "第一章 总体要求\n\n到2025年，乡村振兴取得重大进展。\n"
    with pytest.raises(IndicatorParseError, match=r"county 500235: no headline indicator table.*专栏1"):
        parse_indicator_table(text, "500235", table_label="专栏1")


def test_project_box_with_same_number_is_not_the_indicator_table() -> None:
    text = "\t专栏1  农业转型升级工程\n\t1. 高标准农田建设。\n"
    with pytest.raises(IndicatorParseError, match="no headline indicator table"):
        parse_indicator_table(text, "500229", table_label="表1")


def test_header_without_nature_column_is_rejected() -> None:
    text = "专栏1 “十四五”时期主要指标\n序号\n指标\n2025年\n\n1\n农村自来水普及率（%）\n90\n"
    with pytest.raises(IndicatorParseError, match="line 1: .*指标属性"):
        parse_indicator_table(text, "500235", table_label="专栏1")


def test_row_cut_off_before_its_nature_cell_names_the_line() -> None:
    lines = (FIXTURES / "tab_page_break.txt").read_text(encoding="utf-8").splitlines()
    text = "\n".join(lines[:12] + ["", "第三章  巩固拓展“两不愁三保障”及饮水安全成果"])
    with pytest.raises(IndicatorParseError, match="line 9: table row ends at line 14"):
        parse_indicator_table(text, "500102", table_label="专栏1")


def test_load_names_the_seed_file_on_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seed = load_plan("500235").seed
    (tmp_path / seed).write_text("没有指标表。\n", encoding="utf-8")
    monkeypatch.setattr(config, "SEEDS_DIR", tmp_path)
    with pytest.raises(IndicatorParseError, match=seed):
        load_indicators("500235")


def test_load_rejects_unknown_county() -> None:
    with pytest.raises(IndicatorParseError, match="no plan for county '500999'"):
        load_indicators("500999")


# --- frame ----------------------------------------------------------------------------------------------------


def test_frame_has_one_flat_row_per_indicator(parsed: dict[str, list[IndicatorRow]]) -> None:
    frame = indicators_frame(parsed["500229"])
    assert len(frame) == 30
    assert [c for c in frame.columns if c.startswith("target_")] == [
        "target_2020_text",
        "target_2020_value",
        "target_2022_text",
        "target_2022_value",
        "target_2025_text",
        "target_2025_value",
    ]
    first = frame.iloc[0]
    assert (first["indicator"], first["base_year"], first["base_value"]) == ("粮食综合生产能力", 2017, 8.8)
    assert (first["target_2022_text"], first["target_2025_value"]) == ("8.7", 8.0)
    assert (first["line_first"], first["line_last"]) == (80, 90)
    assert frame.loc[1, "markers"] == "*" and frame.loc[1, "notes"] == "本指标体系中带“*”指标为非国家指标。"


def test_frame_of_several_plans_leaves_missing_years_empty(parsed: dict[str, list[IndicatorRow]]) -> None:
    frame = indicators_frame(parsed["500243"] + parsed["500229"])
    pengshui = frame[frame["county"] == "500243"]
    assert pengshui["target_2020_text"].isna().all() and pengshui["base_text"].isna().all()
    assert list(pengshui["target_2025_text"].head(2)) == ["高于全市平均水平", "96"]


def test_frame_of_no_rows_keeps_columns() -> None:
    frame = indicators_frame([])
    assert frame.empty and {"indicator", "base_value", "nature", "notes"} <= set(frame.columns)


def test_chengkou_change_column_is_kept_and_its_contradictions_are_named() -> None:
    rows = load_indicators("500229")
    assert all(len(r.changes) == 1 and (r.changes[0].since, r.changes[0].year) == (2017, 2022) for r in rows)
    grain = next(r for r in rows if r.indicator == "粮食综合生产能力")
    assert grain.changes[0].text == "—" and grain.contradictions() == []
    labels = next(r for r in rows if "两品一标" in r.indicator)
    assert labels.changes[0].value == 8 and labels.value_in(2017) == 78 and labels.value_in(2022) == 90
    (sentence,) = labels.contradictions()
    assert "8" in sentence and "12" in sentence
    agreeing = next(r for r in rows if r.indicator == "农业劳动生产率")  # 2.7 -> 5, printed 2.3
    assert agreeing.contradictions() == []
