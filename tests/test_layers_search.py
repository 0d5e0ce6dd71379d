"""Tier 1: search by Chinese text, full pinyin and initials; filters."""

from __future__ import annotations

from present.search import build_index, pinyin_forms, search


def index():
    return build_index(
        [
            ("a", "黎明村", ["泥溪镇", "黎明村"], "县级示范村"),
            ("b", "新华村", ["双河镇", "新华村"], None),
            ("c", "沿江柑橘产业带", ["双河", "青龙"], None),
        ]
    )


def test_pinyin_forms_give_full_and_initials() -> None:
    assert pinyin_forms("黎明村") == ("limingcun", "lmc")


def test_chinese_query_matches_names_places_and_designations() -> None:
    idx = index()
    assert search(idx, "黎明") == ["a"]
    assert search(idx, "双河") == ["b", "c"]
    assert search(idx, "县级") == ["a"]


def test_pinyin_and_initials_match_names() -> None:
    idx = index()
    assert search(idx, "liming") == ["a"]
    assert search(idx, "LM") == ["a"]
    assert search(idx, "xinhua")[0] == "b"


def test_pinyin_matches_places_after_names() -> None:
    assert search(index(), "nixi") == ["a"]


def test_empty_query_returns_everything_in_order() -> None:
    assert search(index(), "  ") == ["a", "b", "c"]


def test_no_match_returns_nothing() -> None:
    assert search(index(), "zzz") == []
