"""Tier 3: the Streamlit script's sidebar and panel logic (streamlit.testing AppTest, no browser)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit import cache_data, cache_resource
from streamlit.testing.v1 import AppTest

import config
from plan.loader import available_plans, load_plan

APP = str(Path(__file__).resolve().parent.parent / "app.py")
HOSTILE = Path(__file__).parent / "fixtures" / "hostile"


def run(**params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def markdown_text(at: AppTest) -> str:
    """All text of the page's Markdown and HTML elements (the panel and header are ``st.html``)."""
    return "\n".join([m.value for m in at.markdown] + [h.value for h in at.html])


def test_views_list_every_plan_municipality_first() -> None:
    at = run()
    views = at.sidebar.button_group(key="county")
    assert views.options[0].startswith("重庆市")
    assert len(views.options) == len(available_plans())
    assert at.sidebar.button_group(key="basemap").value == "none"


@pytest.mark.parametrize("county", ["500000", "500235", "500102", "500243", "500229"])
def test_each_view_shows_its_plan_layers_and_tables(county: str) -> None:
    at = run(county=county)
    assert not at.error, [e.value for e in at.error]
    assert load_plan(county).title.split("“")[0] in markdown_text(at)
    layers = at.sidebar.button_group(key="layers")
    assert "图上" in layers.label and "共" in layers.label
    present = [c for c in config.CATEGORIES if any(e.category == c for e in load_plan(county).entities)]
    assert list(layers.value) == present  # every layer of the plan, switched on
    labels = [tab.label for tab in at.tabs]
    assert labels == ["概览", "属性表", "待定位", "主要指标", "跨规划指标对比", "导出与导入"]
    # Lazy tabs: only the open one (概览) has run; the exchange panel's own tabs appear once it is opened.
    assert "定位精度" in markdown_text(at) and len(at.dataframe) == 0


def test_switching_view_clears_the_selection() -> None:
    at = run(county="500235", sel="f:yy-dv-001")
    assert at.session_state["selected"] == "f:yy-dv-001"
    at.sidebar.button_group(key="county").set_value("500102").run()
    assert at.session_state["selected"] is None
    assert at.query_params["county"] == "500102"


def test_deep_link_restores_layers_and_selection_panel() -> None:
    plan = load_plan("500235")
    entity = next(e for e in plan.entities if e.category == "demo_village")
    at = run(county="500235", layers="demo_village", sel=f"f:{entity.id}")
    assert list(at.sidebar.button_group(key="layers").value) == ["demo_village"]
    text = markdown_text(at)
    assert entity.source.quote in text and "专栏11" in text
    assert at.query_params["layers"] == "demo_village"


def test_unchecking_a_layer_updates_the_link() -> None:
    at = run(county="500235")
    layers = at.sidebar.button_group(key="layers")
    layers.set_value([c for c in layers.value if c != "demo_village"]).run()
    assert "demo_village" not in at.sidebar.button_group(key="layers").value
    assert "demo_village" not in at.query_params["layers"].split(",")


def test_town_selection_shows_what_the_plan_says_there() -> None:
    at = run(county="500235", sel="t:泥溪镇")
    assert "规划中关于此地的表述" in markdown_text(at)


def shown_count(at: AppTest) -> int:
    """Items the view shows: the header's 当前筛选 count, or all of them (共) when nothing is filtered."""
    text = markdown_text(at)
    match = re.search(r"当前筛选 (\d+) 项", text) or re.search(r"共 (\d+) 项规划要素", text)
    assert match, "the header gives the number of items shown"
    assert re.search(r"图上 \d+ 项", text), "the header says how many of them are on the map"
    return int(match.group(1))


def open_filters(at: AppTest, is_open: bool = True) -> AppTest:
    at.session_state["filters_open"] = is_open
    return at.run()


def test_search_and_filters_load_only_when_opened_and_keep_their_values() -> None:
    at = run(county="500235")
    total = shown_count(at)
    assert f"共 {total} 项规划要素" in markdown_text(at)  # nothing filtered
    assert not at.sidebar.text_input and not at.sidebar.multiselect  # closed: no inputs on the first paint
    open_filters(at)
    at.sidebar.text_input(key="search").input("nx").run()
    narrowed = shown_count(at)
    assert 0 < narrowed < total
    assert at.sidebar.text_input(key="search").value == "nx"  # still open after typing
    open_filters(at, False)  # closed again: the search still narrows the map, and the sidebar says so
    assert not at.sidebar.text_input
    assert shown_count(at) == narrowed
    assert "已启用：搜索“nx”" in [c.value for c in at.sidebar.caption]
    open_filters(at)
    assert at.sidebar.text_input(key="search").value == "nx"


