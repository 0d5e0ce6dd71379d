"""``make bench-load``: concurrent sessions against one app server, and concurrent writers on the store.

    python -m bench.load [--sessions 20] [--duration 120] [--out docs/perf.md] [--no-write]

Browser part: ``--sessions`` headless Chromium sessions (Debian's /usr/bin/chromium, the flags of
:mod:`bench.browser`, every non-localhost request blocked) run for ``--duration`` seconds against ONE
``streamlit run app.py`` server, each clicking at random: features on the map (a pin; the panel must show it),
views (the sidebar's view chips; the header must show the plan) and layers (a layer chip; it must toggle).
Counted: actions, errors (a wait on app state that timed out, an exception shown on the page, a page crash),
console errors, server exceptions (the server log scanned for tracebacks), click-to-panel time (in the page: from the
click on the pin to the panel showing that item, so the driver's latency is not counted), view-switch
and layer-toggle times (driver side), and the server's peak memory (VmHWM).

Store part (:mod:`bench.storeload`): concurrent importer and saver processes on the editable store (issue 14),
SQLite/GeoPackage and PostGIS, then a count that no row was lost.

Not a test: nothing fails on a slow figure.  Writes its own section of docs/perf.md (between the markers of
:mod:`bench.report`), leaving the ``make bench`` tables as they are.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from bench import browser as br
from bench import machine, server
from bench.report import LOAD_SECTION, splice_section
from bench.storeload import StoreResult, run_backends

ROOT = server.ROOT
APP = ROOT / "app.py"
MAP_FRAME = br.IFRAME
# Installed in the top page before any page script runs: which item the panel shows (its ``data-key``, the map's
# click key ``f:<id>``) and the time (performance.now) it started showing it.  A pin is clicked in the map iframe (same
# origin) right after the time is written on the top page's clock into ``__rrDown`` — so click-to-panel is measured in
# the page, without the driver's latency.
WATCH_JS = """
(() => {
  if (window !== window.top) return;
  window.__rrPanel = {key: null, t: 0};
  const check = () => {
    const panel = document.querySelector('.rr-panel');
    const key = panel ? panel.getAttribute('data-key') : null;
    if (key !== window.__rrPanel.key) window.__rrPanel = {key: key, t: performance.now()};
  };
  new MutationObserver(check).observe(document, {childList: true, subtree: true, attributes: true});
})();
"""
VERBOSE = False  # --verbose: one log line per action
# Weights of the actions a session picks from.
ACTIONS = {"feature": 6, "view": 2, "layer": 2}
# Server log lines that mean an exception escaped (Streamlit logs uncaught script exceptions with a traceback).
_EXCEPTION = re.compile(r"Traceback \(most recent call last\)|Uncaught app exception|^\S*Error: ", re.M)


def log(msg: str) -> None:
    print(f"[bench.load {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


@dataclass
class SessionStats:
    """What one browser session did and saw."""

    actions: Counter[str] = field(default_factory=Counter)
    panel_ms: list[float] = field(default_factory=list)
    view_ms: list[float] = field(default_factory=list)
    layer_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    skipped: int = 0  # a pin covered by another or already selected: nothing to measure


@dataclass
class LoadResult:
    sessions: int
    duration_s: float
    stats: list[SessionStats]
    server_exceptions: list[str]
    peak_rss_mb: float | None
    load_end: float | None
    started: str
    store: list[StoreResult] = field(default_factory=list)

    def merged(self, name: str) -> list[Any]:
        return [v for s in self.stats for v in getattr(s, name)]

    @property
    def actions(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for s in self.stats:
            total.update(s.actions)
        return total


def percentile(values: list[float], q: float) -> float | None:
    """The ``q`` quantile (0..1) by linear interpolation, None for no values."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[max(min(round(q * 100) - 1, 98), 0)]


def server_exceptions(log_text: str) -> list[str]:
    """The lines of a server log that show an exception escaping (with the line after each, for context)."""
    lines = log_text.splitlines()
    out = []
    for i, line in enumerate(lines):
        if _EXCEPTION.search(line):
            out.append(" | ".join(lines[i : i + 2]).strip()[:300])
    return out


@dataclass(frozen=True)
class View:
    """A plan view as the page shows it: its sidebar chip, the title in the header, the name in the map legend."""

    label: str
    title: str
    legend: str


