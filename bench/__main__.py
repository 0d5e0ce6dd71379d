"""``make bench``: the map app against the obvious way (explore() + st_folium defaults), in the same run.

Prints the table and writes it, with the machine description, to docs/perf.md.  Not a test: nothing here fails
on a missed budget; the table says which budgets are met.

    python -m bench [--runs 5] [--quick] [--no-scale] [--out docs/perf.md]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bench import browser as br
from bench import machine, offline, server
from bench.report import LOAD_SECTION, Budget, Row, budget_summary, extract_section, markdown_table
from bench.synthetic import N_VILLAGES, SEED

ROOT = server.ROOT
APP = ROOT / "app.py"
BASELINE = server.APPS / "baseline.py"
SCALE_OURS = server.APPS / "scale_ours.py"
SCALE_BASELINE = server.APPS / "scale_baseline.py"

VIEWS = {"500235": "云阳县 500235", "500000": "重庆市 500000"}
COUNTY = "500235"
SCALE_VIEW = f"重庆市 + {N_VILLAGES:,} synthetic villages"

BUDGET_PAYLOAD = Budget("≤ 400 KB and ≤ 0.20× baseline", limit=400_000, max_ratio=0.2)
BUDGET_DRAWN_COUNTY = Budget("≤ 2 s", limit=2.0)
BUDGET_CLICK = Budget("≤ 150 ms", limit=150.0)
BUDGET_DRAWN_SCALE = Budget("≤ 3 s", limit=3.0)
BUDGET_RSS = Budget("≤ 600 MiB", limit=600.0)
BUDGET_EXPORT = Budget("≤ 1 s", limit=1.0)
BUDGET_PNG = Budget("≤ 10 s", limit=10.0)
# "Stays responsive": clustered or canvas-drawn (few DOM markers) and a zoom step redrawn within RAIL's 100 ms.
MAX_DOM_MARKERS = 2000
BUDGET_ZOOM = Budget("≤ 100 ms", limit=100.0)
BUDGET_DOM = Budget(f"≤ {MAX_DOM_MARKERS:,} (clustered/canvas)", limit=MAX_DOM_MARKERS)


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


@dataclass
class Settings:
    runs: int
    cold: int
    clicks: int
    offline_runs: int
    scale_runs: int
    scale: bool
    out: Path


# --- server time (AppTest, one fresh process per case) --------------------------------------------------------


def server_time(script: Path, county: str, kind: str, s: Settings) -> dict[str, Any]:
    cmd = [
        sys.executable,
        "-m",
        "bench.servertime",
        str(script),
        county,
        "--cold",
        str(s.cold),
        "--clicks",
        str(s.clicks),
        "--kind",
        kind,
    ]
    env = {**os.environ, "PYTHONPATH": server.python_path()}
    try:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    except subprocess.TimeoutExpired:
        return {"error": "timed out after 600 s"}
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH-JSON "):
            return json.loads(line[len("BENCH-JSON ") :])
    return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1][:300]}


# --- browser --------------------------------------------------------------------------------------------------


def app_expect(st: dict[str, Any]) -> br.Expect:
    return br.Expect(paths=max(1, int(st.get("js_paths") or 1)), markers=1 if st.get("js_markers") else 0)


def baseline_expect(county: str) -> br.Expect:
    from geo.boundaries import load_boundaries
    from geo.features import load_features

    features = load_features(county)[1]
    return br.explore_expect(len(load_boundaries("full")), features.geometry)


def browser_cases(pw: Any, s: Settings, times: dict[tuple[str, str], dict[str, Any]]) -> dict[tuple[str, str], Any]:
    """Drawn time etc. for the app and the baseline, both views; then the scale cases (own servers: peak RSS)."""
    out: dict[tuple[str, str], Any] = {}
    browser = br.launch(pw)
    try:
        for who, script in (("ours", APP), ("baseline", BASELINE)):
            srv = server.start(script)
            try:
                for county in VIEWS:
                    if who == "ours":
                        expect = app_expect(times.get((who, county), {}))
                    else:
                        expect = baseline_expect(county)
                    log(f"browser: {who} {county} (expect {expect})")
                    out[(who, county)] = br.measure_drawn(browser, f"{srv.url}/?county={county}", expect, s.runs)
                out[(who, "rss")] = srv.peak_rss_mb()
            finally:
                srv.stop()
        if s.scale:
            from geo.boundaries import load_boundaries

            n_districts = int((load_boundaries("display")["adcode"] != "500000").sum())
            cases = [("ours", SCALE_OURS, "", br.Expect(paths=n_districts, markers=1))]
            cases.append(("baseline", SCALE_BASELINE, "", br.Expect(paths=len(load_boundaries("full")) + N_VILLAGES)))
            for who, script, query, expect in cases:
                log(f"browser: scale {who}")
                srv = server.start(script)
                try:
                    url = f"{srv.url}/{query}"
                    # The first load on a fresh server also pays importing the libraries and building the
                    # (cached) synthetic data set: reported on its own row.  Then, like the county views, the
                    # median of several loads on the now warm server (fresh browser context each time).
                    out[("scale-cold", who)] = br.measure_drawn(
                        browser, url, expect, runs=1, timeout_s=180, warmup=False
                    )
                    out[("scale", who)] = br.measure_drawn(
                        browser, url, expect, runs=s.scale_runs, timeout_s=180, warmup=False
                    )
                    out[("scale-rss", who)] = srv.peak_rss_mb()
                finally:
                    srv.stop()
    finally:
        browser.close()
    return out


# --- table ----------------------------------------------------------------------------------------------------


def _get(d: dict[str, Any] | None, key: str, scale: float = 1.0) -> float | None:
    if not d or d.get(key) is None:
        return None
    return float(d[key]) * scale


def build_rows(
    times: dict[tuple[str, str], dict[str, Any]],
    drawn: dict[tuple[str, str], Any],
    exports: dict[tuple[str, str], offline.OfflineResult],
    s: Settings,
) -> list[Row]:
    rows: list[Row] = []
    for county, view in VIEWS.items():
        ours, base = times.get(("ours", county), {}), times.get(("baseline", county), {})
        is_county = county == COUNTY
        rows.append(
            Row(view, "server: first run in a fresh process", "s", _get(ours, "first_s"), _get(base, "first_s"))
        )
        rows.append(
            Row(
                view,
                f"server: cold run, empty caches (median of {s.cold})",
                "s",
                _get(ours, "cold_median_s"),
                _get(base, "cold_median_s"),
            )
        )
        rows.append(
            Row(
                view,
                f"server: warm click on a feature (median of {s.clicks})",
                "ms",
                _get(ours, "click_median_s", 1000),
                _get(base, "click_median_s", 1000),
                BUDGET_CLICK if is_county else None,
            )
        )
        rows.append(
            Row(
                view,
                "map payload sent by st_folium",
                "bytes",
                _get(ours, "map_bytes"),
                _get(base, "map_bytes"),
                BUDGET_PAYLOAD if is_county else None,
            )
        )
        d_ours, d_base = drawn.get(("ours", county)), drawn.get(("baseline", county))
        rows.append(
            Row(
                view,
                f"drawn in Chromium, from navigation (median of {s.runs})",
                "s",
                _seconds(d_ours, "drawn_median_ms"),
                _seconds(d_base, "drawn_median_ms"),
                BUDGET_DRAWN_COUNTY if is_county else None,
                _errors(d_ours, d_base),
            )
        )
        rows.append(
            Row(
                view,
                "… of which: until the map iframe starts loading (page boot + server run)",
                "s",
                _seconds(d_ours, "iframe_median_ms"),
                _seconds(d_base, "iframe_median_ms"),
            )
        )
        rows.append(
            Row(
                view,
                "bytes received by the page over the websocket",
                "bytes",
                d_ours.ws_bytes if d_ours else None,
                d_base.ws_bytes if d_base else None,
            )
        )
        rows.append(
            Row(
                view,
                "HTTP bytes of the map iframe (component, Leaflet, CSS, fonts)",
                "bytes",
                d_ours.http_bytes if d_ours else None,
                d_base.http_bytes if d_base else None,
            )
        )
        rows.append(
            Row(
                view,
                "zoom step redrawn (after drawing)",
                "ms",
                d_ours.zoom_ms if d_ours else None,
                d_base.zoom_ms if d_base else None,
            )
        )
        e_ours, e_base = exports.get(("ours", county)), exports.get(("baseline", county))
        rows.append(
            Row(
                view,
                f"export all layers: GeoJSON + GeoPackage (median of {s.offline_runs})",
                "s",
                e_ours.export_s if e_ours else None,
                e_base.export_s if e_base else None,
                BUDGET_EXPORT,
                (e_ours.export_error or "") if e_ours else "",
            )
        )
        rows.append(
            Row(
                view,
                f"presentation PNG 1920×1080 (median of {s.offline_runs})",
                "s",
                e_ours.png_s if e_ours else None,
                e_base.png_s if e_base else None,
                BUDGET_PNG,
                (e_ours.png_error or "") if e_ours else "",
            )
        )
    rows.append(
        Row(
            "all views",
            "server peak memory (VmHWM) after the runs above",
            "MiB",
            drawn.get(("ours", "rss")),
            drawn.get(("baseline", "rss")),
        )
    )
    if s.scale:
        variants = [("ours", "")]
        base = drawn.get(("scale", "baseline"))
        for who, label in variants:
            d = drawn.get(("scale", who))
            view = SCALE_VIEW + label
            rows.append(
                Row(
                    view,
                    f"drawn in Chromium, from navigation (median of {s.scale_runs})",
                    "s",
                    _seconds(d, "drawn_median_ms"),
                    _seconds(base, "drawn_median_ms"),
                    BUDGET_DRAWN_SCALE,
                    _errors(d, base),
                )
            )
            rows.append(
                Row(
                    view,
                    "… of which: until the map iframe starts loading (page boot + server run)",
                    "s",
                    _seconds(d, "iframe_median_ms"),
                    _seconds(base, "iframe_median_ms"),
                )
            )
            c, c_base = drawn.get(("scale-cold", who)), drawn.get(("scale-cold", "baseline"))
            rows.append(
                Row(
                    view,
                    "drawn, first load on a fresh server (imports, synthetic data built)",
                    "s",
                    _seconds(c, "drawn_median_ms"),
                    _seconds(c_base, "drawn_median_ms"),
                    None,
                    _errors(c, c_base),
                )
            )
            rows.append(
                Row(
                    view,
                    "bytes received by the page over the websocket",
                    "bytes",
                    d.ws_bytes if d else None,
                    base.ws_bytes if base else None,
                )
            )
            rows.append(
                Row(
                    view,
                    "marker elements in the DOM (responsive: clustered/canvas)",
                    "count",
                    d.dom_markers if d else None,
                    _dom_points(base),
                    BUDGET_DOM,
                )
            )
            rows.append(
                Row(
                    view,
                    "zoom step redrawn (responsive)",
                    "ms",
                    d.zoom_ms if d else None,
                    base.zoom_ms if base else None,
                    BUDGET_ZOOM,
                )
            )
            rows.append(
                Row(
                    view,
                    "longest main-thread task in the map iframe",
                    "ms",
                    d.longest_task_ms if d else None,
                    base.longest_task_ms if base else None,
                )
            )
            rows.append(
                Row(
                    view,
                    "server peak memory (VmHWM)",
                    "MiB",
                    drawn.get(("scale-rss", who)),
                    drawn.get(("scale-rss", "baseline")),
                    BUDGET_RSS,
                )
            )
    return rows


def _seconds(result: br.DrawResult | None, attr: str) -> float | None:
    """A median of a browser case (``drawn_median_ms``/``iframe_median_ms``) in seconds, None when not measured."""
    value = getattr(result, attr) if result is not None else None
    return value / 1000 if value else None


def _dom_points(d: br.DrawResult | None) -> float | None:
    """explore() draws points as SVG circle markers, so its 'markers in the DOM' are its paths."""
    if d is None or d.dom_paths is None:
        return None
    return float(d.dom_paths + (d.dom_markers or 0))


def _errors(*results: br.DrawResult | None) -> str:
    errs = [f"{who}: {r.error}" for who, r in zip(("ours", "baseline"), results) if r is not None and r.error]
    return "; ".join(errs)


# --- document -------------------------------------------------------------------------------------------------

DEFINITIONS = """\
## What is measured

