"""geo.overrides: user coordinates in any supported CRS, bad rows reported by line, atomic appends."""

from __future__ import annotations

from pathlib import Path

import pytest

import config
from geo.boundaries import county_polygon, load_boundaries
from geo.crs import transform_xy, wgs84_to_gcj02
from geo.overrides import HEADER, load_overrides

COUNTY = "500229"


@pytest.fixture(scope="module")
def boundaries():
    return load_boundaries("full")


@pytest.fixture(scope="module")
def inside() -> tuple[float, float]:
    # A point derived from the county polygon (never a typed-in location).
    pt = county_polygon(COUNTY).representative_point()
    return float(pt.x), float(pt.y)


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "overrides.csv"
    path.write_text(HEADER + "".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_shipped_file_has_only_the_header() -> None:
    assert config.OVERRIDES_PATH.read_text(encoding="utf-8") == HEADER
    assert load_overrides() == ([], [])


def test_missing_file_is_no_overrides(tmp_path: Path, boundaries) -> None:
    assert load_overrides(tmp_path / "none.csv", boundaries) == ([], [])


def test_wgs84_gcj02_and_gk_rows_all_convert_to_the_same_point(tmp_path: Path, boundaries, inside) -> None:
    lon, lat = inside
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    gx, gy = (float(v[0]) for v in transform_xy([lon], [lat], "wgs84", target="EPSG:4545"))
    px, py = (float(v[0]) for v in transform_xy([lon], [lat], "wgs84", target="EPSG:4524"))
    path = write(
        tmp_path,
        f"{COUNTY},咸宜镇,{lon!r},{lat!r},wgs84,",
        f"{COUNTY},高观镇,{g_lon!r},{g_lat!r},gcj02,从高德地图取点",
        f"城口县,明通镇,{gx!r},{gy!r},EPSG:4545,",
        f"{COUNTY},ck-dt-001,{px!r},{py!r},4524,",
        f"{COUNTY},庙坝镇,{lon!r},{lat!r},,",
    )
    rows, problems = load_overrides(path, boundaries)
    assert problems == []
    assert [r.line for r in rows] == [2, 3, 4, 5, 6]
    for row in rows:
        assert row.county == COUNTY
        assert row.lon == pytest.approx(lon, abs=1e-7) and row.lat == pytest.approx(lat, abs=1e-7)
    assert rows[0].key == "咸宜" and rows[3].key == "ck-dt-001"
    assert rows[4].crs == config.WGS84  # empty crs means WGS84
    assert "第 3 行" in rows[1].source and "高德" in rows[1].source


def test_bad_rows_are_reported_by_line_and_the_rest_still_load(tmp_path: Path, boundaries, inside) -> None:
    lon, lat = inside
    far = county_polygon("500243").representative_point()
    path = write(
        tmp_path,
        f"{COUNTY},好行,{lon},{lat},wgs84,",  # 2 ok
        f"{COUNTY},填反,{lat},{lon},wgs84,",  # 3 swapped
        f"{COUNTY},坐标系,{lon},{lat},EPSG:2385,",  # 4 unknown crs
        f"{COUNTY},非数字,东经108度,{lat},wgs84,",  # 5 not a number
        f"{COUNTY},县外,{far.x},{far.y},wgs84,",  # 6 outside the county
        f"510100,外省,{lon},{lat},wgs84,",  # 7 unknown county
        f"{COUNTY},,{lon},{lat},wgs84,",  # 8 no place
    )
    rows, problems = load_overrides(path, boundaries)
    assert [r.place for r in rows] == ["好行"]
    assert len(problems) == 6
    expected = [
        "第 3 行：经纬度可能填反了",
        "第 4 行：不支持的坐标系",
        "第 5 行：经度/X“东经108度”不是数字",
        "第 6 行：坐标不在城口县范围内",
        "第 7 行：区县“510100”",
        "第 8 行：缺少地点名称",
    ]
    for message, text in zip(problems, expected):
        assert text in message, message


def test_swapped_projected_coordinates_are_detected(tmp_path: Path, boundaries, inside) -> None:
    x, y = (float(v[0]) for v in transform_xy([inside[0]], [inside[1]], "wgs84", target="EPSG:4545"))
    path = write(tmp_path, f"{COUNTY},反了,{y},{x},EPSG:4545,")
    rows, problems = load_overrides(path, boundaries)
    assert rows == [] and "填反了" in problems[0]


def test_wrong_gk_zone_gets_a_hint(tmp_path: Path, boundaries, inside) -> None:
    x, y = (float(v[0]) for v in transform_xy([inside[0]], [inside[1]], "wgs84", target="EPSG:4545"))
    path = write(tmp_path, f"{COUNTY},错带,{x},{y},EPSG:4544,")
    rows, problems = load_overrides(path, boundaries)
    assert rows == [] and "投影带号" in problems[0]


def test_bad_header_is_one_clear_problem(tmp_path: Path, boundaries) -> None:
    path = tmp_path / "overrides.csv"
    path.write_text("区县,地点,x,y\n", encoding="utf-8")
    rows, problems = load_overrides(path, boundaries)
    assert rows == [] and "表头缺少" in problems[0]


def test_later_duplicate_wins_and_is_reported(tmp_path: Path, boundaries, inside) -> None:
    lon, lat = inside
    path = write(tmp_path, f"{COUNTY},咸宜镇,{lon},{lat},wgs84,a", f"{COUNTY},咸宜,{lon},{lat},wgs84,b")
    rows, problems = load_overrides(path, boundaries)
    assert [r.note for r in rows] == ["b"] and "重复" in problems[0]
