"""Geometry a user gave an item (drawn on the map or imported from a GIS team's file): the value type and its checks.

:mod:`store` keeps these with their history; :func:`geo.resolve.resolve_plan` takes a mapping of them and lets a
user geometry for an entity id win over every other source.  Everything here is WGS84 (EPSG:4326): geometry drawn
on a GCJ-02 basemap is converted before it gets here (:func:`geo.crs.gcj02_to_wgs84_geometry`).

Checks say in Chinese what is wrong, for a planner: a line needs two different points, an area must not cross
itself, a drawing must lie in the county.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from geo.boundaries import lies_within
from geo.errors import GeoDataError

# Precisions a user geometry can have (config.PRECISIONS): surveyed data from a file, or drawn on the map.
USER_PRECISIONS: tuple[str, ...] = ("exact", "drawn")
# How a geometry came to be (the history's ``how``); labels in the planner's words.
HOW_LABELS: dict[str, str] = {
    "drawn": "标绘",
    "moved": "移动",
    "edited": "修改节点",
    "imported": "导入",
    "reverted": "恢复旧版本",
    "deleted": "删除",
}
KIND_LABELS: dict[str, str] = {"point": "点", "line": "线", "area": "面"}
# The kind of geometry a category is drawn as by default (a belt is a line, a park an area); the user may override.
CATEGORY_KINDS: dict[str, str] = {
    "industrial_belt": "line",
    "industrial_park": "area",
    "industry_cluster": "area",
    "ecological": "area",
}
PLACE_PREFIX = "place:"  # item ids of places (a town, a village) rather than plan entities
BEIJING = dt.timezone(dt.timedelta(hours=8))

_SINGLE = {"Point": "point", "LineString": "line", "Polygon": "area"}
_MULTI = {"MultiPoint": "point", "MultiLineString": "line", "MultiPolygon": "area"}


@dataclass(frozen=True)
class UserGeometry:
    """The current user geometry of one item (WGS84) with its provenance.

    ``item_id`` is an entity id, or ``place:<county>:<name>`` for a place (towns and villages: every entity at that
    place follows it).  ``when`` is ISO 8601 UTC.
    """

    item_id: str
    county: str
    geometry: BaseGeometry
    precision: str = "drawn"
    who: str = ""
    when: str = ""
    how: str = "drawn"
    note: str = ""
    version: int = 1
    source: str = ""  # the file and row it was imported from, if any

    @property
    def place(self) -> str:
        """The place name of a place item, else empty."""
        if not self.item_id.startswith(PLACE_PREFIX):
            return ""
        return self.item_id[len(PLACE_PREFIX) :].split(":", 1)[-1]

    @property
    def reason(self) -> str:
        """How the item is located, for the panel: who placed it, when, how."""
        label = "用户标绘（非测量）" if self.precision == "drawn" else "用户提供的精确坐标"
        parts = [p for p in (self.who, beijing_time(self.when), HOW_LABELS.get(self.how, self.how)) if p]
        extra = f"；来源：{self.source}" if self.source else ""
        return f"{label}：{' '.join(parts)}{extra}" if parts else label + extra

    @property
    def origin(self) -> str:
        """Where the geometry comes from, for GIS staff (the feature table's ``location_source``)."""
        if self.source:
            return f"用户导入：{self.source}"
        return "用户在图上标绘（编辑库）" if self.precision == "drawn" else "用户提供的坐标（编辑库）"

    def provenance(self) -> dict[str, Any]:
        """The provenance columns of the feature table (:data:`geo.features.PROVENANCE_COLUMNS`)."""
        note = "；".join(x for x in (self.source, self.note) if x)
        return {
            "located_by": self.who or None,
            "located_at": self.when or None,
            "located_how": self.how or None,
            "located_note": note or None,
        }


def place_item_id(county: str, name: str) -> str:
    """The item id of a place: ``place:<county>:<name>``."""
    return f"{PLACE_PREFIX}{county}:{name}"


def beijing_time(iso: str) -> str:
    """``2026-12-03T10:00:00.000Z`` -> ``2026-12-03 18:00（北京时间）``; other text unchanged, empty stays empty."""
    if not iso:
        return ""
    try:
        when = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M（北京时间）")


def geometry_kind(geom: BaseGeometry | None) -> str | None:
    """'point', 'line' or 'area' of a (multi-)geometry; None for missing, empty or mixed geometry."""
    if geom is None or geom.is_empty:
        return None
    return _SINGLE.get(geom.geom_type) or _MULTI.get(geom.geom_type)


def kind_for_category(category: str) -> str:
    """The geometry kind offered first for a category (belt -> line, park/zone -> area, else point)."""
    return CATEGORY_KINDS.get(category, "point")


def _distinct(coords: Any) -> int:
    return len({(round(float(x), 9), round(float(y), 9)) for x, y, *_ in coords})


def shape_problem(geom: BaseGeometry | None) -> str | None:
    """What is wrong with a geometry as an item's location (Chinese), or None when it can be saved.

    Checks only the shape (not where it lies): one kind (point, line or area, single or multi), finite
    coordinates, a line with at least two different points, an area with at least three and not crossing itself.
    """
    if geom is None or geom.is_empty:
        return "几何为空"
    kind = geometry_kind(geom)
    if kind is None:
        return f"不支持的几何类型 {geom.geom_type}（只能是点、线或面）"
    coords = shapely.get_coordinates(geom)
    if not all(math.isfinite(v) for v in coords.ravel()):
        return "坐标不是有效数字"
    if geom.has_z:
        geom = shapely.force_2d(geom)
    parts = list(getattr(geom, "geoms", [geom]))
    if kind == "line" and any(_distinct(p.coords) < 2 for p in parts):
        return "线至少需要两个不同的点"
    if kind == "area":
        if any(_distinct(p.exterior.coords) < 3 for p in parts):
            return "面至少需要三个不同的点"
        if not geom.is_valid:
            why = shapely.is_valid_reason(geom)
            crossing = "Self-intersection" in why or "Ring Self-intersection" in why
            return "面的边界自相交（边线交叉）" if crossing else f"面不是有效的多边形（{why}）"
    return None


def checked_geometry(geom: BaseGeometry | None, *, polygon: BaseGeometry | None, county_name: str) -> BaseGeometry:
    """``geom`` as a 2D geometry fit to save as an item's location in the county ``polygon``.

    Raises
    ------
    GeoDataError
        With a Chinese message: empty, unsupported type, a line with one point, a self-intersecting area, or
        (when ``polygon`` is given) a drawing outside the county.
    """
    problem = shape_problem(geom)
    if problem or geom is None:
        raise GeoDataError(f"{problem}，未保存")
    flat = shapely.force_2d(geom) if geom.has_z else geom
    if polygon is not None and not lies_within(flat, polygon):
        raise GeoDataError(f"标绘超出{county_name}范围，未保存；请在{county_name}界内标绘")
    return flat


def geometry_from_geojson(value: Mapping[str, Any] | None) -> BaseGeometry:
    """A geometry from a GeoJSON geometry member (as the map returns a drawing).

    Raises
    ------
    GeoDataError
        Not a point, line or area, or coordinates that do not make one (a line with a single vertex …).
    """
    if not isinstance(value, Mapping):
        raise GeoDataError("标绘没有几何")
    kind = value.get("type")
    coords = value.get("coordinates")
    try:
        if kind == "Point":
            return Point(_xy(coords))
        if kind == "LineString":
            return _line(coords)
        if kind == "Polygon":
            return _polygon(coords)
        if kind == "MultiPoint":
            return MultiPoint([_xy(c) for c in coords or []])
        if kind == "MultiLineString":
            return MultiLineString([_line(c) for c in coords or []])
        if kind == "MultiPolygon":
            return MultiPolygon([_polygon(c) for c in coords or []])
    except GeoDataError:
        raise
    except (TypeError, ValueError, IndexError, shapely.errors.GEOSException):
        raise GeoDataError(f"标绘的坐标不完整（{kind}）") from None
    raise GeoDataError(f"不支持的几何类型 {kind}（只能是点、线或面）")


def _xy(value: Any) -> tuple[float, float]:
    return float(value[0]), float(value[1])


def _line(coords: Any) -> LineString:
    points = [_xy(c) for c in coords or []]
    if len(set(points)) < 2:
        raise GeoDataError("线至少需要两个不同的点，未保存")
    return LineString(points)


def _polygon(rings: Any) -> Polygon:
    shell = [_xy(c) for c in (rings or [[]])[0]]
    if len(set(shell)) < 3:
        raise GeoDataError("面至少需要三个不同的点，未保存")
    return Polygon(shell, [[_xy(c) for c in ring] for ring in rings[1:]])
