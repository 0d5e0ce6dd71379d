"""Tier 4: the real app in Debian's Chromium, offline."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_app_draws_a_leaflet_map_offline(app_url: str, page) -> None:
    page.goto(app_url)
    frame = page.frame_locator("iframe[title='streamlit_folium.st_folium']")
    frame.locator(".leaflet-container").wait_for(state="visible")
    # Leaflet itself came from our static route: the map pane exists only if leaflet.js ran.
    assert frame.locator(".leaflet-map-pane").count() == 1
