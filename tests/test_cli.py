"""Tier 1: the command line prints what the app uses (stats, validate, places)."""

from __future__ import annotations

from pathlib import Path

import pytest
from shipped import SHIPPED_PLANS

import cli
import config

FIXTURES = Path(__file__).parent / "fixtures" / "plans"


def test_stats_lists_every_plan_with_counts(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["stats"]) == 0
    out = capsys.readouterr().out
    for code in SHIPPED_PLANS:
        row = next(line for line in out.splitlines() if line.startswith(code))
        entities = int(row.split()[-3])
        assert entities >= 20, row
    assert "demo_village" in out.splitlines()[0]


def test_validate_exits_non_zero_and_names_the_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((FIXTURES / "good.yaml").read_text(encoding="utf-8").replace("industrial_belt", "belt"), "utf-8")
    (tmp_path / "seed_small.txt").write_bytes((FIXTURES / "seed_small.txt").read_bytes())
    monkeypatch.setattr(config, "SEEDS_DIR", tmp_path)
    assert cli.main(["validate", str(bad)]) == 1
    assert "bad.yaml: entity t-belt-001: unknown category 'belt'" in capsys.readouterr().out


def test_places_unresolved_lists_only_unlocated_with_reasons(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["places", "--county", "500235", "--unresolved"]) == 0
    out = capsys.readouterr().out
    body = [line for line in out.splitlines()[2:] if line.strip() and not line.startswith("云阳县")]
    assert body, "云阳 has towns GeoNames does not list; they must be reported"
    assert all("unlocated" in line and "located " not in line.replace("unlocated", "") for line in body)
    assert "找不到坐标" in out


def test_places_lists_village_at_its_town_seat(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["places", "--county", "500235"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("石缸村"))
    assert "泥溪镇" in row and " town " in row and "GeoNames" in row
