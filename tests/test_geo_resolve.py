"""geo.resolve: entity locations from small hand-made plans (and a smoke test on the real plan files)."""

from __future__ import annotations

from pathlib import Path

import pytest
import shapely
from shapely.geometry import LineString, MultiPoint, MultiPolygon, Point, Polygon, box

import config
from geo.boundaries import county_polygon, lies_within, load_boundaries
from geo.gazetteer import Gazetteer, TownSeat, load_gazetteer
from geo.overrides import OverrideRow
from geo.resolve import VILLAGE_NOTE, Location, place_table, resolve_plan
from plan.model import Entity, Place, Plan, Source
from plan.names import normalise

COUNTY = "500235"
SRC = Source(seed="seed.txt", section="专栏", lines=(1, 1), quote="q")


def place(
    name: str,
    kind: str,
    town: str | None = None,
    aliases: tuple[str, ...] = (),
    district: str | None = None,
    town_note: str | None = None,
) -> Place:
    return Place(
        name=name, kind=kind, norm=normalise(name), aliases=aliases, town=town, district=district, town_note=town_note
    )


def entity(eid: str, places: tuple[str, ...], category: str = "other", scope: str = "places") -> Entity:
    return Entity(
        id=eid, name=eid, category=category, designation=None, places=places, scope=scope, attributes=(), source=SRC
    )


def make_plan(places: list[Place], entities: list[Entity], county: str = COUNTY) -> Plan:
    return Plan(
        county=county,
        county_name="测试县",
        seed="seed.txt",
        title="t",
        issuer=None,
        period=None,
        source=SRC,
        places=tuple(places),
        entities=tuple(entities),
    )


def _points_in(adcode: str, n: int) -> list[Point]:
    """Distinct points inside a county, derived from its polygon (west-to-east strips), never typed in."""
    poly = county_polygon(adcode)
    minx, miny, maxx, maxy = poly.bounds
    step = (maxx - minx) / n
    pts = []
    for i in range(n):
        strip = poly.intersection(box(minx + i * step, miny, minx + (i + 1) * step, maxy))
        pts.append(strip.representative_point())
    return pts


@pytest.fixture(scope="module")
def boundaries():
    return load_boundaries("full")


@pytest.fixture(scope="module")
def seats() -> dict[str, Point]:
    a, b, c = _points_in(COUNTY, 3)
    return {"甲山镇": a, "乙水镇": b, "丙坪乡": c, "外溪镇": county_polygon("500229").representative_point()}


@pytest.fixture(scope="module")
def gazetteer(seats: dict[str, Point]) -> Gazetteer:
    return Gazetteer(
        TownSeat(COUNTY, name, normalise(name), pt.x, pt.y, "GeoNames test", name, "pinyin-exact")
        for name, pt in seats.items()
    )


PLACES = [
    place("甲山镇", "town", aliases=("甲山场",)),
    place("乙水镇", "town"),
    place("丙坪乡", "township"),
    place("丁家镇", "town"),  # not in the gazetteer
    place("外溪镇", "town"),  # gazetteer point lies in another county
    place("新村", "village", town="甲山镇"),
    place("新村", "village", town="乙水镇"),  # same-name village in another town
    place("孤村", "village", town_note="规划未写明所属乡镇"),
    place("东片区", "area"),
]


def resolve(entities: list[Entity], gazetteer: Gazetteer, boundaries, overrides=()) -> dict[str, Location]:
    plan = make_plan(PLACES, entities)
    return {
        loc.entity_id: loc
        for loc in resolve_plan(plan, gazetteer=gazetteer, overrides=list(overrides), boundaries=boundaries)
    }


def test_town_resolves_to_its_seat(gazetteer, boundaries, seats) -> None:
    loc = resolve([entity("e-1", ("甲山镇",))], gazetteer, boundaries)["e-1"]
    assert loc.precision == "town" and loc.geometry.equals(seats["甲山镇"])
    assert loc.anchors == ("甲山镇",)


