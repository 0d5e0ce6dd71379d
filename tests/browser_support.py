"""Browser-test settings in one place: the timeout, a lazy Playwright ``expect``, where failure screenshots go.

Playwright is imported only when a browser test runs, so ``pytest -m "not browser"`` collects without it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Every wait of every browser test (locators, expect, navigation) uses this one timeout.
TIMEOUT_MS = int(os.environ.get("RRMAP_BROWSER_TIMEOUT_MS", "60000"))
# A failed browser test leaves a screenshot of its page here (git-ignored).
SCREENSHOT_DIR = Path(os.environ.get("RRMAP_BROWSER_SCREENSHOTS", ROOT / ".cache" / "browser-failures"))


def expect(target: Any) -> Any:
    """Playwright's ``expect`` (its default timeout is :data:`TIMEOUT_MS`, set once by the browser fixture)."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def configure_expect() -> None:
    from playwright.sync_api import expect as playwright_expect

    playwright_expect.set_options(timeout=TIMEOUT_MS)
