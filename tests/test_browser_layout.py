"""Tier 4: the live map on a laptop (1366×768) and a projector (1920×1080): the whole county and the scale bar are
seen without scrolling, the map fills the window, the legend stays off the county; a search hit zooms to its item;
a click on a district with a plan opens it.  Measured from the DOM, waiting on state.
"""

from __future__ import annotations

import re

import pytest
from browser_support import TIMEOUT_MS, expect

from geo.features import load_features

pytestmark = pytest.mark.browser

MAP_FRAME = "iframe[title='streamlit_folium.st_folium']"
# At most this share of the county outline's bounding box may lie under the legend.
MAX_LEGEND_OVER_COUNTY = 0.03
COUNTY_OUTLINE = "path[stroke='#444444']"  # the county's outline (config.BOUNDARY_STYLE)


def map_frame(page):
    page.locator(MAP_FRAME).wait_for(state="visible")
    frame = page.locator(MAP_FRAME).element_handle().content_frame()
    # Laid out: the legend is shown and the map has fitted the county to its final size.
    frame.wait_for_function(
        "() => window.map && map._rrFit && document.querySelector('.rr-legend')"
        " && document.querySelector('.rr-legend').offsetWidth > 0",
        timeout=TIMEOUT_MS,
    )
    return frame


def settled_layout(page, frame) -> dict:
    """Rectangles (page coordinates) of the map frame, county outline, legend and scale bar, once they stop moving."""
    script = """() => {
      const f = window.frameElement.getBoundingClientRect();
      const r = (el) => { if (!el) return null; const b = el.getBoundingClientRect();
        return [b.left + f.left, b.top + f.top, b.right + f.left, b.bottom + f.top]; };
      const outline = Array.from(document.querySelectorAll("COUNTY_OUTLINE"))
        .map(r).reduce((a, b) => a ? [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[2], b[2]),
                                      Math.max(a[3], b[3])] : b, null);
      return {frame: [f.left, f.top, f.right, f.bottom], county: outline,
              legend: r(document.querySelector(".rr-legend")), scale: r(document.querySelector(".leaflet-control-scale")),
              zoom: map.getZoom(), inner: [window.innerWidth, window.innerHeight]};
    }""".replace("COUNTY_OUTLINE", COUNTY_OUTLINE)
    last = None
    for _ in range(60):  # the frame is sized to the window and the county refitted: wait until that has happened
        now = frame.evaluate(script)
        if now == last:
            return now
        last = now
        page.wait_for_timeout(250)  # polling a layout that settles (not a fixed sleep before an assertion)
    raise AssertionError(f"the map layout did not settle: {last}")


def overlap_share(a: list[float], b: list[float]) -> float:
    """Share of box ``b`` covered by box ``a``."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    return w * h / ((b[2] - b[0]) * (b[3] - b[1]))


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (1920, 1080)])
@pytest.mark.parametrize("county", ["500235", "500229"])
def test_county_and_scale_bar_fit_the_window_and_the_legend_keeps_off_the_county(
    app_url: str, browser, width: int, height: int, county: str
) -> None:
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    try:
        page = context.new_page()
        page.goto(f"{app_url}/?county={county}")
        layout = settled_layout(page, map_frame(page))
        fx0, fy0, fx1, fy1 = layout["frame"]
        assert fy1 <= height, f"the map runs below the window: {layout}"
        assert height - fy1 <= 40, f"the map leaves the bottom of the window empty: {layout}"
        cx0, cy0, cx1, cy1 = layout["county"]
        assert fx0 <= cx0 and cx1 <= fx1 and fy0 <= cy0 and cy1 <= fy1, f"county cut off: {layout}"
        assert cy1 <= height and cx1 <= width
        sx0, sy0, sx1, sy1 = layout["scale"]
        assert 0 <= sy0 and sy1 <= height, f"scale bar not visible: {layout}"
        share = overlap_share(layout["legend"], layout["county"])
        print(f"{county} {width}x{height}: legend over county bbox {share:.1%}, map {fy1 - fy0:.0f}px tall")
        assert share <= MAX_LEGEND_OVER_COUNTY, f"legend covers {share:.1%} of the county: {layout}"
    finally:
        context.close()


def test_legend_follows_the_layer_toggles(app_url: str, page) -> None:
    page.goto(f"{app_url}/?county=500235")
    frame = page.frame_locator(MAP_FRAME)
    legend = frame.locator(".rr-legend")
    expect(legend).to_contain_text("示范村")
    page.locator("[data-testid='stSidebar']").get_by_role("button", name=re.compile(r"^示范村 \d+\D\d+$")).click()
    expect(legend).not_to_contain_text("示范村")
    expect(legend).to_contain_text("示范乡镇")


def test_a_search_hit_zooms_to_its_item(app_url: str, page) -> None:
    _plan, features = load_features("500235")
    located = features[features.geometry.notna() & (features["category"] == "industrial_park")]
    target = located.iloc[0]
    page.goto(f"{app_url}/?county=500235")
    frame = map_frame(page)
    start = frame.evaluate("() => map.getZoom()")
    sidebar = page.locator("[data-testid='stSidebar']")
    sidebar.get_by_text("搜索与筛选").click()
    search = sidebar.get_by_role("textbox", name=re.compile("搜索"))
    search.fill(target["name"])
    search.press("Enter")
    hit = sidebar.get_by_role("button", name=re.compile(rf"^{re.escape(target['name'])} · 产业园区 · 图上"))
    expect(hit).to_be_visible()
    hit.click()
    point = target.geometry.centroid  # where layers.mapview.focus_view centres a point item
    frame.wait_for_function(
        "([z, lat, lng]) => map.getZoom() > z && Math.abs(map.getCenter().lat - lat) < 0.02"
        " && Math.abs(map.getCenter().lng - lng) < 0.02",
        arg=[start, point.y, point.x],
        timeout=TIMEOUT_MS,
    )
    expect(page.locator(".rr-panel h3").first).to_have_text(target["name"])


def test_a_search_hit_not_on_the_map_opens_its_reason(app_url: str, page) -> None:
    _plan, features = load_features("500235")
    target = features[features.geometry.isna() & (features["precision"] == "unlocated")].iloc[0]
    page.goto(f"{app_url}/?county=500235")
    map_frame(page)
    sidebar = page.locator("[data-testid='stSidebar']")
    sidebar.get_by_text("搜索与筛选").click()
    search = sidebar.get_by_role("textbox", name=re.compile("搜索"))
    search.fill(target["name"])
    search.press("Enter")
    sidebar.get_by_role("button", name=re.compile(rf"^{re.escape(target['name'])} · .* · 未定位")).first.click()
    expect(page.get_by_role("tab", name="待定位")).to_have_attribute("aria-selected", "true")
    panel = page.locator(".rr-panel").first
    expect(panel.locator("h3")).to_have_text(target["name"])
    reason = panel.locator("table").first
    expect(reason).to_contain_text("无法定位")
    expect(reason).not_to_contain_text("data/")  # a planner's sentence; the file names are in the folded GIS detail


def test_one_click_on_a_district_with_a_plan_opens_it(app_url: str, page) -> None:
    page.goto(f"{app_url}/?county=500000")
    settled_layout(page, map_frame(page))  # the names stop moving once the map has fitted the window
    frame = page.frame_locator(MAP_FRAME)
    label = frame.locator(".rr-district-name.rr-has-plan", has_text="云阳县")
    expect(label).to_be_visible()
    label.click()
    expect(page).to_have_url(re.compile(r"county=500235"))
    expect(page.locator("[data-testid='stMain']")).to_contain_text("云阳县巩固拓展")
