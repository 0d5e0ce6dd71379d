"""Time until the map is drawn in headless Chromium (offline), bytes received, and responsiveness after drawing.

Every page gets a fresh browser context (empty HTTP cache) that blocks all non-localhost requests, like the browser
tests.  "Drawn" = from navigation start of the page until Leaflet's panes inside the st_folium iframe hold the
expected vector paths and markers: a watcher installed in the page before any script runs checks the iframe's DOM on
every mutation and records the time in the page (``performance.timeOrigin + now()`` minus the navigation's
``timeOrigin``), so Playwright's own latency is not counted; waiting on DOM state, never on sleeps.
"""

from __future__ import annotations

import json
import os
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

CHROMIUM = os.environ.get("RRMAP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}
IFRAME = 'iframe[title="streamlit_folium.st_folium"]'

# Long tasks of every frame, recorded from the very start (registered before any page script runs).
LONGTASK_JS = """
window.__rrLong = [];
try {
  new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__rrLong.push(e.duration); })
    .observe({type: "longtask", buffered: true});
} catch (e) {}
"""
# Installed in the top page before any page script runs: watches the map iframe's document from the start and
# records (epoch ms, in window.__rrDrawn) the first DOM mutation after which Leaflet's panes hold what is expected.
# The watcher lives in the top page because the component iframe's first document (about:blank) is replaced when it
# navigates to the component, and an observer on the old document would see nothing; a 4 ms timer re-attaches it to
# whichever document the iframe holds.  Measured in the page, so Playwright's own latency never counts.
DRAWN_INIT_JS = """
(() => {
  if (window !== window.top) return;
  const exp = %s;
  let doc = null;
  const count = (d) => [
    d.querySelectorAll('.leaflet-overlay-pane path, .leaflet-overlay-pane canvas').length,
    d.querySelectorAll('.leaflet-marker-pane .leaflet-marker-icon').length,
  ];
  const check = () => {
    if (window.__rrDrawn !== undefined || !doc) return;
    const [paths, markers] = count(doc);
    if (paths >= exp.paths && markers >= exp.markers) window.__rrDrawn = performance.timeOrigin + performance.now();
  };
  const attach = () => {
    if (window.__rrDrawn !== undefined) { clearInterval(timer); return; }
    const frame = document.querySelector(exp.iframe);
    const d = frame && frame.contentDocument;
    if (d && d !== doc) {
      doc = d;
      new MutationObserver(check).observe(d, {childList: true, subtree: true});
      check();
    }
  };
  const timer = setInterval(attach, 4);
})();
"""
# What the map iframe holds, for the report when a page is not drawn in time.
COUNT_JS = """
(sel) => {
  const f = document.querySelector(sel), d = f && f.contentDocument;
  if (!d) return 'no map iframe';
  return [d.querySelectorAll('.leaflet-overlay-pane path, .leaflet-overlay-pane canvas').length,
          d.querySelectorAll('.leaflet-marker-pane .leaflet-marker-icon').length];
}
"""
# One zoom step without animation, timed until the next frame is painted: the cost of redrawing every layer.
ZOOM_JS = """
() => new Promise((resolve) => {
  const m = window.map;
  const t0 = performance.now();
  m.once('zoomend', () => requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - t0), 0)));
  m.setZoom(m.getZoom() + 1, {animate: false});
})
"""
STATS_JS = """
() => {
  const res = performance.getEntriesByType('resource');
  return {
    markers: document.querySelectorAll('.leaflet-marker-pane .leaflet-marker-icon').length,
    paths: document.querySelectorAll('.leaflet-overlay-pane path').length,
    canvas: document.querySelectorAll('.leaflet-overlay-pane canvas').length,
    http_bytes: res.reduce((s, r) => s + (r.transferSize || 0), 0),
    longest_task_ms: Math.max(0, ...(window.__rrLong || [])),
    long_tasks_ms: (window.__rrLong || []).reduce((s, d) => s + d, 0),
  };
}
"""


@dataclass(frozen=True)
class Expect:
    """Minimum numbers of SVG paths (or a canvas) and of marker icons that mean "the map is drawn"."""

    paths: int = 1
    markers: int = 0


@dataclass
class DrawResult:
    drawn_ms: list[float] = field(default_factory=list)
    iframe_ms: list[float] = field(default_factory=list)
    ws_bytes: int | None = None
    http_bytes: int | None = None
    dom_markers: int | None = None
    dom_paths: int | None = None
    canvas: int | None = None
    zoom_ms: float | None = None
    longest_task_ms: float | None = None
    console_errors: int = 0
    blocked: int = 0
    error: str | None = None

    @property
    def drawn_median_ms(self) -> float | None:
        return statistics.median(self.drawn_ms) if self.drawn_ms else None

    @property
    def iframe_median_ms(self) -> float | None:
        return statistics.median(self.iframe_ms) if self.iframe_ms else None


def launch(pw: Any) -> Any:
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: `make bench` installs Debian's chromium (make system-deps)")
    return pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def draw_once(browser: Any, url: str, expect: Expect, timeout_s: float, measure_zoom: bool) -> dict[str, Any]:
    """Open ``url`` in a fresh context; return drawn time, bytes and responsiveness figures."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    context.add_init_script(LONGTASK_JS)
    watch = {"paths": expect.paths, "markers": expect.markers, "iframe": IFRAME}
    context.add_init_script(DRAWN_INIT_JS % json.dumps(watch))
    counters = {"ws": 0, "blocked": 0, "errors": 0}

    def route(route: Any) -> None:
        req_url = route.request.url
        host = urlparse(req_url).hostname or ""
        if host in LOCAL_HOSTS or req_url.startswith(("data:", "blob:", "about:")):
            route.continue_()
        else:
            counters["blocked"] += 1
            route.abort()

    def on_ws(ws: Any) -> None:
        ws.on("framereceived", lambda payload: counters.__setitem__("ws", counters["ws"] + len(payload)))

    context.route("**/*", route)
    page = context.new_page()
    page.on("websocket", on_ws)
    page.on("console", lambda msg: counters.__setitem__("errors", counters["errors"] + (msg.type == "error")))
    try:
        timeout = timeout_s * 1000
        page.goto(url, wait_until="commit", timeout=timeout)
        try:
            page.wait_for_function("() => window.__rrDrawn !== undefined", timeout=timeout, polling=50)
        except Exception as exc:  # what the map held when we gave up, for the report
            exc.rr_state = f" (map: {page.evaluate(COUNT_JS, IFRAME)}, expected {expect})"
            raise
        drawn_epoch = page.evaluate("window.__rrDrawn")
        frame = page.wait_for_selector(IFRAME, timeout=timeout, state="attached").content_frame()
        nav_epoch = float(page.evaluate("performance.timeOrigin"))
        out: dict[str, Any] = {
            "drawn_ms": float(drawn_epoch) - nav_epoch,
            "iframe_ms": float(frame.evaluate("performance.timeOrigin")) - nav_epoch,
            "ws_bytes": counters["ws"],
        }
        frame.wait_for_function("() => !!window.map", timeout=timeout)
        zoom = frame.evaluate(ZOOM_JS) if measure_zoom else None
        stats = frame.evaluate(STATS_JS)
        top_http = page.evaluate(
            "() => performance.getEntriesByType('resource').filter(r => r.name.includes('/component/'))"
            ".reduce((s, r) => s + (r.transferSize || 0), 0)"
        )
        out.update(
            zoom_ms=zoom,
            dom_markers=stats["markers"],
            dom_paths=stats["paths"],
            canvas=stats["canvas"],
            http_bytes=int(stats["http_bytes"]) + int(top_http),
            longest_task_ms=stats["longest_task_ms"],
            console_errors=counters["errors"],
            blocked=counters["blocked"],
        )
        return out
    finally:
        context.close()


def measure_drawn(
    browser: Any, url: str, expect: Expect, runs: int, timeout_s: float = 60.0, warmup: bool = True
) -> DrawResult:
    """Median of ``runs`` fresh page loads (after one warm-up load that fills the server's caches)."""
    result = DrawResult()
    try:
        if warmup:
            draw_once(browser, url, expect, timeout_s, measure_zoom=False)
        last: dict[str, Any] = {}
        for _ in range(runs):
            last = draw_once(browser, url, expect, timeout_s, measure_zoom=True)
            result.drawn_ms.append(last["drawn_ms"])
            result.iframe_ms.append(last["iframe_ms"])
        result.ws_bytes = last.get("ws_bytes")
        result.http_bytes = last.get("http_bytes")
        result.dom_markers = last.get("dom_markers")
        result.dom_paths = last.get("dom_paths")
        result.canvas = last.get("canvas")
        result.zoom_ms = last.get("zoom_ms")
        result.longest_task_ms = last.get("longest_task_ms")
        result.console_errors = last.get("console_errors", 0)
        result.blocked = last.get("blocked", 0)
    except Exception as exc:  # noqa: BLE001 - a case that times out is reported in the table, not fatal
        result.error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}{getattr(exc, 'rr_state', '')}"
    return result


def explore_expect(n_boundaries: int, geoms: Any) -> Expect:
    """What a drawn ``explore()`` map holds: one SVG path per boundary row and per line/area feature, and one
    circle-marker path per point (a MultiPoint draws each of its points); no marker icons."""
    paths = n_boundaries
    for geom in geoms:
        if geom is None or geom.is_empty:
            continue
        if geom.geom_type == "MultiPoint":
            paths += len(geom.geoms)
        else:
            paths += 1
    return Expect(paths=paths, markers=0)
