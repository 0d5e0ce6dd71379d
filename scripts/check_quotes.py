"""Quick self-check used while curating a plan file: every quote verbatim inside its lines.

Usage: .venv/bin/python scripts/check_quotes.py data/plans/500235.yaml
(The full validator is `python cli.py validate`; this script only needs PyYAML.)
"""
from __future__ import annotations

import sys
from pathlib import Path

import yaml


def _check_source(lines: list[str], where: str, src: dict) -> list[str]:
    problems = []
    quote = src.get("quote")
    span = src.get("lines")
    if not quote or not span or not src.get("section"):
        return [f"{where}: source needs section, lines and quote"]
    a, b = (span, span) if isinstance(span, int) else (span[0], span[-1])
    if len(quote) > 60:
        problems.append(f"{where}: quote longer than 60 characters")
    if not any(quote in lines[i - 1] for i in range(a, b + 1) if 0 < i <= len(lines)):
        problems.append(f"{where}: quote {quote!r} not found in lines {a}-{b}")
    return problems


def main(path: str) -> int:
    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    seed = Path(path).parent.parent / "seeds" / doc["plan"]["seed"]
    lines = seed.read_text(encoding="utf-8").splitlines()
    problems = _check_source(lines, "plan", doc["plan"]["source"])
    seen = set()
    for ent in doc.get("entities", []):
        eid = ent.get("id")
        if eid in seen:
            problems.append(f"{eid}: duplicate id")
        seen.add(eid)
        problems += _check_source(lines, eid, ent.get("source", {}))
        for att in ent.get("attributes") or []:
            if att.get("source"):
                problems += _check_source(lines, f"{eid}/{att.get('label')}", att["source"])
    for p in problems:
        print(p)
    print(f"{len(doc.get('entities', []))} entities, {len(doc.get('places', []))} places, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
