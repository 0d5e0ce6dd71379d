"""Tier 2: build the folium map of a view and assert on its HTML/JS."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import folium
import geopandas as gpd
import pandas as pd
import pytest
from layer_fixtures import good_features, hostile_features, multi_features, square_boundaries

from layers.assets import localise
from layers.boundaries import county_outline_data, designation_colors, district_data
from layers.jsonlayer import VectorLayer
from layers.labels import TownLabel
from layers.legend import count_by_category, legend_html
from layers.mapview import base_map, fit_geometry, focus_view, overlay_groups, selection_geometry, to_display

ROOT = Path(__file__).resolve().parent.parent


def decoded(html: str) -> str:
    """The page with JSON string escapes (\\uXXXX, as written by tojson) decoded, as the browser sees it."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), html)


def layer_data(html: str, layer: str) -> list:
    """The JSON arrays carried by the data-driven layers named ``layer`` (e.g. "point_layer") in a page."""
    found = re.findall(rf"var {layer}_\w+ = \(function \(data\) \{{.*?\}}\)\((.*?)\);\n", html, flags=re.S)
    return [json.loads(text) for text in found]


def points_of(html: str) -> list:
    """``([lat, lng, item index], [tooltip, popup, style, level, approximate])`` of every marker of the point
    layers of a page (tooltip and popup markup assembled from the layer's string table, as the browser does)."""
    out = []
    for data in layer_data(html, "point_layer"):
        strings, items = data[2], data[3]
        for p in data[4]:
            tip, popup, *rest = items[p[2]]
            out.append((p, ["".join(strings[i] for i in tip), "".join(strings[i] for i in popup), *rest]))
    return out


def render(groups, boundaries=None, legend=None) -> str:
    bounds = square_boundaries() if boundaries is None else boundaries
    fmap = base_map(
        [VectorLayer(county_outline_data(bounds, "500235"), "CountyOutline")],
        legend,
        fit=fit_geometry(bounds, "500235"),
    )
    for group in groups:
        fmap.add_child(group)
    return decoded(localise(fmap, "/app/static/vendor").get_root().render())


def test_overlays_draw_points_in_a_cluster_and_belts_as_lines() -> None:
    html = render(overlay_groups(good_features()))
    assert "L.markerClusterGroup" in html
    ((point, item),) = points_of(html)  # the village (the county-wide item is not drawn)
    assert point[:2] == [10.1, 100.1]
    assert item[4] == 1  # village at its town seat is hollow ...
    assert "rr-approx" in html  # ... drawn with the rr-approx badge
    (belts,) = layer_data(html, "belt_layer")
    styles, rows = belts[0], belts[1]
    assert [r[0] for r in rows] == ["polyline", "polyline"]  # belt band + belt line
    assert styles[rows[1][2]]["dashArray"] == "8 6"  # schematic belt is dashed
    assert styles[rows[0][2]]["interactive"] is False  # the band is not clickable


def test_a_multi_town_item_gets_a_marker_at_each_town() -> None:
    html = render(overlay_groups(multi_features()))
    points = points_of(html)
    assert [p[:2] for p, _ in points] == [[10.1, 100.1], [10.2, 100.2]]
    assert points[0][1] == points[1][1]  # one item (tooltip, popup) shared by both markers


def test_markers_are_one_cluster_layer_of_compact_utf8_json() -> None:
    html = render(overlay_groups(good_features()))
    assert html.count("L.markerClusterGroup(") == 1
    assert "L.Marker.extend(" in html and "bindTooltip" in html and "bindPopup" in html  # bound when drawn
    (data,) = layer_data(html, "point_layer")
    options, styles = data[0], data[1]
    assert options["maxClusterRadius"] == 18 and options["chunkedLoading"] is True
    assert styles == [["#E69F00", "home"]]  # category colour and icon
    ((_point, item),) = points_of(html)
    assert item[0].endswith('<span hidden class="rr-key">⟦f:t-dv-001⟧</span>')  # the click key rides in the tooltip
    assert "专栏1 乡村振兴示范村" in item[1]  # the popup cites the plan
    assert "黎明村" in html and "\\u9ece" not in html  # CJK written as UTF-8, not \\uXXXX


def test_markup_boilerplate_is_shared_and_joins_back() -> None:
    from layers.jsonlayer import StringTable

    markups = [f'<b>{name}</b><span class="rr-tip-sub">示范村</span>' for name in ("甲村", "乙村", "丙村", "丁村")]
    table = StringTable()
    interned = table.intern_all(markups)
    assert [table.join(ix) for ix in interned] == markups
    assert all(len(ix) == 3 for ix in interned)  # "<b>", the name, the shared rest
    assert len({ix[2] for ix in interned}) == 1
    assert len(table.strings) == 6
    odd = ["a<b", "<i>x</i> < y", "", "纯文本"]
    assert [table.join(ix) for ix in table.intern_all(odd)] == odd


