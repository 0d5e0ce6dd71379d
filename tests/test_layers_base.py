"""Tier 1: shared layer helpers — escaping, click keys, symbology, geometry, deterministic ids."""

from __future__ import annotations

import re

import folium
import pytest
from shapely.geometry import GeometryCollection, LineString, MultiPoint, Point, Polygon

from layers.base import click_key, is_approximate, kind_of, parse_click, parts, stable_ids
from plan.designations import designation_level
from present.markup import esc, text


def test_esc_neutralises_html_and_template_literal_characters() -> None:
    out = esc("<script>`${alert(1)}`\\</script>")
    assert "<" not in out and "`" not in out and "$" not in out and "\\" not in out
    assert esc(None) == ""


def test_click_key_round_trips_through_tooltip_text() -> None:
    key = click_key("f", "yy-dv-001")
    # streamlit-folium returns textContent: the hidden span's text is included, tags are not
    assert parse_click("黎明村 示范村 ⟦f:yy-dv-001⟧") == ("f", "yy-dv-001")
    assert "hidden" in key


def test_click_key_of_a_hostile_town_name_is_escaped_and_recovered() -> None:
    key = click_key("t", "<b>镇</b>")
    assert "<b>" not in key
    assert parse_click("⟦t:&lt;b&gt;镇&lt;/b&gt;⟧") == ("t", "<b>镇</b>")


def test_parse_click_ignores_text_without_key() -> None:
    assert parse_click("just a tooltip") is None
    assert parse_click(None) is None


def test_rejects_unknown_click_kind() -> None:
    with pytest.raises(ValueError):
        click_key("x", "1")


@pytest.mark.parametrize(
    ("designation", "level"),
    [
        ("国家乡村振兴重点帮扶县", 4),
        ("市级重点帮扶乡镇", 3),
        ("县级示范村", 2),
        ("乡镇级示范村", 1),
        ("区县级乡村振兴重点帮扶乡镇", 2),
        ("特色小镇", 0),
        (None, 0),
        (float("nan"), 0),
    ],
)
def test_designation_level_follows_the_plan_wording(designation: object, level: int) -> None:
    assert designation_level(designation) == level


def test_village_at_its_town_seat_is_approximate_but_a_town_is_not() -> None:
    assert is_approximate("demo_village", "town")
    assert not is_approximate("demo_town", "town")
    assert is_approximate("industrial_belt", "schematic")
    assert not is_approximate("demo_village", "exact")


def test_kind_of_flattens_collections() -> None:
    assert kind_of(MultiPoint([(0, 0), (1, 1)])) == "point"
    assert kind_of(LineString([(0, 0), (1, 1)])) == "line"
    assert kind_of(GeometryCollection([Point(0, 0), Polygon([(0, 0), (1, 0), (1, 1)])])) == "area"
    assert kind_of(None) is None
    assert list(parts(Point())) == []


def test_text_treats_nan_as_missing() -> None:
    assert text(float("nan")) is None
    assert text("") is None
    assert text("县级") == "县级"


def test_stable_ids_make_rendering_deterministic() -> None:
    def render() -> str:
        fg = folium.FeatureGroup()
        folium.Marker([30.0, 108.0]).add_to(fg)  # TEST FIXTURE coordinates
        stable_ids(fg, "g0x")
        m = folium.Map(tiles=None)
        fg.add_to(m)
        html = m.get_root().render()
        # streamlit-folium renames the map variable itself; only the layer code must be stable
        return re.sub(r"map_[0-9a-f]{32}", "map", html[html.index("feature_group_g0x0") :])

    assert render() == render()
