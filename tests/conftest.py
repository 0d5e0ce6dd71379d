"""Shared fixtures: a real `streamlit run app.py` server and a Playwright page on Debian's Chromium.

The browser blocks every request that does not go to localhost (no tiles, no CDNs) and records console errors;
a test fails if any appeared.  Nothing here sleeps: we poll /_stcore/health and wait on page state.
"""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

# One launcher and one set of Chromium flags for tests, benchmark and screenshot script.
from bench.browser import CHROMIUM, CHROMIUM_ARGS, LOCAL_HOSTS
from bench.server import free_port, wait_healthy

ROOT = Path(__file__).resolve().parent.parent


def start_streamlit(env_extra: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = free_port()
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"rrmap-streamlit-{port}.log"
    env = {**os.environ, **(env_extra or {})}
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
        "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
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
    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


class ConsoleErrors(list[str]):
    """Console errors, page errors and blocked outside requests seen by a page."""


@pytest.fixture()
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")  # type: ignore[attr-defined]
    errors = ConsoleErrors()
    blocked: list[str] = []

    def route(route: object) -> None:
        host = urlparse(route.request.url).hostname or ""  # type: ignore[attr-defined]
        if host in LOCAL_HOSTS or route.request.url.startswith(("data:", "blob:", "about:")):  # type: ignore[attr-defined]
            route.continue_()  # type: ignore[attr-defined]
        else:
            blocked.append(route.request.url)  # type: ignore[attr-defined]
            route.abort()  # type: ignore[attr-defined]

    context.route("**/*", route)
    pg = context.new_page()
    pg.on("console", lambda msg: errors.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    pg.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    pg.console_errors = errors  # type: ignore[attr-defined]
    pg.blocked_requests = blocked  # type: ignore[attr-defined]
    try:
        yield pg
    finally:
        context.close()
    assert not blocked, f"the page tried to reach the internet: {blocked[:5]}"
    assert not errors, "browser console errors:\n" + "\n".join(errors[:10])
