"""The QGIS project export: a zip of the delivery GeoPackage and a .qgz built with the machine's QGIS.

The app's Python cannot import QGIS (PyQGIS is Debian's ``python3-qgis``, built for ``/usr/bin/python3``), so
:mod:`gisio.qgis_worker` runs as a subprocess of that interpreter (:data:`config.QGIS_PYTHON`) with a clean
environment: no ``PYTHON*``/virtual-env variables, no GDAL/PROJ paths of the app's own GDAL, Qt offscreen.
Without QGIS on the machine this one format is unavailable — :func:`qgis_status` says so in Chinese and the app
and the CLI show that message; every other export works without QGIS.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import shapely

import config
from geo.crs import crs_label
from gisio.dictionary import dictionary_frame, layer_description, layer_title
from gisio.errors import GisIOError
from gisio.gpkg import (
    GPKG_ATTRIBUTES,
    GPKG_BOUNDARIES,
    GPKG_DICTIONARY,
    GPKG_INDICATORS,
    GPKG_MUNICIPALITY,
    GPKG_README,
    write_gpkg,
)
from gisio.metadata import APP_NAME, DICTIONARY_NAME, README_NAME, LayerSummary, readme_text
from gisio.package import Package
from gisio.tabular import safe_csv

WORKER = Path(__file__).with_name("qgis_worker.py")
INSTALL_HINT = "sudo apt-get install --no-install-recommends python3-qgis qgis-providers"
QGIS_MISSING = (
    "QGIS 工程（.qgz）要用本机安装的 QGIS 生成，但这台机器上没有找到 QGIS。请联系管理员安装 Debian 软件包 "
    "python3-qgis 和 qgis-providers（" + INSTALL_HINT + "）。其他格式照常可以导出；GeoPackage 已带 QGIS 样式，"
    "可以直接在 QGIS 中打开。"
)
# Variables of the app's own Python and GDAL that must not leak into Debian's tools.
_LEAKY_PREFIXES = ("PYTHON", "VIRTUAL_ENV", "PYENV", "CONDA", "GDAL_", "PROJ_", "QT_", "LD_LIBRARY_PATH")
WORKER_TIMEOUT_S = 300


@dataclass(frozen=True)
class QgisStatus:
    """Whether the QGIS project export can run here; ``message`` says why not (Chinese)."""

    available: bool
    version: str = ""
    message: str = ""


def system_env() -> dict[str, str]:
    """An environment for Debian's own tools (QGIS, GDAL's command-line programs) run from the app.

    Strips what the app's virtual environment and its bundled GDAL set (``PYTHONPATH``, ``VIRTUAL_ENV``,
    ``GDAL_DATA``, ``PROJ_LIB`` …), puts ``/usr/bin`` first, runs Qt offscreen and in a UTF-8 locale.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(_LEAKY_PREFIXES)}
    runtime = Path(tempfile.gettempdir()) / f"rrmap-qgis-runtime-{os.getuid()}"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env.update(
        PATH="/usr/bin:/bin",
        QT_QPA_PLATFORM="offscreen",
        XDG_RUNTIME_DIR=str(runtime),
        PYTHONNOUSERSITE="1",
        PYTHONIOENCODING="utf-8",
        LC_ALL="C.UTF-8",
    )
    return env


