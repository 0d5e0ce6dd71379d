"""Tier 4: placing plan items by drawing on the live map (Chromium, offline), saved with history in the store.

The app runs against its own temporary store (RRMAP_DB): what these tests draw is test data (editor names
``测试…``) and never reaches a shipped file.  Points to click are computed from the county polygon and turned
into screen positions by the map itself; every wait is on page state.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import expect
from conftest import check_page, open_page, running_app, screenshot_on_failure
from test_user_geometry import geojson_items

from geo.boundaries import county_polygon
from plan.loader import load_plan
from store.db import open_store

pytestmark = pytest.mark.browser

MAP_FRAME = "iframe[title='streamlit_folium.st_folium']"
YY = "500235"
BELT, PARK, OTHER_BELT = "yy-ib-002", "yy-ip-002", "yy-ib-003"  # 柑橘产业示范带, 云阳（凤鸣）现代农业产业园, 云利路…
DRAWN_DASH = "14 4 2 4"


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("edit-store") / "edits.gpkg"


@pytest.fixture(scope="module")
def edit_url(store_path: Path) -> Iterator[str]:
    with running_app({"RRMAP_DB": str(store_path)}) as url:
        yield url


@pytest.fixture()
def pages(browser: object, request: pytest.FixtureRequest) -> Iterator[list]:
    """Pages opened with :func:`conftest.open_page` (two sessions for the conflict test); checked after."""
    opened: list = []

    def new() -> object:
        context, pg = open_page(browser)
        opened.append((context, pg))
        return pg

    yield new
    for context, pg in opened:
        screenshot_on_failure(request, pg)
        context.close()
    for _context, pg in opened:
        check_page(pg)


def main(page):
    return page.locator("[data-testid='stMain']")


def open_item(page, url: str, item: str) -> None:
    page.goto(f"{url}/?county={YY}&sel=f:{item}")
    page.frame_locator(MAP_FRAME).locator(".leaflet-container").wait_for(state="visible")
    expect(page.locator(".rr-panel h3").first).to_be_visible()


def edit_map(page):
    """The frame of the edit mode's map, once it is the only map on the page and its item is set."""
    expect(page.locator(MAP_FRAME).last.content_frame.locator(".leaflet-pm-toolbar").first).to_be_visible()
    expect(page.locator(MAP_FRAME)).to_have_count(1)  # the map of the view has gone
    frame = page.locator(MAP_FRAME).element_handle().content_frame()
    frame.wait_for_function("!!window.rrEdit")
    return frame


def settle(page, frame) -> None:
    """Scroll the map into the window and wait until it stops moving (its frame is sized to the window and the
    county refitted: only then do screen positions stay where they were computed)."""
    page.locator(MAP_FRAME).scroll_into_view_if_needed()
    frame.wait_for_function("() => window.map && window.map._rrFit")
    probe = "(() => { const f = window.frameElement.getBoundingClientRect(); const c = window.map.getCenter(); "
    probe += "return [f.left, f.top, f.width, f.height, window.map.getZoom(), c.lat, c.lng]; })()"
    last = None
    for _ in range(60):
        now = frame.evaluate(probe)
        if now == last:
            return
        last = now
        page.wait_for_timeout(250)  # polling a layout that settles (not a fixed sleep before an assertion)
    raise AssertionError(f"the map did not settle: {last}")


