"""Import limits, checked before the expensive work: JSON nesting, features, vertices, fields, name lengths.

Every refusal is an :class:`~gisio.errors.ImportRejected` whose Chinese message gives the limit, the value found
and the environment variable that raises the limit.  The defaults live in :mod:`config` (``RRMAP_MAX_*``).

The JSON nesting depth is measured by :func:`scan_json` without parsing: ``json.loads`` recurses once per level
and a file nested 100,000 arrays deep would raise ``RecursionError`` from inside the decoder.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

import config
from gisio.errors import ImportRejected
from gisio.watchdog import checkpoint


@dataclass(frozen=True)
class ImportLimits:
    """The limits of one import (defaults from :mod:`config`, read when the object is made)."""

    json_depth: int = field(default_factory=lambda: config.MAX_JSON_DEPTH)
    features: int = field(default_factory=lambda: config.MAX_FEATURES)
    vertices_per_geometry: int = field(default_factory=lambda: config.MAX_VERTICES_PER_GEOMETRY)
    vertices: int = field(default_factory=lambda: config.MAX_VERTICES)
    fields: int = field(default_factory=lambda: config.MAX_FIELDS)
    name_chars: int = field(default_factory=lambda: config.MAX_NAME_CHARS)
    filename_chars: int = field(default_factory=lambda: config.MAX_FILENAME_CHARS)


def _over(what: str, found: int, limit: int, unit: str, env: str, code: str) -> ImportRejected:
    return ImportRejected(f"{what}{found:,} {unit}，超过上限 {limit:,} {unit}（可用环境变量 {env} 调整上限）", code)


# --- JSON -------------------------------------------------------------------------------------------------------

_ESCAPE = re.compile(rb"\\.", re.S)  # a backslash and the byte it escapes (never a structural byte in a string)
_CHUNK = 1 << 20  # characters scanned at a time (bounded memory for a 200 MB unzipped file)


@dataclass
class JsonShape:
    """What :func:`scan_json` found: the deepest nesting and the objects directly inside second-level arrays
    (for a FeatureCollection: its features)."""

    depth: int = 0
    features: int = 0


def scan_json(text: str, name: str, limits: ImportLimits) -> JsonShape:
    """Nesting depth and feature count of a JSON text, by a vectorised scan of its brackets (no recursion).

    Brackets inside strings are ignored (escaped quotes handled).  Raises before ``json.loads`` is ever called.

    Raises
    ------
    ImportRejected
        Nested deeper than ``limits.json_depth`` (code ``too_deep``) or more features than ``limits.features``.
    """
    shape = JsonShape()
    depth = 0  # nesting after the last byte scanned
    in_string = 0  # 1 when the last scanned byte is inside a string
    level2_is_array = False  # the container opened at depth 2 most recently is an array
    start = 0
    while start < len(text):
        checkpoint()
        end = min(start + _CHUNK, len(text))
        while end < len(text) and text[end - 1] == "\\":  # never cut an escape pair in two
            end += 1
        raw = _ESCAPE.sub(b"__", text[start:end].encode("utf-8", "surrogatepass"))
        start = end
        b = np.frombuffer(raw, dtype=np.uint8)
        quotes = np.cumsum(b == 0x22, dtype=np.int64) + in_string
        outside = quotes % 2 == 0
        in_string = int(quotes[-1] % 2) if len(quotes) else in_string
        opens = ((b == 0x5B) | (b == 0x7B)) & outside
        closes = ((b == 0x5D) | (b == 0x7D)) & outside
        delta = opens.astype(np.int32) - closes.astype(np.int32)
        if not delta.any():
            continue
        levels = depth + np.cumsum(delta, dtype=np.int64)  # nesting after each byte
        deepest = int(levels.max())
        shape.depth = max(shape.depth, deepest)
        if deepest > limits.json_depth:
            raise _over(
                f"“{name}”的 JSON 嵌套了 ", deepest, limits.json_depth, "层", "RRMAP_MAX_JSON_DEPTH", "too_deep"
            )
        # Features: objects opened to level 3 whose enclosing level-2 container is an array.
        level2 = np.flatnonzero(opens & (levels == 2))
        level3 = np.flatnonzero((b == 0x7B) & opens & (levels == 3))
        if len(level3):
            owner = np.searchsorted(level2, level3, side="right") - 1
            arrays = b[level2] == 0x5B
            inherited = owner < 0  # their container was opened in an earlier chunk
            shape.features += int(np.count_nonzero(inherited)) if level2_is_array else 0
            shape.features += int(np.count_nonzero(arrays[owner[~inherited]]))
        if len(level2):
            level2_is_array = bool(b[level2[-1]] == 0x5B)
        depth = int(levels[-1])
    if shape.features > limits.features:
        raise _over(
            f"“{name}”有 ", shape.features, limits.features, "个要素", "RRMAP_MAX_FEATURES", "too_many_features"
        )
    return shape


# --- counts -------------------------------------------------------------------------------------------------------


def check_features(count: int, name: str, limits: ImportLimits) -> None:
    """Refuse more than ``limits.features`` features (code ``too_many_features``)."""
    if count > limits.features:
        raise _over(f"“{name}”有 ", count, limits.features, "个要素", "RRMAP_MAX_FEATURES", "too_many_features")


def check_fields(count: int, name: str, limits: ImportLimits, *, where: str = "") -> None:
    """Refuse more than ``limits.fields`` attribute columns (code ``too_many_fields``); ``where``: e.g. a layer."""
    if count > limits.fields:
        raise _over(f"“{name}”{where}有 ", count, limits.fields, "个属性字段", "RRMAP_MAX_FIELDS", "too_many_fields")


def check_vertices(
    counts: Iterable[int], name: str, limits: ImportLimits, *, labels: Sequence[str] | None = None
) -> None:
    """Refuse a geometry over ``limits.vertices_per_geometry`` vertices or a layer over ``limits.vertices``.

    ``counts`` are the vertex counts per feature (``labels`` name them; default "第 n 个要素").
    """
    values = np.fromiter(counts, dtype=np.int64)
    if len(values) and int(values.max()) > limits.vertices_per_geometry:
        i = int(values.argmax())
        label = labels[i] if labels else f"第 {i + 1} 个要素"
        raise _over(
            f"“{name}”{label}的几何有 ",
            int(values[i]),
            limits.vertices_per_geometry,
            "个顶点",
            "RRMAP_MAX_VERTICES_PER_GEOMETRY",
            "too_many_vertices",
        )
    total = int(values.sum())
    if total > limits.vertices:
        raise _over(f"“{name}”共有 ", total, limits.vertices, "个顶点", "RRMAP_MAX_VERTICES", "too_many_vertices")


def check_name_length(value: object, name: str, limits: ImportLimits, *, label: str) -> None:
    """Refuse a feature name longer than ``limits.name_chars`` characters (code ``name_too_long``)."""
    if isinstance(value, str) and len(value) > limits.name_chars:
        raise _over(
            f"“{name}”{label}的名称有 ",
            len(value),
            limits.name_chars,
            "个字符",
            "RRMAP_MAX_NAME_CHARS",
            "name_too_long",
        )


def check_filename(filename: str, limits: ImportLimits, inside: str | None = None) -> None:
    """Refuse a file name longer than ``limits.filename_chars`` characters (code ``filename_too_long``).

    ``inside``: the zip the name was found in, for the message.
    """
    if len(filename) > limits.filename_chars:
        where = f"“{short_name(inside)}”中的文件名" if inside else "文件名"
        raise _over(
            f"{where}“{short_name(filename)}”有 ",
            len(filename),
            limits.filename_chars,
            "个字符",
            "RRMAP_MAX_FILENAME_CHARS",
            "filename_too_long",
        )


def short_name(filename: str, keep: int = 40) -> str:
    """A long file name shortened for messages: its start, an ellipsis and its end (with the extension)."""
    if len(filename) <= keep:
        return filename
    return f"{filename[: keep - 12]}…{filename[-11:]}"