def test_no_point_layer_without_points() -> None:
    feats = good_features()
    html = render(overlay_groups(feats[feats["id"] != "t-dv-001"]))
    assert "L.markerClusterGroup(" not in html and not layer_data(html, "point_layer")
    assert layer_data(html, "belt_layer")  # the belt is still drawn


def test_many_points_cluster_by_area() -> None:
    from layers.points import MANY_POINTS, cluster_options

    assert cluster_options(10)["maxClusterRadius"] == 18
    assert cluster_options(MANY_POINTS + 1)["maxClusterRadius"] >= 60


def test_every_clickable_layer_carries_its_key() -> None:
    html = render(overlay_groups(good_features(), [TownLabel("双河镇", 100.1, 10.1, 3)]))
    # point tooltips are assembled in the browser from interned pieces (the key's id is a piece of its own)
    assert any("⟦f:t-dv-001⟧" in item[0] for _, item in points_of(html))
    assert "⟦f:t-belt-001⟧" in html
    assert "⟦t:双河镇⟧" in html


def test_hostile_names_are_escaped_in_tooltips_popups_and_legend() -> None:
    feats = hostile_features()
    legend = legend_html(count_by_category(feats["category"]), title="<script>alert(9)</script>")
    html = render(overlay_groups(feats), legend=legend)
    assert "<script>alert(" not in html
    assert "<img src=x" not in html
    assert "${alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;村" in html
    tips = [item[0] for _, item in points_of(html)]
    assert len(tips) == 2 and all("&lt;" in tip and "<script" not in tip and "<img" not in tip for tip in tips)
    assert all("⟦f:x-dv-00" in tip for tip in tips)


def test_no_jquery_popups_and_no_cdn_after_localise() -> None:
    html = render(overlay_groups(good_features()))
    assert "$(`" not in html
    assert not re.search(r"(src|href)=\"https?://", html)
    assert "/app/static/vendor/leaflet.markercluster/dist/leaflet.markercluster.js" in html
    assert "fontawesome" not in html and "awesome-markers" not in html  # icons are inline SVG masks
    assert '.fa-home { --rr-icon: url("data:image/svg+xml,' in html


def test_live_map_loads_leaflet_and_markercluster_as_one_installed_bundle() -> None:
    import config
    from layers.assets import LOCAL_ASSETS, SCRIPT_BUNDLE, live_assets

    bounds = square_boundaries()
    fmap = base_map(
        [VectorLayer(county_outline_data(bounds, "500235"), "CountyOutline")], None, fit=fit_geometry(bounds, "500235")
    )
    groups = overlay_groups(good_features())
    live_assets(fmap, groups, "/app/static/vendor")
    live_assets(fmap, groups, "/app/static/vendor")  # idempotent: a second call changes nothing
    for group in groups:  # as st_folium does: the overlays join the map, their scripts are collected with it
        fmap.add_child(group)
    scripts = [url for e in _elements(fmap) for _, url in getattr(e, "default_js", [])]
    assert scripts == ["/app/static/vendor/bundle/leaflet-markercluster.js"]
    html = fmap.get_root().render()
    assert "leaflet.markercluster.js" not in html and "dist/leaflet.js" not in html
    assert "/app/static/vendor/leaflet.markercluster/dist/MarkerCluster.css" in html  # styles are not bundled
    # the set-up script builds the bundle from the same files the app would load one by one (one list, two
    # sides: scripts/vendor_assets.py runs without the app's dependencies)
    spec = importlib.util.spec_from_file_location("vendor_assets", ROOT / "scripts" / "vendor_assets.py")
    vendor = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(vendor)
    part_paths = [LOCAL_ASSETS[name] for name in SCRIPT_BUNDLE[2]]
    assert vendor.BUNDLES[SCRIPT_BUNDLE[1]] == part_paths
    assert part_paths == ["leaflet/dist/leaflet.js", "leaflet.markercluster/dist/leaflet.markercluster.js"]
    # the bundle installed at set-up is the parts, in order (Leaflet first), each with its licence header
    bundle = (config.VENDOR_DIR / SCRIPT_BUNDLE[1]).read_text(encoding="utf-8")
    parts = [(config.VENDOR_DIR / p).read_text(encoding="utf-8") for p in part_paths]
    at = [bundle.index(part) for part in parts]
    assert at == sorted(at) and bundle.index("@preserve") < at[0] + 100


def _elements(element):
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from _elements(child)


