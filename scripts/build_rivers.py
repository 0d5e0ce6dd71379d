"""Build data/rivers/chongqing_rivers.geojson: GSHHG WDBII river lines across Chongqing, named by the plans' rule.

Usage::

    python scripts/build_rivers.py [--plans DIR] [--out FILE]

Reads Debian's gmt-gshhg-high (``/usr/share/gmt-gshhg/binned_river_h.nc``), the municipal outline and the county
polygons (``data/boundaries``), and the rivers every plan file registers (``kind: river``).  Deterministic.  Prints
each naming decision with its reason (see :mod:`geo.rivers`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml

import config
from geo.boundaries import load_boundaries
from geo.rivers import CLASSES, build_rivers, write_rivers


def registered_rivers(plan_files: list[Path]) -> dict[str, set[str]]:
    """River name -> the county plans that register it (the municipal plan registers none of its own)."""
    out: dict[str, set[str]] = {}
    for path in plan_files:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        county = str((doc.get("plan") or {}).get("county") or path.stem)
        if county == config.MUNICIPAL_ADCODE:
            continue
        for place in doc.get("places") or []:
            if isinstance(place, dict) and place.get("kind") == "river" and place.get("name"):
                out.setdefault(str(place["name"]), set()).add(county)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--plans", type=Path, default=config.PLANS_DIR, help="directory of <adcode>.yaml files")
    parser.add_argument("--out", type=Path, default=config.RIVERS_PATH, help="output GeoJSON")
    args = parser.parse_args(argv)
    files = sorted(p for p in args.plans.glob("*.yaml") if p.stem.isdigit())
    rivers, decisions = build_rivers(load_boundaries("full"), registered_rivers(files))
    write_rivers(args.out, rivers)
    for r in rivers:
        print(f"line {r.id}: {CLASSES.get(r.level, r.level)} {r.geometry.length:.3f}° {r.name or '(未命名)'}")
    for d in decisions:
        print(
            f"{d.name}: {'line ' + str(d.line) if d.line is not None else '—'} ({d.why}; 规划区县 {', '.join(d.counties)})"
        )
    print(f"{len(rivers)} lines -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
