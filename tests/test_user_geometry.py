"""User geometry through the stack: checks with Chinese messages, resolving (a user geometry wins, inside the
county only), the feature table's provenance, exports, the worklist, and the drawing layer's JavaScript.

Test geometries are built from the county polygon (no coordinate typed), ids of the real 云阳 plan.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pyogrio
import pytest
import shapely
import shapely.affinity
from shapely.geometry import LineString, Point, Polygon

from geo.boundaries import county_polygon, load_boundaries
from geo.errors import GeoDataError
from geo.features import PROVENANCE_COLUMNS, load_features
from geo.usergeo import UserGeometry, checked_geometry, geometry_from_geojson, kind_for_category, place_item_id
from gisio.export import export_features
from layers.drawing import DrawSupport, EditTarget, edit_group, pending_drawing, toolbar
from layers.mapview import map_view, static_part
from present.countyview import build_view
from present.worklist import planner_reason, worklist
from store.db import open_store

YY = "500235"
BELT, PARK = "yy-ib-002", "yy-ip-002"  # 柑橘产业示范带 (county-wide), 云阳（凤鸣）现代农业产业园 (unlocated)


@pytest.fixture(scope="module")
def polygon() -> shapely.Geometry:
    return county_polygon(YY, "full")


def inner_line(polygon: shapely.Geometry) -> LineString:
    c = polygon.representative_point()
    return LineString([(c.x - 0.02, c.y), (c.x, c.y + 0.01), (c.x + 0.02, c.y)])


def inner_area(polygon: shapely.Geometry) -> Polygon:
    c = polygon.representative_point()
    return Polygon([(c.x, c.y), (c.x + 0.01, c.y), (c.x + 0.01, c.y + 0.01), (c.x, c.y + 0.01)])


def test_checks_refuse_bad_drawings_in_chinese(polygon) -> None:
    c = polygon.representative_point()
    with pytest.raises(GeoDataError, match="自相交"):
        checked_geometry(
            Polygon([(c.x, c.y), (c.x + 0.01, c.y + 0.01), (c.x + 0.01, c.y), (c.x, c.y + 0.01)]),
            polygon=polygon,
            county_name="云阳县",
        )
    with pytest.raises(GeoDataError, match="两个不同的点"):
        geometry_from_geojson({"type": "LineString", "coordinates": [[c.x, c.y]]})
    with pytest.raises(GeoDataError, match="三个不同的点"):
        geometry_from_geojson({"type": "Polygon", "coordinates": [[[c.x, c.y], [c.x + 0.1, c.y], [c.x, c.y]]]})
    with pytest.raises(GeoDataError, match="超出云阳县范围"):
        checked_geometry(Point(c.x + 5, c.y), polygon=polygon, county_name="云阳县")
    with pytest.raises(GeoDataError, match="不支持的几何类型"):
        geometry_from_geojson({"type": "Circle", "coordinates": [c.x, c.y]})
    ok = checked_geometry(inner_line(polygon), polygon=polygon, county_name="云阳县")
    assert ok.equals(inner_line(polygon))
    assert [kind_for_category(c) for c in ("industrial_belt", "industrial_park", "demo_village")] == [
        "line",
        "area",
        "point",
    ]


def test_a_user_geometry_wins_and_carries_its_provenance(polygon) -> None:
    user = {
        BELT: UserGeometry(
            BELT, YY, inner_line(polygon), "drawn", "测试甲", "2026-01-02T03:04:05.000Z", "drawn", "沿河"
        ),
        PARK: UserGeometry(PARK, YY, inner_area(polygon), "exact", "测试乙", "2026-01-02T03:04:05.000Z", "imported"),
    }
    _plan, features = load_features(YY, user=user)
    belt = features[features["id"] == BELT].iloc[0]
    park = features[features["id"] == PARK].iloc[0]
    assert belt["precision"] == "drawn" and belt.geometry.equals(inner_line(polygon))
    assert park["precision"] == "exact" and park.geometry.geom_type == "Polygon"
    assert (belt["located_by"], belt["located_how"], belt["located_note"]) == ("测试甲", "drawn", "沿河")
    assert "用户标绘" in belt["reason"] and "测试甲" in belt["reason"] and "北京时间" in belt["reason"]
    others = features[~features["id"].isin([BELT, PARK])]
    assert others[list(PROVENANCE_COLUMNS)].isna().all().all()


def test_a_user_geometry_outside_the_county_is_not_drawn(polygon) -> None:
    far = shapely.affinity.translate(inner_line(polygon), xoff=4.0)
    _plan, features = load_features(YY, user={BELT: UserGeometry(BELT, YY, far, "drawn", "测试甲")})
    belt = features[features["id"] == BELT].iloc[0]
    assert belt.geometry is None and belt["precision"] == "unlocated" and "以外" in belt["reason"]


def test_a_place_geometry_locates_the_items_at_that_place(polygon) -> None:
    """A migrated name-keyed override: 凤鸣镇 (no seat in any source) placed -> its town and park are located."""
    seat = polygon.representative_point()
    user = {place_item_id(YY, "凤鸣镇"): UserGeometry(place_item_id(YY, "凤鸣镇"), YY, seat, "exact", "测试迁移")}
    _plan, features = load_features(YY, user=user)
    town = features[features["id"] == "yy-dt-007"].iloc[0]
    assert town["precision"] == "exact" and town.geometry.equals(seat) and town["located_by"] == "测试迁移"
    assert features[features["id"] == PARK].iloc[0].geometry is not None


def test_exports_keep_user_geometry_and_provenance(tmp_path: Path, polygon) -> None:
    store = open_store(str(tmp_path / "edits.gpkg"))
    store.save(BELT, inner_line(polygon), county=YY, precision="drawn", expected_version=0, who="测试甲", how="drawn")
    view = build_view(YY, store=store)
    out = export_features(view.features, "geojson", tmp_path / "yy.zip").path
    belt = geojson_items(out)[BELT]
    assert belt["geometry"]["type"] in ("LineString", "MultiLineString") and belt["properties"]["precision"] == "drawn"
    assert belt["properties"]["located_by"] == "测试甲" and belt["properties"]["located_how"] == "drawn"
    shp = export_features(view.features, "shp", tmp_path / "yy_shp.zip", crs="4490").path
    rows = []
    for name, _kind in pyogrio.list_layers(f"/vsizip/{shp}"):
        frame = pyogrio.read_dataframe(f"/vsizip/{shp}", layer=name, read_geometry=False)
        if "id" in frame.columns and "loc_by" in frame.columns:
            rows += list(frame.loc[frame["id"] == BELT, "loc_by"])
    assert rows == ["测试甲"]


def geojson_items(path: Path) -> dict[str, dict]:
    """id -> feature of every item in a GeoJSON delivery (a zip of one RFC 7946 file per layer)."""
    out: dict[str, dict] = {}
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.endswith(".geojson"):
                for feature in json.loads(archive.read(name))["features"]:
                    out[feature["id"]] = feature
    return out


def test_worklist_counts_change_by_the_items_placed(tmp_path: Path, polygon) -> None:
    store = open_store(str(tmp_path / "edits.gpkg"))
    before = worklist(build_view(YY, store=store).plan, build_view(YY, store=store).features)
    placed = {BELT: inner_line(polygon), PARK: inner_area(polygon)}
    for item, geom in placed.items():
        store.save(item, geom, county=YY, precision="drawn", expected_version=0, who="测试甲", how="drawn")
    view = build_view(YY, store=store)
    after = worklist(view.plan, view.features)
    assert (after.located, after.total) == (before.located + 2, before.total)
    listed = {w.id for _town, items in after.groups for w in items}
    assert not listed & set(placed)
    town, items = next((t, i) for t, i in before.groups if any(w.id == PARK for w in i))
    assert town == "凤鸣镇" and next(w for w in items if w.id == PARK).kind == "area"
    assert before.progress().startswith("已定位 ")


def test_planner_reasons_keep_file_names_for_gis_staff() -> None:
    plain, detail = planner_reason(
        "乡镇“凤鸣镇”在地名表中没有坐标（GeoNames 未匹配或有歧义，见 data/gazetteer/report.csv）"
    )
    assert "data/" not in plain and "凤鸣镇" in plain and "report.csv" in detail


def test_pending_drawing_is_only_the_edited_items_own() -> None:
    line = {"type": "LineString", "coordinates": [[1, 2], [3, 4]]}

    def value(props: dict) -> dict:
        return {"all_drawings": [{"type": "Feature", "properties": props, "geometry": line}]}

    mine = value({"item_id": BELT, "version": 3, "edited": True, "action": "edited"})
    assert pending_drawing(mine, BELT, 3).geometry == line and pending_drawing(mine, BELT, 3).action == "edited"
    assert pending_drawing(mine, BELT, 4) is None  # loaded at another version: stale
    assert pending_drawing(mine, PARK, 3) is None  # another item's drawing
    assert pending_drawing(value({"item_id": BELT, "version": 3, "edited": False}), BELT, 3) is None
    assert pending_drawing({"all_drawings": None}, BELT, 3) is None and pending_drawing(None, BELT, 3) is None


def test_edit_mode_map_loads_geoman_locally_and_sets_the_item() -> None:
    from layers.assets import live_assets

    _plan, features = load_features(YY)
    static = static_part(YY, municipal=False, features=features, boundaries=load_boundaries("display"))
    target = EditTarget(PARK, 2, "area", None)
    mv = map_view(static, features, editing=target)
    assert mv.editing and mv.key.endswith("_edit") and "all_drawings" in mv.kwargs()["returned_objects"]
    fmap = live_assets(mv.fmap, mv.groups)
    html = fmap.get_root().render()
    assert "static/vendor/@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.min.js" in html
    assert "unpkg.com" not in html and "var drawnItems = L.featureGroup()" in html and 'setLang("zh")' in html
    script = _render_group(target)
    assert '"item_id":"yy-ip-002"' in script and '"drawPolygon":true' in script and '"drawPolyline":false' in script
    assert toolbar("line")["drawPolyline"] and not toolbar("line")["removalMode"]
    # snapping: only the town seats are snap targets (Geoman's opt-in mode ignores every other layer)
    from layers.labels import TownLabelLayer

    assert "L.PM.setOptIn(true)" in html and "snapIgnore: false" in TownLabelLayer.builder
    with pytest.raises(ValueError):
        toolbar("circle")
    assert isinstance(next(iter(c for c in mv.fmap._children.values() if isinstance(c, DrawSupport))), DrawSupport)
    plain = map_view(static, features)
    assert not plain.editing and "all_drawings" not in plain.kwargs()["returned_objects"]


def _render_group(target: EditTarget) -> str:
    import folium

    fmap = folium.Map(tiles=None)
    group = edit_group(target)
    group.add_to(fmap)
    return fmap.get_root().render()
