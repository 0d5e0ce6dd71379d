"""Shared pieces of every map layer: escaping, click keys, tooltips/popups, symbology and geometry helpers.

Everything that comes from a data file goes through :func:`esc` before it reaches HTML or JavaScript.  Tooltips
and popups are bound with JSON-encoded strings (never folium's template literals, which would run ``${…}``),
and popups do not need jQuery (folium's own ``Popup`` does).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from typing import Any

import branca
import numpy as np
import shapely
from branca.element import Figure, MacroElement
from jinja2 import Template
from shapely.geometry import (
    GeometryCollection,
    LineString,
    MultiLineString,
    MultiPoint,
    MultiPolygon,
    Point,
    Polygon,
)
from shapely.geometry.base import BaseGeometry

import config
from config import category_color, category_icon

# Which positions are drawn hollow/dashed is decided once, in config (the GIS styles of gisio use it too).
from config import is_approximate as is_approximate
from present.markup import esc, text

DECIMALS = 6
SELECT_COLOR = "#E4002B"

# --- click keys -----------------------------------------------------------------------------------------------
# streamlit-folium returns the clicked layer's tooltip as text (textContent).  Every clickable layer carries a
# hidden key in its tooltip, so a click identifies exactly one thing even when two items share a name.

KEY_KINDS = {"f": "feature", "t": "town", "d": "district"}
_KEY_RE = re.compile(r"⟦([ftd]):([^⟧]+)⟧")


def click_key(kind: str, value: str) -> str:
    """Hidden marker put into a tooltip: ``⟦f:yy-dv-001⟧``; ``kind`` is f (feature), t (town) or d (district)."""
    return "".join(click_key_pieces(kind, value))


def click_key_pieces(kind: str, value: str) -> list[str]:
    """:func:`click_key` as [shared opening, escaped value, shared closing] (see :func:`tooltip_pieces`)."""
    if kind not in KEY_KINDS:
        raise ValueError(f"unknown click key kind {kind!r}")
    return [f'<span hidden class="rr-key">⟦{kind}:', esc(value), "⟧</span>"]


def parse_click(tooltip_text: str | None) -> tuple[str, str] | None:
    """``(kind, value)`` of the key inside a returned tooltip text, or None."""
    if not tooltip_text:
        return None
    match = _KEY_RE.search(tooltip_text)
    if not match:
        return None
    return match.group(1), html.unescape(match.group(2))


# --- tooltip / popup elements ---------------------------------------------------------------------------------


class BoundTooltip(MacroElement):
    """``layer.bindTooltip(html)`` with the HTML passed as a JSON string (no template-literal injection)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.bindTooltip({{ this.html|tojson }}, {{ this.options|tojson }});
        {% endmacro %}"""
    )

    def __init__(self, html_text: str, sticky: bool = False, permanent: bool = False, cls: str = "rr-tip") -> None:
        super().__init__()
        self._name = "BoundTooltip"
        self.html = html_text
        self.options = {"sticky": sticky, "permanent": permanent, "className": cls, "direction": "top"}


class BoundPopup(MacroElement):
    """``layer.bindPopup(html)`` without jQuery (folium's Popup wraps its content with ``$``)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.bindPopup({{ this.html|tojson }}, {{ this.options|tojson }});
        {% endmacro %}"""
    )

    def __init__(self, html_text: str, max_width: int = 340) -> None:
        super().__init__()
        self._name = "BoundPopup"
        self.html = html_text
        self.options = {"maxWidth": max_width, "className": "rr-popup"}


def tooltip_html(title: str, subtitle: str | None, key: str) -> str:
    """Tooltip markup: escaped title, optional escaped subtitle, hidden click key (already markup)."""
    return "".join(tooltip_pieces(title, subtitle, [key]))


def tooltip_pieces(title: str, subtitle: str | None, key: list[str]) -> list[str]:
    """:func:`tooltip_html` cut where row-specific text (title, key value) starts and ends.

    Joining the pieces gives the markup.  A map of thousands of items interns the pieces
    (:meth:`layers.jsonlayer.StringTable.intern_pieces`), so what many items share is sent once.
    """
    sub = f'<span class="rr-tip-sub">{esc(subtitle)}</span>' if subtitle else ""
    return ["<b>", esc(title), f"</b>{sub}{key[0]}", *key[1:]]


def feature_popup_html(row: Any) -> str:
    """Compact uMap-style popup of a feature row: name, category, designation, places, citation, quote."""
    return "".join(feature_popup_pieces(row))


def feature_popup_pieces(row: Any) -> list[str]:
    """:func:`feature_popup_html` cut around the row-specific texts (name, places); see :func:`tooltip_pieces`."""
    cat = config.CATEGORIES.get(row["category"], row["category"])
    source = row["source"] or {}
    lines = source.get("lines") or []
    span = f"第{lines[0]}–{lines[-1]}行" if lines and lines[0] != lines[-1] else (f"第{lines[0]}行" if lines else "")
    head = (
        f'<div class="rr-pop"><div class="rr-pop-cat" style="color:{category_color(row["category"])}">{esc(cat)}</div>'
    )
    pieces = [head + '<div class="rr-pop-name">', esc(row["name"])]
    rest = "</div>"
    if text(row.get("designation")):
        rest += f'<div class="rr-pop-des">{esc(row["designation"])}</div>'
    if row.get("places"):
        pieces += [rest + '<div class="rr-pop-places">地点：', esc("、".join(row["places"]))]
        rest = "</div>"
    rest += f'<div class="rr-pop-prec">定位：{esc(config.PRECISIONS.get(row["precision"], row["precision"]))}</div>'
    if source.get("quote"):
        rest += f'<blockquote class="rr-pop-quote">“{esc(source["quote"])}”</blockquote>'
    if source.get("section"):
        rest += f'<div class="rr-pop-src">{esc(source["section"])} {esc(span)}</div>'
    pieces.append(rest + "</div>")
    return pieces


# --- symbology ------------------------------------------------------------------------------------------------


def is_drawn(precision: str) -> bool:
    """Whether the geometry was drawn by a user on the map (not surveyed): drawn with a dotted outline."""
    return precision == "drawn"


def symbol_state(category: str, precision: str) -> int:
    """0 at the place itself, 1 approximate (hollow/dashed), 2 drawn by a user (dotted): how a symbol is drawn."""
    if is_drawn(precision):
        return 2
    return int(is_approximate(category, precision))


def marker_size(level: int) -> int:
    return 24 + 4 * level


def marker_html(category: str, level: int, approximate: bool, *, selected: bool = False) -> str:
    """DivIcon markup: round badge in the category colour with its icon (drawn by :mod:`layers.icons`).

    Hollow with a dashed border when approximate; a double ring for 市级/国家级 designations.
    """
    classes = ["rr-pin", f"rr-l{level}"]
    if approximate:
        classes.append("rr-approx")
    if selected:
        classes.append("rr-selected")
    size = marker_size(level)
    return (
        f'<div class="{" ".join(classes)}" style="--c:{category_color(category)};width:{size}px;height:{size}px">'
        f'<i class="fa-solid fa-{category_icon(category)}"></i></div>'
    )


# --- geometry helpers -----------------------------------------------------------------------------------------


def latlng(point: Point) -> list[float]:
    return [round(point.y, DECIMALS), round(point.x, DECIMALS)]


def line_latlngs(line: LineString) -> list[list[float]]:
    """Vertices of a line (or ring) as [lat, lng] lists, rounded to DECIMALS (vectorised: boundaries are big)."""
    xy = shapely.get_coordinates(line)
    return np.round(xy[:, ::-1], DECIMALS).tolist()


def polygon_latlngs(poly: Polygon) -> list[list[list[float]]]:
    """Rings of a polygon (outer first, then holes) as [lat, lng] lists."""
    return [line_latlngs(poly.exterior)] + [line_latlngs(r) for r in poly.interiors]


def parts(geom: BaseGeometry | None) -> Iterator[BaseGeometry]:
    """Single-part geometries of ``geom`` (multi-parts and collections are flattened; empties dropped)."""
    if geom is None or geom.is_empty:
        return
    if isinstance(geom, (MultiPoint, MultiLineString, MultiPolygon, GeometryCollection)):
        for g in geom.geoms:
            yield from parts(g)
    else:
        yield geom


# shapely type id -> kind (7 = GeometryCollection: looked into, see kind_of)
_KIND_BY_TYPE_ID = np.array(["point", "line", "line", "area", "point", "line", "area", None], dtype=object)


def kinds(geoms: Any) -> np.ndarray:
    """:func:`kind_of` of every geometry of a GeoSeries, as an object array (None: missing or empty).

    Vectorised, for a map of thousands of points: only geometry collections are looked into one by one.
    """
    values = np.asarray(geoms, dtype=object)
    types = shapely.get_type_id(values)  # -1 for None
    out = np.full(len(values), None, dtype=object)
    drawn = (types >= 0) & ~shapely.is_empty(values)
    out[drawn] = _KIND_BY_TYPE_ID[types[drawn]]
    for i in np.flatnonzero(types == 7):
        out[i] = kind_of(values[i])
    return out


def kind_of(geom: BaseGeometry | None) -> str | None:
    """'point', 'line' or 'area' by the geometry's dimension (a collection counts by its highest part)."""
    dims = {g.geom_type for g in parts(geom)}
    if "Polygon" in dims:
        return "area"
    if "LineString" in dims or "LinearRing" in dims:
        return "line"
    if "Point" in dims:
        return "point"
    return None


def bounds_latlng(bounds: Iterable[float]) -> list[list[float]]:
    """Shapely/GeoPandas ``(minx, miny, maxx, maxy)`` as Leaflet ``[[south, west], [north, east]]``."""
    minx, miny, maxx, maxy = bounds
    return [[round(miny, DECIMALS), round(minx, DECIMALS)], [round(maxy, DECIMALS), round(maxx, DECIMALS)]]


def figure_of(element: branca.element.Element) -> Figure:
    """The page (``Figure``) a map or layer is rendered into: its header, html and script sections."""
    root = element.get_root()
    if not isinstance(root, Figure):
        raise TypeError(f"{type(element).__name__} is not attached to a figure")
    return root


def stable_ids(element: branca.element.Element, prefix: str) -> None:
    """Give ``element`` and its descendants deterministic ids, so re-rendering the same layers yields the same JS.

    streamlit-folium re-runs dynamic layer code only when its text changes; random ids would change it on every
    rerun (closing popups and flickering).
    """
    counter = 0

    def walk(el: branca.element.Element) -> None:
        nonlocal counter
        el._id = f"{prefix}{counter}"
        counter += 1
        for child in list(getattr(el, "_children", {}).values()):
            walk(child)

    walk(element)
