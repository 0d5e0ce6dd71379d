"""Tier 4: the map app in Debian's Chromium, offline (no tiles, no CDNs), no console errors.

Every wait is on app state (locators), never on time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import expect
from conftest import running_app

from plan.loader import load_plan

pytestmark = pytest.mark.browser

MAP_FRAME = "iframe[title='streamlit_folium.st_folium']"
HOSTILE = Path(__file__).parent / "fixtures" / "hostile"


def open_view(page, url: str):
    page.goto(url)
    frame = page.frame_locator(MAP_FRAME)
    frame.locator(".leaflet-container").wait_for(state="visible")
    return frame


def markers(frame):
    """Plan markers and clusters currently drawn on the map (not the legend's samples)."""
    return frame.locator(".leaflet-marker-pane .rr-pin, .leaflet-marker-pane .rr-cluster")


@pytest.mark.parametrize("county", ["500235", "500102", "500243", "500229"])
def test_county_view_draws_its_layers_offline(app_url: str, page, county: str) -> None:
    frame = open_view(page, f"{app_url}/?county={county}")
    expect(markers(frame).first).to_be_visible()
    expect(frame.locator(".rr-legend")).to_be_visible()
    expect(frame.locator(".rr-town-name").first).to_be_attached()
    expect(page.locator("section.main, [data-testid='stMain']").first).to_contain_text(load_plan(county).title)


def test_municipal_view_draws_the_38_districts_and_designations(app_url: str, page) -> None:
    frame = open_view(page, f"{app_url}/?county=500000")
    districts = frame.locator("path.leaflet-interactive")
    expect(districts.nth(37)).to_be_attached()
    assert districts.count() >= 38
    expect(frame.locator(".rr-legend")).to_contain_text("国家乡村振兴重点帮扶县")


def test_clicking_a_demo_village_shows_designation_town_and_quote(app_url: str, page) -> None:
    frame = open_view(page, f"{app_url}/?county=500235&layers=demo_village")
    village = frame.locator(".leaflet-marker-pane .rr-pin:has(i.fa-home)").first
    expect(village).to_be_visible()
    village.click()
    panel = page.locator(".rr-panel").first
    expect(panel.locator("h3")).to_be_visible()
    name = panel.locator("h3").inner_text()
    plan = load_plan("500235")
    candidates = [e for e in plan.entities if e.category == "demo_village" and e.name == name]
    assert candidates, f"panel shows {name!r}, not a demo village of 云阳县"
    entity = candidates[0]
    expect(panel).to_contain_text(entity.designation or "")
    expect(panel).to_contain_text(entity.places[0])
    expect(panel).to_contain_text("专栏11")
    expect(panel.locator("blockquote")).to_contain_text(entity.source.quote)


def test_a_click_on_a_map_scrolled_partly_out_of_the_page_lands(app_url: str, page) -> None:
    """A planner who scrolled down to the tables and back up part of the way clicks a marker: the page must not
    scroll between press and release (Leaflet's focus on press did), or the click lands beside the marker."""
    frame = open_view(page, f"{app_url}/?county=500235&layers=demo_village")
    villages = frame.locator(".leaflet-marker-pane .rr-pin:has(i.fa-home)")
    expect(villages.first).to_be_visible()
    page.get_by_role("tab", name="属性表").click()  # scrolls the page down to the tabs
    map_frame = page.locator(MAP_FRAME)
    page.locator("[data-testid='stMain']").evaluate(
        "(main, frame) => { main.scrollTop += frame.getBoundingClientRect().top + 120; }", map_frame.element_handle()
    )
    top = map_frame.bounding_box()["y"]
    assert top < 0, f"the map should start above the page's top edge, at {top}"
    # the first village whose centre is in sight, pressed and released by the mouse at that spot
    target = None
    for i in range(villages.count()):
        box = villages.nth(i).bounding_box()
        if box and box["y"] > 40:
            target = (villages.nth(i), box)
            break
    assert target, "no village marker in the visible part of the map"
    page.mouse.click(target[1]["x"] + target[1]["width"] / 2, target[1]["y"] + target[1]["height"] / 2)
    assert map_frame.bounding_box()["y"] == pytest.approx(top, abs=1), "the page scrolled under the click"
    heading = page.locator(".rr-panel h3").first
    expect(heading).to_be_visible()
    villages_of_plan = {e.name for e in load_plan("500235").entities if e.category == "demo_village"}
    assert heading.inner_text() in villages_of_plan


def layer_chip(page, label: str):
    """The sidebar's layer chip of a category (its label is "name drawn/total"; no "/" in the pattern: Playwright's
    selector syntax would break on it)."""
    return page.locator("[data-testid='stSidebar']").get_by_role("button", name=re.compile(rf"^{label} \d+\D\d+$"))


def expect_layer(page, label: str, on: bool) -> None:
    expect(layer_chip(page, label)).to_have_attribute("aria-pressed", "true" if on else "false")


def test_toggling_a_layer_hides_its_features(app_url: str, page) -> None:
    frame = open_view(page, f"{app_url}/?county=500235&layers=demo_village")
    expect(markers(frame).first).to_be_visible()
    layer_chip(page, "示范村").click()
    expect_layer(page, "示范村", on=False)
    expect(markers(frame)).to_have_count(0)
    # the map itself was not reloaded (same iframe, the user's view is kept): only the overlays changed
    expect(page.locator(MAP_FRAME)).to_have_count(1)
    layer_chip(page, "示范村").click()
    expect_layer(page, "示范村", on=True)
    expect(markers(frame).first).to_be_visible()


def shown_count(page) -> int:
    """Items the view shows: the header's 当前筛选 count, or all of them when nothing is filtered."""
    text = page.locator("[data-testid='stMain']").get_by_text(re.compile(r"图上 \d+ 项")).first.inner_text()
    match = re.search(r"当前筛选 (\d+) 项", text) or re.search(r"共 (\d+) 项规划要素", text)
    return int(match.group(1))


def test_view_chips_and_search_in_the_sidebar(app_url: str, page) -> None:
    open_view(page, f"{app_url}/?county=500235")
    sidebar = page.locator("[data-testid='stSidebar']")
    total = shown_count(page)
    # search sits in an expander whose inputs load when it is opened; typing narrows the map and the header
    sidebar.get_by_text("搜索与筛选").click()
    search = sidebar.get_by_role("textbox", name=re.compile("搜索"))
    search.fill("nx")
    search.press("Enter")
    expect(page.locator("[data-testid='stMain']")).to_contain_text("当前筛选")
    assert 0 < shown_count(page) < total
    expect(search).to_have_value("nx")  # the expander stayed open
    # a view chip switches the plan; the new view starts unfiltered
    涪陵 = load_plan("500102")
    sidebar.get_by_text(涪陵.county_name, exact=True).click()
    expect(page.locator("[data-testid='stMain']")).to_contain_text(涪陵.title)
    expect(page).to_have_url(re.compile(r"county=500102"))
    expect(sidebar.get_by_role("textbox", name=re.compile("搜索"))).to_have_value("")


def test_deep_link_restores_county_layers_and_selection(app_url: str, page) -> None:
    plan = load_plan("500235")
    entity = next(e for e in plan.entities if e.category == "demo_village")
    frame = open_view(page, f"{app_url}/?county=500235&layers=demo_village,demo_town&sel=f:{entity.id}")
    expect(page.locator("[data-testid='stMain']")).to_contain_text(plan.title)
    expect_layer(page, "示范村", on=True)
    expect_layer(page, "示范乡镇", on=True)
    expect_layer(page, "产业园区", on=False)
    panel = page.locator(".rr-panel").first
    expect(panel.locator("h3")).to_have_text(entity.name)
    expect(panel.locator("blockquote")).to_contain_text(entity.source.quote)
    # the selection ring is drawn around the item
    expect(frame.locator("path[stroke='#E4002B']").first).to_be_attached()
    # and the URL still carries the state, so it can be shared again
    expect(page).to_have_url(re.compile(rf"county=500235&.*sel=f%3A{re.escape(entity.id)}"))


@pytest.fixture(scope="module")
def hostile_url() -> Iterator[str]:
    env = {"RRMAP_PLANS_DIR": str(HOSTILE / "plans"), "RRMAP_SEEDS_DIR": str(HOSTILE / "seeds")}
    with running_app(env) as url:
        yield url


def test_hostile_names_render_as_text(hostile_url: str, page) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    frame = open_view(page, f"{hostile_url}/?county=500235&sel=f:x-dv-001")
    panel = page.locator(".rr-panel").first
    expect(panel.locator("h3")).to_have_text("<script>alert(1)</script>村")
    expect(panel).to_contain_text("县级示范村<script>alert(6)</script>")
    expect(panel).to_contain_text("<img src=x onerror=alert(7)>")
    expect(page.get_by_text("测试规划<img src=x onerror=alert(3)>").first).to_be_visible()
    # The village markers are drawn; their tooltips carry the names as text.
    expect(markers(frame).first).to_be_visible()
    # the overview (first tab) quotes the title literally; the attribute table opens without running anything
    expect(
        page.locator("[data-testid='stMarkdown']", has_text="《测试规划<img src=x onerror=alert(3)>")
    ).to_be_visible()
    page.get_by_role("tab", name="属性表").click()
    expect(page.locator("[data-testid='stDataFrame']").first).to_be_visible()
    assert page.locator("img[src='x']").count() == 0
    assert frame.locator("img[src='x']").count() == 0
    assert not dialogs, f"injected script ran: {dialogs}"


def test_villages_at_a_town_seat_are_a_ring_not_a_bubble_and_the_demo_town_is_on_top(app_url: str, page) -> None:
    from geo.features import load_features

    features = load_features("500235")[1]
    shown = features[features["category"].isin(["demo_town", "demo_village"]) & features.geometry.notna()]
    frame = open_view(page, f"{app_url}/?county=500235&layers=demo_town,demo_village")
    pins = frame.locator(".leaflet-marker-pane .rr-pin")
    expect(pins).to_have_count(len(shown))  # one badge per item: no count bubble hides a village
    expect(frame.locator(".leaflet-marker-pane .rr-cluster")).to_have_count(0)
    # Badges are placed apart (a ring around each seat), and every demo town is above everything else at its seat.
    boxes = frame.locator(".leaflet-marker-pane .rr-icon").evaluate_all(
        """els => els.map(e => { const r = e.getBoundingClientRect();
             return {x: Math.round(r.x), y: Math.round(r.y), w: r.width, h: r.height, z: +e.style.zIndex,
                     town: !!e.querySelector('.fa-star')}; })"""
    )
    assert len({(b["x"], b["y"]) for b in boxes}) == len(boxes), "two badges drawn on the same spot"

    def overlap(a: dict, b: dict) -> bool:
        return (
            a["x"] < b["x"] + b["w"]
            and b["x"] < a["x"] + a["w"]
            and a["y"] < b["y"] + b["h"]
            and b["y"] < a["y"] + a["h"]
        )

    towns = [b for b in boxes if b["town"]]
    assert towns
    for town in towns:  # whatever touches a demo town's badge is drawn below it
        assert all(v["z"] < town["z"] for v in boxes if not v["town"] and overlap(v, town))
