"""The category icons drawn in the map badges, as SVG (no icon font to download).

The SVGs are Font Awesome Free 6.2.0 solid icons (https://fontawesome.com, icons CC BY 4.0), installed from the npm
registry and copied to ``static/vendor`` by scripts/vendor_assets.py — never stored in the repository.  The badges
use ``<i class="fa-solid fa-<name>">`` markup with the names of ``config.CATEGORY_STYLE``; :func:`icon_css` draws
each icon as a CSS mask filled with the text colour, so it takes the badge's colour and size.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import quote

import config

# Our (Font Awesome 4/5) icon names -> file names of Font Awesome 6 where they were renamed.
FA6_FILES: dict[str, str] = {"home": "house", "plus-square": "square-plus", "info-circle": "circle-info"}
SVG_DIR = config.VENDOR_DIR / "@fortawesome" / "fontawesome-free" / "svgs" / "solid"
_COMMENT = re.compile(r"<!--.*?-->", re.S)


class IconError(RuntimeError):
    """An icon's SVG is not installed (run `make assets`)."""


def icon_names() -> list[str]:
    """Icon names used by the categories."""
    return sorted({style["icon"] for style in config.CATEGORY_STYLE.values()})


@lru_cache(maxsize=32)
def icon_svg(name: str) -> str:
    """The SVG markup of an icon (licence comment removed: the README carries the attribution)."""
    path = SVG_DIR / f"{FA6_FILES.get(name, name)}.svg"
    if not path.is_file():
        raise IconError(f"缺少图标文件 {path}：请运行 make assets（从 npm 安装 Font Awesome Free）")
    return _COMMENT.sub("", path.read_text(encoding="utf-8")).strip()


def icon_uri(name: str) -> str:
    """``data:`` URI of an icon's SVG."""
    return "data:image/svg+xml," + quote(icon_svg(name).replace('"', "'"), safe=" '=/:.,-")


@lru_cache(maxsize=1)
def icon_css() -> str:
    """CSS drawing ``<i class="fa-solid fa-<name>">`` of every category icon (1em square, current colour)."""
    rules = [
        "i.fa-solid { display: inline-block; width: 1em; height: 1em; background-color: currentColor;"
        " -webkit-mask: var(--rr-icon) center / contain no-repeat; mask: var(--rr-icon) center / contain no-repeat; }"
    ]
    rules += [f'.fa-{name} {{ --rr-icon: url("{icon_uri(name)}"); }}' for name in icon_names()]
    return "\n".join(rules)
