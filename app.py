"""乡村振兴规划一张图 — the Streamlit entry point, and the app's table of contents.

Each part of the page is one module of :mod:`ui` (the only package that talks to Streamlit): the shared view
state mirrored in the URL, the cached view of a plan, the map with its panel, the sidebar and the tabs.  All
computing is done by plain functions of :mod:`plan`, :mod:`geo`, :mod:`gisio`, :mod:`layers` and :mod:`present`.
"""

from __future__ import annotations

from layers.mapview import BASEMAPS
from plan.loader import available_plans
from present.filters import filter_features
from present.search import index_features, search
from ui import data, page, state, tabs
from ui.exchange import render_exchange, stored_import
from ui.mapview import print_context, render_map_and_panel
from ui.sidebar import current_filters, render_sidebar
from ui.worklist import render_worklist

page.configure()


def main() -> None:
    codes = available_plans()
    if not codes:
        page.no_plans()
        return
    state.init_from_url(codes, list(BASEMAPS))  # the URL is read once per session
    view = page.load_view(state.county())
    if view is None:  # the plan's data is broken: say what is wrong, keep the view chooser
        render_sidebar(codes)
        state.write_url()
        return
    plan_layers = set(view.features["category"])
    state.set_layers([c for c in state.shown_layers() if c in plan_layers])  # this plan's layers only
    filters = current_filters(view)
    boundaries = page.load_boundaries()
    ids = search(index_features(view.features), filters.query) if filters.query.strip() else None
    shown = filter_features(
        view.features,
        view.plan,
        categories=filters.categories,
        designations=filters.designations,
        towns=filters.towns,
        ids=ids,
    )
    page.render_header(view, len(shown), int(shown.geometry.notna().sum()))
    page.store_notices()

    layout = page.Layout.create()
    imported = stored_import()  # a layer imported earlier in the session stays on the map whichever tab is open
    if layout.exchange.open:
        with layout.exchange:  # runs before the map is drawn, so a new upload shows on this very run
            imported = render_exchange(
                view.features,
                shown,
                title=view.plan.title,
                county=view.county,
                boundaries=boundaries,
                indicators=data.indicators_table(view.county),
                printing=print_context(view),
                plans=(view.plan,),
            )
    with layout.map_slot:
        render_map_and_panel(view, shown, boundaries=boundaries, imported=imported)  # writes the URL
    render_sidebar(codes, view, filters, shown=shown)  # after the map, so the map is sent first

    if layout.overview.open:
        with layout.overview:
            tabs.render_overview(view, len(shown))
    if layout.table.open:
        with layout.table:
            tabs.render_table(shown, tabs.Key.TABLE, {"county_name": "区县"})
    if layout.unlocated.open:
        with layout.unlocated:
            render_worklist(view)  # the items to place, each with its 标绘 button
            tabs.render_unlocated(view)  # the same items as sortable tables (a search hit is selected here)
    if layout.indicators.open:
        with layout.indicators:
            tabs.render_indicators(view.plan)
    if layout.comparison.open:
        with layout.comparison:
            tabs.render_comparison(codes)


main()
