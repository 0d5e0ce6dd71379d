"""The point layer's JSON: markup rebuilt from interned pieces, vectorised geometry kinds, built once per content."""

from __future__ import annotations

import json

from layer_fixtures import good_features, hostile_features, multi_features
from shapely.geometry import GeometryCollection, LineString, MultiPoint, Point, Polygon

from layers.base import feature_popup_html, kind_of, kinds
from layers.points import feature_tooltip, point_data, point_rows


def assembled(data: str) -> list[tuple[str, str]]:
    """(tooltip, popup) of every item, joined from the string table as the browser does."""
    parsed = json.loads(data.replace("<\\/", "</"))
    strings, items = parsed[2], parsed[3]
    return [("".join(strings[i] for i in it[0]), "".join(strings[i] for i in it[1])) for it in items]


def test_items_join_back_to_the_tooltip_and_popup_markup() -> None:
    for frame in (good_features(), hostile_features(), multi_features()):
        rows = point_rows(frame)
        data, _n = point_data(frame)
        expected = [(feature_tooltip(r), feature_popup_html(r)) for _, r in rows.iterrows()]
        assert assembled(data) == expected


def test_same_rows_give_the_same_layer_and_changed_rows_a_new_one() -> None:
    frame = good_features()
    first = point_data(frame)
    assert point_data(frame.copy()) == first
    renamed = frame.copy()
    renamed.loc[renamed.index[0], "name"] = "改名村"
    changed = point_data(renamed)
    assert changed != first and "改名村" in changed[0]
    moved = frame.copy()
    moved.loc[moved.index[0], "geometry"] = Point(101.5, 11.5)
    assert point_data(moved)[0] != first[0]


def test_kinds_match_kind_of_for_every_geometry_type() -> None:
    geoms = [
        None,
        Point(1, 2),
        Point(),
        LineString([(0, 0), (1, 1)]),
        Polygon([(0, 0), (1, 0), (1, 1)]),
        MultiPoint([(0, 0), (1, 1)]),
        GeometryCollection([Point(0, 0), LineString([(0, 0), (1, 1)])]),
        GeometryCollection(),
    ]
    assert list(kinds(geoms)) == [kind_of(g) for g in geoms]
