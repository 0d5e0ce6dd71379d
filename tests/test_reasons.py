"""Reasons and notes in a planner's words: no file, path or field name reaches the planner; the original text is
kept for GIS staff."""

from __future__ import annotations

import pytest

from geo.features import load_features
from plan.loader import available_plans, load_plan
from present.reasons import GENERAL, explain, explain_note, technical


@pytest.mark.parametrize(
    ("reason", "planner"),
    [
        ("全域性事项，不落点", "这是全域性的工作，规划没有落到具体地点，故不在图上标点"),
        ("乡镇驻地：泥溪镇", "标在泥溪镇的乡镇驻地（示意位置）"),
        (
            "乡镇“龙角镇”在地名表中没有坐标（GeoNames 未匹配或有歧义，见 data/gazetteer/report.csv）",
            "公开地名数据中找不到“龙角镇”的准确位置，暂不标点；GIS 人员可补充坐标",
        ),
        (
            "“某园区”（area）无公开坐标，可在 overrides.csv 补充",
            "“某园区”没有公开的位置数据，暂不标点；GIS 人员可补充坐标",
        ),
    ],
)
def test_known_reasons_become_planner_sentences_and_keep_the_original(reason: str, planner: str) -> None:
    explained = explain(reason)
    assert explained.planner == planner
    assert explained.detail == reason


def test_unknown_technical_text_goes_to_the_detail_whole() -> None:
    explained = explain("见 places 字段；scope 为 county")
    assert explained.planner == GENERAL and "places" in explained.detail


def test_a_note_with_field_names_is_for_gis_staff_only() -> None:
    assert explain_note("村级示范典型，未点名任何村，故用 category other（demo_village 需具名村）").planner == ""
    assert explain_note("规划未列出名称。").planner == "规划未列出名称。"


@pytest.mark.parametrize("county", available_plans())
def test_no_reason_or_note_of_a_real_plan_shows_files_or_fields_to_a_planner(county: str) -> None:
    _plan, features = load_features(county)
    for reason in features["reason"]:
        assert not technical(explain(reason).planner), reason
    for entity in load_plan(county).entities:
        assert not technical(explain_note(entity.note).planner), entity.note
