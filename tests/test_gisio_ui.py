"""Tier 3: the exchange panel (exchange_ui.render_exchange) in Streamlit's AppTest."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest


def _panel() -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path.cwd()))
    from geo.boundaries import load_boundaries
    from tests.fixtures.gisio.samples import sample_features
    from ui.exchange import render_exchange

    features = sample_features()
    render_exchange(
        features, features.iloc[:2], title="测试规划", county="500235", boundaries=load_boundaries("display")
    )


@pytest.fixture()
def app() -> AppTest:
    at = AppTest.from_function(_panel, default_timeout=60)
    at.run()
    assert not at.exception
    return at


def test_export_tab_offers_formats_scope_and_suggested_crs(app: AppTest) -> None:
    assert app.selectbox(key="gisio-fmt").options[:2] == ["GeoJSON（RFC 7946）", "GeoPackage"]
    assert app.radio(key="gisio-scope").options == ["当前筛选（2 项）", "全部（7 项）"]
    app.selectbox(key="gisio-fmt").select("gpkg").run()
    crs_options = app.selectbox(key="gisio-crs").options
    assert any("第36带" in o and "自动建议" in o for o in crs_options)


def test_export_button_prepares_a_download(app: AppTest) -> None:
    app.button(key="gisio-make").click().run()
    assert not app.exception and not app.error
    assert "gisio-download" in app.session_state
    data, name, _mime = app.session_state["gisio-download"]
    assert name == "rrmap_500235.geojson" and data.startswith(b'{"type":"FeatureCollection"')
