"""Search plan items by Chinese text, full pinyin or pinyin initials (云阳 / yunyang / yy)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd
from pypinyin import Style, lazy_pinyin


def pinyin_forms(text: str) -> tuple[str, str]:
    """(full pinyin without spaces, initials) of ``text``; non-Chinese characters kept lower-cased."""
    full = "".join(lazy_pinyin(text, style=Style.NORMAL, errors="default")).lower()
    initials = "".join(lazy_pinyin(text, style=Style.FIRST_LETTER, errors="default")).lower()
    return full.replace(" ", ""), initials.replace(" ", "")


@dataclass(frozen=True)
class SearchEntry:
    id: str
    text: str  # everything searchable as written: name, places, designation
    name_py: str  # pinyin of the name
    name_ini: str  # initials of the name
    places_py: str  # pinyin of the places


def build_index(rows: Iterable[tuple[str, str, Sequence[str], str | None]]) -> list[SearchEntry]:
    """Index of ``(id, name, places, designation)`` rows."""
    out: list[SearchEntry] = []
    for eid, name, places, designation in rows:
        py, ini = pinyin_forms(name)
        places_py = " ".join(pinyin_forms(p)[0] for p in places)
        text = " ".join([name, *places, designation or ""])
        out.append(SearchEntry(eid, text, py, ini, places_py))
    return out


def index_features(features: pd.DataFrame) -> list[SearchEntry]:
    designations = [d if isinstance(d, str) else None for d in features["designation"]]  # NaN -> None
    return build_index(zip(features["id"], features["name"], features["places"], designations))


def search(index: Sequence[SearchEntry], query: str) -> list[str]:
    """Ids matching ``query`` (best first): exact text > initials prefix > pinyin substring.

    Chinese queries match the written text; ASCII queries match pinyin of names and places and initials.
    """
    q = query.strip().lower().replace(" ", "")
    if not q:
        return [e.id for e in index]
    scored: list[tuple[int, int, str]] = []
    for n, entry in enumerate(index):
        score = None
        if q in entry.text.lower():
            score = 0
        elif q.isascii():
            if entry.name_ini.startswith(q):
                score = 1
            elif entry.name_py.startswith(q):
                score = 1
            elif q in entry.name_py or q in entry.name_ini:
                score = 2
            elif q in entry.places_py.replace(" ", "") or any(p.startswith(q) for p in entry.places_py.split()):
                score = 3
        if score is not None:
            scored.append((score, n, entry.id))
    return [eid for _, _, eid in sorted(scored)]
