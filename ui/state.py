"""The view state every part of the page shares: view (county), basemap, layers, selection.

It lives in ``st.session_state`` under the keys of :class:`Key` and mirrors the URL (``?county=…&layers=…&sel=…``):
the URL is read once, on a session's first run (:func:`init_from_url`), and written once per run
(:func:`write_url`), so a link reproduces the view.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

import streamlit as st

import config
from present.urlstate import ViewState, parse_state, state_params


class Key(StrEnum):
    """Session-state keys of the shared view state (the sidebar's chips use the same keys as their widgets)."""

    INIT = "_init"
    COUNTY = "county"
    BASEMAP = "basemap"
    LAYERS = "layers"
    SELECTED = "selected"  # "f:<entity id>", "t:<town>" or "d:<adcode>"
    FOCUS = "focus"  # zoom the map to the selection


def init_from_url(codes: Sequence[str], basemaps: Sequence[str]) -> None:
    """On the first run of a session, take the view from the URL (deep link); later runs keep the session's."""
    state = st.session_state
    if not state.get(Key.INIT):
        view = parse_state(st.query_params.to_dict(), list(codes), list(basemaps))
        state[Key.INIT] = True
        state[Key.COUNTY] = view.county
        state[Key.BASEMAP] = view.basemap
        state[Key.LAYERS] = [c for c in config.CATEGORIES if c in view.layers]
        state[Key.SELECTED] = view.selected
        state[Key.FOCUS] = view.selected is not None
    if state.get(Key.COUNTY) not in codes:
        state[Key.COUNTY] = codes[0]


def county() -> str:
    return str(st.session_state[Key.COUNTY])


def basemap() -> str:
    return str(st.session_state.get(Key.BASEMAP, "none"))


def selected() -> str | None:
    value = st.session_state.get(Key.SELECTED)
    return str(value) if value else None


def focused() -> bool:
    return bool(st.session_state.get(Key.FOCUS, False))


def select(key: str | None, focus: bool) -> None:
    """Select a feature/town/district (``f:…``/``t:…``/``d:…``); ``focus`` zooms the map to it."""
    st.session_state[Key.SELECTED] = key
    st.session_state[Key.FOCUS] = focus and key is not None


def shown_layers() -> tuple[str, ...]:
    """Categories switched on, in legend order (all of them until the user switches one off)."""
    chosen = st.session_state.get(Key.LAYERS)
    return tuple(c for c in config.CATEGORIES if chosen is None or c in chosen)


def set_layers(categories: Sequence[str]) -> None:
    st.session_state[Key.LAYERS] = list(categories)


def reset_view() -> None:
    """A new view starts with no selection and every layer on."""
    select(None, False)
    set_layers(list(config.CATEGORIES))


def current() -> ViewState:
    return ViewState(county=county(), layers=shown_layers(), selected=selected(), basemap=basemap())


def write_url() -> None:
    """Mirror the view state in the URL (call once per run, after every widget has updated the state)."""
    params = state_params(current())
    if st.query_params.to_dict() != params:
        st.query_params.from_dict(params)
