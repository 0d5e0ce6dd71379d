"""geo.rivers: GSHHG river lines of Chongqing and the rule that names them from the plans' own rivers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from shapely.geometry import LineString

import config
from geo.boundaries import county_polygon
from geo.rivers import GSHHG_RIVERS, load_rivers, name_lines, named_river


def _line_through(county: str, fraction: float = 0.5) -> LineString:
    """A west-east line across the county's bounding box (derived from the polygon, not typed in)."""
    minx, miny, maxx, maxy = county_polygon(county).bounds
    y = miny + (maxy - miny) * fraction
    return LineString([(minx - 0.1, y), (maxx + 0.1, y)])


COUNTIES = {c: county_polygon(c) for c in ("500235", "500102", "500229")}


def test_a_name_registered_by_two_counties_takes_the_line_through_both() -> None:
    a, b = (county_polygon(c).representative_point() for c in ("500102", "500235"))
    lines = {0: (1, LineString([a, b])), 1: (3, _line_through("500235", 0.2))}
    decisions = {d.name: d for d in name_lines(lines, COUNTIES, {"长江": {"500235", "500102"}})}
    assert decisions["长江"].line == 0


def test_the_most_important_class_wins_and_a_taken_line_is_not_named_twice() -> None:
    lines = {0: (1, _line_through("500235", 0.5)), 1: (3, _line_through("500235", 0.3))}
    decisions = {d.name: d for d in name_lines(lines, COUNTIES, {"长江": {"500235"}, "澎溪河": {"500235"}})}
    # both names want the class-1 line in the same county: a tie, neither is named
    assert decisions["长江"].line is None and decisions["澎溪河"].line is None
    assert "无法区分" in decisions["长江"].why


def test_no_line_long_enough_in_the_county_leaves_the_name_unnamed() -> None:
    lines = {0: (1, _line_through("500235"))}
    (decision,) = name_lines(lines, COUNTIES, {"任河": {"500229"}})
    assert decision.line is None and "小河未收录" in decision.why


def test_the_shipped_rivers_name_the_changjiang_and_the_wujiang_only() -> None:
    rivers = load_rivers()
    assert {r.name for r in rivers if r.name} == {"长江", "乌江"}
    changjiang = named_river("长江", rivers)
    assert changjiang is not None and changjiang.level == 1
    assert changjiang.geometry.intersects(county_polygon("500235")) and changjiang.geometry.intersects(
        county_polygon("500102")
    )
    wujiang = named_river("乌江", rivers)
    assert wujiang is not None and wujiang.geometry.intersects(county_polygon("500243"))
    assert named_river("澎溪河", rivers) is None and named_river("任河", rivers) is None


def test_the_committed_rivers_are_rebuilt_from_the_debian_package(tmp_path: Path) -> None:
    if not GSHHG_RIVERS.is_file():
        pytest.fail(f"{GSHHG_RIVERS} is missing: `make test` installs Debian's gmt-gshhg-high")
    out = tmp_path / "rivers.geojson"
    script = config.ROOT / "scripts" / "build_rivers.py"
    subprocess.run([sys.executable, str(script), "--out", str(out)], check=True, capture_output=True)
    assert out.read_bytes() == config.RIVERS_PATH.read_bytes(), "data/rivers is stale: run `make data`"
