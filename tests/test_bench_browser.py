"""The benchmark's drawn-map watcher, against the real app in Chromium: it records when the map is drawn, in the page."""

from __future__ import annotations

import pytest
from browser_support import TIMEOUT_MS

from bench.browser import Expect, draw_once

pytestmark = pytest.mark.browser


def test_watcher_records_the_drawn_map_after_the_iframe_starts(app_url: str, browser) -> None:
    out = draw_once(
        browser, f"{app_url}/?county=500235", Expect(paths=2, markers=1), TIMEOUT_MS / 1000, measure_zoom=True
    )
    assert 0 < out["iframe_ms"] < out["drawn_ms"]
    assert out["dom_paths"] >= 2 and out["dom_markers"] >= 1
    assert out["blocked"] == 0 and out["console_errors"] == 0
    assert out["zoom_ms"] is not None and out["zoom_ms"] > 0


def test_watcher_gives_up_with_what_the_map_held(app_url: str, browser) -> None:
    with pytest.raises(Exception) as info:
        draw_once(browser, f"{app_url}/?county=500235", Expect(paths=10**6, markers=1), 8, measure_zoom=False)
    state = getattr(info.value, "rr_state", "")
    assert "map: [" in state and "expected Expect(paths=1000000" in state