def test_alias_and_bare_name_go_through_the_register(gazetteer, boundaries, seats) -> None:
    locs = resolve([entity("e-1", ("甲山场",)), entity("e-2", ("乙水",))], gazetteer, boundaries)
    assert locs["e-1"].geometry.equals(seats["甲山镇"])
    assert locs["e-2"].geometry.equals(seats["乙水镇"])


def test_village_resolves_to_its_town_seat_with_a_note(gazetteer, boundaries, seats) -> None:
    loc = resolve([entity("e-1", ("乙水镇", "新村"), "demo_village")], gazetteer, boundaries)["e-1"]
    assert loc.precision == "town" and loc.geometry.equals(seats["乙水镇"])  # same-name village narrowed by town
    assert any(VILLAGE_NOTE in n for n in loc.notes)


def test_same_name_village_without_context_is_ambiguous(gazetteer, boundaries) -> None:
    loc = resolve([entity("e-1", ("新村",))], gazetteer, boundaries)["e-1"]
    assert loc.precision == "unlocated" and loc.geometry is None and "多个同名地点" in loc.reason


def test_village_without_town_is_unlocated_with_the_plan_note(gazetteer, boundaries) -> None:
    loc = resolve([entity("e-1", ("孤村",))], gazetteer, boundaries)["e-1"]
    assert loc.precision == "unlocated" and "规划未写明所属乡镇" in loc.reason


def test_several_towns_give_a_multipoint(gazetteer, boundaries) -> None:
    loc = resolve([entity("e-1", ("甲山镇", "乙水镇", "丙坪乡"))], gazetteer, boundaries)["e-1"]
    assert loc.precision == "multi_town" and isinstance(loc.geometry, MultiPoint)
    assert len(loc.geometry.geoms) == 3


def test_belt_is_a_line_through_ordered_anchors(gazetteer, boundaries, seats) -> None:
    loc = resolve([entity("b-1", ("丙坪乡", "甲山镇", "乙水镇"), "industrial_belt")], gazetteer, boundaries)["b-1"]
    assert loc.precision == "schematic" and isinstance(loc.geometry, LineString)
    assert [Point(c) for c in loc.geometry.coords] == [seats["丙坪乡"], seats["甲山镇"], seats["乙水镇"]]


def test_belt_with_one_located_anchor_is_drawn_at_its_centre(gazetteer, boundaries) -> None:
    # The text gives only the belt's centre (e.g. 以泥溪三峡农耕园为中心): a point there, never a made-up line.
    loc = resolve([entity("b-1", ("甲山镇", "丁家镇", "长江"), "industrial_belt")], gazetteer, boundaries)["b-1"]
    assert loc.precision == "town" and loc.geometry is not None and loc.geometry.geom_type == "Point"
    assert "走向规划未写明" in loc.reason and any("丁家镇" in n for n in loc.notes + (loc.reason,))


def test_county_scope_and_placeless_entities_have_no_fake_point(gazetteer, boundaries) -> None:
    locs = resolve([entity("c-1", ("甲山镇",), scope="county"), entity("c-2", ())], gazetteer, boundaries)
    for loc in locs.values():
        assert loc.geometry is None and loc.precision == "county"


def test_unknown_and_missing_names_are_explained(gazetteer, boundaries) -> None:
    locs = resolve(
        [entity("u-1", ("丁家镇",)), entity("u-2", ("长江",)), entity("u-3", ("东片区",))], gazetteer, boundaries
    )
    assert "丁家镇" in locs["u-1"].reason and "找不到坐标" in locs["u-1"].reason
    assert "长江" in locs["u-2"].reason and "不是本规划登记的" in locs["u-2"].reason
    assert "东片区" in locs["u-3"].reason
    assert all(loc.precision == "unlocated" and loc.geometry is None for loc in locs.values())


def test_partly_located_entity_keeps_what_it_has_and_notes_the_rest(gazetteer, boundaries) -> None:
    loc = resolve([entity("p-1", ("甲山镇", "丁家镇"))], gazetteer, boundaries)["p-1"]
    assert loc.precision == "town" and any("丁家镇" in n for n in loc.notes)


