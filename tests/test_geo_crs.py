"""geo.crs: GCJ-02 <-> WGS84, CGCS2000/GK/Web Mercator helpers."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon

import config
from geo.boundaries import load_boundaries
from geo.crs import (
    GCJ02,
    gcj02_to_wgs84,
    gcj02_to_wgs84_geometry,
    gk_crs,
    normalise_crs,
    suggest_gk_zone,
    to_crs,
    transform_xy,
    wgs84_to_gcj02,
    wgs84_to_gcj02_geometry,
)
from geo.errors import GeoDataError

# Published vectors from googollee/eviltransform (MIT), python/test.py and go/transform_test.go:
# (wgsLat, wgsLng, gcjLat, gcjLng). Their own test asserts 6 decimal places.
EVILTRANSFORM_VECTORS = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # beijing
]


def metres(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    geod = pyproj.Geod(ellps="WGS84")
    return np.asarray(geod.inv(lon1, lat1, lon2, lat2)[2])


def chongqing_grid(n: int = 60) -> tuple[np.ndarray, np.ndarray]:
    west, south, east, north = (float(v) for v in load_boundaries("display").total_bounds)
    west, south, east, north = west - 0.1, south - 0.1, east + 0.1, north + 0.1
    lon, lat = np.meshgrid(np.linspace(west, east, n), np.linspace(south, north, n))
    return lon.ravel(), lat.ravel()


@pytest.mark.parametrize(("wlat", "wlon", "glat", "glon"), EVILTRANSFORM_VECTORS)
def test_forward_matches_eviltransform_published_vectors(wlat: float, wlon: float, glat: float, glon: float) -> None:
    lon, lat = wgs84_to_gcj02(wlon, wlat)
    assert lon == pytest.approx(glon, abs=5e-7)
    assert lat == pytest.approx(glat, abs=5e-7)


@pytest.mark.parametrize(("wlat", "wlon", "glat", "glon"), EVILTRANSFORM_VECTORS)
def test_inverse_recovers_eviltransform_published_vectors_within_half_metre(
    wlat: float, wlon: float, glat: float, glon: float
) -> None:
    lon, lat = gcj02_to_wgs84(glon, glat)
    assert metres(np.array([lon]), np.array([lat]), np.array([wlon]), np.array([wlat]))[0] < 0.5


def test_forward_agrees_with_prcoords_over_chongqing() -> None:
    # Second, independent implementation from PyPI (prcoords==1.0.2, dev dependency).
    import prcoords  # a dev requirement: the comparison must run, never be skipped

    lon, lat = chongqing_grid(25)
    ours_lon, ours_lat = wgs84_to_gcj02(lon, lat)
    theirs = np.array([prcoords.wgs_gcj((b, a)) for a, b in zip(lon, lat)])  # prcoords is (lat, lon)
    assert np.abs(theirs[:, 1] - ours_lon).max() < 1e-9
    assert np.abs(theirs[:, 0] - ours_lat).max() < 1e-9


def test_round_trip_within_half_metre_over_chongqing() -> None:
    lon, lat = chongqing_grid(80)
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert metres(lon, lat, back_lon, back_lat).max() < 0.5
    # and the other way round
    g_lon, g_lat = wgs84_to_gcj02(*gcj02_to_wgs84(lon, lat))
    assert metres(lon, lat, g_lon, g_lat).max() < 0.5


def test_shift_is_a_few_hundred_metres_in_chongqing() -> None:
    lon, lat = chongqing_grid(20)
    shift = metres(lon, lat, *wgs84_to_gcj02(lon, lat))
    assert shift.min() > 50 and shift.max() < 1500


def test_no_shift_outside_china() -> None:
    lon = np.array([2.35, -74.0, 151.2])
    lat = np.array([48.85, 40.7, -33.9])
    for fn in (wgs84_to_gcj02, gcj02_to_wgs84):
        out_lon, out_lat = fn(lon, lat)
        assert np.array_equal(out_lon, lon) and np.array_equal(out_lat, lat)


def test_scalar_in_scalar_out() -> None:
    lon, lat = chongqing_grid(2)
    out = gcj02_to_wgs84(float(lon[0]), float(lat[0]))
    assert isinstance(out[0], float) and isinstance(out[1], float)


def test_shared_vertices_convert_identically_in_any_context() -> None:
    lon, lat = chongqing_grid(3)
    a, b, c, d = zip(lon[:4], lat[:4])
    left = Polygon([a, b, c, a])
    right = Polygon([b, d, c, b])
    lone = gcj02_to_wgs84_geometry(LineString([b, c]))
    both = gcj02_to_wgs84_geometry(np.array([left, right], dtype=object))
    coords_left = {tuple(p) for p in shapely.get_coordinates(both[0])}
    coords_right = {tuple(p) for p in shapely.get_coordinates(both[1])}
    shared = coords_left & coords_right
    assert len(shared) == 2
    assert shared == {tuple(p) for p in shapely.get_coordinates(lone)}


def test_geometry_round_trip() -> None:
    lon, lat = chongqing_grid(3)
    line = LineString(list(zip(lon, lat)))
    back = gcj02_to_wgs84_geometry(wgs84_to_gcj02_geometry(line))
    assert back.hausdorff_distance(line) < 1e-8


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("wgs84", config.WGS84),
        ("EPSG:4326", config.WGS84),
        ("4490", config.CGCS2000),
        ("GCJ-02", GCJ02),
        ("epsg:4545", "EPSG:4545"),
        ("4523", "EPSG:4523"),
        ("EPSG:3857", config.WEB_MERCATOR),
    ],
)
def test_normalise_crs_accepts_common_spellings(text: str, expected: str) -> None:
    assert normalise_crs(text) == expected


def test_unknown_crs_is_rejected_with_a_chinese_message() -> None:
    with pytest.raises(GeoDataError, match="不支持的坐标系"):
        normalise_crs("EPSG:2385")


def test_cgcs2000_uses_lon_lat_order_despite_epsg_axis_order() -> None:
    lon, lat = chongqing_grid(2)
    x, y = transform_xy(lon, lat, "EPSG:4490", target="EPSG:4326")
    assert np.allclose(x, lon) and np.allclose(y, lat)


@pytest.mark.parametrize("zone", sorted(config.GK_ZONES))
def test_suggest_gk_zone_from_central_meridian(zone: int) -> None:
    cm = float(config.GK_ZONES[zone]["cm"])
    assert suggest_gk_zone(cm) == zone
    assert suggest_gk_zone(cm + 1.49) == zone
    assert suggest_gk_zone(Point(cm - 1.49, 30.0)) == zone


def test_suggest_gk_zone_outside_chongqing_zones_raises() -> None:
    with pytest.raises(GeoDataError):
        suggest_gk_zone(float(config.GK_ZONES[max(config.GK_ZONES)]["cm"]) + 3)


@pytest.mark.parametrize("with_prefix", [False, True])
def test_gk_round_trip_and_false_easting(with_prefix: bool) -> None:
    lon, lat = chongqing_grid(10)
    zone = 36
    code = gk_crs(zone, with_prefix)
    x, y = transform_xy(lon, lat, config.WGS84, target=code)
    at_cm = transform_xy([float(config.GK_ZONES[zone]["cm"])], [30.0], config.WGS84, target=code)[0][0]
    assert at_cm == pytest.approx(zone * 1_000_000 + 500_000 if with_prefix else 500_000, abs=1e-3)
    back_lon, back_lat = transform_xy(x, y, code, target=config.WGS84)
    assert metres(lon, lat, back_lon, back_lat).max() < 0.01


def test_gcj02_to_gk_goes_through_wgs84() -> None:
    lon, lat = chongqing_grid(5)
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    x1, y1 = transform_xy(g_lon, g_lat, GCJ02, target="EPSG:4545")
    x2, y2 = transform_xy(lon, lat, config.WGS84, target="EPSG:4545")
    assert np.abs(x1 - x2).max() < 0.5 and np.abs(y1 - y2).max() < 0.5


def test_gk_crs_rejects_unknown_zone() -> None:
    with pytest.raises(GeoDataError, match="带号"):
        gk_crs(40)


def _frame() -> gpd.GeoDataFrame:
    lon, lat = chongqing_grid(2)
    return gpd.GeoDataFrame(
        {"id": ["a", "b"]}, geometry=[Point(lon[0], lat[0]), Point(lon[3], lat[3])], crs=config.WGS84
    )


def test_to_crs_never_mutates_its_input() -> None:
    gdf = _frame()
    before = gdf.copy()
    out = to_crs(gdf, "EPSG:4545")
    assert out.crs.to_epsg() == 4545
    assert gdf.crs.to_epsg() == 4326
    assert gdf.geom_equals(before).all()


def test_to_crs_gcj02_marks_the_datum_and_round_trips() -> None:
    gdf = _frame()
    amap = to_crs(gdf, "gcj02")
    assert amap.attrs["datum"] == "GCJ-02"
    assert not amap.geom_equals_exact(gdf, tolerance=1e-4).any()
    back = to_crs(amap, "wgs84")
    assert "datum" not in back.attrs
    assert back.geom_equals_exact(gdf, tolerance=1e-9).all()
    assert "datum" not in gdf.attrs


def test_to_crs_without_crs_raises() -> None:
    gdf = _frame().set_crs(None, allow_override=True)
    with pytest.raises(GeoDataError, match="没有坐标系"):
        to_crs(gdf, "EPSG:3857")