def screen(frame, lonlats: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Container pixels of WGS84 points (no GCJ-02 basemap in these tests), each checked to be on the map and
    clear of the legend and the controls."""
    width, height = frame.evaluate("[window.map.getSize().x, window.map.getSize().y]")
    legend = frame.evaluate(
        "(() => { const r = document.querySelector('.rr-legend').getBoundingClientRect(); return [r.left, r.top]; })()"
    )
    out = []
    for lon, lat in lonlats:
        x, y = frame.evaluate(
            f"(() => {{ const p = window.map.latLngToContainerPoint([{lat}, {lon}]); return [p.x, p.y]; }})()"
        )
        assert 60 < x < width - 20 and 20 < y < height - 40, (x, y)
        assert x < legend[0] - 10 or y < legend[1] - 10, (x, y, legend)
        out.append((x, y))
    return out


def draw(page, frame, lonlats: list[tuple[float, float]], *, close: bool) -> None:
    """Click the vertices of a line (then its last vertex again: finish) or an area (then its first: close)."""
    settle(page, frame)
    points = screen(frame, lonlats)
    box = page.locator(MAP_FRAME).bounding_box()
    for x, y in [*points, points[0] if close else points[-1]]:
        page.mouse.click(box["x"] + x, box["y"] + y)
        frame.wait_for_timeout(120)  # Geoman ignores a second click within its double-click window


def set_name(page, name: str) -> None:
    field = page.get_by_label(re.compile("你的姓名"))
    field.fill(name)
    field.press("Enter")
    expect(field).to_have_value(name)


def save(page) -> None:
    expect(page.get_by_text("地图上有尚未保存的标绘")).to_be_visible()
    page.get_by_role("button", name="保存", exact=True).click()


def progress(page) -> tuple[int, int]:
    page.get_by_role("tab", name="待定位").click()
    text = main(page).get_by_text(re.compile(r"已定位 \d+ / \d+")).first.inner_text()
    located, total = re.search(r"已定位 (\d+) / (\d+)", text).groups()
    return int(located), int(total)


def test_draw_a_belt_and_a_park_reload_export_history_and_revert(edit_url: str, store_path: Path, pages) -> None:
    page = pages()
    polygon = county_polygon(YY)
    c = polygon.representative_point()
    open_item(page, edit_url, BELT)
    located_before, total = progress(page)

    # 1. a line for the belt: enter the edit mode from its panel; the line tool is ready at once
    page.get_by_role("button", name="标绘 / 修改位置").click()
    frame = edit_map(page)
    expect(page.get_by_label(re.compile("线（产业带"))).to_be_checked()  # a belt is offered as a line
    draw(page, frame, [(c.x - 0.12, c.y + 0.05), (c.x - 0.06, c.y), (c.x - 0.01, c.y - 0.03)], close=False)
    set_name(page, "测试李工")
    save(page)
    expect(page.get_by_text(re.compile(r"已保存：线（3 个节点），第 1 版"))).to_be_visible()

    # 2. an area for the 凤鸣 park, with the one-click 标绘 action of the worklist
    page.get_by_role("tab", name="待定位").click()
    row = main(page).locator("[data-testid='stHorizontalBlock']", has_text="云阳（凤鸣）现代农业产业园")
    row.get_by_role("button", name="标绘面").click()
    expect(page.locator(".rr-panel h3").first).to_have_text("云阳（凤鸣）现代农业产业园")
    frame = edit_map(page)
    frame.wait_for_function(f"window.rrEdit.item_id === '{PARK}'")
    draw(
        page,
        frame,
        [(c.x - 0.11, c.y + 0.07), (c.x - 0.04, c.y + 0.07), (c.x - 0.04, c.y + 0.02), (c.x - 0.11, c.y + 0.02)],
        close=True,
    )
    save(page)  # the name was given once in this session
    expect(page.get_by_text(re.compile(r"已保存：面（4 个节点），第 1 版"))).to_be_visible()
    assert progress(page) == (located_before + 2, total)  # exactly the two items placed

    # 3. reload: both are on the map as drawn, in the history, and in the GeoJSON export
    for item, kind in ((BELT, "线"), (PARK, "面")):
        open_item(page, edit_url, item)
        panel = page.locator(".rr-panel").first
        expect(panel).to_contain_text("用户标绘（非测量）")
        expect(panel).to_contain_text("测试李工")
        history = page.get_by_text("修改历史（1 个版本）")
        history.click()
        expect(main(page).get_by_text(re.compile(rf"第 1 版 · .* · 测试李工 · 标绘 · {kind}"))).to_be_visible()
        frame = page.frame_locator(MAP_FRAME)
        expect(frame.locator(f"path[stroke-dasharray='{DRAWN_DASH}']").first).to_be_attached()
    assert frame.locator(f"path[stroke-dasharray='{DRAWN_DASH}']").count() == 2  # the line and the area outline
    expect(frame.locator(".rr-legend")).to_contain_text("用户标绘（非测量）")
    page.get_by_role("tab", name="导出与导入").click()
    expect(page.get_by_role("button", name="生成文件")).to_be_visible()
    fmt = main(page).locator("[data-testid='stSelectbox']", has_text="格式")
    fmt.click()
    page.keyboard.type("GeoJSON")  # typed into the focused box: picks the format even if the list re-rendered
    page.keyboard.press("Enter")
    expect(main(page).get_by_text("每个图层一个 GeoJSON 文件")).to_be_visible()  # the chosen format's note
    page.get_by_role("button", name="生成文件").click()
    with page.expect_download() as download:
        page.get_by_role("button", name=re.compile(r"下载 rrmap_500235_geojson\.zip")).click()
    by_id = geojson_items(Path(download.value.path()))
    assert by_id[BELT]["geometry"]["type"] in ("LineString", "MultiLineString")
    assert by_id[PARK]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    for item in (BELT, PARK):
        props = by_id[item]["properties"]
        assert props["precision"] == "drawn" and props["located_by"] == "测试李工" and props["located_how"] == "drawn"

    # 4. edit the belt's vertices (version 2), then revert to version 1
    open_item(page, edit_url, BELT)
    page.get_by_role("button", name="标绘 / 修改位置").click()
    frame = edit_map(page)
    set_name(page, "测试王工")  # a new session: the name is asked once again
    frame.click(".leaflet-pm-icon-edit")
    vertex = frame.locator(".marker-icon:not(.marker-icon-middle)").nth(1)
    expect(vertex).to_be_visible()
    box = vertex.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 25, y + 30, steps=8)
    page.mouse.up()
    save(page)
    expect(page.get_by_text(re.compile(r"已保存：线（3 个节点），第 2 版（修改节点）"))).to_be_visible()
    store = open_store(str(store_path))
    first, second = store.history(BELT)
    assert not second.geom_after.equals(first.geom_after) and second.who == "测试王工" and second.how == "edited"
    page.get_by_role("button", name="恢复为第 1 版").click()
    expect(page.get_by_text("已恢复为第 1 版的位置（现为第 3 版）")).to_be_visible()
    item = store.get(BELT)
    assert item.version == 3 and item.geometry.equals(first.geom_after)
    assert [c.how for c in store.history(BELT)] == ["drawn", "edited", "reverted"]
    expect(page.get_by_text("修改历史（3 个版本）")).to_be_visible()


def test_two_sessions_editing_one_item_the_second_save_is_refused(edit_url: str, store_path: Path, pages) -> None:
    first, second = pages(), pages()
    c = county_polygon(YY).representative_point()
    for page, name in ((first, "测试甲"), (second, "测试乙")):
        open_item(page, edit_url, OTHER_BELT)
        page.get_by_role("button", name="标绘 / 修改位置").click()
        edit_map(page)
        set_name(page, name)
    for page, dy in ((first, 0.0), (second, 0.04)):
        frame = edit_map(page)
        draw(page, frame, [(c.x - 0.1, c.y + dy), (c.x - 0.04, c.y + dy + 0.01)], close=False)
        expect(page.get_by_text("地图上有尚未保存的标绘")).to_be_visible()
    save(first)
    expect(first.get_by_text(re.compile("已保存：线（2 个节点），第 1 版"))).to_be_visible()
    save(second)
    refusal = second.get_by_text(re.compile("测试甲 已于 .* 为该条目保存了几何。你的修改未保存"))
    expect(refusal).to_be_visible()
    expect(second.get_by_role("button", name="载入最新版本")).to_be_visible()
    store = open_store(str(store_path))
    assert store.get(OTHER_BELT).version == 1 and store.get(OTHER_BELT).updated_by == "测试甲"
    assert [c.who for c in store.history(OTHER_BELT)] == ["测试甲"]  # the refused save left nothing
    # loading the latest version lets the second user edit on top of it
    second.get_by_role("button", name="载入最新版本").click()
    expect(refusal).to_have_count(0)
    frame = edit_map(second)
    frame.wait_for_function("window.rrEdit.version === 1")
    assert load_plan(YY).county_name == "云阳县"
