"""Text from data files made safe for HTML and Markdown, in one place.

Everything that comes from a file (plan, import, user) goes through :func:`esc` before it reaches HTML or
JavaScript, and through :func:`md` before it reaches Markdown.
"""

from __future__ import annotations

import functools
import html
import re
from typing import Any

_JS_UNSAFE = str.maketrans({"`": "&#96;", "$": "&#36;", "\\": "&#92;"})
# Characters with a meaning in (GitHub-flavoured) Markdown, escaped so text from a file shows as written.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~])")


def esc(value: Any) -> str:
    """HTML-escape any value for markup (also neutralises characters special in JS template literals)."""
    return _esc_text("" if value is None else str(value))


@functools.lru_cache(maxsize=8192)  # labels, designations, quotes repeat across thousands of markers
def _esc_text(text: str) -> str:
    out = html.escape(text, quote=True)
    if "`" in out or "$" in out or "\\" in out:
        out = out.translate(_JS_UNSAFE)
    return out


def text(value: Any) -> str | None:
    """A table cell as text, or None when empty/missing (pandas turns None into NaN in object columns)."""
    if isinstance(value, str):
        return value or None
    return None


def md(value: object) -> str:
    """Text from a data file for Markdown: special characters escaped, line breaks as spaces."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(value).split()))
