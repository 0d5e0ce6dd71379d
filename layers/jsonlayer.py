"""Data-driven map layers: ONE folium element per layer that carries its features as a compact JSON array and
builds the Leaflet objects in a JavaScript loop in the browser.

folium draws every feature as several elements (marker + icon + tooltip + popup), each rendered through a Jinja
template — and streamlit-folium renders them twice per script run — which made a run cost about a second and
sent CJK text as ``\\uXXXX`` escapes.  Here a layer is one template call, and its JSON is written once, with
UTF-8 text.  Every string in the data is markup we built with :func:`layers.base.esc`; the JSON itself is made
safe for a ``<script>`` element and for Jinja, which folium re-parses rendered scripts with.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from branca.element import Element, Figure, MacroElement
from jinja2 import Template

# "{" followed by "{", "%" or "#" opens a Jinja tag.  In JSON that can only happen inside a string (a structural
# "{" is always followed by '"' or "}"), so escaping it there is safe.
_JINJA_OPEN = re.compile(r"\{(?=[{%#])")


def script_json(value: Any) -> str:
    """``value`` as a JavaScript literal safe inside ``<script>`` and through folium's Jinja passes.

    UTF-8 text (not ``\\uXXXX``), no spaces; ``</`` and ``<!--`` cannot end or confuse the script element.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    text = text.replace("</", "<\\/").replace("<!--", "<\\u0021--")
    return _JINJA_OPEN.sub(r"\\u007b", text)


_TOKEN = re.compile(r"<[^>]*>|[^<]+|<")  # a tag, a run of text (a stray "<" on its own)
# A piece occurring at least this often counts as boilerplate (a name may occur in both tooltip and popup).
MIN_SHARED = 4


class StringTable:
    """Interns markup so that thousands of tooltips and popups sharing their boilerplate (tags, class names,
    labels, quotes) carry each distinct string once, and each markup is a short list of indices.

    Markup is cut into tags and text; consecutive pieces common to many markups are merged back into one string.
    """

    def __init__(self) -> None:
        self._index: dict[str, int] = {}

    @property
    def strings(self) -> list[str]:
        return list(self._index)

    def intern_all(self, markups: Sequence[str]) -> list[list[int]]:
        """Indices of each of ``markups`` (joining its strings in order gives the markup back)."""
        return self.intern_pieces([_TOKEN.findall(m) for m in markups])

    def intern_pieces(self, split: Sequence[Sequence[str]]) -> list[list[int]]:
        """Like :meth:`intern_all` for markups already cut into pieces (no parsing: thousands of items)."""
        counts = Counter(p for pieces in split for p in pieces)
        index = self._index
        out = []
        for pieces in split:
            ids: list[int] = []
            run: list[str] = []
            for piece in pieces:
                if counts[piece] >= MIN_SHARED:
                    run.append(piece)
                    continue
                if run:
                    ids.append(index.setdefault("".join(run), len(index)))
                    run = []
                ids.append(index.setdefault(piece, len(index)))
            if run:
                ids.append(index.setdefault("".join(run), len(index)))
            out.append(ids)
        return out

    def join(self, indices: Sequence[int]) -> str:
        strings = self.strings
        return "".join(strings[i] for i in indices)


