"""The CJK font of printed maps: found through ``matplotlib.font_manager``, or a clear message what to install.

Debian's ``fonts-noto-cjk`` gives Noto Sans CJK (``make run``/``make test`` install it when missing).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from pathlib import Path

from matplotlib import font_manager
from matplotlib.font_manager import FontProperties
from matplotlib.ft2font import FT2Font

from gisio.errors import FontMissingError

# Families tried in order; Noto Sans CJK comes with Debian's fonts-noto-cjk.
CJK_FAMILIES: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
    "Noto Serif CJK SC",
)
_CJK_FILE = re.compile(r"(NotoSansCJK|NotoSerifCJK|SourceHanSans|wqy|msyh|simhei|PingFang)", re.I)


def cjk_font_family() -> str:
    """The family name of an installed CJK font matplotlib can use.

    Raises
    ------
    FontMissingError
        No CJK font is installed.
    """
    names = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in names:
            return family
    # Installed after matplotlib built its font cache: register the files directly.
    for path in font_manager.findSystemFonts():
        if _CJK_FILE.search(Path(path).name):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError):
                continue
    names = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in names:
            return family
    raise FontMissingError(
        "未找到中文字体，地图上的中文会显示成方框。请安装 Noto CJK 字体："
        "Debian/Ubuntu 运行 sudo apt-get install fonts-noto-cjk（`make test` 会自动安装），然后重试",
        "font_missing",
    )


@functools.lru_cache(maxsize=4)
def _charmap(family: str) -> frozenset[int]:
    path = font_manager.findfont(FontProperties(family=family), fallback_to_default=False)
    return frozenset(FT2Font(path).get_charmap())


def missing_glyphs(family: str, texts: Iterable[str]) -> list[str]:
    """Characters of ``texts`` the font has no glyph for (they would print as empty boxes), in order."""
    charmap = _charmap(family)
    out: list[str] = []
    for text in texts:
        for ch in text:
            if not ch.isspace() and ord(ch) not in charmap and ch not in out:
                out.append(ch)
    return out
