"""Tier 2: build the folium map of a view and assert on its HTML/JS."""
from __future__ import annotations

import re

import folium
from layer_fixtures import good_features, hostile_features, multi_features, square_boundaries

from layers.assets import localise
from layers.boundaries import county_outline, designation_colors, district_layers
from layers.labels import TownLabel
from layers.legend import category_counts, legend_html
from layers.mapview import base_map, fit_geometry, focus_view, overlay_groups, selection_geometry, to_display


def decoded(html: str) -> str:
    """The page with JSON string escapes (\\uXXXX, as written by tojson) decoded, as the browser sees it."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), html)


def render(groups, boundaries=None, legend=None) -> str:  # type: ignore[no-untyped-def]
    bounds = square_boundaries() if boundaries is None else boundaries
    fmap = base_map(bounds, county_outline(bounds, "500235"), legend, fit=fit_geometry(bounds, "500235"))
    for group in groups:
        fmap.add_child(group)
    return decoded(localise(fmap, "/app/static/vendor").get_root().render())


def test_overlays_draw_points_in_a_cluster_and_belts_as_lines() -> None:
    html = render(overlay_groups(good_features()))
    assert "L.markerClusterGroup" in html
    assert html.count("L.marker(") == 1          # the village (the county-wide item is not drawn)
    assert html.count("L.polyline(") == 2        # belt band + belt line
    assert '"dashArray": "8 6"' in html          # schematic belt is dashed
    assert "rr-approx" in html                   # village at its town seat is hollow


def test_a_multi_town_item_gets_a_marker_at_each_town() -> None:
    html = render(overlay_groups(multi_features()))
    assert html.count("L.marker(") == 2


def test_every_clickable_layer_carries_its_key() -> None:
    html = render(overlay_groups(good_features(), [TownLabel("双河镇", 100.1, 10.1, 3)]))
    assert "⟦f:t-dv-001⟧" in html
    assert "⟦f:t-belt-001⟧" in html
    assert "⟦t:双河镇⟧" in html


def test_hostile_names_are_escaped_in_tooltips_popups_and_legend() -> None:
    feats = hostile_features()
    legend = legend_html(category_counts(feats["category"]), title="<script>alert(9)</script>")
    html = render(overlay_groups(feats), legend=legend)
    assert "<script>alert(" not in html
    assert "<img src=x" not in html
    assert "${alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;村" in html


def test_no_jquery_popups_and_no_cdn_after_localise() -> None:
    html = render(overlay_groups(good_features()))
    assert "$(`" not in html
    assert not re.search(r"(src|href)=\"https?://", html)
    assert "/app/static/vendor/leaflet.markercluster/dist/leaflet.markercluster.js" in html
    assert "/app/static/vendor/@fortawesome/fontawesome-free/css/all.min.css" in html


def test_same_input_renders_the_same_overlay_code() -> None:
    def js() -> str:
        html = render(overlay_groups(good_features()))
        start = html.index("feature_group_g0x0")
        return re.sub(r"map_[0-9a-f]{32}", "map", html[start:])

    assert js() == js()


def test_selection_draws_a_ring_and_focus_centres_on_the_item() -> None:
    feats = good_features()
    geom = selection_geometry(feats, "t-dv-001")
    html = render(overlay_groups(feats, selected=geom))
    assert '"color": "#E4002B"' in html
    center, zoom = focus_view(geom)
    assert center == (10.1, 100.1) and zoom == 12
    assert selection_geometry(feats, "t-rs-001") is None
    assert focus_view(None) == (None, None)


def test_view_fits_the_county_polygon_from_the_data() -> None:
    html = render(overlay_groups(good_features()))
    assert "fitBounds" in html
    assert "[[9.9, 99.9], [10.4, 100.4]]" in html


def test_without_boundaries_the_view_fits_the_located_features() -> None:
    geom = fit_geometry(None, "500235", good_features())
    assert geom is not None and geom.bounds == (100.1, 10.1, 100.3, 10.2)
    assert fit_geometry(None, "500235", good_features().iloc[0:0]) is None


def test_municipal_districts_are_clickable_and_coloured_by_designation() -> None:
    bounds = square_boundaries()
    colors = designation_colors(["国家乡村振兴重点帮扶县"])
    layers = district_layers(bounds, {"500235": "测试县"}, {"500236": ["国家乡村振兴重点帮扶县"]}, colors)
    fmap = folium.Map(tiles=None)
    for layer in layers:
        fmap.add_child(layer)
    html = decoded(fmap.get_root().render())
    assert "⟦d:500235⟧" in html and "⟦d:500236⟧" in html
    assert colors["国家乡村振兴重点帮扶县"] in html
    assert "测试县&lt;b&gt;" in html


def test_amap_display_shifts_geometries_but_not_the_source_frame() -> None:
    feats = hostile_features()  # fixture points lie outside China: GCJ-02 leaves them unchanged
    shifted = to_display(feats, "amap")
    assert shifted.attrs.get("datum") == "GCJ-02"
    assert "datum" not in feats.attrs
    assert to_display(feats, "none") is feats
