"""Command-line face of the app: the same functions the Streamlit app uses.

    python cli.py stats                      counts per plan and category
    python cli.py validate [FILE ...]        check plan data files against the schema and the seeds
    python cli.py places --county 500235     registered places with location, precision and source
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import config
from plan.loader import available_plans, load_plan, load_plans, plan_path, validate_file
from plan.model import PlanDataError

Command = Callable[[argparse.Namespace], int]
COMMANDS: dict[str, tuple[Command, Callable[[argparse.ArgumentParser], None], str]] = {}


def command(name: str, help_text: str, configure: Callable[[argparse.ArgumentParser], None] = lambda p: None):
    """Register a subcommand: ``configure`` adds its arguments."""

    def register(func: Command) -> Command:
        COMMANDS[name] = (func, configure, help_text)
        return func

    return register


def _print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Plain aligned table (CJK characters count double width)."""

    def width(text: str) -> int:
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)

    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(width(r[i]) for r in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        print("  ".join(c + " " * (widths[i] - width(c)) for i, c in enumerate(row)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


@command("stats", "counts of entities per plan and category, and of registered places")
def cmd_stats(args: argparse.Namespace) -> int:
    plans = load_plans()
    cats = list(config.CATEGORIES)
    rows = []
    for code, plan in plans.items():
        counts = Counter(e.category for e in plan.entities)
        villages = sum(1 for p in plan.places if p.is_village)
        towns = sum(1 for p in plan.places if p.is_town)
        rows.append([code, plan.county_name, *[counts.get(c, 0) for c in cats], len(plan.entities), towns, villages])
    _print_table(["adcode", "plan", *cats, "entities", "towns", "villages"], rows)
    return 0


def _configure_validate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="*", type=Path, help="plan files (default: every data/plans/*.yaml)")


@command("validate", "check plan data files against the schema and the seeds", _configure_validate)
def cmd_validate(args: argparse.Namespace) -> int:
    files = args.files or [plan_path(code) for code in available_plans()]
    failed = 0
    for path in files:
        plan, problems = validate_file(path)
        for problem in problems:
            print(problem)
        if problems:
            failed += 1
        else:
            assert plan is not None
            print(f"{path.name}: ok ({len(plan.entities)} entities, {len(plan.places)} places)")
    return 1 if failed else 0


def _configure_places(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--county", required=True, choices=sorted(config.PLAN_SEEDS), help="plan adcode")
    parser.add_argument("--unresolved", action="store_true", help="only places that could not be located, and why")


@command("places", "registered places of a plan with location, precision and source", _configure_places)
def cmd_places(args: argparse.Namespace) -> int:
    from geo.resolve import place_table  # geo stack loads only for the commands that need it

    plan = load_plan(args.county)
    table = place_table(plan, unresolved_only=args.unresolved)
    columns = ["place", "kind", "town", "lon", "lat", "precision", "status", "reason", "source"]
    _print_table(columns, [[row[c] for c in columns] for row in table])
    located = sum(1 for row in table if row["status"] == "located")
    print(f"\n{plan.county_name}: {len(table)} places listed, {located} located, {len(table) - located} unlocated")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cli.py", description="乡村振兴规划一张图 — command line")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (func, configure, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        configure(p)
        p.set_defaults(func=func)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except PlanDataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
