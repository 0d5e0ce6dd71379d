"""Honesty of data: no coordinate is typed into product code or plan data.

Coordinates come only from the build scripts (data/boundaries, data/gazetteer — their reproducibility is tested
in test_geo_boundaries / test_geo_gazetteer) or from the user's overrides file.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

import config

# A decimal longitude 105–111.x next to a latitude 28–32.x (either order), as a literal pair.
_LON = r"1(?:0[5-9]|1[01])\.\d+"
_LAT = r"(?:2[89]|3[0-2])\.\d+"
COORD_PAIR = re.compile(rf"{_LON}\s*[,，]\s*{_LAT}|{_LAT}\s*[,，]\s*{_LON}")
PRODUCT_DIRS = ("geo", "store", "layers", "plan", "gisio", "present", "ui", "bench", "scripts")
PRODUCT_FILES = ("app.py", "cli.py", "config.py")


def _product_sources() -> list[Path]:
    files = [config.ROOT / name for name in PRODUCT_FILES]
    for folder in PRODUCT_DIRS:
        files += sorted((config.ROOT / folder).rglob("*.py"))
    return [f for f in files if f.is_file()]


def test_no_coordinate_literals_in_product_code() -> None:
    offenders = []
    for path in _product_sources():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if COORD_PAIR.search(line):
                offenders.append(f"{path.relative_to(config.ROOT)}:{number}: {line.strip()}")
    assert offenders == [], "coordinates typed into code:\n" + "\n".join(offenders)


def test_the_guard_would_catch_a_typed_coordinate() -> None:
    assert COORD_PAIR.search("folium.Map(location=[30.94, 108.69])")
    assert COORD_PAIR.search("Point(108.69, 30.94)")
    assert not COORD_PAIR.search("version 1.65.2, 29 rows")


def test_plan_files_carry_no_coordinates() -> None:
    def keys(node: object) -> set[str]:
        if isinstance(node, dict):
            return set(map(str, node)) | {k for v in node.values() for k in keys(v)}
        if isinstance(node, list):
            return {k for v in node for k in keys(v)}
        return set()

    for path in sorted(config.PLANS_DIR.glob("*.yaml")):
        found = keys(yaml.safe_load(path.read_text(encoding="utf-8"))) & {
            "lon",
            "lat",
            "coordinates",
            "geometry",
            "x",
            "y",
        }
        assert not found, f"{path.name} has coordinate keys {found}"
