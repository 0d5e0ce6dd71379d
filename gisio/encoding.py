"""Which text encoding an imported file's attributes are in: UTF-8, GBK, Big5 or UTF-16, checked by decoding.

A strict decode is not enough: GB18030 decodes almost any bytes, and Big5 text decodes as GBK into nonsense.
So every candidate that decodes is scored by the share of its Chinese characters that are common ones (the
3,755 first-level characters of GB 2312 and the 5,401 frequent characters of Big5) — the right encoding gives
real words, a wrong one gives rare characters and kana.  A Shapefile's ``.cpg`` is a claim, not a fact: when
its encoding does not decode the attributes, or clearly reads worse than another, the better one is used and
the user is told.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from gisio.errors import ImportRejected

# Display label -> Python codec.  CP950 is Big5 with the Microsoft additions most files use.
CODECS: dict[str, str] = {
    "UTF-8": "utf-8-sig",
    "GBK": "gb18030",
    "Big5": "cp950",
    "UTF-16": "utf-16",
    "UTF-16LE": "utf-16-le",
    "UTF-16BE": "utf-16-be",
}
# What the UI offers besides the detected ones.
CHOICES: tuple[str, ...] = ("UTF-8", "GBK", "Big5", "UTF-16")
# GDAL's name of each encoding (the Shapefile driver's ENCODING option).
GDAL_NAMES: dict[str, str] = {"UTF-8": "UTF-8", "GBK": "GB18030", "Big5": "CP950"}
# What a .cpg (or a user) may write for each encoding.
_ALIASES: dict[str, str] = {
    "UTF8": "UTF-8",
    "65001": "UTF-8",
    "GBK": "GBK",
    "936": "GBK",
    "CP936": "GBK",
    "GB2312": "GBK",
    "GB18030": "GBK",
    "ANSI936": "GBK",
    "BIG5": "Big5",
    "950": "Big5",
    "CP950": "Big5",
    "ANSI950": "Big5",
    "UTF16": "UTF-16",
}
# A candidate reads "clearly worse" than the best when its share of common characters is this much lower.
_CLEARLY_WORSE = 0.15
_PUNCTUATION = set("，。、；：？！“”‘’（）《》【】—…·「」『』")


def canonical(label: str) -> str | None:
    """The display label of an encoding name (``"cp936"`` -> ``"GBK"``), None when unknown."""
    key = label.strip().upper().replace("-", "").replace("_", "").replace(" ", "")
    if key in _ALIASES:
        return _ALIASES[key]
    for name in CODECS:
        if key == name.upper().replace("-", ""):
            return name
    return None


def _table(codec: str, first: range, second: list[int]) -> frozenset[str]:
    out = set()
    for b1 in first:
        for b2 in second:
            try:
                char = bytes([b1, b2]).decode(codec)
            except UnicodeDecodeError:
                continue
            if "\u4e00" <= char <= "\u9fff":
                out.add(char)
    return frozenset(out)


@functools.cache
def common_characters() -> frozenset[str]:
    """GB 2312 level 1 (simplified) and Big5's frequent characters (traditional), and CJK punctuation."""
    gb = _table("gb2312", range(0xB0, 0xD8), list(range(0xA1, 0xFF)))
    big5 = _table("big5", range(0xA4, 0xC7), [*range(0x40, 0x7F), *range(0xA1, 0xFF)])
    return gb | big5 | frozenset(_PUNCTUATION)


def plausibility(text: str) -> float:
    """Share of the non-ASCII characters of ``text`` that are common Chinese characters (1.0 when none)."""
    common = common_characters()
    wide = [c for c in text if ord(c) > 127 and not c.isspace()]
    if not wide:
        return 1.0
    return sum(c in common for c in wide) / len(wide)


@dataclass(frozen=True)
class EncodingGuess:
    """The encoding chosen for a file's text, the others that also decode it (best first), and why."""

    label: str
    candidates: tuple[str, ...]
    note: str | None = None


def _utf16_without_bom(raw: bytes) -> str | None:
    """UTF-16LE/BE text without a byte-order mark: ASCII characters leave a zero byte in every other place."""
    if len(raw) < 4 or len(raw) % 2:
        return None
    sample = raw[:4096]
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.3 * len(odd) and even.count(0) < 0.05 * len(even):
        return "UTF-16LE"
    if even.count(0) > 0.3 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "UTF-16BE"
    return None