- **Ours** is `app.py` as it is; **baseline** is what a typical analyst builds with the same libraries
  (`bench/apps/baseline.py`): `GeoDataFrame.explore()` of the full-resolution boundaries, then of all located
  plan features onto the same map, shown with `st_folium(m)` (default arguments), data loading cached with
  `st.cache_data`.  Its Leaflet assets are served locally (the browser is offline); nothing else differs.
- **Ratio** = ours / baseline (lower is better).
- **Server time** (AppTest, `bench/servertime.py`, one fresh process per case): *first run* = first script run in a
  fresh process (also pays importing the project); *cold* = a new session after clearing `st.cache_data`,
  `st.cache_resource` and the project's `functools` caches; *warm click* = in a warm session the map component
  returns a click on a located feature, exactly as streamlit-folium's frontend does, timed until the server is
  done (for the app: the click run and the `st.rerun()` it triggers).
- **Map payload** = UTF-8 size of the st_folium component's arguments (map script, header, HTML, feature groups,
  links) — what is sent to the browser for the map.
- **Drawn** = headless Chromium, fresh context (empty HTTP cache), every non-localhost request blocked (no tiles,
  no CDN): from navigation start until Leaflet's panes in the map iframe hold the expected SVG paths and markers
  (a watcher installed before any page script checks the iframe on every DOM mutation and records the time in
  the page, so the test driver's own latency is not counted; no sleeps); median of several loads after one warm-up
  load.
  "Until the map iframe starts loading" is the part spent booting Streamlit's page and running the script up to
  st_folium; the rest is the component loading Leaflet and drawing.  The Streamlit server runs
  the script for every load, so this includes a warm server run.
- **Export** = every feature of the view to GeoJSON plus GeoPackage (ours: `gisio.export.export_features`, the GIS
  delivery: one layer per category and geometry type, the items without geometry, full boundaries, indicators,
  styles, aliases, data dictionary and metadata; baseline: `GeoDataFrame.to_file` of the same rows).  **PNG** =
  `gisio.printmap.render_map` at 1920×1080 against a plain `GeoDataFrame.plot` + `savefig` of the same size.
- **Scale case**: {n:,} synthetic village points (seed {seed}, `bench/synthetic.py`, spread over the 38 districts
  in proportion to area, generated in memory, never shipped) on the municipal view; ours =
  `bench/apps/scale_ours.py`, which follows `app.render_map`'s municipal branch with the app's own layer
  functions; baseline = `bench/apps/scale_baseline.py` (explore + st_folium).  Each on its own server: the
  first load (which also imports the libraries and builds the synthetic data set) is reported on its own row,
  then the median of {scale_runs} further loads; peak memory = the server process's VmHWM.  "Responsive" = markers clustered or on canvas (≤ {dom:,} marker
  elements in the DOM) and a zoom step redrawn within 100 ms (RAIL's input budget).
"""


def write_document(
    path: Path, rows: list[Row], s: Settings, started: float, machine_lines: list[str], load_end: float | None
) -> str:
    met, missed, unknown = budget_summary(rows)
    parts = [
        "# Performance benchmark",
        "",
        f"Generated by `make bench` (`python -m bench`) on {datetime.now().strftime('%Y-%m-%d %H:%M')}, "
        f"in {time.monotonic() - started:.0f} s.  Do not edit by hand: rerun `make bench`.",
        "",
        "## Machine",
        "",
        *machine_lines,
        f"- Load average at end: {load_end:.2f} (1 min)" if load_end is not None else "",
        "",
        "## Results",
        "",
        f"Budgets: {met} met, {missed} missed, {unknown} not measured.",
        "",
        markdown_table(rows),
        "",
        DEFINITIONS.format(n=N_VILLAGES, seed=SEED, dom=MAX_DOM_MARKERS, scale_runs=s.scale_runs),
    ]
    parts += [
        "Profile a slow figure with `python -m bench.profile app.py 500235 [--click]` (cProfile inside the script",
        "thread), or with py-spy / pyinstrument when installed.",
        "",
    ]
    text = "\n".join(parts)
    # The load section belongs to `make bench-load` (bench/load.py): kept as it is.
    kept = extract_section(path.read_text(encoding="utf-8"), LOAD_SECTION) if path.exists() else ""
    if kept:
        text = text.rstrip() + "\n\n" + kept + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="page loads per browser case (median)")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run)")
    parser.add_argument("--no-scale", action="store_true", help="skip the 20,000-village scale case")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "perf.md")
    ns = parser.parse_args(argv)
    s = Settings(
        runs=2 if ns.quick else ns.runs,
        cold=1 if ns.quick else 3,
        clicks=2 if ns.quick else 5,
        offline_runs=1 if ns.quick else 3,
        scale_runs=1 if ns.quick else 3,
        scale=not ns.no_scale,
        out=ns.out,
    )
    os.environ["PYTHONPATH"] = server.python_path()
    sys.path[:0] = [p for p in server.python_path().split(os.pathsep) if p not in sys.path]
    started = time.monotonic()
    machine_lines = machine.describe(br.CHROMIUM)

    times: dict[tuple[str, str], dict[str, Any]] = {}
    for county in VIEWS:
        for who, script, kind in (("ours", APP, "app"), ("baseline", BASELINE, "baseline")):
            log(f"server time: {who} {county}")
            times[(who, county)] = server_time(script, county, kind, s)
            if "error" in times[(who, county)]:
                log(f"  failed: {times[(who, county)]['error']}")

    exports: dict[tuple[str, str], offline.OfflineResult] = {}
    for county in VIEWS:
        log(f"export/PNG: {county}")
        exports[("ours", county)] = offline.measure_ours(county, s.offline_runs)
        exports[("baseline", county)] = offline.measure_baseline(county, s.offline_runs)

    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        drawn = browser_cases(pw, s, times)

    rows = build_rows(times, drawn, exports, s)
    write_document(s.out, rows, s, started, machine_lines, machine.load_average())
    print("\n".join(machine_lines))
    print()
    print(markdown_table(rows))
    met, missed, unknown = budget_summary(rows)
    print(f"\nBudgets: {met} met, {missed} missed, {unknown} not measured.  Written to {s.out}.")
    log(f"done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
