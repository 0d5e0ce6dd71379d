"""Regenerate docs/screenshot.png: the 云阳县 overview in offline Chromium (the README picture).

Usage: .venv/bin/python scripts/screenshot.py [--query "?county=500235"] [--out docs/screenshot.png]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright

from bench import browser, server

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--query", default="?county=500235")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png")
    parser.add_argument("--size", default="1920x1080")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.split("x"))
    app = server.start(ROOT / "app.py")
    try:
        with sync_playwright() as pw:
            chromium = browser.launch(pw)
            page = chromium.new_page(viewport={"width": width, "height": height}, locale="zh-CN")
            page.route(
                "**/*",
                lambda r: (
                    r.continue_() if urlparse(r.request.url).hostname in ("127.0.0.1", "localhost") else r.abort()
                ),
            )
            page.goto(app.url + args.query)
            frame = page.frame_locator("iframe[title='streamlit_folium.st_folium']")
            frame.locator(".leaflet-marker-pane > *:visible").first.wait_for(timeout=60_000)
            page.get_by_text("属性表").first.wait_for(timeout=30_000)
            page.wait_for_timeout(1500)  # let cluster/zoom animations settle (a picture, not a test)
            page.screenshot(path=str(args.out))
            chromium.close()
    finally:
        app.stop()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