async def _map(page: Any, view: View, timeout_ms: float) -> Any:
    """The map iframe of ``view`` once drawn (while a view changes, the old map stays on the page for a while, and
    a click on it belongs to the view being left)."""
    frames = page.locator(MAP_FRAME)
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        if await frames.count() == 1:
            frame = page.frame_locator(MAP_FRAME).last
            await frame.locator(".rr-legend", has_text=f"{view.legend} 图例").wait_for(timeout=timeout_ms)
            if await frames.count() == 1:
                return frame
        if time.monotonic() > deadline:
            raise TimeoutError(f"{await frames.count()} map frames on the page")
        await asyncio.sleep(0.05)  # polling the page's state, not waiting for time to pass


async def _click_feature(page: Any, view: View, rng: random.Random, timeout_ms: float, stats: SessionStats) -> None:
    """Click a pin (not the one already shown) and time the panel: from the click to the panel's new text.

    The pin is told by the hidden key in its tooltip, and clicked in the page (``element.click()`` right after the
    time is taken), so a pin under the legend or at the map's edge is clicked as well as any other.
    """
    frame = await _map(page, view, timeout_ms)
    pins = frame.locator(".leaflet-marker-pane .rr-pin")
    count = await pins.count()
    if count == 0:
        clusters = frame.locator(".leaflet-marker-pane .rr-cluster")
        n = await clusters.count()
        if n:  # open a cluster (zoom or spiderfy): the next feature action finds pins
            await clusters.nth(rng.randrange(n)).evaluate("el => el.click()")
        stats.skipped += 1
        return
    pin = pins.nth(rng.randrange(count))
    try:
        await pin.dispatch_event("mouseover", timeout=30000)
        key = await frame.locator(".leaflet-tooltip-pane .rr-key").last.text_content(timeout=30000)
        await pin.dispatch_event("mouseout", timeout=30000)
    except Exception:  # noqa: BLE001 - the markers were redrawn under the driver (a rerun): not an app error
        stats.skipped += 1
        return
    clicked = (key or "").strip("⟦⟧")
    shown = await page.evaluate("() => window.__rrPanel.key")
    if not clicked.startswith("f:") or clicked == shown:
        stats.skipped += 1  # not a plan item, or already shown: the panel would not change
        return
    try:
        await pin.evaluate("el => { window.top.__rrDown = window.top.performance.now(); el.click(); }", timeout=30000)
    except Exception:  # noqa: BLE001 - the pin was redrawn between hover and click: not an app error
        stats.skipped += 1
        return
    try:
        await page.wait_for_function("(k) => window.__rrPanel.key === k", arg=clicked, timeout=timeout_ms)
    except Exception as exc:
        now = await page.evaluate("() => window.__rrPanel.key")
        raise TimeoutError(f"clicked {clicked} (panel showed {shown}), panel shows {now}, url {page.url}") from exc
    down, drawn = await page.evaluate("() => [window.__rrDown, window.__rrPanel.t]")
    stats.panel_ms.append(max(float(drawn) - float(down), 0.0))


async def _switch_view(page: Any, county: str, view: View, timeout_ms: float) -> float:
    sidebar = page.locator("[data-testid='stSidebar']")
    start = time.monotonic()
    await sidebar.get_by_role("radio", name=view.label, exact=True).click(timeout=timeout_ms)
    await page.locator("[data-testid='stMain']").get_by_text(view.title, exact=False).first.wait_for(timeout=timeout_ms)
    await _map(page, view, timeout_ms)
    return (time.monotonic() - start) * 1000


async def _toggle_layer(page: Any, rng: random.Random, timeout_ms: float) -> float | None:
    chips = page.locator("[data-testid='stSidebar'] button[aria-pressed]")
    count = await chips.count()
    if count == 0:
        return None
    index = rng.randrange(count)  # the chips keep their order; their labels carry counts that may change
    pressed = await chips.nth(index).get_attribute("aria-pressed")
    target = "false" if pressed == "true" else "true"
    start = time.monotonic()
    await chips.nth(index).click(timeout=timeout_ms)
    deadline = start + timeout_ms / 1000
    while await chips.nth(index).get_attribute("aria-pressed", timeout=timeout_ms) != target:
        if time.monotonic() > deadline:
            raise TimeoutError("a layer chip did not toggle")
        await asyncio.sleep(0.05)  # polling the chip's state, not waiting for time to pass
    return (time.monotonic() - start) * 1000


