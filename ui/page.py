"""The page around the parts: configuration, the header, the layout (map above the tabs) and data errors.

``app.py`` composes the page from these and the other :mod:`ui` modules without touching Streamlit itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator
from streamlit.elements.lib.mutable_tab_container import TabContainer

from geo.errors import GeoDataError
from plan.model import PlanDataError
from present.countyview import CountyView
from present.markup import esc
from store.errors import StoreError
from ui import data, tabs


def configure() -> None:
    """Page title, icon and wide layout (the first Streamlit call of a run)."""
    st.set_page_config(page_title="乡村振兴规划一张图", page_icon="🗺️", layout="wide")


def no_plans() -> None:
    st.error("data/plans 下没有规划数据文件，请先添加规划数据（见 data/SCHEMA.md）。")


def load_view(county: str) -> CountyView | None:
    """The cached view of a plan, or None after saying in Chinese what is wrong with its data."""
    try:
        return data.county_view(county)
    except PlanDataError as exc:
        st.error(f"规划数据有误，无法显示该视图：\n\n{exc}")
    except GeoDataError as exc:
        st.error(f"地理数据有误：{exc}")
    except StoreError as exc:
        st.error(f"编辑库无法读取，无法显示该视图：{exc}")
    return None


def store_notices() -> None:
    """Say once per session when the store cannot be used, or which overrides rows were left out."""
    if st.session_state.get("_store_noticed"):
        return
    st.session_state["_store_noticed"] = True
    if data.store_problem():
        st.warning(f"编辑库不可用，标绘与保存已停用：{data.store_problem()}")
    for problem in data.migration_problems():
        st.warning(f"坐标文件迁移时跳过一行：{problem}")


def load_boundaries() -> gpd.GeoDataFrame | None:
    """Display-level boundaries, or None (with a warning) when the boundary files cannot be read."""
    try:
        return data.boundaries()
    except GeoDataError as exc:
        st.warning(f"行政区划边界不可用：{exc}")
        return None


# The live map's height follows the browser window: the map frame reaches from where it starts to the window's
# bottom (at least MIN_MAP_PX), recomputed when the window or the page above the map changes.  The map inside the
# frame fills it (layers.mapview.MAP_CSS) and refits the county (layers.viewcontrol).
MIN_MAP_PX = 380
BOTTOM_GAP_PX = 10
WINDOW_FIT = f"""<style>
[data-testid="stMainBlockContainer"] {{ padding-top: 3.2rem; }}
iframe[title="streamlit_folium.st_folium"] {{ height: var(--rr-map-h, 640px) !important; }}
</style>
<script>
(function () {{
  if (window.__rrFitMap) {{ window.__rrFitMap(); return; }}
  var pending = false;
  function fit() {{
    pending = false;
    var frame = document.querySelector('iframe[title="streamlit_folium.st_folium"]');
    if (!frame) return;
    var top = frame.getBoundingClientRect().top + window.scrollY;
    for (var el = frame.parentElement; el; el = el.parentElement) top += el.scrollTop || 0;
    var h = Math.max({MIN_MAP_PX}, Math.floor(window.innerHeight - top - {BOTTOM_GAP_PX}));
    var root = document.documentElement;
    if (root.style.getPropertyValue("--rr-map-h") !== h + "px") root.style.setProperty("--rr-map-h", h + "px");
  }}
  function later() {{ if (!pending) {{ pending = true; window.requestAnimationFrame(fit); }} }}
  window.__rrFitMap = later;
  window.addEventListener("resize", later);
  new MutationObserver(later).observe(document.body, {{ childList: true, subtree: true }});
  later();
}})();
</script>"""


def render_header(view: CountyView, shown: int, on_map: int) -> None:
    """Title, issuer and period; how many items the view shows and how many of those are on the map.

    Also sizes the map to the window (:data:`WINDOW_FIT`, in the same element: no extra gap on the page).
    """
    plan = view.plan
    counts = f"共 {len(view.features)} 项规划要素"
    if shown != len(view.features):
        counts += f"，当前筛选 {shown} 项"
    counts += f"，图上 {on_map} 项" + ("（其余为全域性或无法定位，见“待定位”）" if on_map < shown else "")
    st.html(
        f'<div style="font-size:1.45rem;font-weight:700;line-height:1.3">{esc(plan.title)}</div>'
        f'<div style="color:#666">{esc(plan.issuer or "")} {esc(plan.period or "")} · {counts}</div>' + WINDOW_FIT,
        unsafe_allow_javascript=True,
    )


@dataclass(frozen=True)
class Layout:
    """Where the parts go: the map (with its panel) above the tabs; each tab runs only while open."""

    map_slot: DeltaGenerator
    overview: TabContainer
    table: TabContainer
    unlocated: TabContainer
    indicators: TabContainer
    comparison: TabContainer
    exchange: TabContainer

    @classmethod
    def create(cls) -> Layout:
        # The map slot comes first on the page but is filled after an open exchange tab has run (a new upload
        # shows on the map in the same run).
        map_slot = st.container()
        parts = st.tabs(list(tabs.TAB_LABELS), key=tabs.Key.TABS, on_change="rerun")
        return cls(map_slot, *parts)
