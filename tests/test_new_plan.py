"""A plan is data: a plan file and its seed under a new adcode reach the app, the CLI and every export.

Test data, clearly marked: a copy of 城口县's plan under 丰都县's adcode (500230), titled as a test copy, in a
temporary data folder; nothing here is shipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from streamlit import cache_data, cache_resource
from streamlit.testing.v1 import AppTest

import cli
import config
from gisio.export import FORMATS
from plan.loader import plan_path

NEW = "500230"
NAME = "丰都县（测试副本）"
SOURCE = "500229"


@pytest.fixture()
def data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data folder with every shipped plan plus the copy; the app and the CLI are pointed at it."""
    plans, seeds = tmp_path / "plans", tmp_path / "seeds"
    shutil.copytree(config.PLANS_DIR, plans)
    shutil.copytree(config.SEEDS_DIR, seeds)
    doc = yaml.safe_load(plan_path(SOURCE).read_text(encoding="utf-8"))
    seed = "test_copy_of_chengkou.txt"
    shutil.copy(config.SEEDS_DIR / doc["plan"]["seed"], seeds / seed)
    doc["plan"].update(county=NEW, county_name=NAME, seed=seed, title="测试副本：" + doc["plan"]["title"])
    for entity in doc["entities"]:  # ids are unique across plans (a combined export holds them all)
        entity["id"] = "fd" + entity["id"][2:]
    (plans / f"{NEW}.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    monkeypatch.setattr(config, "PLANS_DIR", plans)
    monkeypatch.setattr(config, "SEEDS_DIR", seeds)
    cache_data.clear()
    cache_resource.clear()
    yield tmp_path
    cache_data.clear()
    cache_resource.clear()


def test_the_cli_lists_validates_and_exports_the_new_plan(data_folder: Path, tmp_path: Path, capsys) -> None:
    assert cli.main(["stats"]) == 0
    assert any(line.startswith(NEW) for line in capsys.readouterr().out.splitlines())
    assert cli.main(["validate"]) == 0
    assert f"{NEW}.yaml: ok" in capsys.readouterr().out
    for fmt in cli.EXPORT_FORMATS:
        out = tmp_path / "out" / fmt / f"new.{fmt}"
        assert cli.main(["export", "--county", NEW, "--format", fmt, "--out", str(out)]) == 0, fmt
        written = out.with_suffix(".zip") if FORMATS[fmt].extension == ".zip" else out
        assert written.is_file() and written.stat().st_size > 0, fmt
    assert cli.main(["export", "--county", "all", "--format", "csv", "--out", str(tmp_path / "all.csv")]) == 0
    assert NEW in (tmp_path / "all.csv").read_text(encoding="utf-8-sig")


def test_validate_names_an_id_two_plans_share(data_folder: Path, capsys) -> None:
    path = data_folder / "plans" / f"{NEW}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("id: fd-dt-001", "id: ck-dt-001"), encoding="utf-8")
    assert cli.main(["validate"]) == 1
    assert "ck-dt-001" in capsys.readouterr().out


def test_the_cli_finds_the_plan_through_the_environment(data_folder: Path) -> None:
    env = {**os.environ, "RRMAP_PLANS_DIR": str(data_folder / "plans"), "RRMAP_SEEDS_DIR": str(data_folder / "seeds")}
    result = subprocess.run(
        [sys.executable, "cli.py", "places", "--county", NEW], cwd=config.ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert NAME in result.stdout


def test_the_app_offers_and_shows_the_new_plan(data_folder: Path) -> None:
    at = AppTest.from_file(str(config.ROOT / "app.py"), default_timeout=120)
    at.query_params["county"] = NEW
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    views = at.sidebar.button_group(key="county")
    assert NAME in views.options
    assert views.value == NEW
    assert "测试副本" in "\n".join(h.value for h in at.html)