def test_filters_are_cleared_by_a_new_view() -> None:
    at = open_filters(run(county="500235"))
    town = at.sidebar.multiselect(key="f_town").options[0]
    at.sidebar.multiselect(key="f_town").select(town).run()
    assert at.sidebar.multiselect(key="f_town").value == [town]
    at.sidebar.button_group(key="county").set_value("500102").run()
    assert at.sidebar.multiselect(key="f_town").value == []
    assert f"共 {shown_count(at)} 项规划要素" in markdown_text(at)


def test_municipal_district_selection_offers_the_county_view() -> None:
    at = run(county="500000", sel="d:500235")
    assert "进入云阳县规划视图 →" in [b.label for b in at.button]
    at.button(key="enter_county").click().run()
    assert at.session_state["county"] == "500235"


def test_tianditu_without_key_is_disabled_with_an_explanation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    at = run(county="500235", basemap="tdt_vec")
    # not offered as a choice: a disabled button that says why, and the link falls back to no basemap
    assert "tdt_vec" not in at.sidebar.button_group(key="basemap").options
    assert at.session_state["basemap"] == "none"
    off = at.sidebar.button(key="basemap-off-tdt_vec")
    assert off.disabled and "天地图密钥" in off.help


def test_broken_plan_gives_a_chinese_error_not_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "500235.yaml").write_text("plan: [unclosed\n", encoding="utf-8")
    monkeypatch.setattr(config, "PLANS_DIR", tmp_path)
    cache_data.clear()  # loaders cached by earlier tests in this process
    cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception
    assert any("规划数据有误" in e.value and "500235.yaml" in e.value for e in at.error)
    cache_data.clear()
    cache_resource.clear()


def test_a_map_click_selects_the_feature_in_the_same_run() -> None:
    """The map returns the clicked tooltip (with its hidden key), as streamlit-folium's frontend does; its
    on_change callback selects the feature before the script runs, so one run shows it (no st.rerun)."""
    import json

    from streamlit.proto.WidgetStates_pb2 import WidgetState

    from bench.servertime import map_component

    plan = load_plan("500235")
    entity = next(e for e in plan.entities if e.category == "demo_village")
    at = run(county="500235")
    proto = map_component(at)
    assert proto is not None
    states = at._tree.get_widget_states()
    click = {"last_object_clicked_tooltip": f"{entity.name} 示范村 ⟦f:{entity.id}⟧"}
    states.widgets.append(WidgetState(id=proto.id, json_value=json.dumps(click, ensure_ascii=False)))
    at._run(states)
    assert not at.exception
    assert at.session_state["selected"] == f"f:{entity.id}"
    assert entity.source.quote in markdown_text(at)
    assert at.query_params["sel"] == f"f:{entity.id}"


def test_tabs_run_only_when_open() -> None:
    at = run(county="500235")
    assert len(at.dataframe) == 0
    at.session_state["main_tabs"] = "属性表"
    at.run()
    assert not at.exception
    assert len(at.dataframe) == 1 and len(at.dataframe[0].value) == len(load_plan("500235").entities)
    at.session_state["main_tabs"] = "导出与导入"
    at.run()
    assert not at.exception
    assert {"导出", "出图（PNG / PDF）", "导入与匹配"} <= {tab.label for tab in at.tabs}
    assert len(at.dataframe) == 0


def _click_on_the_map_of_another_view() -> None:
    import streamlit as st

    from ui import mapview, state

    st.session_state[state.Key.COUNTY] = "500243"  # the view is 彭水 now
    st.session_state["map_500235_none"] = {"last_object_clicked_tooltip": "某村⟦f:yy-dv-001⟧"}
    mapview.on_map_click("map_500235_none")  # a late click from the 云阳 map, still on the page
    st.session_state["map_500243_none"] = {"last_object_clicked_tooltip": "某村⟦f:ps-dv-001⟧"}
    first = state.selected()
    mapview.on_map_click("map_500243_none")
    st.write(f"{first}|{state.selected()}")


def test_a_click_from_the_map_of_the_view_just_left_is_dropped() -> None:
    at = AppTest.from_function(_click_on_the_map_of_another_view, default_timeout=60)
    at.run()
    assert not at.exception
    assert at.markdown[0].value == "None|f:ps-dv-001"
