"""Command-line face of the app: the same functions the Streamlit app uses.

python cli.py stats                      counts per plan and category
python cli.py validate [FILE ...]        check plan data files against the schema and the seeds
python cli.py places --county 500235     registered places with location, precision and source
python cli.py export --county C --format F --out PATH    GIS export (gpkg|qgis|shp|geojson|kml|xlsx|csv|html)
python cli.py png --county C --out PATH [--page P --dpi D --title T --bbox W,S,E,N]   print layout as PNG
python cli.py pdf --county C --out PATH [--page a4-portrait …]                        print layout as vector PDF
python cli.py import FILE [--county C [--save --who NAME]]   read a GIS layer, match its features to plan entities
python cli.py history ITEM_ID                            the saved geometry versions of a plan item (the store)
python cli.py import-overrides FILE --who NAME           import an overrides-format CSV (county,place,lon,lat,crs,note)

User geometry (drawn in the app or imported) is kept in the store named by RRMAP_DB (a GeoPackage file, default
~/.local/share/rrmap/edits.gpkg, or a postgresql:// URL); every command that draws or exports reads it.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import config
from plan.loader import available_plans, load_plan, load_plans, plan_path, shared_ids, validate_file
from plan.model import Plan, PlanDataError

if TYPE_CHECKING:  # the geo stack loads only for the commands that need it
    import geopandas as gpd
    import pandas as pd

    from store.db import Store

Command = Callable[[argparse.Namespace], int]
COMMANDS: dict[str, tuple[Command, Callable[[argparse.ArgumentParser], None], str]] = {}


def command(
    name: str, help_text: str, configure: Callable[[argparse.ArgumentParser], None] = lambda p: None
) -> Callable[[Command], Command]:
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
    valid: list[Plan] = []
    for path in files:
        plan, problems = validate_file(path)
        for problem in problems:
            print(problem)
        if problems or plan is None:
            failed += 1
        else:
            valid.append(plan)
            print(f"{path.name}: ok ({len(plan.entities)} entities, {len(plan.places)} places)")
    for problem in shared_ids(valid):
        print(problem)
        failed += 1
    return 1 if failed else 0


def _configure_places(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--county", required=True, help="plan adcode (one of data/plans/*.yaml)")
    parser.add_argument("--unresolved", action="store_true", help="only places that could not be located, and why")


def _store() -> Store:
    """The store (config.DB), with data/overrides.csv migrated into it once; problems of that file to stderr."""
    from store.migrate import open_migrated

    store, problems = open_migrated()
    for problem in problems:
        print(f"note: {problem}", file=sys.stderr)
    return store


@command("places", "registered places of a plan with location, precision and source", _configure_places)
def cmd_places(args: argparse.Namespace) -> int:
    from geo.resolve import place_table  # geo stack loads only for the commands that need it
    from store.errors import StoreError

    plan = load_plan(args.county)
    try:
        user = _store().user_geometries(plan.county)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    table = place_table(plan, unresolved_only=args.unresolved, user=user)
    columns = [
        "place",
        "kind",
        "town",
        "code",
        "official_name",
        "lon",
        "lat",
        "precision",
        "status",
        "reason",
        "source",
    ]
    _print_table(columns, [[row[c] for c in columns] for row in table])
    located = sum(1 for row in table if row["status"] == "located")
    print(f"\n{plan.county_name}: {len(table)} places listed, {located} located, {len(table) - located} unlocated")
    return 0


# --- GIS exchange: export, png, import (gisio) ------------------------------------------------------------------

# The keys of gisio.export.FORMATS (a test checks they agree; listed here so `--help` needs no geo stack).
EXPORT_FORMATS = ("gpkg", "qgis", "shp", "geojson", "kml", "xlsx", "csv", "html")
# Formats that carry the plan's indicator table.
_WITH_INDICATORS = ("gpkg", "qgis", "xlsx")


def _names(values: Sequence[str] | None) -> list[str] | None:
    """``--layers a,b c`` -> ``[a, b, c]`` (None when not given)."""
    if not values:
        return None
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def _exchange_features(county: str) -> tuple[list[Plan], gpd.GeoDataFrame]:
    """Plans and their combined feature table for an adcode or ``all``."""
    import geopandas as gpd
    import pandas as pd

    from geo.features import load_features

    codes = available_plans() if county == "all" else [county]
    store = _store()
    plans, frames = [], []
    for code in codes:
        plan, frame = load_features(code, user=store.user_geometries(code))
        plans.append(plan)
        frames.append(frame)
    if len(frames) == 1:
        return plans, frames[0]
    return plans, gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=config.WGS84)


def _indicator_table(plans: Sequence[Plan]) -> pd.DataFrame | None:
    """Indicator rows of the plans, for the GeoPackage (plans whose table does not parse are skipped)."""
    import pandas as pd

    from plan.indicators import IndicatorParseError, indicators_frame, load_indicators

    frames = []
    for plan in plans:
        try:
            frames.append(indicators_frame(load_indicators(plan.county)))
        except IndicatorParseError as exc:
            print(f"note: indicators of {plan.county} skipped: {exc}", file=sys.stderr)
    return pd.concat(frames, ignore_index=True) if frames else None


def _configure_export(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--county", required=True, help="plan adcode, or 'all'")
    parser.add_argument("--format", required=True, choices=EXPORT_FORMATS)
    parser.add_argument(
        "--crs",
        default=None,
        help="4490 CGCS2000 (default; GeoJSON, KML and HTML are always 4326) | 4326 | gk (zone suggested from the data)"
        " | 4544/4545/4546",
    )
    parser.add_argument("--layers", nargs="*", help="categories to export (default: all)")
    parser.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="EXPR",
        help="key=v1,v2 (category, precision, county, id, located) or name~text; repeatable",
    )
    parser.add_argument("--out", required=True, type=Path, help="output file")


@command(
    "export",
    "export plan features: GeoPackage, QGIS project, Shapefile/GeoJSON (zip), KML, Excel, CSV or offline HTML",
    _configure_export,
)
def cmd_export(args: argparse.Namespace) -> int:
    from geo.boundaries import load_boundaries
    from geo.crs import crs_label
    from geo.errors import GeoDataError
    from gisio.errors import GisIOError
    from gisio.export import FeatureFilter, export_features, select_features
    from layers.htmlmap import map_html
    from store.errors import StoreError

    try:
        plans, features = _exchange_features(args.county)
        selected = select_features(features, _names(args.layers), FeatureFilter.parse(args.filter))
        boundaries = load_boundaries("display" if args.format == "html" else "full")
        indicators = _indicator_table(plans) if args.format in _WITH_INDICATORS else None
        title = plans[0].title if len(plans) == 1 else "重庆市乡村振兴规划一张图"
        html = map_html(selected, boundaries=boundaries, title=title) if args.format == "html" else None
        result = export_features(
            selected,
            args.format,
            args.out,
            crs=args.crs,
            boundaries=boundaries,
            indicators=indicators,
            title=title,
            html=html,
            plans=plans,
        )
    except (GisIOError, GeoDataError, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{result.path}: {result.count} features ({result.located} located), {crs_label(result.crs)}")
    if result.path != args.out:
        print(f"note: written as {result.path.name} (this format is a zip of several files)")
    for note in result.notes:
        print(f"note: {note}")
    if result.layers:
        print("layers: " + ", ".join(result.layers))
    return 0


def _configure_print(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--county", required=True, help="plan adcode")
    parser.add_argument("--layers", nargs="*", help="categories to draw (default: all)")
    parser.add_argument(
        "--page",
        "--size",
        dest="page",
        default=None,
        help="a4-landscape | a4-portrait | a3-landscape | a3-portrait | 1920x1080 | WxH pixels "
        "(default: 1920x1080 for png, a4-landscape for pdf)",
    )
    parser.add_argument("--dpi", type=int, choices=(150, 300), help="resolution of a paper page (default 300)")
    parser.add_argument("--title", help="page title (default: the plan's title)")
    parser.add_argument("--subtitle", help="second line (default: 规划要素分布图 · issuer · period)")
    parser.add_argument("--bbox", metavar="W,S,E,N", help="extent in WGS84 degrees (default: the county)")
    parser.add_argument("--out", required=True, type=Path, help="output file")


def _print(args: argparse.Namespace, fmt: str) -> int:
    from geo.boundaries import load_boundaries
    from geo.errors import GeoDataError
    from geo.gazetteer import load_gazetteer
    from gisio.errors import GisIOError
    from gisio.printmap import page_label, plan_source, plan_titles, render_map
    from present.countyview import town_seats
    from store.errors import StoreError

    def progress(fraction: float, message: str) -> None:
        print(f"[{fraction:4.0%}] {message}", file=sys.stderr)

    try:
        bbox = [float(v) for v in args.bbox.split(",")] if args.bbox else None
    except ValueError:
        print(f"error: --bbox 应为 西,南,东,北 四个经纬度数字：{args.bbox}", file=sys.stderr)
        return 2
    try:
        plans, features = _exchange_features(args.county)
        plan = plans[0]
        title, subtitle = plan_titles(plan)
        towns = {} if plan.is_municipal else town_seats(plan, load_gazetteer())
        result = render_map(
            features,
            args.out,
            title=args.title or title,
            subtitle=subtitle if args.subtitle is None else args.subtitle,
            boundaries=load_boundaries("display"),
            county=args.county,
            extent=bbox,
            layers=_names(args.layers),
            towns=towns,
            page=args.page or ("a4-landscape" if fmt == "pdf" else "1920x1080"),
            dpi=args.dpi,
            fmt=fmt,
            source_note=plan_source(plan),
            progress=progress,
        )
    except (GisIOError, GeoDataError, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    width, height = result.page.pixels
    drawn = ", ".join(f"{c} {n}" for c, n in result.counts.items())
    print(
        f"{result.path}: {page_label(result.page)}, {width}x{height} px, {len(result.labels)} labels, "
        f"font {result.font}; drawn: {drawn}"
    )
    return 0


@command("png", "render the print layout (title, legend, scale bar, north arrow, locator) as a PNG", _configure_print)
def cmd_png(args: argparse.Namespace) -> int:
    return _print(args, "png")


@command("pdf", "render the print layout as a vector PDF page (A4/A3, landscape or portrait)", _configure_print)
def cmd_pdf(args: argparse.Namespace) -> int:
    return _print(args, "pdf")


def _configure_import(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="GeoJSON, zipped Shapefile, GeoPackage, KML/KMZ or CSV")
    parser.add_argument("--crs", help="source CRS if the file has none or it is wrong (wgs84, cgcs2000, gcj02, 4545 …)")
    parser.add_argument("--encoding", help="attribute encoding (UTF-8 or GBK); default: detected")
    parser.add_argument("--county", help="plan adcode to match imported features against (by id, code or name)")
    parser.add_argument("--name-field", help="column holding the names (default: guessed)")
    parser.add_argument("--code-field", help="column holding official division codes (default: guessed)")
    parser.add_argument(
        "--save", action="store_true", help="save unambiguous matches as exact locations in the store (RRMAP_DB)"
    )
    parser.add_argument("--who", help="your name, recorded in each saved item's history (required with --save)")
    parser.add_argument("--out", type=Path, help="write the layer as WGS84 GeoJSON (RFC 7946)")


@command(
    "import", "read a GIS layer (detect CRS/encoding, repair), match its features to plan entities", _configure_import
)
def cmd_import(args: argparse.Namespace) -> int:
    from geo.atomic import atomic_write
    from geo.errors import GeoDataError
    from gisio.errors import GisIOError
    from gisio.match import METHOD_LABELS, best_matches, match_by_name, save_matches
    from gisio.read import read_path
    from store.errors import StoreError

    if args.save and not (args.who or "").strip():
        print("error: --save 需要 --who 你的姓名（记入每个条目的修改历史）", file=sys.stderr)
        return 2
    try:
        result = read_path(args.file, crs=args.crs, encoding=args.encoding)
        projected = [c for c in result.crs_candidates if c.code.startswith("EPSG:45")]
        if result.crs_origin == "guess" and len(projected) > 1 and not args.crs:
            options = "；".join(f"{c.code}（{c.reason}）" for c in projected)
            raise GisIOError(f"无法确定投影带，请用 --crs 指定：{options}", "crs")
        print(result.summary())
        for line in (*result.warnings, *result.repairs):
            print(f"note: {line}")
        if args.out:

            def write(tmp: Path) -> None:
                result.gdf.to_file(tmp, driver="GeoJSON", RFC7946="YES")

            atomic_write(args.out, write)
            print(f"{args.out}: written (WGS84)")
        if args.county:
            plans, features = _exchange_features(args.county)
            matches, notes = match_by_name(result, features, name_field=args.name_field, code_field=args.code_field)
            rows = [
                [
                    m.imported_name,
                    m.kind,
                    m.entity_id,
                    m.entity_name,
                    METHOD_LABELS[m.method],
                    f"{m.score:.2f}",
                    f"{m.lon:.6f}",
                    f"{m.lat:.6f}",
                ]
                for m in matches
            ]
            _print_table(["imported", "kind", "entity", "name", "method", "score", "lon", "lat"], rows)
            for note in notes:
                print(f"note: {note}")
            if args.save:
                store = _store()
                saved = save_matches(best_matches(matches), store=store, who=args.who, imported=result)
                print(f"saved {len(saved)} exact location(s) to {store.location}")
    except (GisIOError, GeoDataError, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _configure_history(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("item", help="plan item id (e.g. yy-ib-002)")


@command("history", "the saved geometry versions of a plan item (who, when, how)", _configure_history)
def cmd_history(args: argparse.Namespace) -> int:
    from geo.usergeo import HOW_LABELS, beijing_time, geometry_kind
    from store.errors import StoreError

    try:
        changes = _store().history(args.item)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not changes:
        print(f"{args.item}: no saved geometry")
        return 0
    rows = [
        [
            c.version,
            beijing_time(c.changed_at),
            c.who,
            HOW_LABELS.get(c.how, c.how),
            geometry_kind(c.geom_after) or "-",
            c.precision,
            f"{c.source_file} {c.source_row or ''}".strip() if c.source_file else "",
            c.note,
        ]
        for c in changes
    ]
    _print_table(["version", "when", "who", "how", "kind", "precision", "source", "note"], rows)
    return 0


def _configure_import_overrides(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="CSV with county,place,lon,lat,crs,note (the overrides format)")
    parser.add_argument("--who", required=True, help="your name, recorded in each item's history")


@command(
    "import-overrides", "import an overrides-format CSV into the store (all rows or none)", _configure_import_overrides
)
def cmd_import_overrides(args: argparse.Namespace) -> int:
    from geo.errors import GeoDataError
    from store.errors import StoreError
    from store.migrate import import_overrides_file

    try:
        store = _store()
        saved = import_overrides_file(store, args.file, who=args.who)
    except (StoreError, GeoDataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"saved {len(saved)} exact location(s) from {args.file.name} to {store.location}")
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
