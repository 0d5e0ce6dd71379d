"""Tier 1: name normalisation and the mentions index."""

from __future__ import annotations

from pathlib import Path

from plan.loader import load_plan, load_plan_file
from plan.mentions import build_mentions, place_forms, sentences
from plan.model import Place
from plan.names import normalise, variants

FIXTURES = Path(__file__).parent / "fixtures" / "plans"


def test_normalise_strips_one_suffix_and_unifies_forms() -> None:
    assert normalise("泥溪镇") == "泥溪"
    assert normalise("盘龙街道") == "盘龙"
    assert normalise("马安社区") == "马安"
    assert normalise("大阳乡") == "大阳"
    assert normalise("人和―巴阳") == normalise("人和—巴阳") == "人和-巴阳"
    assert normalise("（双河）") == "(双河)"
    assert normalise("石村") == "石村"  # a one-character stem would match too much


def test_variants_cover_dash_pairs_written_with_yi() -> None:
    assert "鸡鸣一咸宜" in variants("鸡鸣-咸宜")


def test_bare_form_is_searched_only_when_registered_as_alias() -> None:
    with_alias = Place(name="泥溪镇", kind="town", norm="泥溪", aliases=("泥溪",))
    without = Place(name="青龙镇", kind="town", norm="青龙")
    assert "泥溪" in place_forms(with_alias)
    assert place_forms(without) == ["青龙镇"]


def test_mentions_index_finds_sentences_with_line_numbers() -> None:
    plan = load_plan_file(FIXTURES / "good.yaml", seeds_dir=FIXTURES)
    index = build_mentions(plan)
    assert [(m.line, m.form) for m in index["双河镇"]] == [(3, "双河镇"), (5, "双河")]
    assert [m.line for m in index["双河镇/黎明村"]] == [3]
    assert index["青龙镇"][0].sentence.startswith("建设沿江柑橘产业带")


def test_sentences_drop_word_bookmarks() -> None:
    assert sentences(("[bookmark: _Toc1]第一章  总则。第二句；",)) == [(1, "第一章  总则。"), (1, "第二句；")]


def test_mentions_of_real_plan_cover_every_demo_village() -> None:
    plan = load_plan("500235")
    index = build_mentions(plan)
    for place in plan.villages():
        assert index[place.key], f"{place.key} is registered but never found in the text"
