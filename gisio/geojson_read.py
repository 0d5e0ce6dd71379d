"""GeoJSON in: the text parsed within the import limits, every geometry object checked before shapely sees it.

Parsing: the nesting depth and feature count are measured first (:func:`gisio.limits.scan_json`), numbers that no
float can hold (a 400-digit integer, ``1e400``) and the non-standard ``NaN``/``Infinity`` tokens are caught by
the decoder's hooks.  Geometry: the type must be a GeoJSON type, coordinates must be positions of finite numbers
(refused otherwise, naming the feature), vertices are counted against the limits, nested GeometryCollections are
flattened, and a geometry that cannot exist (a line of one point, a ring of three) becomes "no geometry" with a
report line instead of stopping the import.  Properties: ``NaN``/``Infinity`` become empty values and huge numbers
become text, each reported.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from gisio.errors import ImportRejected
from gisio.limits import ImportLimits, check_fields, check_name_length, check_vertices, scan_json
from gisio.normalise import feature_label
from gisio.rfc7946 import GEOMETRY_TYPES
from gisio.watchdog import checkpoint

# Integers with more digits than this are not read as numbers (a float holds about 308; Python refuses to parse
# more than 4,300 and json.loads would raise ValueError from inside the decoder).
_MAX_INT_DIGITS = 300
# How many examples a summary line names.
_EXAMPLES = 5
# Geometry type -> nesting of its coordinates (0: one position).
_NESTING = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2, "MultiPolygon": 3}


class Unrepresentable:
    """A number from the file that no float can hold (``kind="big"``) or a NaN/Infinity token (``"nonfinite"``)."""

    def __init__(self, text: str, kind: str) -> None:
        self.text = text
        self.kind = kind

    def shown(self) -> str:
        return self.text if len(self.text) <= 24 else f"{self.text[:12]}…（共 {len(self.text)} 位）"


def _parse_int(text: str) -> int | Unrepresentable:
    digits = len(text.lstrip("-"))
    return Unrepresentable(text, "big") if digits > _MAX_INT_DIGITS else int(text)


def _parse_float(text: str) -> float | Unrepresentable:
    value = float(text)
    return value if math.isfinite(value) else Unrepresentable(text, "big")


def _parse_constant(text: str) -> Unrepresentable:
    return Unrepresentable(text, "nonfinite")


def loads(text: str, name: str, limits: ImportLimits) -> Any:
    """``json.loads`` after the depth/feature-count scan, with unrepresentable numbers kept as markers.

    Raises
    ------
    ImportRejected
        Too deep, too many features, or not JSON (the message gives the line and column).
    """
    scan_json(text, name, limits)
    try:
        return json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant)
    except json.JSONDecodeError as exc:
        raise ImportRejected(
            f"“{name}”不是有效的 GeoJSON：第 {exc.lineno} 行第 {exc.colno} 列 JSON 格式错误", "bad_json"
        ) from None
    except RecursionError:  # only if RRMAP_MAX_JSON_DEPTH was raised beyond what Python can decode
        raise ImportRejected(
            f"“{name}”的 JSON 嵌套过深，无法读取（请调低 RRMAP_MAX_JSON_DEPTH，当前 {limits.json_depth}）", "too_deep"
        ) from None


@dataclass
class GeoJsonRows:
    """Features of a GeoJSON as rows and shapely geometries, with what was noticed on the way."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    geoms: list[BaseGeometry | None] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # warnings for the user
    repairs: list[str] = field(default_factory=list)  # one line per geometry that could not be kept


