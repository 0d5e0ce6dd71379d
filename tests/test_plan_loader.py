"""Tier 1: plan data files are validated on load; each bad-data case names file, entity and problem."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from shipped import SHIPPED_PLANS

import config
from plan.loader import available_plans, load_plan, load_plan_file, plan_path, validate_file
from plan.model import PlanDataError

FIXTURES = Path(__file__).parent / "fixtures" / "plans"


def _variant(tmp_path: Path, edit) -> Path:
    """Copy the good fixture with one edit applied to its parsed YAML."""
    doc = yaml.safe_load((FIXTURES / "good.yaml").read_text(encoding="utf-8"))
    edit(doc)
    (tmp_path / "seed_small.txt").write_text((FIXTURES / "seed_small.txt").read_text(encoding="utf-8"), "utf-8")
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def _problems(path: Path) -> list[str]:
    return validate_file(path, seeds_dir=path.parent)[1]


def test_good_fixture_loads_with_places_and_sources() -> None:
    plan = load_plan_file(FIXTURES / "good.yaml", seeds_dir=FIXTURES)
    assert [e.id for e in plan.entities] == ["t-dv-001", "t-belt-001", "t-rs-001"]
    village = plan.entity("t-dv-001")
    assert village.source.seed == "seed_small.txt" and village.source.lines == (3, 3)
    assert [p.key for p in plan.villages()] == ["双河镇/黎明村", "双河镇/新华村"]
    assert plan.entity("t-rs-001").scope == "county"
    assert plan.entity("t-belt-001").attributes[0].value == 1.2


def test_rejects_unknown_category(tmp_path: Path) -> None:
    path = _variant(tmp_path, lambda d: d["entities"][1].update(category="factory"))
    assert any("bad.yaml: entity t-belt-001: unknown category 'factory'" in p for p in _problems(path))


def test_rejects_missing_source(tmp_path: Path) -> None:
    path = _variant(tmp_path, lambda d: d["entities"][0].pop("source"))
    assert any("entity t-dv-001: missing source" in p for p in _problems(path))


def test_rejects_quote_not_in_seed(tmp_path: Path) -> None:
    def edit(doc: dict) -> None:
        doc["entities"][0]["source"]["quote"] = "双河镇黎明社区"

    problems = _problems(_variant(tmp_path, edit))
    assert any(
        "entity t-dv-001: quote '双河镇黎明社区' is not verbatim in seed_small.txt lines 3-3" in p for p in problems
    )


def test_rejects_quote_outside_its_lines(tmp_path: Path) -> None:
    def edit(doc: dict) -> None:
        doc["entities"][0]["source"]["lines"] = [5, 6]

    assert any("is not verbatim" in p for p in _problems(_variant(tmp_path, edit)))


def test_rejects_long_quote(tmp_path: Path) -> None:
    def edit(doc: dict) -> None:
        doc["entities"][0]["source"]["quote"] = "双" * 61

    assert any("quote is 61 characters" in p for p in _problems(_variant(tmp_path, edit)))


def test_rejects_duplicate_id(tmp_path: Path) -> None:
    path = _variant(tmp_path, lambda d: d["entities"][2].update(id="t-dv-001"))
    assert any("entity t-dv-001: duplicate id (2 times)" in p for p in _problems(path))


def test_rejects_village_without_town_where_text_gives_one(tmp_path: Path) -> None:
    def edit(doc: dict) -> None:
        doc["places"][2].pop("town")
        doc["places"][2]["town_note"] = "未写明"

    problems = _problems(_variant(tmp_path, edit))
    assert any("place 黎明村: village has no town, but the text writes 双河镇黎明村" in p for p in problems)


def test_rejects_village_town_that_is_not_registered(tmp_path: Path) -> None:
    path = _variant(tmp_path, lambda d: d["places"][3].update(town="石门镇"))
    assert any("place 新华村: town '石门镇' is not a registered town" in p for p in _problems(path))


def test_rejects_demo_village_without_registered_village(tmp_path: Path) -> None:
    path = _variant(tmp_path, lambda d: d["entities"][0].update(places=["双河镇"]))
    assert any("demo_village must name a registered village" in p for p in _problems(path))


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("plan: {county: 500235\nentities: [\n", encoding="utf-8")
    problems = _problems(path)
    assert len(problems) == 1 and problems[0].startswith("broken.yaml: line") and "not valid YAML" in problems[0]


def test_load_plan_file_raises_with_every_problem(tmp_path: Path) -> None:
    def edit(doc: dict) -> None:
        doc["entities"][0]["category"] = "nope"
        doc["entities"][1]["id"] = "Bad ID"

    with pytest.raises(PlanDataError) as info:
        load_plan_file(_variant(tmp_path, edit), seeds_dir=tmp_path)
    assert "2 problem(s) in bad.yaml" in str(info.value)


def test_every_shipped_plan_validates_and_every_quote_is_verbatim() -> None:
    codes = available_plans()
    assert set(codes) == set(SHIPPED_PLANS), f"plan files present: {codes}"
    for code in codes:
        plan, problems = validate_file(plan_path(code))
        assert problems == [], "\n".join(problems[:10])
        assert plan is not None and plan.seed == SHIPPED_PLANS[code]
        lines = plan.lines
        for entity in plan.entities:  # independent re-check of the loader's own quote check
            first, last = entity.source.lines
            assert any(entity.source.quote in lines[i - 1] for i in range(first, last + 1)), entity.id


def test_shipped_seeds_are_unmodified_copies() -> None:
    shared = config.ROOT.parent / "shared" / "seeds"
    if not shared.is_dir():
        pytest.skip("no ../shared/seeds beside this checkout to compare with")
    for seed in SHIPPED_PLANS.values():
        assert (config.SEEDS_DIR / seed).read_bytes() == (shared / seed).read_bytes(), seed


def test_unknown_county_gives_chinese_message() -> None:
    with pytest.raises(PlanDataError, match="没有 500999 的规划数据文件"):
        load_plan("500999")


def test_plan_name_reads_the_header_block_like_the_full_loader() -> None:
    from plan.loader import plan_name

    assert {c: plan_name(c) for c in available_plans()} == {c: load_plan(c).county_name for c in available_plans()}


def test_plan_name_of_a_file_without_a_readable_header_raises_the_loaders_error(tmp_path: Path) -> None:
    from plan.loader import plan_name

    (tmp_path / "500235.yaml").write_text("plan: [unclosed\nentities: []\n", encoding="utf-8")
    with pytest.raises(PlanDataError):
        plan_name("500235", plans_dir=tmp_path)
