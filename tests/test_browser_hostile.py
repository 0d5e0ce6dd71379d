"""Tier 4, issue 17: hostile files in Chromium — no script from a file ever runs, and the app keeps answering.

* Script payloads (``<script>``, ``<img onerror>``, ``<svg onload>``, ``javascript:`` links, Markdown links) in plan
  names, attributes and sections (tests/fixtures/hostile), in imported names, attribute names and values, a
  GeoPackage layer name and the uploaded file's name: every place they are shown (map tooltips and popups, the
  panel, tables, search, messages, the offline HTML export) shows them as text.  A dialog fails the test.
* The worst files of tests/fixtures/gisio/make_fixtures.HOSTILE are uploaded one after another; each gets its
  message, and afterwards the map still answers a click.

Every wait is on page state; the page fixture fails on console errors and on any request leaving localhost.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from browser_support import TIMEOUT_MS, expect
from conftest import ROOT, running_app
from layer_fixtures import FakeLocation, hostile_plan
from shapely.geometry import Point, Polygon

import config
from geo.boundaries import load_boundaries
from geo.features import plan_features
from geo.gazetteer import load_gazetteer
from gisio.export import export_features
from layers.htmlmap import map_html
from tests.fixtures.gisio.make_fixtures import HOSTILE, LONG_NAME, build_hostile

pytestmark = pytest.mark.browser

HOSTILE_PLANS = Path(__file__).parent / "fixtures" / "hostile"
MAP_FRAME = "iframe[title='streamlit_folium.st_folium']"
IMPORTED_FILL = "#E31A1C"
BOUNDARY_FILL = config.BOUNDARY_STYLE["fillColor"]
COUNTY = "500235"
TOWN = "泥溪镇"
INJECTED = "img[src='x'], svg[onload], [onerror], [onmouseover], a[href^='javascript']"

# Payloads in an imported file; each alert number tells which one ran, if one ever does.
FILE_NAME = "<img src=x onerror=alert(20)>.geojson"
NAME = "<script>alert(21)</script>点"
ATTRIBUTES = {
    "<b onmouseover=alert(22)>字段</b>": "<img src=x onerror=alert(23)>",
    "链接": "javascript:alert(24)",
    "说明": "[点我](javascript:alert(25))",
}
LAYER_NAME = "<img src=x onerror=alert(26)>图层"
VIEW_NAME = "<svg onload=alert(27)>视图"


def _dialogs(page) -> list[str]:
    seen: list[str] = []
    page.on("dialog", lambda dialog: (seen.append(dialog.message), dialog.dismiss()))
    return seen


def _no_injection(page, frame=None) -> None:
    assert page.locator(INJECTED).count() == 0
    if frame is not None:
        assert frame.locator(INJECTED).count() == 0


def _no_traceback(page) -> None:
    expect(page.locator("[data-testid='stException'], .stException")).to_have_count(0)


def _seat() -> tuple[float, float]:
    seat = load_gazetteer().lookup(COUNTY, TOWN)
    assert seat is not None
    return seat.lon + 0.004, seat.lat - 0.003  # a few hundred metres from the town seat


def hostile_geojson() -> bytes:
    lon, lat = _seat()
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": NAME, **ATTRIBUTES},
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
            },
            {"type": "Feature", "properties": {"name": NAME}, "geometry": {"type": "Point", "coordinates": []}},
        ],
    }
    return json.dumps(doc, ensure_ascii=False).encode()


def hostile_gpkg(tmp: Path) -> bytes:
    """A GeoPackage whose layer name is a payload, with a view (skipped, named in a warning) named as one."""
    import sqlite3

    lon, lat = _seat()
    path = tmp / "hostile.gpkg"
    frame = gpd.GeoDataFrame({"name": [NAME]}, geometry=[Point(lon, lat)], crs="EPSG:4326")
    # GDAL will not write such a layer name: write a plain one, then rename the table as a hostile tool would.
    pyogrio.write_dataframe(frame, path, layer="payload", layer_options={"SPATIAL_INDEX": "NO"})
    quoted = '"' + LAYER_NAME.replace('"', '""') + '"'
    with sqlite3.connect(path) as conn:
        conn.execute(f"ALTER TABLE payload RENAME TO {quoted}")
        for table in ("gpkg_contents", "gpkg_geometry_columns", "gpkg_ogr_contents"):
            conn.execute(f"UPDATE {table} SET table_name = ? WHERE table_name = 'payload'", (LAYER_NAME,))
        conn.execute("UPDATE gpkg_contents SET identifier = ? WHERE table_name = ?", (LAYER_NAME, LAYER_NAME))
        conn.execute(f'CREATE VIEW "{VIEW_NAME}" AS SELECT * FROM {quoted}')
        conn.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES (?, 'features', ?, 4326)",
            (VIEW_NAME, VIEW_NAME),
        )
    conn.close()
    return path.read_bytes()


@pytest.fixture(scope="module")
def overrides(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hostile-app") / "overrides.csv"
    shutil.copyfile(ROOT / "data" / "overrides.csv", path)
    return path


@pytest.fixture(scope="module")
def hostile_url(overrides: Path) -> Iterator[str]:
    env = {
        "RRMAP_PLANS_DIR": str(HOSTILE_PLANS / "plans"),
        "RRMAP_SEEDS_DIR": str(HOSTILE_PLANS / "seeds"),
        "RRMAP_OVERRIDES": str(overrides),
    }
    with running_app(env) as url:
        yield url


@pytest.fixture(scope="module")
def plain_url(overrides: Path) -> Iterator[str]:
    with running_app({"RRMAP_OVERRIDES": str(overrides)}) as url:
        yield url


def open_view(page, url: str):
    page.goto(url)
    frame = page.frame_locator(MAP_FRAME)
    frame.locator(".leaflet-container").wait_for(state="visible")
    return frame


def open_import(page) -> None:
    page.get_by_role("tab", name="导出与导入").click()
    page.get_by_role("tab", name="导入与匹配").click()
    expect(page.locator("[data-testid='stFileUploader']")).to_be_visible()


def upload(page, name: str, data: bytes, mime: str = "application/octet-stream") -> None:
    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(
        files=[{"name": name, "mimeType": mime, "buffer": data}]
    )


def test_no_payload_from_a_plan_or_a_file_runs_anywhere_in_the_app(hostile_url: str, page, tmp_path: Path) -> None:
    dialogs = _dialogs(page)
    frame = open_view(page, f"{hostile_url}/?county={COUNTY}&sel=f:x-ts-001")
    panel = page.locator(".rr-panel").first
    # the panel: a Markdown link and javascript: values from the plan are text, not links
    expect(panel.locator("h3")).to_have_text("[点我](javascript:alert(8))景区")
    expect(panel).to_contain_text("javascript:alert(9)")
    expect(panel).to_contain_text("<svg onload=alert(11)>")
    assert panel.locator("a[href^='javascript']").count() == 0
    # map tooltips of the plan's markers
    # (the four items share the town seat: drawn around it, or as a cluster that opens on a click)
    expect(frame.locator(".leaflet-marker-pane .rr-pin, .leaflet-marker-pane .rr-cluster").first).to_be_visible()
    if frame.locator(".leaflet-marker-pane .rr-cluster").count():
        frame.locator(".leaflet-marker-pane .rr-cluster").first.click()
    pins = frame.locator(".leaflet-marker-pane .rr-pin")
    expect(pins).to_have_count(4)
    for i in range(4):
        pins.nth(i).dispatch_event("mouseover")
        expect(frame.locator(".leaflet-tooltip").last).to_be_attached()
    # search with a payload as the query, and the attribute table
    sidebar = page.locator("[data-testid='stSidebar']")
    sidebar.get_by_text("搜索与筛选").click()
    search = sidebar.get_by_role("textbox", name=re.compile("搜索"))
    search.fill("<img src=x onerror=alert(2)>")
    search.press("Enter")
    expect(page.locator("[data-testid='stMain']")).to_contain_text("当前筛选")  # the search ran
    page.get_by_role("tab", name="属性表").click()
    expect(page.locator("[data-testid='stDataFrame']").first).to_be_attached()
    search.fill("")
    search.press("Enter")

    # an imported GeoJSON with payloads in its file name, names, attribute names and values
    open_import(page)
    upload(page, FILE_NAME, hostile_geojson(), "application/geo+json")
    report = page.locator("[data-testid='stAlertContentSuccess']", has_text=".geojson")
    expect(report).to_contain_text("<img src=x onerror=alert(20)>.geojson")
    expect(page.locator("[data-testid='stAlertContentWarning']").first).to_contain_text(NAME)
    _no_traceback(page)
    point = frame.locator(f"path.leaflet-interactive[fill='{IMPORTED_FILL}']")
    expect(point).to_have_count(1)
    point.dispatch_event("mouseover")
    expect(frame.locator(".leaflet-tooltip", has_text=NAME)).to_be_visible()
    point.dispatch_event("click")
    popup = frame.locator(".leaflet-popup-content")
    expect(popup).to_contain_text("<img src=x onerror=alert(23)>")
    expect(popup).to_contain_text("[点我](javascript:alert(25))")
    expect(popup).to_contain_text("<b onmouseover=alert(22)>字段</b>")

    # a GeoPackage whose layer name is a payload; its view (named as one) is skipped with a warning
    upload(page, "图层.gpkg", hostile_gpkg(tmp_path))
    expect(page.locator("[data-testid='stAlertContentWarning']", has_text="已跳过")).to_contain_text(VIEW_NAME)
    _no_traceback(page)
    point = frame.locator(f"path.leaflet-interactive[fill='{IMPORTED_FILL}']")
    expect(point).to_have_count(1)
    point.dispatch_event("click")
    expect(frame.locator(".leaflet-popup-content")).to_contain_text(LAYER_NAME)

    _no_injection(page, frame)
    assert dialogs == [], f"a payload ran: {dialogs}"


def test_no_payload_runs_in_the_offline_html_export(browser, tmp_path: Path) -> None:
    plan = hostile_plan()
    d = 0.05
    here = load_boundaries("display").set_index("adcode").loc[COUNTY, "geometry"].representative_point()
    x, y = here.x, here.y
    locations = [
        FakeLocation("x-dv-001", Point(x, y), "town"),
        FakeLocation("x-dv-002", Point(x + d, y), "town"),
        FakeLocation("x-ip-001", Polygon([(x, y - d), (x + d, y - d), (x + d, y - 2 * d)]), "exact"),
        FakeLocation("x-ts-001", Point(x - d, y), "town"),
    ]
    features = plan_features(plan, locations)
    boundaries = load_boundaries("display")
    html = map_html(features, boundaries=boundaries, title=plan.title)
    path = export_features(features, "html", tmp_path / "map.html", boundaries=boundaries, html=html).path
    context = browser.new_context(viewport={"width": 1200, "height": 800}, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort())
    page = context.new_page()
    dialogs = _dialogs(page)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(path.as_uri())
        expect(page.locator("#rrmap-title")).to_have_text(plan.title)
        # the plan's features (not the boundaries): hover for the tooltip, click for the popup
        drawn = page.locator(f".leaflet-overlay-pane path.leaflet-interactive:not([fill='{BOUNDARY_FILL}'])")
        expect(drawn).to_have_count(4)
        for i in range(4):
            drawn.nth(i).dispatch_event("mouseover")
            expect(page.locator(".leaflet-tooltip").last).to_be_attached()
            drawn.nth(i).dispatch_event("click")
            expect(page.locator(".leaflet-popup-content").last).to_be_visible()
        expect(page.locator(".leaflet-popup-content, .leaflet-tooltip").first).to_be_attached()
        _no_injection(page)
    finally:
        context.close()
    assert dialogs == [] and errors == [], (dialogs, errors)


WORST = [  # (fixture, what the message says) — refused ones, then read ones
    ("view_bomb.gpkg", "数据库视图（view）"),
    ("deep_properties.geojson", "超过上限 64 层"),
    ("huge_integer.geojson", "超出浮点数范围"),
    ("unknown_type.geojson", "不是 GeoJSON 的几何类型"),
    ("million_null_geometries.zip", "超过上限 200,000"),
    ("truncated_shp.zip", "不完整"),
]


def test_the_app_keeps_answering_after_the_worst_files(plain_url: str, page, tmp_path: Path) -> None:
    files = build_hostile(tmp_path, [name for name, _ in WORST] + [LONG_NAME, "many_named_points.geojson"])
    frame = open_view(page, f"{plain_url}/?county={COUNTY}")
    open_import(page)
    errors = page.locator("[data-testid='stAlertContentError']")
    for name, words in WORST:
        upload(page, name, files[name].read_bytes())
        expect(errors).to_have_count(1)
        expect(errors).to_contain_text(words)
        _no_traceback(page)
    # a file name of ~200 Chinese characters, then 100,000 named points: read, matched, drawn (first 5,000)
    upload(page, LONG_NAME, files[LONG_NAME].read_bytes())
    expect(page.locator("[data-testid='stAlertContentSuccess']", has_text="3 个要素")).to_be_visible()
    upload(page, "many_named_points.geojson", files["many_named_points.geojson"].read_bytes())
    expect(page.locator("[data-testid='stAlertContentSuccess']", has_text="100,000 个要素")).to_be_visible()
    expect(page.get_by_text("地图上只画出前 5,000 个")).to_be_visible()
    expect(page.get_by_text(re.compile("个要素找不到对应的规划条目")).first).to_be_visible()  # matched, in seconds
    expect(errors).to_have_count(0)
    _no_traceback(page)
    # the session still answers the map: a click on a plan marker selects it and the panel shows it
    page.get_by_role("tab", name="概览").click()
    expect(page.get_by_text("定位精度").first).to_be_visible()
    pin = frame.locator(".leaflet-marker-pane .rr-pin").first
    expect(pin).to_be_visible()
    pin.click()
    expect(page.locator(".rr-panel h3").first).to_be_visible()
    expect(imported_points(frame).first).to_be_attached()  # the imported layer is still drawn
    assert HOSTILE["view_bomb.gpkg"].refused == "gpkg_view"


def imported_points(frame):
    return frame.locator(f"path.leaflet-interactive[fill='{IMPORTED_FILL}']")
