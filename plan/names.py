"""Normalised Chinese place names for matching.

Plans write the same place several ways: 泥溪镇 / 泥溪, full-width or half-width brackets, and pairs such as
鸡鸣-咸宜 with any of the dash variants (including 一, which PDF conversion often produces for a dash).
"""

from __future__ import annotations

import re
import unicodedata

# Longest first, so 街道 is removed before 道 could ever matter and 社区 before 区.
SUFFIXES: tuple[str, ...] = ("街道办事处", "街道", "社区", "镇", "乡", "村")
_DASHES = "—―–－‐‑‒-"
_DASH_RE = re.compile(f"[{_DASHES}]+")
# 一 between two CJK characters in a name pair is a converted dash only when the caller says so (see variants).
_SPACE_RE = re.compile(r"\s+")


def _halfwidth(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def normalise(name: str) -> str:
    """Return the matching key of a place name.

    Full-width forms become half-width (NFKC), dash variants become ``-``, spaces are removed and one
    administrative suffix (街道/社区/镇/乡/村) is stripped, unless that would leave fewer than two characters
    (``石村`` stays ``石村``... stripped to ``石`` would match too much).

    Examples
    --------
    >>> normalise("泥溪镇")
    '泥溪'
    >>> normalise("鸡鸣—咸宜")
    '鸡鸣-咸宜'
    """
    text = _SPACE_RE.sub("", _halfwidth(name))
    text = _DASH_RE.sub("-", text)
    for suffix in SUFFIXES:
        if text.endswith(suffix) and len(text) - len(suffix) >= 2:
            return text[: -len(suffix)]
    return text


def variants(name: str) -> list[str]:
    """Forms under which ``name`` may appear in a plan's text, longest first.

    The written name, its half-width form, its bare form without suffix, and for a dash pair the same with
    ``一`` as the dash (a frequent PDF conversion artefact).
    """
    forms = {name, _halfwidth(name), normalise(name)}
    for form in list(forms):
        if "-" in form or _DASH_RE.search(form):
            forms.add(_DASH_RE.sub("一", form))
            forms.add(_DASH_RE.sub("—", form))
    return sorted((f for f in forms if f), key=lambda f: (-len(f), f))