def test_point_outside_the_county_is_demoted(gazetteer, boundaries) -> None:
    loc = resolve([entity("o-1", ("外溪镇",))], gazetteer, boundaries)["o-1"]
    assert loc.precision == "unlocated" and loc.geometry is None and "以外" in loc.reason


def _override(place_or_id: str, pt: Point) -> OverrideRow:
    return OverrideRow(line=2, county=COUNTY, place=place_or_id, lon=pt.x, lat=pt.y, crs=config.WGS84)


def test_overrides_win_per_place_and_per_entity(gazetteer, boundaries) -> None:
    p1, p2 = _points_in(COUNTY, 7)[2:4]
    overrides = [_override("丁家镇", p1), _override("x-2", p2), _override("孤村", p1)]
    locs = resolve(
        [entity("x-1", ("丁家镇",)), entity("x-2", ("甲山镇",)), entity("x-3", ("孤村",))],
        gazetteer,
        boundaries,
        overrides,
    )
    assert locs["x-1"].precision == "exact" and locs["x-1"].geometry.equals(p1)
    assert locs["x-2"].precision == "exact" and locs["x-2"].geometry.equals(p2)
    assert locs["x-3"].precision == "exact"


def test_municipal_district_entities_get_district_polygons(gazetteer, boundaries) -> None:
    places = [place("城口县", "district"), place("彭水县", "district"), place("两江新区", "district")]
    entities = [entity("m-1", ("城口县",)), entity("m-2", ("城口县", "彭水县")), entity("m-3", ("两江新区",))]
    plan = make_plan(places, entities, config.MUNICIPAL_ADCODE)
    locs = {loc.entity_id: loc for loc in resolve_plan(plan, gazetteer=gazetteer, overrides=[], boundaries=boundaries)}
    assert locs["m-1"].precision == "county" and locs["m-1"].geometry.equals(county_polygon("500229"))
    assert isinstance(locs["m-2"].geometry, (Polygon, MultiPolygon))
    expected = shapely.union_all([county_polygon("500229"), county_polygon("500243")])
    assert locs["m-2"].geometry.symmetric_difference(expected).area < 1e-12
    assert locs["m-3"].precision == "unlocated" and "不是重庆市的区县" in locs["m-3"].reason


def test_municipal_town_is_looked_up_in_its_district(boundaries) -> None:
    pt = county_polygon("500229").representative_point()
    gaz = Gazetteer([TownSeat("500229", "咸宜镇", "咸宜", pt.x, pt.y, "s", "Xianyi", "pinyin-exact")])
    plan = make_plan(
        [place("咸宜镇", "town", district="城口县")], [entity("m-1", ("咸宜镇",))], config.MUNICIPAL_ADCODE
    )
    (loc,) = resolve_plan(plan, gazetteer=gaz, overrides=[], boundaries=boundaries)
    assert loc.precision == "town" and loc.geometry.equals(pt)


def test_place_table_lists_every_place_and_filters_unresolved(gazetteer, boundaries, seats) -> None:
    plan = make_plan(PLACES, [])
    table = place_table(plan, gazetteer=gazetteer, overrides=[], boundaries=boundaries)
    assert [r["place"] for r in table] == [p.name for p in PLACES]
    first = table[0]
    assert set(first) == {
        "place",
        "kind",
        "town",
        "code",
        "official_name",
        "lon",
        "lat",
        "precision",
        "source",
        "status",
        "reason",
    }
    assert first["status"] == "located" and first["lon"] == round(seats["甲山镇"].x, 5)
    village = table[5]
    assert village["town"] == "甲山镇" and village["precision"] == "town" and VILLAGE_NOTE in village["reason"]
    unresolved = place_table(plan, gazetteer=gazetteer, overrides=[], boundaries=boundaries, unresolved_only=True)
    assert {r["place"] for r in unresolved} == {"丁家镇", "外溪镇", "孤村", "东片区"}
    assert all(r["status"] == "unlocated" and r["reason"] for r in unresolved)


