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


def test_export_tab_offers_formats_scope_and_cgcs2000_first(app: AppTest) -> None:
    options = app.selectbox(key="gisio-fmt").options
    assert options[0].startswith("GeoPackage") and any(o.startswith("QGIS 工程") for o in options)
    assert any(o.startswith("Excel") for o in options)
    assert app.radio(key="gisio-scope").options == ["当前筛选（2 项）", "全部（7 项）"]
    crs = app.selectbox(key="gisio-crs")
    assert crs.value == "EPSG:4490" and "2000国家大地坐标系" in crs.options[0]  # CGCS2000 is the default
    assert any("第36带" in o and "自动建议" in o for o in crs.options)


def test_export_button_prepares_a_download(app: AppTest) -> None:
    app.button(key="gisio-make").click().run()
    assert not app.exception and not app.error
    assert "gisio-download" in app.session_state
    data, name, _mime = app.session_state["gisio-download"]
    assert name == "rrmap_500235.gpkg" and data.startswith(b"SQLite format 3")


def test_qgis_project_option_explains_what_is_missing_without_qgis(monkeypatch, tmp_path) -> None:
    import config

    # AppTest runs the script in this interpreter: it sees the patched setting.
    monkeypatch.setattr(config, "QGIS_PYTHON", str(tmp_path / "no-such-python"))
    at = AppTest.from_function(_panel, default_timeout=60)
    at.run()
    at.selectbox(key="gisio-fmt").select("qgis").run()
    assert not at.exception
    assert any("python3-qgis" in w.value for w in at.warning)
    assert at.button(key="gisio-make").disabled
