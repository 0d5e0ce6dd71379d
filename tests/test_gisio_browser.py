"""Tier 4: the exported HTML map works when opened from disk in Chromium with the network blocked."""
from __future__ import annotations

from pathlib import Path

import pytest

from geo.boundaries import load_boundaries
from gisio.export import export_features
from tests.fixtures.gisio.samples import sample_features

pytestmark = pytest.mark.browser
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")


def test_exported_html_map_opens_from_disk_offline(tmp_path: Path, browser) -> None:
    path = export_features(sample_features(), "html", tmp_path / "map.html", boundaries=load_boundaries("display"),
                           title="测试规划").path  # fmt: skip
    context = browser.new_context(viewport={"width": 1200, "height": 800}, locale="zh-CN")
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
        page.locator(".leaflet-container").wait_for(state="visible", timeout=30_000)
        assert page.locator(".leaflet-interactive").count() >= 5  # boundaries, points, line, polygon
        assert page.locator("#rrmap-legend").inner_text().startswith("图例")
    finally:
        context.close()
    assert blocked == [] and errors == []
