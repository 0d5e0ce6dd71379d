"""Interop tier: GDAL 3.6's own tools (Debian gdal-bin, python3-gdal) on the exports of every shipped plan.

The GeoPackage passes GDAL's validator with warnings as errors; ``ogr2ogr`` converts every item layer to
Shapefile, File Geodatabase and GeoJSON and ``ogrinfo`` reads the same counts back; the zipped packages and the KML
are read whole.  ``make test`` installs gdal-bin when missing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from interop_support import by_key, cases, require, run

pytestmark = pytest.mark.interop


def ogr_counts(path: str) -> dict[str, int]:
    """``{layer: feature count}`` as ``ogrinfo`` reports them."""
    ogrinfo = require("ogrinfo", "gdal-bin")
    done = run([ogrinfo, "-ro", "-so", "-al", path])
    assert done.returncode == 0, done.stderr[-2000:]
    assert "ERROR" not in done.stderr, done.stderr[-2000:]
    names = re.findall(r"^Layer name: (.+)$", done.stdout, flags=re.M)
    counts = [int(n) for n in re.findall(r"^Feature Count: (\d+)$", done.stdout, flags=re.M)]
    assert len(names) == len(counts), done.stdout[-2000:]
    return dict(zip(names, counts))


def _geopackages(exports: tuple[Any, ...]) -> list[Path]:
    paths = [e.path for e in exports if e.fmt == "gpkg"]
    paths += [next(e.folder.glob("*.gpkg")) for e in exports if e.fmt == "qgis"]
    return paths


@pytest.mark.parametrize("key", [*cases(("gpkg",)), *cases(("qgis",), gk=False)])
def test_geopackage_passes_gdal_validator_with_warnings_as_errors(key: str, interop_exports: tuple[Any, ...]) -> None:
    require("ogrinfo", "gdal-bin")
    export = by_key(interop_exports, key)
    path = export.path if export.fmt == "gpkg" else next(export.folder.glob("*.gpkg"))
    done = run(
        ["/usr/bin/python3", "-m", "osgeo_utils.samples.validate_gpkg", "--extra", "--warning-as-error", str(path)]
    )
    if "No module named" in done.stderr:
        pytest.fail("GDAL's Python utilities are missing (Debian python3-gdal): `make test` installs them")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


@pytest.mark.parametrize("key", cases(("gpkg",)))
@pytest.mark.parametrize("driver", ["ESRI Shapefile", "OpenFileGDB", "GeoJSON"])
def test_ogr2ogr_converts_every_item_layer_and_ogrinfo_counts_the_whole_plan(
    key: str, driver: str, interop_exports: tuple[Any, ...], tmp_path: Path
) -> None:
    ogr2ogr = require("ogr2ogr", "gdal-bin")
    export = by_key(interop_exports, key)
    source = ogr_counts(str(export.path))
    total = 0
    for layer in export.item_layers:
        if driver == "GeoJSON":  # one layer per file
            target = tmp_path / f"{layer}.geojson"
            args = [ogr2ogr, "-f", driver, str(target), str(export.path), layer]
        else:
            target = tmp_path / ("out.gdb" if driver == "OpenFileGDB" else "shp")
            args = [ogr2ogr, "-f", driver, str(target), str(export.path), layer]
            if driver == "ESRI Shapefile":
                args += ["-lco", "ENCODING=UTF-8"]
            if target.exists():
                args.insert(1, "-update")
        done = run(args)
        assert done.returncode == 0 and "ERROR" not in done.stderr, f"{layer}: {done.stderr[-2000:]}"
        # Shapefile's own limits (10-character names, 254-byte strings) warn; a geometry problem must not.
        assert "geometry" not in done.stderr.lower(), f"{layer}: {done.stderr[-2000:]}"
        back = ogr_counts(str(target))
        name = layer if driver != "GeoJSON" else next(iter(back))
        assert back[name] == source[layer], f"{driver} {layer}: {back.get(name)} of {source[layer]}"
        total += back[name]
    assert total == len(export.ids)
    if driver == "OpenFileGDB":
        srs = run([require("ogrinfo", "gdal-bin"), "-ro", "-so", str(tmp_path / "out.gdb"), export.item_layers[0]])
        code = export.crs.split(":")[1]
        assert f'ID["EPSG",{code}]' in srs.stdout or f"EPSG:{code}" in srs.stdout, srs.stdout[-1500:]


@pytest.mark.parametrize("key", cases(("shp", "geojson", "kml")))
def test_ogrinfo_reads_every_item_from_the_zipped_packages_and_the_kml(
    key: str, interop_exports: tuple[Any, ...]
) -> None:
    export = by_key(interop_exports, key)
    if export.fmt == "geojson":  # a GeoJSON file is one layer: open each file inside the zip
        counts: dict[str, int] = {}
        for name in export.result.item_layers:
            counts.update(ogr_counts(f"/vsizip/{export.path}/{name}"))
    elif export.fmt == "shp":  # the zip as one folder of shapefiles and tables
        counts = ogr_counts(f"/vsizip/{export.path}")
    else:
        counts = ogr_counts(str(export.path))
    missing = [name for name in export.item_layers if name not in counts]
    assert missing == [], f"layers GDAL does not see: {missing}"
    assert sum(counts[name] for name in export.item_layers) == len(export.ids)