@pytest.mark.parametrize("plan_file", sorted(config.PLANS_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_real_plans_resolve_inside_their_county(plan_file: Path, boundaries) -> None:
    from plan.loader import validate_file

    plan, _problems = validate_file(plan_file)
    if plan is None:
        pytest.skip(f"{plan_file.name} does not load yet")
    locs = resolve_plan(plan, boundaries=boundaries)
    assert [loc.entity_id for loc in locs] == [e.id for e in plan.entities]
    polygon = county_polygon(plan.county)
    for loc in locs:
        assert loc.precision in config.PRECISIONS
        if loc.geometry is not None:
            assert lies_within(loc.geometry, polygon), loc.entity_id
        else:
            assert loc.precision in ("county", "unlocated") and loc.reason


def test_county_scope_item_names_the_places_it_mentions() -> None:
    from geo.resolve import resolve_plan
    from plan.loader import load_plan

    plan = load_plan("500235")
    belt = next(loc for loc in resolve_plan(plan) if loc.entity_id == "yy-ib-002")  # 柑橘产业示范带 along 澎溪河
    assert belt.precision == "county" and belt.geometry is None
    assert "澎溪河" in belt.reason


# --- the shipped plans with the shipped data sources ----------------------------------------------------------


@pytest.fixture(scope="module")
def shipped() -> dict[str, dict[str, Location]]:
    from plan.loader import load_plans

    return {code: {loc.entity_id: loc for loc in resolve_plan(plan)} for code, plan in load_plans().items()}


def test_a_belt_along_a_named_river_follows_its_line_within_the_county(shipped) -> None:
    loc = shipped["500243"]["ps-ib-001"]  # 彭水乌江流域休闲农业与乡村旅游示范带
    assert loc.precision == "schematic" and loc.geometry is not None and "Line" in loc.geometry.geom_type
    assert lies_within(loc.geometry, county_polygon("500243"))
    assert "乌江" in loc.reason and "GSHHG" in (loc.source or "")


def test_rivers_and_roads_without_line_data_stay_listed_with_the_reason(shipped) -> None:
    citrus = shipped["500235"]["yy-ib-002"]  # 柑橘产业示范带 along 澎溪河 (not in the river data)
    road = shipped["500235"]["yy-ib-003"]  # 云利路…示范带
    assert citrus.geometry is None and road.geometry is None
    assert "澎溪河" in citrus.reason and "云利路" in road.reason


def test_a_complex_over_several_towns_is_a_schematic_outline_around_their_seats(shipped) -> None:
    loc = shipped["500235"]["yy-ip-001"]  # 人和―巴阳田园综合体
    assert loc.precision == "schematic" and loc.geometry is not None and loc.geometry.geom_type == "Polygon"
    assert "示意范围" in loc.reason and "不是规划边界" in loc.reason
    gaz = load_gazetteer()
    for town in ("人和街道", "巴阳镇"):
        seat = gaz.lookup("500235", town)
        assert seat is not None and loc.geometry.contains(Point(seat.lon, seat.lat))


def test_villages_whose_town_comes_from_the_code_list_say_so(shipped) -> None:
    from plan.loader import load_plan

    plan = load_plan("500243")
    demo = [e for e in plan.entities if e.category == "demo_village"]
    located = [shipped["500243"][e.id] for e in demo if shipped["500243"][e.id].geometry is not None]
    assert len(located) >= 8
    assert all(any("统计用区划代码" in n for n in loc.notes) for loc in located)


def test_every_located_item_says_where_its_geometry_comes_from(shipped) -> None:
    for code, locs in shipped.items():
        for loc in locs.values():
            if loc.geometry is not None:
                assert loc.source, f"{code} {loc.entity_id} has a geometry without a source"


def test_official_codes_are_attached_to_the_places(shipped) -> None:
    codes = {p: c for p, c, _n in shipped["500235"]["yy-dv-001"].codes}
    assert codes and all(len(c) in (9, 12) and c.startswith("500235") for c in codes.values())
