"""Tier 3: the exchange panel (exchange_ui.render_exchange) in Streamlit's AppTest."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.fixtures.gisio.make_fixtures import HOSTILE, build_hostile


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


def _shown(value: str) -> str:
    """Markdown text as the user reads it (file text is escaped with present.markup.md)."""
    return re.sub(r"\\(.)", r"\1", value)


def test_worst_uploads_get_their_message_and_the_panel_keeps_working(app: AppTest, tmp_path: Path) -> None:
    refused = ["view_bomb.gpkg", "deep_properties.geojson", "unknown_type.geojson", "truncated_shp.zip"]
    files = build_hostile(tmp_path, [*refused, "big5_without_cpg.zip"])
    for name in refused:
        app.file_uploader(key="gisio-upload").set_value(
            (name, files[name].read_bytes(), "application/octet-stream")
        ).run()
        assert not app.exception
        assert len(app.error) == 1 and HOSTILE[name].words in _shown(app.error[0].value)
    # a Big5 Shapefile without .cpg: read as Big5, and the encoding select offers what else decodes it
    name = "big5_without_cpg.zip"
    app.file_uploader(key="gisio-upload").set_value((name, files[name].read_bytes(), "application/zip")).run()
    assert not app.exception and not app.error
    assert "属性编码 Big5" in _shown(app.success[0].value)
    assert any("Big5" in _shown(w.value) for w in app.warning)
    select = app.selectbox(key="gisio-enc")
    assert select.options[0] == "自动识别（Big5）" and "GBK（可解码）" in select.options
    select.select("GBK").run()
    assert not app.exception
    assert "属性编码 GBK" in _shown(app.success[0].value)
