"""Regenerate docs/qgis_500235.png: the styled GeoPackage export as QGIS draws it (the README's GIS picture).

The GeoPackage is the app's own export (``gisio.export``); the picture is the print layout of the QGIS project
export, rendered headless by Debian's QGIS 3.22 (``gisio.qgis_project``) — styles, legend, scale bar and north
arrow are QGIS's, from the ``layer_styles`` inside the GeoPackage.  Needs python3-qgis (``make test`` installs it).

Usage: .venv/bin/python scripts/qgis_screenshot.py [--county 500235] [--out docs/qgis_500235.png] [--dpi 110]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geo.boundaries import load_boundaries
from geo.features import load_features
from gisio.errors import GisIOError
from gisio.gpkg import write_gpkg
from gisio.package import build_package
from gisio.qgis_project import build_project
from plan.indicators import IndicatorParseError, indicators_frame, load_indicators

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--county", default="500235")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--dpi", type=int, default=110)
    args = parser.parse_args(argv)
    out = (args.out or ROOT / "docs" / f"qgis_{args.county}.png").resolve()
    plan, features = load_features(args.county)
    try:
        indicators = indicators_frame(load_indicators(args.county))
    except IndicatorParseError:
        indicators = None
    package = build_package(
        features,
        crs="EPSG:4490",
        title=plan.title,
        boundaries=load_boundaries("full"),
        indicators=indicators,
        plans=[plan],
    )
    with tempfile.TemporaryDirectory(prefix="rrmap-qgis-shot-") as tmp:
        gpkg = Path(tmp) / f"rrmap_{args.county}.gpkg"
        write_gpkg(package, gpkg)
        try:
            summary = build_project(package, gpkg, Path(tmp) / f"rrmap_{args.county}.qgz", png=out, dpi=args.dpi)
        except GisIOError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    print(f"{out}: QGIS print layout, layers {', '.join(summary['layers'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
