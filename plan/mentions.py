"""Mentions index: for each registered place, the sentences of the plan that name it.

Feeds the "规划中关于此地的表述" panel.  Computed from the seed text, never typed by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from plan.model import Place, Plan
from plan.names import variants

_SENTENCE_END = re.compile(r"(?<=[。；！？])")
_BOOKMARK = re.compile(r"\[bookmark: [^\]]*\]")


@dataclass(frozen=True)
class Mention:
    """One sentence of a plan that names a place."""

    line: int
    sentence: str
    form: str  # the form of the name found in the sentence


def sentences(lines: tuple[str, ...]) -> list[tuple[int, str]]:
    """Split a seed into (line number, sentence) pairs; Word bookmark artefacts are dropped."""
    out: list[tuple[int, str]] = []
    for number, line in enumerate(lines, start=1):
        clean = _BOOKMARK.sub("", line).strip()
        for part in _SENTENCE_END.split(clean):
            part = part.strip()
            if part:
                out.append((number, part))
    return out


def place_forms(place: Place) -> list[str]:
    """Forms searched for: the written name and its aliases (with dash variants).

    The bare form without suffix is used only when the plan itself registers it as an alias: bare two-character
    names would otherwise match inside unrelated words.
    """
    forms: set[str] = set()
    for written in (place.name, *place.aliases):
        forms.add(written)
        if "-" in place.norm or any(d in written for d in "—―–－-一"):
            forms.update(v for v in variants(written) if v != place.norm or place.norm in place.aliases)
    return sorted((f for f in forms if len(f) >= 2), key=lambda f: (-len(f), f))


def mentions_of(place: Place, plan_sentences: list[tuple[int, str]]) -> list[Mention]:
    """Sentences naming ``place``; a village qualified by another town is not counted as this one."""
    forms = place_forms(place)
    out: list[Mention] = []
    for line, sentence in plan_sentences:
        for form in forms:
            if form in sentence:
                out.append(Mention(line=line, sentence=sentence, form=form))
                break
    return out


def build_mentions(plan: Plan) -> dict[str, list[Mention]]:
    """Mentions index of a plan, keyed by :attr:`Place.key`."""
    plan_sentences = sentences(plan.lines)
    return {place.key: mentions_of(place, plan_sentences) for place in plan.places}