async def run_session(
    browser: Any,
    url: str,
    views: dict[str, View],
    *,
    seed: int,
    until: float,
    timeout_ms: float,
) -> SessionStats:
    """One user: open a random view, then act at random until ``until`` (time.monotonic)."""
    stats = SessionStats()
    rng = random.Random(seed)
    context = await browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    context.set_default_timeout(timeout_ms)
    await context.add_init_script(WATCH_JS)

    async def route(r: Any) -> None:
        host = urlparse(r.request.url).hostname or ""
        if host in br.LOCAL_HOSTS or r.request.url.startswith(("data:", "blob:", "about:")):
            await r.continue_()
        else:
            stats.errors.append(f"request left localhost: {r.request.url[:120]}")
            await r.abort()

    await context.route("**/*", route)
    page = await context.new_page()
    page.on("console", lambda m: stats.console_errors.append(m.text[:200]) if m.type == "error" else None)
    page.on("pageerror", lambda exc: stats.errors.append(f"page error: {str(exc)[:200]}"))

    current = rng.choice(list(views))

    async def open_view() -> None:
        nonlocal current
        current = rng.choice(list(views))
        await page.goto(f"{url}/?county={current}", timeout=timeout_ms)
        await _map(page, views[current], timeout_ms)

    try:
        began = time.monotonic()
        await open_view()
        if VERBOSE:
            log(f"session {seed}: opened in {time.monotonic() - began:.1f} s")
        while time.monotonic() < until:
            action = rng.choices(list(ACTIONS), weights=list(ACTIONS.values()))[0]
            began = time.monotonic()
            try:
                if action == "feature":
                    await _click_feature(page, views[current], rng, timeout_ms, stats)
                elif action == "view":
                    current = rng.choice([c for c in views if c != current] or list(views))
                    stats.view_ms.append(await _switch_view(page, current, views[current], timeout_ms))
                else:
                    ms = await _toggle_layer(page, rng, timeout_ms)
                    if ms is not None:
                        stats.layer_ms.append(ms)
                stats.actions[action] += 1
                if VERBOSE:
                    log(f"session {seed}: {action} {time.monotonic() - began:.1f} s")
                if await page.locator("[data-testid='stException']").count():
                    stats.errors.append("an exception is shown on the page")
                    await open_view()
            except Exception as exc:  # noqa: BLE001 - counted and reported; the session starts over
                stats.errors.append(f"{action}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
                await open_view()
    except Exception as exc:  # noqa: BLE001 - a session that cannot even load is an error of the run
        stats.errors.append(f"session: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
    finally:
        await context.close()
    return stats


def plan_views() -> dict[str, View]:
    """adcode -> how its view shows on the page."""
    from plan.loader import available_plans, load_plan

    out = {}
    for code in available_plans():
        plan = load_plan(code)
        municipal = code == "500000"
        out[code] = View(
            "重庆市（全市）" if municipal else plan.county_name, plan.title, "重庆市" if municipal else plan.county_name
        )
    return out


async def browser_load(sessions: int, duration_s: float, timeout_ms: float) -> LoadResult:
    from playwright.async_api import async_playwright

    views = plan_views()
    started = datetime.now().strftime("%Y-%m-%d %H:%M")
    srv = server.start(APP)
    log(f"server {srv.url}; {sessions} sessions for {duration_s:.0f} s")
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=br.CHROMIUM, headless=True, args=br.CHROMIUM_ARGS)
            try:
                until = time.monotonic() + duration_s
                tasks = []
                for i in range(sessions):
                    tasks.append(
                        asyncio.create_task(
                            run_session(browser, srv.url, views, seed=1000 + i, until=until, timeout_ms=timeout_ms)
                        )
                    )
                    await asyncio.sleep(0.25)  # the users arrive over five seconds, not in the same millisecond
                stats = list(await asyncio.gather(*tasks))
            finally:
                await browser.close()
        peak = srv.peak_rss_mb()
        exceptions = server_exceptions(srv.log.read_text(errors="replace"))
    finally:
        srv.stop()
    return LoadResult(sessions, duration_s, stats, exceptions, peak, machine.load_average(), started)


# --- the document ----------------------------------------------------------------------------------------------------


def _ms(values: list[float], q: float) -> str:
    v = percentile(values, q)
    return "—" if v is None else f"{v:,.0f} ms"


def section(result: LoadResult, machine_lines: list[str]) -> str:
    """The docs/perf.md section of a load run (Markdown)."""
    actions = result.actions
    errors = result.merged("errors")
    console = result.merged("console_errors")
    panel, view, layer = result.merged("panel_ms"), result.merged("view_ms"), result.merged("layer_ms")
    rows = [
        ("concurrent browser sessions (one server)", f"{result.sessions}"),
        ("duration", f"{result.duration_s:.0f} s"),
        (
            "actions",
            f"{sum(actions.values()):,} (feature clicks {actions['feature']:,}, view switches {actions['view']:,}, "
            f"layer toggles {actions['layer']:,})",
        ),
        ("errors", f"{len(errors)}"),
        ("console errors", f"{len(console)}"),
        ("server exceptions (log)", f"{len(result.server_exceptions)}"),
        (f"click → panel, p50 / p95 (n = {len(panel):,})", f"{_ms(panel, 0.5)} / {_ms(panel, 0.95)}"),
        (
            "feature actions without a measurement",
            f"{sum(s.skipped for s in result.stats):,} (the pin already shown, or a cluster opened first)",
        ),
        (f"view switch, p50 / p95 (n = {len(view):,})", f"{_ms(view, 0.5)} / {_ms(view, 0.95)}"),
        (f"layer toggle, p50 / p95 (n = {len(layer):,})", f"{_ms(layer, 0.5)} / {_ms(layer, 0.95)}"),
        ("server peak memory (VmHWM)", "—" if result.peak_rss_mb is None else f"{result.peak_rss_mb:,.0f} MiB"),
        ("load average at end (1 min)", "—" if result.load_end is None else f"{result.load_end:.2f}"),
    ]
    lines = [
        "## Load and concurrency",
        "",
        f"Generated by `make bench-load` (`python -m bench.load`) on {result.started}.  Do not edit by hand.",
        "The machine is shared with other work, and every session's Chromium runs on it too: the times are those of",
        "an overloaded two-core machine, not of a server on its own.",
        "",
        "| figure | value |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in rows],
        "",
    ]
    if errors or console or result.server_exceptions:
        lines += ["First problems seen:", ""]
        lines += [f"- {e}" for e in (errors[:5] + console[:5] + result.server_exceptions[:5])]
        lines.append("")
    for store in result.store:
        if store.pending:
            lines += [f"Concurrent importers/savers on the store, {store.backend}: **not run** — {store.pending}.", ""]
            continue
        verdict = "no row lost" if not store.problems and not store.lost else "ROWS LOST OR INCONSISTENT"
        lines += [
            f"Concurrent importers/savers on the store, {store.backend}: {store.writers} processes "
            f"({store.writers // 2} importers, {store.writers - store.writers // 2} savers) in {store.seconds:.1f} s; "
            f"{store.written:,} writes, {store.history_found:,} history rows and {store.items_found:,} of "
            f"{store.items_expected:,} items found, {store.conflicts} stale saves or colliding imports refused and "
            f"retried — **{verdict}**" + (f": {'; '.join(store.problems[:3])}" if store.problems else "") + ".",
            "",
        ]
    lines += [
        "What is measured: each session is a fresh browser context on one Chromium (flags of `bench/browser.py`, "
        "every non-localhost request blocked) that opens a random view, then repeats at random: click a pin on the "
        "map (weight 6), switch the view with a sidebar chip (2), toggle a layer chip (2).  *Click → panel* is "
        "measured in the page, from the click on the pin to the panel showing that item; view switch and "
        "layer toggle are measured by the driver (they include its latency).  An *error* is a wait on app state that "
        "timed out, an exception shown on the page, a page crash or a request leaving localhost; *server exceptions* "
        "are tracebacks in the server's log.  The sessions arrive 0.25 s apart.",
        "",
        "Machine of this run:",
        "",
        *machine_lines,
        "",
    ]
    return "\n".join(lines).rstrip() + "\n"


def write(path: Path, text: str) -> None:
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    path.write_text(splice_section(old, LOAD_SECTION, text), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--duration", type=float, default=120.0, help="seconds of clicking")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds a wait on app state may take")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "perf.md")
    parser.add_argument("--no-write", action="store_true", help="print the section, do not touch docs/perf.md")
    parser.add_argument("--verbose", action="store_true", help="log every action")
    parser.add_argument("--pg-url", help="PostGIS database for the store part (default: a throwaway cluster)")
    parser.add_argument("--store-only", action="store_true", help="only the store part (prints, writes nothing)")
    ns = parser.parse_args(argv)
    global VERBOSE
    VERBOSE = ns.verbose
    sys.path[:0] = [p for p in server.python_path().split(":") if p not in sys.path]
    if ns.store_only:
        for store in run_backends(ns.pg_url):
            print(store)
        return 0
    result = asyncio.run(browser_load(ns.sessions, ns.duration, ns.timeout * 1000))
    log("store: concurrent importers and savers")
    result.store = run_backends(ns.pg_url)
    text = section(result, machine.describe(br.CHROMIUM))
    print(text)
    if not ns.no_write:
        write(ns.out, text)
        log(f"written to {ns.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
