"""Tier 4: importing a GIS team's layer and matching it to the plan, as a planner does it in the browser.

The app runs against its own temporary store (RRMAP_DB), so what a test saves never reaches a shipped file.
Coordinates come from the gazetteer and names from the plan: nothing is typed by hand.
Every wait is on app state (locators), never on time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import expect
from conftest import running_app

from geo.gazetteer import load_gazetteer
from plan.loader import load_plan
from store.db import open_store

pytestmark = pytest.mark.browser

COUNTY = "500235"
TOWN = "泥溪镇"
OFFSET = (0.004, -0.003)  # degrees: a village a few hundred metres from its town seat
MAP_FRAME = "iframe[title='streamlit_folium.st_folium']"
IMPORTED_FILL = "#E31A1C"  # layers.htmlmap.imported_layer's default colour


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("exchange") / "edits.gpkg"


@pytest.fixture(scope="module")
def exchange_url(store_path: Path) -> Iterator[str]:
    with running_app({"RRMAP_DB": str(store_path)}) as url:
        yield url


@pytest.fixture(scope="module")
def village() -> tuple[str, str, float, float]:
    """(entity id, name, lon, lat): a demo village of the town, placed near the town's seat."""
    seat = load_gazetteer().lookup(COUNTY, TOWN)
    assert seat is not None, f"the gazetteer has no seat for {TOWN}"
    entity = next(e for e in load_plan(COUNTY).entities if e.category == "demo_village" and TOWN in e.places)
    return entity.id, entity.name, round(seat.lon + OFFSET[0], 6), round(seat.lat + OFFSET[1], 6)


def geojson(name: str, lon: float, lat: float) -> bytes:
    doc = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"name": name}, "geometry": {"type": "Point", "coordinates": [lon, lat]}}
        ],
    }
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def open_import_tab(page, url: str):
    """Open the county view, go to 导出与导入 → 导入与匹配; returns the map frame."""
    page.goto(f"{url}/?county={COUNTY}")
    frame = page.frame_locator(MAP_FRAME)
    frame.locator(".leaflet-container").wait_for(state="visible")
    # the first run has drawn and fitted the map: a tab clicked before that can be lost in its last rerender
    page.locator(MAP_FRAME).element_handle().content_frame().wait_for_function("() => window.map && window.map._rrFit")
    page.get_by_role("tab", name="导出与导入").click()
    expect(page.get_by_role("tab", name="导出与导入")).to_have_attribute("aria-selected", "true")
    page.get_by_role("tab", name="导入与匹配").click()
    expect(page.locator("[data-testid='stFileUploader']")).to_be_visible()
    return frame


def upload(page, name: str, data: bytes, mime: str = "application/geo+json") -> None:
    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(
        files=[{"name": name, "mimeType": mime, "buffer": data}]
    )


def imported_points(frame):
    return frame.locator(f"path.leaflet-interactive[fill='{IMPORTED_FILL}']")


def no_traceback(page) -> None:
    expect(page.locator("[data-testid='stException'], .stException")).to_have_count(0)


def test_imported_village_shows_on_map_and_saves_as_exact_location(
    exchange_url: str, store_path: Path, page, village: tuple[str, str, float, float]
) -> None:
    entity_id, name, lon, lat = village
    frame = open_import_tab(page, exchange_url)
    expect(imported_points(frame)).to_have_count(0)

    upload(page, "村点.geojson", geojson(name, lon, lat))
    report = page.locator("[data-testid='stAlertContentSuccess']", has_text="村点.geojson")
    expect(report).to_contain_text("1 个要素")
    expect(report).to_contain_text("坐标系 WGS84")
    no_traceback(page)

    # the imported point is drawn on the map, its tooltip carries the name from the file
    point = imported_points(frame)
    expect(point).to_have_count(1)
    point.dispatch_event("mouseover")
    expect(frame.locator(".leaflet-tooltip", has_text=name)).to_be_visible()

    # the layer is kept in the session, not in the upload widget: it stays on the map while another tab is open
    page.get_by_role("tab", name="概览").click()
    expect(page.get_by_text("定位精度").first).to_be_visible()
    expect(imported_points(frame)).to_have_count(1)
    page.get_by_role("tab", name="导出与导入").click()
    page.get_by_role("tab", name="导入与匹配").click()
    expect(page.get_by_text("本次会话已导入的 村点.geojson")).to_be_visible()

    # the matching table proposes the plan entity, ticked; the planner saves it
    editor = page.locator("[data-testid='stDataFrame']", has_text=entity_id)
    expect(editor).to_contain_text(f"{name}（{entity_id}）")
    save = page.get_by_role("button", name="保存 1 个精确位置")
    expect(save).to_be_enabled()
    name_field = page.get_by_label(re.compile("你的姓名"))
    name_field.fill("测试GIS")
    name_field.press("Enter")
    save.click()
    expect(page.get_by_text("已保存 1 个精确位置（导入自 村点.geojson")).to_be_visible()
    no_traceback(page)

    store = open_store(str(store_path))
    (change,) = store.history(entity_id)
    assert (change.how, change.who, change.precision, change.source_file, change.source_row) == (
        "imported",
        "测试GIS",
        "exact",
        "村点.geojson",
        1,
    )
    assert (change.geom_after.x, change.geom_after.y) == pytest.approx((lon, lat), abs=1e-9)

    # the app reloads its data: the entity is now placed exactly
    page.goto(f"{exchange_url}/?county={COUNTY}&sel=f:{entity_id}")
    panel = page.locator(".rr-panel").first
    expect(panel.locator("h3")).to_have_text(name)
    expect(panel).to_contain_text("精确坐标（用户提供）")
    expect(page.frame_locator(MAP_FRAME).locator(".leaflet-container")).to_be_visible()


BAD_FILES = [  # (file name, content, MIME type, what the Chinese message must say)
    ("空文件.geojson", b"", "application/geo+json", "文件“空文件.geojson”是空的"),
    ("村点.txt", "名称\n石缸村\n".encode(), "text/plain", "不支持的文件类型 .txt"),
    ("村点.shp", b"\x00\x00\x27\x0a" + b"\x00" * 96, "application/octet-stream", "一起打包成 .zip"),
    ("坏.geojson", b'{"type": "FeatureCollection", "features": [', "application/geo+json", "不是有效的 GeoJSON"),
]


def test_bad_uploads_name_the_problem_and_the_app_keeps_working(
    exchange_url: str, page, village: tuple[str, str, float, float]
) -> None:
    frame = open_import_tab(page, exchange_url)
    pins = frame.locator(".leaflet-marker-pane .rr-pin, .leaflet-marker-pane .rr-cluster")
    expect(pins.first).to_be_visible()
    errors = page.locator("[data-testid='stAlertContentError']")
    for file_name, data, mime, message in BAD_FILES:
        upload(page, file_name, data, mime)  # replaces the previous file
        expect(errors).to_have_count(1)
        expect(errors).to_contain_text(message)
        no_traceback(page)
        expect(frame.locator(".leaflet-container")).to_be_visible()
        expect(pins.first).to_be_visible()
        expect(imported_points(frame)).to_have_count(0)
    # after all that, a good file still imports and shows on the map
    _entity_id, name, lon, lat = village
    upload(page, "村点.geojson", geojson(name, lon, lat))
    report = page.locator("[data-testid='stAlertContentSuccess']", has_text="村点.geojson")
    expect(report).to_be_visible()
    expect(errors).to_have_count(0)
    expect(imported_points(frame)).to_have_count(1)
