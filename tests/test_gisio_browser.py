"""Tier 4: the exported HTML map works when opened from disk in Chromium with the network blocked."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_support import TIMEOUT_MS

from geo.boundaries import load_boundaries
from gisio.export import export_features
from layers.htmlmap import map_html
from tests.fixtures.gisio.samples import sample_features

pytestmark = pytest.mark.browser
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")


def test_exported_html_map_opens_from_disk_offline(tmp_path: Path, browser) -> None:
    features, boundaries = sample_features(), load_boundaries("display")
    html = map_html(features, boundaries=boundaries, title="测试规划")
    path = export_features(features, "html", tmp_path / "map.html", boundaries=boundaries, html=html).path
    context = browser.new_context(viewport={"width": 1200, "height": 800}, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    blocked: list[str] = []
    errors: list[str] = []

    def route(r) -> None:  # everything but the file itself (and inline data) is "the internet"
        if r.request.url.startswith(LOCAL_SCHEMES):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(path.as_uri())
        page.locator(".leaflet-container").wait_for(state="visible")
        assert page.locator(".leaflet-interactive").count() >= 5  # boundaries, points, line, polygon
        assert page.locator("#rrmap-legend").inner_text().startswith("图例")
    finally:
        context.close()
    assert blocked == [] and errors == []