def test_every_category_icon_is_drawn_without_an_icon_font() -> None:
    import config
    from layers.icons import icon_names, icon_uri

    assert len(icon_names()) == len(config.CATEGORY_STYLE)
    assert all(icon_uri(name).startswith("data:image/svg+xml,%3Csvg") for name in icon_names())
    assert all("Font Awesome" not in icon_uri(name) for name in icon_names())  # licence comment stripped


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
    data = district_data(
        bounds, with_plan={"500235": "测试县"}, designations={"500236": ["国家乡村振兴重点帮扶县"]}, colors=colors
    )
    fmap = folium.Map(tiles=None)
    fmap.add_child(VectorLayer(data, "DistrictLayer"))
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


@pytest.mark.parametrize("name", ["</script><script>alert(1)</script>", "{{ 7*7 }}{% raw %}{# x", "<!--", "a\u2028b"])
def test_layer_json_survives_script_and_template_breakers(name: str) -> None:
    from layers.jsonlayer import script_json

    text = script_json([name, {"k": name}])
    assert "</" not in text and "<!--" not in text
    assert not re.search(r"\{[{%#]", text)
    assert json.loads(text) == [name, {"k": name}]


def test_town_labels_are_one_layer_with_escaped_names_and_keys() -> None:
    html = render(
        overlay_groups(good_features(), [TownLabel("<b>镇</b>", 100.1, 10.1, 0), TownLabel("双河镇", 100.2, 10.2, 3)])
    )
    (data,) = layer_data(html, "town_label_layer")
    rows = data[0]
    assert [r[:2] for r in rows] == [[10.1, 100.1], [10.2, 100.2]]
    assert "&lt;b&gt;镇&lt;/b&gt;" in rows[0][2] and "<b>镇" not in rows[0][2]
    assert "⟦t:&lt;b&gt;镇&lt;/b&gt;⟧" in rows[0][3]
    assert "规划中提及 3 处" in rows[1][3]


def test_county_outline_draws_only_the_neighbours_around_the_county() -> None:
    import geopandas as gpd
    from shapely.geometry import box

    bounds = gpd.GeoDataFrame(
        {"adcode": ["500000", "500235", "500236", "500237"], "name": ["市", "本县", "邻县", "远县"]},
        geometry=[box(0, 0, 10, 10), box(1, 1, 2, 2), box(2, 1, 3, 2), box(8, 8, 9, 9)],
        crs="EPSG:4326",
    )
    html = decoded(
        base_map([VectorLayer(county_outline_data(bounds, "500235"), "CountyOutline")], None).get_root().render()
    )
    (data,) = layer_data(html, "county_outline")
    rings = [r[1][0] for r in data[1]]
    assert len(rings) == 2  # the neighbour and the county, not the far district
    assert all(r[3] is None for r in data[1])  # nothing clickable


def test_villages_at_one_seat_form_a_ring_and_the_demo_town_stays_on_top() -> None:
    # Test data: the fixture's seat gets a demo town and three villages placed at it.
    feats = good_features()
    seat = feats.loc[feats["id"] == "t-dv-001", "geometry"].iloc[0]
    extra = feats[feats["id"] == "t-dv-001"].copy()
    rows = []
    for n, cat in enumerate(["demo_town", "demo_village", "demo_village", "demo_village"]):
        row = extra.copy()
        row["id"], row["category"], row["precision"] = f"r-{n}", cat, "town"
        row["geometry"] = [seat]
        rows.append(row)
    frame = gpd.GeoDataFrame(pd.concat(rows, ignore_index=True), geometry="geometry", crs=feats.crs)
    points = layer_data(render(overlay_groups(frame)), "point_layer")[0][4]
    centre = [p for p in points if p[3:5] == [0, 0]]
    ring = [p for p in points if p[3:5] != [0, 0]]
    assert len(centre) == 1 and centre[0][5] > 0  # the demo town, raised above the villages
    assert len(ring) == 3 and len({(p[3], p[4]) for p in ring}) == 3  # three distinct places around the seat
    assert all(p[:2] == centre[0][:2] for p in ring)  # still at the seat: the offset is in pixels only
    east = [p for p in ring if p[3] > 0 and abs(p[4]) < 0.3 * p[3]]
    assert east == []  # the sector east of the seat stays free for the town's name


def test_a_schematic_area_is_hatched_and_labelled() -> None:
    feats = good_features()
    area = feats[feats["id"] == "t-dv-001"].copy()
    area["geometry"] = [area.geometry.iloc[0].buffer(0.05)]  # test data: an outline around the fixture's seat
    area["category"], area["precision"] = "industrial_park", "schematic"
    html = render(overlay_groups(area))
    (data,) = layer_data(html, "area_layer")
    styles, rows = data[0], data[1]
    assert any(s.get("rrHatch") for s in styles)
    assert any(r[0] == "label" and "示意" in r[3] for r in rows)
