"""Reasons and notes in a planner's words, with the technical detail kept for GIS staff.

The resolver (:mod:`geo.resolve`) and the curated plan files explain locations in the words of the data: file
names, field names, dataset names.  A planner reads a sentence about the plan instead; the original text stays
available in a "给 GIS 人员" detail.  Known resolver phrasings are rewritten by the rules below; any other text
that still names files or fields goes to the detail whole, and the planner reads a general sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Rewrites of resolver phrasings: (pattern, planner sentence).  ``\g<n>`` refers to the pattern's groups.
_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^全域性事项，不落点$"), "这是全域性的工作，规划没有落到具体地点，故不在图上标点"),
    (re.compile(r"^规划未写明地点$"), "规划没有写明地点，故不在图上标点"),
    (re.compile(r"^乡镇驻地：(.+)$"), r"标在\1的乡镇驻地（示意位置）"),
    (re.compile(r"^多个乡镇驻地：(.+)$"), r"标在\1各自的乡镇驻地（示意位置）"),
    (re.compile(r"^区县范围：(.+)$"), r"范围为\1全境"),
    (re.compile(r"^示意线：依次连接锚点 (.+)$"), r"示意线：依次连接 \1"),
    (re.compile(r"^用户坐标.*$"), "位置来自 GIS 人员提供的坐标"),
    (
        re.compile(r"^“(.+?)”不在规划的地点登记表中.*$"),
        r"“\1”是河流、道路、外区县或未登记的地名，不在图上标点",
    ),
    (
        re.compile(r"^乡镇“(.+?)”在地名表中没有坐标.*$"),
        r"公开地名数据中找不到“\1”的准确位置，暂不标点；GIS 人员可补充坐标",
    ),
    (re.compile(r"^村“(.+?)”所属乡镇“(.+?)”没有坐标$"), r"“\1”所属的\2暂无位置，故该村也无法标点"),
    (re.compile(r"^村“(.+?)”无法定位：(.+)$"), r"“\1”无法标点：\2"),
    (
        re.compile(r"^“(.+?)”（\w+）无公开坐标.*$"),
        r"“\1”没有公开的位置数据，暂不标点；GIS 人员可补充坐标",
    ),
    (
        re.compile(r"^规划提及(.+?)（沿线或片区.*）$"),
        r"规划提及\1，属沿线或片区，没有可用的线状或面状位置数据，故不作示意",
    ),
    (
        re.compile(r"^产业带需要至少两个已定位的锚点，只定位到 (\d+) 个$"),
        r"产业带至少要有两处已知位置才能示意，目前只有 \1 处",
    ),
    (re.compile(r"^未定位：(.+)$"), r"部分地点未标出：\1"),
)
# Text a planner should not have to read: file names, paths, field names and other code words.
_TECHNICAL = re.compile(
    r"[\w./-]*\.(?:csv|ya?ml|txt|json|geojson|zip)\b|data/|\b[a-z]+_[a-z_]+\b|\b(?:scope|places|category|county|precision|overrides?)\b",
    re.I,
)
_BRACKETED = re.compile(r"（[^（）]*）")
GENERAL = "位置信息有待补充，详见“给 GIS 人员”的说明"


@dataclass(frozen=True)
class Explained:
    """A sentence for the planner and, when it differs, the original text for GIS staff."""

    planner: str
    detail: str = ""


def technical(text: str) -> bool:
    """Whether ``text`` names files, paths, fields or other code words."""
    return bool(_TECHNICAL.search(text))


def _part(text: str) -> str:
    """One reason (between "；") in a planner's words."""
    text = text.strip()
    for pattern, planner in _RULES:
        if pattern.match(text):
            out = pattern.sub(planner, text)
            return _part_clean(out)
    return _part_clean(text)


def _part_clean(text: str) -> str:
    # A bracket naming a file or field is dropped (it is in the detail); what still names one is replaced whole.
    text = _BRACKETED.sub(lambda m: "" if technical(m.group(0)) else m.group(0), text)
    return GENERAL if technical(text) else text


def explain(reason: object) -> Explained:
    """A resolver reason (``geo.resolve``) as a planner's sentence, the original kept as the GIS detail."""
    if not isinstance(reason, str) or not reason.strip():
        return Explained("")
    parts = [p for p in (_part(piece) for piece in reason.split("；")) if p]
    planner = "；".join(dict.fromkeys(parts))
    return Explained(planner, "" if planner == reason else reason)


def explain_note(note: object) -> Explained:
    """A curator's note of a plan file: shown to the planner unless it speaks of fields or files (then GIS only)."""
    if not isinstance(note, str) or not note.strip():
        return Explained("")
    if technical(note):
        return Explained("", note)
    return Explained(note)
