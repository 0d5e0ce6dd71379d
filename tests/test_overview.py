"""The 概览 tab: counts per category and precision from the feature table, text from files escaped."""

from __future__ import annotations

import pytest

import config
from geo.features import load_features
from present.markup import md
from present.overview import locating_counts, overview_markdown


@pytest.mark.parametrize("county", ["500235", "500000"])
def test_counts_add_up_to_the_feature_table(county: str) -> None:
    plan, features = load_features(county)
    rows = locating_counts(features)
    assert sum(r[1] for r in rows) == len(features) == len(plan.entities)
    assert sum(r[2] for r in rows) == int(features.geometry.notna().sum())
    for cat, total, on_map, countywide, unlocated in rows:
        mine = features[features["category"] == cat]
        assert total == len(mine)
        assert countywide == int(((mine["precision"] == "county") & mine.geometry.isna()).sum())
        assert unlocated == total - on_map - countywide >= 0
    assert [r[0] for r in rows] == [c for c in config.CATEGORIES if c in set(features["category"])]


def test_overview_names_the_plan_and_every_category_without_file_paths() -> None:
    plan, features = load_features("500235")
    text = overview_markdown(plan, features, shown_count=10)
    assert md(plan.title) in text and "原文的章节、行号与引文" in text
    assert "data/" not in text and plan.seed not in text  # file names are for GIS staff (ui.tabs: 给 GIS 人员)
    assert f"共 **{len(features)}** 项规划要素" in text and "当前筛选显示 10 项" in text
    for cat in set(features["category"]):
        assert f"| {md(config.CATEGORIES[cat])} |" in text
    assert "定位精度" in text and config.PRECISIONS["town"] in text


def test_markdown_from_files_is_escaped() -> None:
    assert md("a*b_c|d<e>[f](g)") == r"a\*b\_c\|d\<e\>\[f\]\(g\)"
    assert md("两行\n文字") == "两行 文字"
