"""The level of a plan's designation, read from its own wording (国家级 … 乡镇级)."""

from __future__ import annotations

import functools

# Designation level from the plan's own wording: 0 none, 1 乡镇级, 2 区县级, 3 市级, 4 国家级.
_LEVELS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (4, ("国家", "全国", "中国")),
    (3, ("市级", "全市", "重庆市")),
    (1, ("乡镇级", "镇级")),
    (2, ("县级", "区级", "区县")),
)
LEVEL_NAMES = {0: "未标级别", 1: "乡镇级", 2: "区县级", 3: "市级", 4: "国家级"}


def designation_level(designation: str | None) -> int:
    """Level of a designation as written (国家… 4, 市级 3, 县级/区级 2, 乡镇级 1, otherwise 0)."""
    if not isinstance(designation, str) or not designation:
        return 0
    return _designation_level(designation)


@functools.lru_cache(maxsize=4096)  # a few dozen designations, repeated over thousands of items
def _designation_level(designation: str) -> int:
    for level, words in _LEVELS:
        if any(w in designation for w in words):
            return level
    return 0
