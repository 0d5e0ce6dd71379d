"""The interop tier's shared parts: the real clients, and every export of every shipped plan, made once.

The clients are Debian's (``make test`` installs them when missing): GDAL 3.6's ``ogrinfo``/``ogr2ogr`` and its
GeoPackage validator, QGIS 3.22 (PyQGIS, driven through ``tests/qgis_inspect.py``), ``xmllint``; the OGC KML 2.2
schema comes from the PyPI package ``pykml`` (requirements-dev.txt).  A missing client fails the test with the
command that installs it — never a skip.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest

import config
from geo.boundaries import load_boundaries
from geo.features import load_features
from gisio.export import ExportResult, export_features
from gisio.qgis_project import system_env
from plan.indicators import IndicatorParseError, indicators_frame, load_indicators
from plan.loader import available_plans
from plan.model import Plan
from tests.fixtures.gisio.samples import sample_features, sample_plan

HERE = Path(__file__).resolve().parent
INSPECTOR = HERE / "qgis_inspect.py"
APT = "sudo apt-get install --no-install-recommends gdal-bin python3-gdal python3-qgis qgis-providers libxml2-utils"
FIXTURE = "fixture"  # the gisio test plan: lines, polygons, multipoints and hostile text the shipped plans lack
# Formats opened in GIS clients (the HTML map is a web page, not GIS data).
GIS_FORMATS = ("gpkg", "qgis", "shp", "geojson", "kml", "xlsx", "csv")
# Formats also exported in the suggested Gauss-Krüger zone.
GK_FORMATS = ("gpkg", "shp", "csv")


def require(program: str, package: str) -> str:
    """The path of a Debian program; fails (does not skip) with the install command when it is missing."""
    path = shutil.which(program, path="/usr/bin:/bin")
    if path is None:
        pytest.fail(f"{program} is missing (Debian package {package}): run `make test`, which installs it, or: {APT}")
    return path


def qgis_python() -> str:
    require("python3", "python3")
    done = subprocess.run(
        [config.QGIS_PYTHON, "-c", "import qgis.core"], env=system_env(), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        pytest.fail(f"PyQGIS is missing for {config.QGIS_PYTHON} (python3-qgis): run `make test` or: {APT}")
    return config.QGIS_PYTHON


def kml_schema() -> Path:
    """``ogckml22.xsd`` as shipped in the pykml package (its imports point at local copies)."""
    spec = importlib.util.find_spec("pykml")
    if spec is None or spec.origin is None:
        pytest.fail("pykml is not installed: `make test` installs requirements-dev.txt (pip install pykml==0.2.0)")
    xsd = Path(spec.origin).parent / "schemas" / "ogckml22.xsd"
    if not xsd.is_file():
        pytest.fail(f"{xsd} is missing from the installed pykml package")
    return xsd


def run(args: list[str], *, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    """Run a Debian tool in a clean environment (the venv's GDAL/PROJ settings must not leak into it)."""
    return subprocess.run(args, env=system_env(), capture_output=True, text=True, timeout=timeout, check=False)


@dataclass
class Export:
    """One export of one plan, as the interop tests see it."""

    key: str
    county: str
    fmt: str
    crs: str
    result: ExportResult
    ids: list[str]
    categories: dict[str, str] = field(default_factory=dict)  # item id -> category
    folder: Path | None = None  # the unzipped package, for zipped formats

    @property
    def item_layers(self) -> list[str]:
        """The names QGIS and GDAL give the layers that hold the items."""
        if self.fmt in ("shp", "geojson"):
            return [Path(name).stem for name in self.result.item_layers]
        if self.fmt == "csv":
            return [self.path.stem]
        return list(self.result.item_layers)  # gpkg tables, KML folders, the workbook sheet, project layer titles

    @property
    def path(self) -> Path:
        return self.result.path

    @property
    def data(self) -> Path:
        """What a GIS user opens: the unzipped folder, or the file itself."""
        return self.folder if self.folder is not None else self.path


def _indicators(plan: Plan) -> Any:
    try:
        return indicators_frame(load_indicators(plan.county))
    except IndicatorParseError:
        return None


def _plans() -> list[tuple[str, Plan, gpd.GeoDataFrame]]:
    out = []
    for county in available_plans():
        plan, features = load_features(county)
        out.append((county, plan, features))
    out.append((FIXTURE, sample_plan(), sample_features()))
    return out


@lru_cache(maxsize=1)
def _build(root_text: str) -> tuple[Export, ...]:
    root = Path(root_text)
    boundaries = load_boundaries("full")
    exports: list[Export] = []
    for county, plan, features in _plans():
        indicators = _indicators(plan) if county != FIXTURE else None
        jobs = [(fmt, None) for fmt in GIS_FORMATS] + [(fmt, "gk") for fmt in GK_FORMATS]
        for fmt, crs in jobs:
            key = f"{county}-{fmt}" + (f"-{crs}" if crs else "")
            folder = root / key
            result = export_features(
                features,
                fmt,
                folder / f"rrmap_{county}.{fmt}",
                crs=crs,
                boundaries=boundaries,
                indicators=indicators,
                title=plan.title,
                plans=[plan],
            )
            unzipped = None
            if result.path.suffix == ".zip":
                unzipped = folder / "unzipped"
                with zipfile.ZipFile(result.path) as zf:
                    zf.extractall(unzipped)
            categories = dict(zip(features["id"], features["category"]))
            exports.append(Export(key, county, fmt, result.crs, result, list(features["id"]), categories, unzipped))
    return tuple(exports)


def cases(formats: tuple[str, ...] = GIS_FORMATS, *, gk: bool = True) -> list[str]:
    """Export keys for parametrising: ``<county>-<format>[-gk]`` for every shipped plan and the fixture plan."""
    counties = [*available_plans(), FIXTURE]
    keys = [f"{c}-{f}" for c in counties for f in formats]
    if gk:
        keys += [f"{c}-{f}-gk" for c in counties for f in formats if f in GK_FORMATS]
    return keys


def by_key(exports: tuple[Export, ...], key: str) -> Export:
    return next(e for e in exports if e.key == key)


def layers_of(report: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """Every layer QGIS opened for one export (its project's layers for ``<key>/project``)."""
    target = report["targets"][key]
    if "files" in target:
        return [layer for file in target["files"] for layer in file["layers"]]
    return list(target["layers"])


def build_exports(root: Path) -> tuple[Export, ...]:
    """Every GIS export of every shipped plan (and the fixture plan), in the default CRS and a GK zone."""
    return _build(str(root))


def inspect_in_qgis(exports: tuple[Export, ...], workdir: Path) -> dict[str, Any]:
    """Open every export in QGIS (one QGIS process for all); the report per export key."""
    python = qgis_python()
    targets = []
    for export in exports:
        targets.append({"key": export.key, "path": str(export.data), "kind": "data"})
        if export.fmt == "qgis":
            assert export.folder is not None
            qgz = next(export.folder.glob("*.qgz"))
            targets.append({"key": f"{export.key}/project", "path": str(qgz), "kind": "project"})
    spec = workdir / "qgis_targets.json"
    spec.write_text(json.dumps(targets, ensure_ascii=False), encoding="utf-8")
    done = run([python, "-I", str(INSPECTOR), str(spec)], timeout=900)
    if done.returncode != 0:
        pytest.fail(f"QGIS inspector failed ({done.returncode}): {done.stderr[-3000:]}")
    line = next((ln for ln in reversed(done.stdout.splitlines()) if ln.startswith("{")), None)
    assert line is not None, done.stdout[-2000:] + done.stderr[-2000:]
    report: dict[str, Any] = json.loads(line)
    return report
