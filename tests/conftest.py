"""Shared fixtures: a real `streamlit run app.py` server and a Playwright page on Debian's Chromium.

The browser blocks every request that does not go to localhost (no tiles, no CDNs) and records console errors;
a test fails if any appeared.  Nothing here sleeps: we poll /_stcore/health and wait on page state.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

# Every test (and every app server a test starts) uses a throwaway store: nothing placed in a test reaches the
# user's store or the repository.  Set before config is imported anywhere.
_SESSION_DB_DIR = tempfile.mkdtemp(prefix="rrmap-test-store-")
os.environ["RRMAP_DB"] = str(Path(_SESSION_DB_DIR) / "session.gpkg")

import pytest  # noqa: E402  # after RRMAP_DB is set, so config reads the test store
from browser_support import SCREENSHOT_DIR, TIMEOUT_MS, configure_expect  # noqa: E402  # see RRMAP_DB above
from pg_cluster import Cluster, pg_bindir  # noqa: E402  # see RRMAP_DB above

# One launcher and one set of Chromium flags for tests, benchmark and screenshot script.
from bench.browser import CHROMIUM, CHROMIUM_ARGS, LOCAL_HOSTS  # noqa: E402  # see RRMAP_DB above
from bench.server import free_port, wait_healthy  # noqa: E402  # see RRMAP_DB above

ROOT = Path(__file__).resolve().parent.parent
# Logs of the Streamlit servers of this test session: a browser test fails on a warning any of them writes.
SERVER_LOGS: list[Path] = []
# Lines of a server log that fail a browser test (Streamlit and Python warnings, deprecations, tracebacks).
LOG_PROBLEM = re.compile(r"WARNING|Warning:|deprecat|Traceback", re.I)


def start_streamlit(env_extra: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = free_port()
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"rrmap-streamlit-{port}.log"
    env = {**os.environ, **(env_extra or {})}
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "app.py"),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
    ]
    SERVER_LOGS.append(log)
    handle = log.open("wb")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
    except RuntimeError as exc:
        proc.kill()
        raise RuntimeError(f"{exc}\n--- streamlit log ---\n{log.read_text(errors='replace')[-4000:]}") from exc
    return proc, url, log


@contextlib.contextmanager
def running_app(env_extra: dict[str, str] | None = None) -> Iterator[str]:
    """`streamlit run app.py` on a free port for the duration of the block; yields its URL."""
    proc, url, _log = start_streamlit(env_extra)
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def app_url() -> Iterator[str]:
    with running_app() as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium", pytrace=False)
    configure_expect()
    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


class ConsoleErrors(list[str]):
    """Console errors, page errors and blocked outside requests seen by a page."""


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[object]:
    """Keep each phase's report on the test item, so fixtures can tell whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def screenshot_on_failure(request: pytest.FixtureRequest, pg: object) -> None:
    """Leave evidence of a failed browser test: a full-page screenshot under SCREENSHOT_DIR."""
    report = getattr(request.node, "report_call", None)
    if report is None or not report.failed:
        return
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in request.node.nodeid)[-150:]
    path = SCREENSHOT_DIR / f"{name}.png"
    try:
        pg.screenshot(path=str(path), full_page=True)
        print(f"screenshot of the failed page: {path}")
    except Exception as exc:  # noqa: BLE001 - evidence is best effort; the test's own failure is what counts
        print(f"no screenshot of the failed page: {exc}")


def open_page(browser: object) -> tuple[object, object]:
    """A new context and page that block every non-localhost request and record console errors.

    The page carries ``console_errors``, ``blocked_requests`` and the server logs' sizes; :func:`check_page` asserts
    nothing went wrong.
    """
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    errors = ConsoleErrors()
    blocked: list[str] = []

    def route(route: object) -> None:
        host = urlparse(route.request.url).hostname or ""
        if host in LOCAL_HOSTS or route.request.url.startswith(("data:", "blob:", "about:")):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    pg = context.new_page()
    pg.on("console", lambda msg: errors.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    pg.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    pg.console_errors = errors
    pg.blocked_requests = blocked
    pg.log_sizes = {log: log.stat().st_size for log in SERVER_LOGS if log.exists()}
    return context, pg


def check_page(pg: object) -> None:
    """No outside request, no console error, no warning in the server logs while the page was open."""
    assert not pg.blocked_requests, f"the page tried to reach the internet: {pg.blocked_requests[:5]}"
    assert not pg.console_errors, "browser console errors:\n" + "\n".join(pg.console_errors[:10])
    problems = server_log_problems(pg.log_sizes)
    assert not problems, "the Streamlit server logged warnings during the test:\n" + "\n".join(problems[:10])


@pytest.fixture()
def page(browser: object, request: pytest.FixtureRequest) -> Iterator[object]:
    context, pg = open_page(browser)
    try:
        yield pg
    finally:
        screenshot_on_failure(request, pg)
        context.close()
    check_page(pg)


# --- the store's backends ----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """A PostgreSQL + PostGIS cluster for the session (unix socket in a temp dir, stopped and deleted after)."""
    bindir = pg_bindir()
    if bindir is None or not (bindir / "initdb").exists():
        pytest.fail(
            "PostgreSQL server binaries are missing: `make test` installs Debian's postgresql and "
            "postgresql-15-postgis-3",
            pytrace=False,
        )
    cluster = Cluster(bindir)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture()
def pg_url(pg_cluster: Cluster) -> Iterator[str]:
    """URL of a fresh PostGIS database (dropped after the test)."""
    url = pg_cluster.new_database()
    yield url
    pg_cluster.drop_database(url)


@pytest.fixture(params=["gpkg", "postgis"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty store on each backend: a GeoPackage path (created on first use) or a PostGIS URL."""
    if request.param == "gpkg":
        return str(tmp_path / "store" / "edits.gpkg")
    return str(request.getfixturevalue("pg_url"))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    import shutil

    shutil.rmtree(_SESSION_DB_DIR, ignore_errors=True)


def server_log_problems(since: dict[Path, int]) -> list[str]:
    """Warning lines the servers wrote after ``since`` (log -> size then)."""
    out = []
    for log in SERVER_LOGS:
        if not log.exists():
            continue
        with log.open("rb") as handle:
            handle.seek(since.get(log, 0))
            text = handle.read().decode("utf-8", errors="replace")
        out += [line for line in text.splitlines() if LOG_PROBLEM.search(line)]
    return out


# --- the interop tier (tests/test_interop_*.py): every export of every plan, made once per session ------------


@pytest.fixture(scope="session")
def interop_exports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, ...]:
    from interop_support import build_exports

    return build_exports(tmp_path_factory.mktemp("interop"))


@pytest.fixture(scope="session")
def qgis_report(interop_exports: tuple[Any, ...], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What QGIS 3.22 makes of every export (one QGIS process opens them all)."""
    from interop_support import inspect_in_qgis

    return inspect_in_qgis(interop_exports, tmp_path_factory.mktemp("qgis"))
