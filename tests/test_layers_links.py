"""Tier 1: deep links <-> view state."""

from __future__ import annotations

import config
from present.urlstate import ViewState, parse_state, state_params

CODES = ["500000", "500235", "500102"]
BASEMAPS = ["none", "osm"]


def test_round_trip_of_a_full_state() -> None:
    state = ViewState("500235", ("demo_village", "demo_town"), "f:yy-dv-001", "osm")
    parsed = parse_state(state_params(state), CODES, BASEMAPS)
    assert parsed.county == "500235"
    assert set(parsed.layers) == {"demo_village", "demo_town"}
    assert parsed.selected == "f:yy-dv-001"
    assert parsed.basemap == "osm"


def test_defaults_are_left_out_of_the_link() -> None:
    assert state_params(ViewState("500235")) == {"county": "500235"}


def test_no_layers_is_written_none() -> None:
    params = state_params(ViewState("500235", ()))
    assert params["layers"] == "none"
    assert parse_state(params, CODES, BASEMAPS).layers == ()


def test_unknown_values_fall_back_instead_of_failing() -> None:
    state = parse_state(
        {"county": "999999", "layers": "bogus,demo_village", "sel": "<script>", "basemap": "evil"}, CODES, BASEMAPS
    )
    assert state.county == "500000"
    assert state.layers == ("demo_village",)
    assert state.selected is None
    assert state.basemap == "none"


def test_missing_layers_means_all_categories() -> None:
    assert parse_state({}, CODES, BASEMAPS).layers == tuple(config.CATEGORIES)