@lru_cache(maxsize=4)
def _status(python: str) -> QgisStatus:
    if not Path(python).is_file():
        return QgisStatus(False, message=QGIS_MISSING)
    probe = "from qgis.core import Qgis; print(Qgis.QGIS_VERSION)"
    try:
        done = subprocess.run(
            [python, "-c", probe], env=system_env(), capture_output=True, text=True, timeout=120, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return QgisStatus(False, message=QGIS_MISSING)
    if done.returncode != 0:
        return QgisStatus(False, message=QGIS_MISSING)
    return QgisStatus(True, version=done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "")


def qgis_status() -> QgisStatus:
    """Whether QGIS can be run by :data:`config.QGIS_PYTHON` (checked once per interpreter path)."""
    return _status(config.QGIS_PYTHON)


def run_worker(spec: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """Run :mod:`gisio.qgis_worker` on ``spec``; its JSON summary.

    Raises
    ------
    GisIOError
        QGIS is missing (code ``qgis_missing``) or the worker failed (its last message in the text).
    """
    status = qgis_status()
    if not status.available:
        raise GisIOError(status.message, "qgis_missing")
    spec_path = workdir / "qgis_spec.json"
    spec_path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    try:
        done = subprocess.run(
            # -I: isolated, and the script's folder (gisio/) is not put on sys.path, where it would shadow modules
            [config.QGIS_PYTHON, "-I", str(WORKER), str(spec_path)],
            env=system_env(),
            capture_output=True,
            text=True,
            timeout=WORKER_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise GisIOError(f"QGIS 在 {WORKER_TIMEOUT_S} 秒内没有完成工程，已放弃（未写出文件）", "qgis_failed") from None
    finally:
        spec_path.unlink(missing_ok=True)
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or [f"退出码 {done.returncode}"])[-1]
        raise GisIOError(f"QGIS 生成工程失败（未写出文件）。给 GIS 人员的细节：{detail}", "qgis_failed")
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise GisIOError("QGIS 没有报告工程结果（未写出文件）", "qgis_failed")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def project_extent(package: Package) -> tuple[float, float, float, float]:
    """What the print layout shows, in the package's CRS: the plan's districts (or the municipality) and the
    located items."""
    shapes = [g for g in package.items.geometry.values if g is not None and not g.is_empty]
    counties = set(package.counties)
    for frame in (package.districts, package.municipality):
        if frame is not None and len(frame):
            shapes += list(frame.loc[frame["adcode"].isin(counties), "geometry"].values)
    if not shapes:
        for frame in (package.municipality, package.districts):
            if frame is not None and len(frame):
                shapes += list(frame.geometry.values)
    if not shapes:
        raise GisIOError("没有可显示的范围（没有已定位的条目，也没有边界），无法生成 QGIS 工程", "qgis_failed")
    minx, miny, maxx, maxy = shapely.GeometryCollection(shapes).bounds
    return float(minx), float(miny), float(maxx), float(maxy)


def project_spec(package: Package, gpkg: Path, qgz: Path) -> dict[str, Any]:
    """The worker's instructions: layers in layer-tree order (points over lines over areas over boundaries)."""
    order = {"point": 0, "line": 1, "polygon": 2}
    spatial = sorted((x for x in package.layers if x.spatial), key=lambda x: order.get(x.family or "", 3))
    layers: list[dict[str, Any]] = [
        {"table": x.name, "title": x.title, "group": "规划要素", "description": layer_description(x)} for x in spatial
    ]
    tables = package.tables()
    for name in (GPKG_BOUNDARIES, GPKG_MUNICIPALITY):
        if name in tables:
            layers.append({"table": name, "title": layer_title(name), "group": "行政区划"})
    attribute_tables = [x.name for x in package.layers if not x.spatial]
    attribute_tables += [n for n in (GPKG_ATTRIBUTES, GPKG_INDICATORS) if n in tables]
    attribute_tables += [GPKG_DICTIONARY, GPKG_README]
    for name in attribute_tables:
        title = next((x.title for x in package.layers if x.name == name), layer_title(name))
        layers.append({"table": name, "title": title, "group": "属性表", "expanded": False})
    sources = "；".join(s.name for s in package.sources)
    return {
        "gpkg": str(gpkg),
        "qgz": str(qgz),
        "title": package.title,
        "crs": package.crs,
        "extent": project_extent(package),
        "layers": layers,
        "abstract": f"{package.title}：规划条目 {package.total} 项（有几何 {package.located} 项）。",
        "author": "；".join(p.issuer or p.county_name for p in package.plans) or APP_NAME,
        "rights": [f"{s.name}：{s.licence}" for s in package.sources],
        "footer": f"坐标系：{crs_label(package.crs)}　数据来源：{sources}　{APP_NAME}导出",
    }


def build_project(
    package: Package, gpkg: Path, qgz: Path, *, png: Path | None = None, dpi: int = 120
) -> dict[str, Any]:
    """Write the .qgz for the delivery GeoPackage ``gpkg`` (already written from ``package``).

    Raises
    ------
    GisIOError
        QGIS is missing or failed.
    """
    spec = project_spec(package, gpkg, qgz)
    if png is not None:
        spec.update(png=str(png), dpi=dpi)
    return run_worker(spec, qgz.parent)


def write_qgis_package(
    package: Package, path: Path, *, base: str = "rrmap", format_label: str = "QGIS 工程"
) -> list[str]:
    """The zip of ``<base>.qgz``, ``<base>.gpkg``, 数据说明 and 数据字典; returns the zip's files.

    Raises
    ------
    GisIOError
        QGIS is missing or failed (nothing is written).
    """
    status = qgis_status()
    if not status.available:
        raise GisIOError(status.message, "qgis_missing")
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".qgis.") as tmp:
        folder = Path(tmp)
        gpkg = folder / f"{base}.gpkg"
        qgz = folder / f"{base}.qgz"
        write_gpkg(package, gpkg, format_label=f"{format_label}（GeoPackage）")
        build_project(package, gpkg, qgz)
        notes = (
            f"解压后用 QGIS 打开 {qgz.name}：图层来自同目录的 {gpkg.name}（相对路径），已带样式；"
            "工程坐标系同数据，无在线底图；打印布局含标题、图例、比例尺和指北针。",
        )
        summaries = [LayerSummary(qgz.name, "QGIS 工程", -1), LayerSummary(gpkg.name, "GeoPackage 数据", -1)]
        (folder / README_NAME).write_text(
            readme_text(package.delivery(format_label, layers=summaries, notes=notes)), encoding="utf-8"
        )
        dictionary = dictionary_frame(package.dictionary())
        (folder / DICTIONARY_NAME).write_text(safe_csv(dictionary), encoding="utf-8-sig", newline="")
        names = [qgz.name, gpkg.name, README_NAME, DICTIONARY_NAME]
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name in names:
                zf.write(folder / name, arcname=name)
    return names