class _Refused(Exception):
    """A geometry problem that refuses the whole file (raised inside the walk, turned into ImportRejected)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class _Unbuildable(Exception):
    """A geometry that cannot exist (a line of one point): the feature keeps its attributes, without geometry."""


def _number(value: Any) -> float:
    if isinstance(value, Unrepresentable):
        if value.kind == "nonfinite":
            raise _Refused(f"坐标含 {value.text}（NaN 或无穷大），不是有效坐标", "bad_coordinates")
        raise _Refused(f"坐标数值 {value.shown()} 超出浮点数范围，不是有效坐标", "bad_coordinates")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Refused(f"坐标值 {str(value)[:30]!r} 不是数字", "bad_coordinates")
    try:
        number = float(value)
    except OverflowError:
        raise _Refused(f"坐标数值 {str(value)[:12]}… 超出浮点数范围，不是有效坐标", "bad_coordinates") from None
    if not math.isfinite(number):
        raise _Refused(f"坐标含 {value}（NaN 或无穷大），不是有效坐标", "bad_coordinates")
    return number


def _positions(value: Any, nesting: int) -> Any:
    """Coordinates of the given nesting as nested lists of (x, y) tuples; Z and further ordinates dropped."""
    if nesting == 0:
        if value == []:
            return ()  # an empty Point (RFC 7946 allows it): kept as an empty geometry, reported later
        if not isinstance(value, list) or len(value) < 2:
            raise _Refused(f"坐标 {str(value)[:40]} 不是位置（至少需要经度、纬度两个数）", "bad_geometry")
        return (_number(value[0]), _number(value[1]))
    if not isinstance(value, list):
        raise _Refused(f"coordinates 应为数组，实为 {str(value)[:40]}", "bad_geometry")
    return [_positions(v, nesting - 1) for v in value]


def _count(coords: Any, nesting: int) -> int:
    if nesting == 0:
        return 1
    if nesting == 1:
        return len(coords)
    return sum(_count(c, nesting - 1) for c in coords)


def _ring(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    if len(points) < 4:
        raise _Unbuildable(f"面的边界只有 {len(points)} 个点（至少需要 4 个，首尾相同）")
    return points


def _line(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    if len(points) == 1:
        raise _Unbuildable("线只有 1 个点（至少需要 2 个）")
    return points


def _build(kind: str, coords: Any) -> BaseGeometry:
    if kind == "Point":
        return shapely.Point(coords) if coords else shapely.Point()
    if kind == "MultiPoint":
        return shapely.MultiPoint(coords) if coords else shapely.from_wkt("MULTIPOINT EMPTY")
    if kind == "LineString":
        return shapely.LineString(_line(coords))
    if kind == "MultiLineString":
        return shapely.MultiLineString([_line(c) for c in coords if c])
    if kind == "Polygon":
        return shapely.Polygon(_ring(coords[0]), [_ring(h) for h in coords[1:]]) if coords else shapely.Polygon()
    return shapely.MultiPolygon(
        [shapely.Polygon(_ring(p[0]), [_ring(h) for h in p[1:]]) for p in coords if p]
    )  # MultiPolygon


def _leaves(doc: Any) -> tuple[list[dict[str, Any]], bool]:
    """The non-collection geometries of a (possibly nested) GeometryCollection, iteratively; and whether it
    was nested."""
    leaves: list[dict[str, Any]] = []
    nested = False
    stack = [(doc, 0)]
    while stack:
        item, level = stack.pop()
        if not isinstance(item, dict):
            raise _Refused("GeometryCollection 的成员不是几何对象", "bad_geometry")
        kind = item.get("type")
        if kind == "GeometryCollection":
            nested = nested or level > 0
            members = item.get("geometries")
            if not isinstance(members, list):
                raise _Refused("GeometryCollection 缺少 geometries 数组", "bad_geometry")
            stack.extend((m, level + 1) for m in reversed(members))
        else:
            leaves.append(item)
    return leaves, nested


def _kind(doc: Any) -> str:
    if not isinstance(doc, dict):
        raise _Refused(f"geometry 应为对象，实为 {str(doc)[:40]}", "bad_geometry")
    kind = doc.get("type")
    if kind not in GEOMETRY_TYPES:
        known = "、".join(sorted(GEOMETRY_TYPES))
        raise _Refused(f"的几何类型“{str(kind)[:40]}”不是 GeoJSON 的几何类型（应为 {known} 之一）", "unknown_geometry")
    return str(kind)


def geometry(doc: Any) -> tuple[BaseGeometry, int, bool]:
    """A GeoJSON geometry object as shapely, its vertex count, and whether it was a nested collection.

    Raises
    ------
    _Refused
        Unknown type, malformed or unrepresentable coordinates (the file is refused).
    _Unbuildable
        A geometry that cannot exist (the feature is kept without geometry).
    """
    kind = _kind(doc)
    if kind != "GeometryCollection":
        coords = _positions(doc.get("coordinates"), _NESTING[kind])
        return _build(kind, coords), _count(coords, _NESTING[kind]), False
    leaves, nested = _leaves(doc)
    parts, total = [], 0
    for leaf in leaves:
        leaf_kind = _kind(leaf)
        coords = _positions(leaf.get("coordinates"), _NESTING[leaf_kind])
        parts.append(_build(leaf_kind, coords))
        total += _count(coords, _NESTING[leaf_kind])
    return shapely.GeometryCollection(parts), total, nested


def _clean_properties(props: dict[str, Any]) -> tuple[dict[str, Any], list[str], list[str]]:
    """Properties with NaN/Infinity as None and huge numbers as text; the affected keys of each kind."""
    nonfinite: list[str] = []
    big: list[str] = []

    def clean(value: Any, key: str) -> Any:
        if isinstance(value, Unrepresentable):
            if value.kind == "nonfinite":
                nonfinite.append(key)
                return None
            big.append(key)
            return value.text
        if isinstance(value, dict):
            return {k: clean(v, key) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v, key) for v in value]
        return value

    return {str(k): clean(v, str(k)) for k, v in props.items()}, nonfinite, big


def _examples(items: list[str]) -> str:
    shown = "、".join(items[:_EXAMPLES])
    return shown + ("等" if len(items) > _EXAMPLES else "")


def features_of(doc: Any, name: str, limits: ImportLimits) -> list[Any]:
    """The feature list of a parsed document (a FeatureCollection, one Feature or a bare geometry)."""
    if isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
        items = doc.get("features")
        if not isinstance(items, list):
            raise ImportRejected(f"“{name}”不是有效的 GeoJSON：features 不是数组", "bad_json")
        return items
    if isinstance(doc, dict) and doc.get("type") == "Feature":
        return [doc]
    if isinstance(doc, dict) and doc.get("type") in GEOMETRY_TYPES:
        return [{"type": "Feature", "geometry": doc, "properties": {}}]
    raise ImportRejected(f"“{name}”不是 GeoJSON：顶层应为 FeatureCollection、Feature 或几何对象", "bad_json")


def read_features(doc: Any, name: str, limits: ImportLimits) -> GeoJsonRows:
    """Rows and geometries of a parsed GeoJSON document, checked (see the module docstring).

    Raises
    ------
    ImportRejected
        Not GeoJSON, an unknown geometry type, coordinates that are not finite numbers, or over a limit.
    """
    out = GeoJsonRows()
    keys: set[str] = set()
    vertices: list[int] = []
    nonfinite_in: list[str] = []
    big_in: list[str] = []
    nested_in: list[str] = []
    # Points are the bulk of large files: built in one vectorised call at the end.
    point_rows: list[int] = []
    point_xy: list[tuple[float, float]] = []
    for n, item in enumerate(features_of(doc, name, limits), start=1):
        if n % 1000 == 0:
            checkpoint()
        if not isinstance(item, dict) or item.get("type") != "Feature":
            raise ImportRejected(f"“{name}”第 {n} 个要素不是 GeoJSON Feature", "bad_json")
        raw_props = item.get("properties") or {}
        if not isinstance(raw_props, dict):
            raise ImportRejected(f"“{name}”第 {n} 个要素的 properties 不是对象", "bad_json")
        if any(isinstance(v, (Unrepresentable, dict, list)) for v in raw_props.values()):
            props, nonfinite, big = _clean_properties(raw_props)
        else:
            props, nonfinite, big = dict(raw_props), [], []
        fid = props.get("id", item.get("id"))
        if isinstance(fid, Unrepresentable):
            fid = fid.text

        def label(n: int = n, fid: Any = fid, props: dict[str, Any] = props) -> str:
            return feature_label(n, fid, props.get("name"))

        check_name_length(props.get("name"), name, limits, label=f"第 {n} 个要素")
        if nonfinite:
            nonfinite_in.append(f"{label()}的 {'、'.join(sorted(set(nonfinite)))}")
        if big:
            big_in.append(f"{label()}的 {'、'.join(sorted(set(big)))}")
        keys.update(props)
        if len(keys) > limits.fields:
            check_fields(len(keys), name, limits)
        geom: BaseGeometry | None = None
        count = 0
        geom_doc = item.get("geometry")
        if isinstance(geom_doc, dict) and geom_doc.get("type") == "Point" and _is_xy(geom_doc.get("coordinates")):
            point_rows.append(n - 1)
            point_xy.append((geom_doc["coordinates"][0], geom_doc["coordinates"][1]))
            count = 1
        elif geom_doc is not None:
            try:
                geom, count, nested = geometry(geom_doc)
            except _Refused as exc:
                text = str(exc)
                joiner = "" if text.startswith("的") else "："
                raise ImportRejected(f"“{name}”{label()}{joiner}{text}", exc.code) from None
            except _Unbuildable as exc:
                out.repairs.append(f"{label()}：{exc}，无法修复，已置为空几何（属性保留）")
            else:
                if nested:
                    nested_in.append(label())
        vertices.append(count)
        row = props
        if "id" not in row and item.get("id") is not None:
            row["id"] = fid
        out.rows.append(row)
        out.geoms.append(geom)
    if len(vertices) and max(vertices) > limits.vertices_per_geometry or sum(vertices) > limits.vertices:
        labels = [feature_label(i + 1, r.get("id"), r.get("name")) for i, r in enumerate(out.rows)]
        check_vertices(vertices, name, limits, labels=labels)
    if point_rows:
        points = shapely.points(np.asarray(point_xy, dtype=float))
        for at, point in zip(point_rows, points):
            out.geoms[at] = point
    if nonfinite_in:
        out.notes.append(
            f"{len(nonfinite_in)} 个要素的属性值为 NaN 或 Infinity（不是标准 JSON），已按空值读取：{_examples(nonfinite_in)}"
        )
    if big_in:
        out.notes.append(f"{len(big_in)} 个要素的属性数值超出数字范围，已按文字读取：{_examples(big_in)}")
    if nested_in:
        out.notes.append(f"{len(nested_in)} 个要素是嵌套的几何集合（集合中套集合），已展开：{_examples(nested_in)}")
    return out


def _is_xy(value: Any) -> bool:
    """A plain finite 2D/3D position (the fast path; anything else goes through :func:`geometry`)."""
    return (
        type(value) is list
        and 2 <= len(value) <= 3
        and all(type(v) is float or type(v) is int for v in value)
        and all(math.isfinite(v) for v in value)
    )
