"""A checker for RFC 7946 GeoJSON documents: what a strict reader would refuse, as readable lines."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

# The geometry types of GeoJSON (RFC 7946 §3.1).
GEOMETRY_TYPES = {
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
    "GeometryCollection",
}


def _ring_area(ring: Sequence[Sequence[float]]) -> float:
    return 0.5 * sum(x1 * y2 - x2 * y1 for (x1, y1, *_), (x2, y2, *_) in zip(ring, ring[1:]))


def rfc7946_problems(doc: Any) -> list[str]:
    """Ways in which a parsed GeoJSON document breaks RFC 7946 (empty list: it conforms).

    Checks the object structure, the absence of ``crs``, positions (2 or 3 finite numbers, lon/lat in range),
    LineString length, closed rings of at least four positions, and the right-hand rule (exterior rings
    counter-clockwise, holes clockwise).
    """
    problems: list[str] = []

    def position(p: Any, where: str) -> None:
        if (
            not isinstance(p, list)
            or len(p) not in (2, 3)
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in p)
        ):
            problems.append(f"{where}: bad position {p!r}")
        elif not (-180 <= p[0] <= 180 and -90 <= p[1] <= 90):
            problems.append(f"{where}: position {p!r} is not WGS84 lon/lat")

    def ring(r: Any, where: str, exterior: bool) -> None:
        if not isinstance(r, list) or len(r) < 4:
            problems.append(f"{where}: ring needs at least 4 positions")
            return
        for p in r:
            position(p, where)
        if r[0] != r[-1]:
            problems.append(f"{where}: ring is not closed")
        area = _ring_area(r)
        if exterior and area < 0:
            problems.append(f"{where}: exterior ring is clockwise")
        if not exterior and area > 0:
            problems.append(f"{where}: hole is counter-clockwise")

    def polygon(rings: Any, where: str) -> None:
        if not isinstance(rings, list) or not rings:
            problems.append(f"{where}: polygon without rings")
            return
        for i, r in enumerate(rings):
            ring(r, f"{where} ring {i}", exterior=(i == 0))

    def geometry(g: Any, where: str) -> None:
        if g is None:
            return
        if not isinstance(g, dict) or g.get("type") not in GEOMETRY_TYPES:
            problems.append(f"{where}: not a geometry object")
            return
        if "crs" in g:
            problems.append(f"{where}: has a crs member")
        kind, coords = g["type"], g.get("coordinates")
        if kind == "GeometryCollection":
            for i, part in enumerate(g.get("geometries") or []):
                geometry(part, f"{where} part {i}")
            return
        if not isinstance(coords, list):
            problems.append(f"{where}: coordinates missing")
            return
        if kind == "Point":
            position(coords, where)
        elif kind in ("MultiPoint", "LineString"):
            if kind == "LineString" and len(coords) < 2:
                problems.append(f"{where}: LineString needs two positions")
            for p in coords:
                position(p, where)
        elif kind == "MultiLineString":
            for line in coords:
                if not isinstance(line, list) or len(line) < 2:
                    problems.append(f"{where}: LineString needs two positions")
                    continue
                for p in line:
                    position(p, where)
        elif kind == "Polygon":
            polygon(coords, where)
        elif kind == "MultiPolygon":
            for i, poly in enumerate(coords):
                polygon(poly, f"{where} polygon {i}")

    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        return ["top level is not a FeatureCollection"]
    if "crs" in doc:
        problems.append("FeatureCollection has a crs member (not allowed by RFC 7946)")
    feats = doc.get("features")
    if not isinstance(feats, list):
        return problems + ["features is not an array"]
    for i, feat in enumerate(feats):
        where = f"feature {i}"
        if not isinstance(feat, dict) or feat.get("type") != "Feature":
            problems.append(f"{where}: not a Feature")
            continue
        if "geometry" not in feat or "properties" not in feat:
            problems.append(f"{where}: needs geometry and properties members")
        if "id" in feat and not isinstance(feat["id"], (str, int, float)):
            problems.append(f"{where}: id must be a string or number")
        if feat.get("properties") is not None and not isinstance(feat["properties"], dict):
            problems.append(f"{where}: properties must be an object or null")
        geometry(feat.get("geometry"), where)
    return problems