class _Script(Element):
    """Already-rendered script text (branca's Element would compile it as a Jinja template once more)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def render(self, **kwargs: Any) -> str:
        return self._text


class DataLayer(MacroElement):
    """A Leaflet layer built in the browser by ``builder`` (JS function body of ``data``, returning the layer).

    Subclasses set ``builder``; it must not contain ``{{``, ``{%`` or ``{#`` (folium re-parses scripts as Jinja).
    The layer is added to the parent element (map or feature group) like any folium layer.
    """

    builder = "return L.featureGroup();"
    _template = Template(
        """{% macro script(this, kwargs) %}
var {{ this.get_name() }} = (function (data) { {{ this.builder }} })({{ this.data }});
{{ this.get_name() }}.addTo({{ this._parent.get_name() }});
{% endmacro %}"""
    )

    def __init__(self, data: str, name: str = "DataLayer") -> None:
        """``data``: a :func:`script_json` literal (serialise once, cache the string, build elements cheaply)."""
        super().__init__()
        self._name = name
        self.data = data
        if _JINJA_OPEN.search(self.builder):
            raise ValueError(f"{type(self).__name__}.builder contains a Jinja tag opener")

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # MacroElement.render returns None too; Element's stub says str
        """Like MacroElement.render, but the rendered script is not compiled as a template again."""
        figure = self.get_root()
        if not isinstance(figure, Figure):
            raise TypeError("a DataLayer can only be rendered inside a Figure")
        figure.script.add_child(_Script(self._template.module.script(self, kwargs)), name=self.get_name())
        for element in self._children.values():
            element.render(**kwargs)


# --- vector features (polygons and polylines) -----------------------------------------------------------------

TOOLTIP_OPTIONS = {"sticky": False, "permanent": False, "className": "rr-tip", "direction": "top"}
POPUP_OPTIONS = {"maxWidth": 340, "className": "rr-popup"}


class VectorLayer(DataLayer):
    """Polygons, polylines and text labels: ``[styles, rows, tooltip options, popup options]``.

    A row is ``[kind, latlngs, style index, tooltip html or null, popup html or null]`` with kind ``"polygon"``,
    ``"polyline"`` or ``"label"`` (then ``latlngs`` is one ``[lat, lng]`` and the tooltip slot holds the label's
    escaped text, drawn as a non-interactive marker with the style's ``className``).  A style is a Leaflet path
    options object; ``rrHatch: true`` fills a polygon with diagonal hatching in its ``fillColor`` (an SVG pattern
    added to the map once), for schematic areas.
    """

    builder = """
var styles = data[0], rows = data[1], tipOpts = data[2], popOpts = data[3];
var group = L.featureGroup();
function hatch(layer, colour) {
  var svg = layer._path && layer._path.ownerSVGElement;
  if (!svg) return;
  var id = "rr-hatch-" + colour.replace(/[^0-9a-zA-Z]/g, "");
  if (!svg.querySelector("#" + id)) {
    var ns = "http://www.w3.org/2000/svg";
    var defs = svg.querySelector("defs") || svg.insertBefore(document.createElementNS(ns, "defs"), svg.firstChild);
    var pat = document.createElementNS(ns, "pattern");
    pat.setAttribute("id", id); pat.setAttribute("patternUnits", "userSpaceOnUse");
    pat.setAttribute("width", "8"); pat.setAttribute("height", "8");
    pat.setAttribute("patternTransform", "rotate(45)");
    var line = document.createElementNS(ns, "line");
    line.setAttribute("x1", "0"); line.setAttribute("y1", "0"); line.setAttribute("x2", "0"); line.setAttribute("y2", "8");
    line.setAttribute("stroke", colour); line.setAttribute("stroke-width", "2"); line.setAttribute("stroke-opacity", "0.7");
    pat.appendChild(line); defs.appendChild(pat);
  }
  layer._path.setAttribute("fill", "url(#" + id + ")");
}
for (var i = 0; i < rows.length; i++) {
  var r = rows[i], st = styles[r[2]], layer;
  if (r[0] === "label") {
    layer = L.marker(r[1], {interactive: false, keyboard: false, zIndexOffset: -500,
      icon: L.divIcon({html: r[3], className: st.className || "rr-label", iconSize: null})});
    group.addLayer(layer);
    continue;
  }
  layer = r[0] === "polyline" ? L.polyline(r[1], st) : L.polygon(r[1], st);
  if (r[3]) layer.bindTooltip(r[3], tipOpts);
  if (r[4]) layer.bindPopup(r[4], popOpts);
  if (st.rrHatch) layer.on("add", function (e) { hatch(e.target, e.target.options.fillColor); });
  group.addLayer(layer);
}
return group;
"""

    def __init__(self, data: str, name: str = "VectorLayer") -> None:
        super().__init__(data, name)


class CircleLayer(DataLayer):
    """Circle markers: ``[style, rows, tooltip options, popup options]``; a row is ``[lat, lng, tooltip html or
    null, popup html or null]`` and every marker has the one Leaflet path style."""

    builder = """
var style = data[0], rows = data[1], tipOpts = data[2], popOpts = data[3];
var group = L.featureGroup();
for (var i = 0; i < rows.length; i++) {
  var r = rows[i];
  var marker = L.circleMarker([r[0], r[1]], style);
  if (r[2]) marker.bindTooltip(r[2], tipOpts);
  if (r[3]) marker.bindPopup(r[3], popOpts);
  group.addLayer(marker);
}
return group;
"""

    def __init__(self, data: str, name: str = "CircleLayer") -> None:
        super().__init__(data, name)


class VectorRows:
    """Collects the rows of a :class:`VectorLayer` (styles deduplicated) and serialises them once."""

    def __init__(self, sticky: bool = True) -> None:
        self.styles: list[dict[str, Any]] = []
        self._style_index: dict[str, int] = {}
        self.rows: list[list[Any]] = []
        self.tooltip = {**TOOLTIP_OPTIONS, "sticky": sticky}

    def add(
        self,
        kind: str,
        latlngs: Sequence[Any],
        style: Mapping[str, Any],
        *,
        tooltip: str | None = None,
        popup: str | None = None,
    ) -> None:
        if kind not in ("polygon", "polyline", "label"):
            raise ValueError(f"unknown vector kind {kind!r}")
        key = json.dumps(style, sort_keys=True)
        if key not in self._style_index:
            self._style_index[key] = len(self.styles)
            self.styles.append(dict(style))
        self.rows.append([kind, latlngs, self._style_index[key], tooltip, popup])

    def __len__(self) -> int:
        return len(self.rows)

    def to_json(self) -> str:
        return script_json([self.styles, self.rows, self.tooltip, POPUP_OPTIONS])


def path_style(
    color: str,
    weight: float,
    *,
    fill: bool = False,
    fill_color: str | None = None,
    fill_opacity: float | None = None,
    opacity: float | None = None,
    dash_array: str | None = None,
    interactive: bool = True,
    line_cap: str | None = None,
    hatch: bool = False,
) -> dict[str, Any]:
    """Leaflet path options (only what is set), as folium's vector layers would write them."""
    style: dict[str, Any] = {"color": color, "weight": weight, "fill": fill}
    if fill:
        style["fillColor"] = fill_color or color
        style["fillOpacity"] = 0.2 if fill_opacity is None else fill_opacity
    if opacity is not None:
        style["opacity"] = opacity
    if dash_array:
        style["dashArray"] = dash_array
    if line_cap:
        style["lineCap"] = line_cap
    if not interactive:
        style["interactive"] = False
    if hatch:
        style["rrHatch"] = True
    return style