def _decodes(raw: bytes, label: str) -> str | None:
    try:
        return raw.decode(CODECS[label])
    except (UnicodeDecodeError, LookupError):
        return None


def detect(raw: bytes, name: str = "", *, declared: str | None = None, declared_by: str = "") -> EncodingGuess:
    """The encoding of ``raw`` (a text file, or a DBF's names and text fields), with the other candidates.

    Parameters
    ----------
    raw
        The bytes to decode.
    name
        The file, for messages.
    declared
        What the file says its encoding is (a ``.cpg``), trusted only if it reads as well as the best candidate.
    declared_by
        Where ``declared`` was read (``"layer.cpg"``), for the note.

    Raises
    ------
    ImportRejected
        No candidate decodes the bytes (code ``encoding``).
    """
    if raw.startswith(b"\xef\xbb\xbf") or raw.isascii():
        return EncodingGuess("UTF-8", ("UTF-8",))
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return EncodingGuess("UTF-16", ("UTF-16",))
    utf16 = _utf16_without_bom(raw)
    if utf16 and _decodes(raw, utf16) is not None:
        return EncodingGuess(utf16, (utf16,))
    scored: list[tuple[float, int, str]] = []
    for order, label in enumerate(("UTF-8", "GBK", "Big5")):
        text = _decodes(raw, label)
        if text is not None:
            # UTF-8 that decodes is UTF-8 (other encodings almost never form valid UTF-8 by chance).
            score = 2.0 if label == "UTF-8" else plausibility(text)
            scored.append((score, -order, label))
    if not scored:
        where = f"“{name}”" if name else "文件"
        raise ImportRejected(
            f"{where}的文字编码无法识别（不是 UTF-8、GBK/GB18030、Big5 或 UTF-16）：请用 UTF-8 另存后再上传", "encoding"
        )
    scored.sort(reverse=True)
    best_score, _order, best = scored[0]
    candidates = tuple(label for _s, _o, label in scored)
    claimed = canonical(declared) if declared else None
    if declared and claimed is None:
        note = f"{declared_by or '文件'}声明的编码“{declared.strip()[:30]}”无法识别，已按内容识别为 {best}"
        return EncodingGuess(best, candidates, note)
    if claimed is not None:
        mine = next((s for s, _o, label in scored if label == claimed), None)
        if mine is not None and mine >= best_score - _CLEARLY_WORSE:
            return EncodingGuess(claimed, (claimed, *[c for c in candidates if c != claimed]))
        why = "无法按该编码解码" if mine is None else "按该编码读出的多为生僻字或乱码"
        note = (
            f"{declared_by or '文件'}声明编码为 {claimed}，但属性文字{why}；已改按 {best} 读取"
            "（如仍有乱码，请在“属性编码”中选择其他编码）"
        )
        return EncodingGuess(best, candidates, note)
    why_note: str | None = None
    if best == "Big5":
        why_note = "属性文字按内容识别为 Big5（繁体中文）编码；如有乱码，请在“属性编码”中选择其他编码"
    elif best == "GBK" and best_score < 0.5:
        why_note = "属性文字的编码不能确定（按 GBK 读取时多为生僻字）；如有乱码，请在“属性编码”中选择其他编码"
    return EncodingGuess(best, candidates, why_note)


def decode(raw: bytes, name: str, encoding: str | None) -> tuple[str, EncodingGuess]:
    """``raw`` as text: with the user's ``encoding`` if given, else the detected one.

    Raises
    ------
    ImportRejected
        The bytes do not decode with the chosen encoding (code ``encoding``).
    """
    if encoding:
        label = canonical(encoding) or encoding
        guess = EncodingGuess(label, (label,))
    else:
        guess = detect(raw, name)
    text = _decodes(raw, guess.label) if guess.label in CODECS else None
    if text is None:
        raise ImportRejected(f"“{name}”不能按 {guess.label} 编码读取：请选择正确的编码或用 UTF-8 另存", "encoding")
    return text.lstrip("\ufeff"), guess
