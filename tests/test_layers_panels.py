"""Tier 1: attribute panel, legend, filters and indicator chart data."""

from __future__ import annotations

from dataclasses import dataclass

from layer_fixtures import good_features, good_plan, hostile_features

from layers.legend import count_by_category, legend_html
from plan.mentions import build_mentions
from present.filters import filter_features, town_of_place, towns_of
from present.indicators import chart_frame, common_indicators, comparison_chart_frame, indicator_key, table_frame
from present.panel import district_panel_html, feature_panel_html, town_panel_html


def test_feature_panel_shows_designation_places_citation_and_quote() -> None:
    row = good_features().iloc[0].to_dict()
    html = feature_panel_html(row, "测试规划")
    assert "县级示范村" in html and "双河镇、黎明村" in html
    assert "专栏1 乡村振兴示范村" in html and "第 3 行" in html
    assert "<blockquote>“双河镇黎明村”</blockquote>" in html
    assert "乡镇驻地" in html


def test_feature_panel_lists_attributes_as_a_table() -> None:
    row = good_features().iloc[1].to_dict()
    html = feature_panel_html(row, "测试规划")
    assert "<th>面积</th><td>1.2万亩" in html


def test_feature_panel_escapes_everything_from_the_file() -> None:
    row = hostile_features().iloc[0].to_dict()
    html = feature_panel_html(row, "<img src=x onerror=alert(3)>")
    assert "<script>" not in html and "<img" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;村" in html


def test_town_panel_lists_what_the_plan_says_there() -> None:
    plan = good_plan()
    mentions = build_mentions(plan)["双河镇"]
    html = town_panel_html("双河镇", mentions, plan.title, items=["黎明村（示范村）"])
    assert f"规划中关于此地的表述（{len(mentions)} 处）" in html
    assert len(mentions) == 2  # line 3 (双河镇黎明村…) and line 5 (途经双河…)
    assert "第 3 行" in html and "第 5 行" in html


def test_district_panel_without_items_says_so() -> None:
    html = district_panel_html("<b>区</b>", [], has_plan=False)
    assert "&lt;b&gt;区" in html and "市级规划未点名本区县" in html


def test_legend_counts_per_category_in_config_order() -> None:
    counts = count_by_category(["demo_village", "demo_town", "demo_village"])
    assert list(counts.items()) == [("demo_town", 1), ("demo_village", 2)]
    html = legend_html(counts)
    assert "示范村" in html and ">2<" in html


def test_filters_by_category_designation_town_and_search_order() -> None:
    plan, feats = good_plan(), good_features()
    assert list(filter_features(feats, plan, categories=["demo_village"])["id"]) == ["t-dv-001"]
    assert list(filter_features(feats, plan, designations=["县级示范村"])["id"]) == ["t-dv-001"]
    assert set(filter_features(feats, plan, towns=["青龙镇"])["id"]) == {"t-belt-001"}
    assert list(filter_features(feats, plan, ids=["t-rs-001", "t-dv-001"])["id"]) == ["t-rs-001", "t-dv-001"]
    assert len(filter_features(feats, plan, categories=[])) == 0


def test_villages_and_aliases_map_to_their_town() -> None:
    lookup = town_of_place(good_plan())
    assert towns_of(["双河", "黎明村", "青龙"], lookup) == ["双河镇", "青龙镇"]


@dataclass(frozen=True)
class T:
    year: int
    text: str
    value: float | None


@dataclass(frozen=True)
class Row:
    county: str
    indicator: str
    base_value: float | None
    targets: tuple[T, ...]
    nature: str | None = "约束性"
    number: str | None = "1"
    group: str | None = None
    unit: str | None = "%"
    base_year: int | None = 2020
    base_text: str | None = "1"
    markers: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    lines: tuple[int, int] = (1, 2)
    changes: tuple[object, ...] = ()


def test_chart_frame_has_every_year_the_plan_gives_and_drops_indicators_without_numbers() -> None:
    rows = [
        Row("500229", "粮食综合生产能力", 8.8, (T(2020, "8.6", 8.6), T(2022, "8.7", 8.7), T(2025, "≥8", None))),
        Row("500235", "高于全市平均", None, (T(2025, "高于全市", None),), nature="预期性", base_text=None),
    ]
    frame = chart_frame(rows)
    assert list(frame["series"]) == ["基期 2020", "目标 2020", "目标 2022", "目标 2025"]
    assert list(frame["value"])[:3] == [8.8, 8.6, 8.7] and frame["value"].isna().iloc[3]
    assert list(frame["text"])[-1] == "≥8"  # a printed target that is not a number is kept as text
    assert set(frame["title"]) == {"粮食综合生产能力（%） · 约束性"}


def test_comparison_chart_frame_has_the_numbers_of_shared_indicators() -> None:
    by_plan = {
        "500235": [Row("500235", "地区生产总值年均增速（%）", 8.6, (T(2025, "7", 7.0),))],
        "500102": [Row("500102", "地区生产总值年均增速(%)", 8.3, (T(2025, "高于全市", None),))],
    }
    frame = comparison_chart_frame(by_plan, {"500235": "云阳县", "500102": "涪陵区"})
    assert list(frame["规划"]) == ["云阳县", "云阳县", "涪陵区"]
    assert list(frame["数值"]) == [8.6, 7.0, 8.3]


def test_table_frame_numbers_rows_and_carries_groups_down() -> None:
    table = table_frame(
        [
            Row("500229", "指标A", 1.0, (), group="产业兴旺", number="1"),
            Row("500229", "指标B", 1.0, (), group=None, number="1"),
        ]
    )
    assert list(table["序号"]) == [1, 2] and list(table["类别"]) == ["产业兴旺", "产业兴旺"]


def test_table_frame_keeps_printed_texts() -> None:
    table = table_frame([Row("500235", "指标A", 1.0, (T(2025, "≥2", 2.0),))])
    assert table.loc[0, "2025年目标"] == "≥2" and table.loc[0, "属性"] == "约束性"


def test_common_indicators_match_names_without_units() -> None:
    assert indicator_key("地区生产总值年均增速（%）") == "地区生产总值年均增速"
    by_plan = {
        "500235": [Row("500235", "地区生产总值年均增速（%）", 8.6, (T(2025, "7", 7.0),))],
        "500102": [Row("500102", "地区生产总值年均增速(%)", 8.3, (T(2025, "7*", 7.0),))],
        "500243": [Row("500243", "其他指标", None, ())],
    }
    table = common_indicators(by_plan, {"500235": "云阳县", "500102": "涪陵区"})
    assert list(table["规划"]) == ["云阳县", "涪陵区"]
    assert set(table["指标"]) == {"地区生产总值年均增速"}
