"""The live map's view in the browser: fit the county, place the legend beside it, name places where they fit.

:class:`ViewControl` is part of the static map.  It fits the county (again whenever the map is resized, until the
user moves the map), keeps one legend control whose content the overlays set (:class:`LegendLayer`, so the legend
follows the layer toggles and filters without reloading the map), puts that legend in the corner where it covers
the least of the county — on the side with room to spare, fitting the county beside it — and hides place names
that would overlap another name or the legend at the current zoom (more names show as the user zooms in).
"""

from __future__ import annotations

from collections.abc import Sequence

from branca.element import MacroElement
from jinja2 import Template

from layers.jsonlayer import DataLayer, script_json

# Pixels kept free around the county and between the county and the legend.
FIT_PADDING = 12

_VIEW_JS = """
(function (map, bounds, pad) {
  var fit = L.latLngBounds(bounds);
  map._rrFit = fit;
  map._rrUserMoved = false;
  var fitting = false;
  // Any move not made here (drag, wheel, zoom buttons, a selection's setView) is the user's: stop refitting.
  map.on("movestart", function () { if (!fitting) map._rrUserMoved = true; });
  var legend = L.control({position: "topright"});
  // setPosition() removes and adds the control again: keep one element (and its content) across moves.
  legend.onAdd = function () {
    if (!this._rrDiv) {
      var div = L.DomUtil.create("div", "rr-legend");
      div.style.display = "none";
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      this._rrDiv = div;
    }
    return this._rrDiv;
  };
  legend.addTo(map);
  map._rrLegend = legend;
  function overlap(a, b) {
    return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  }
  // Place names: hide those overlapping a name of higher priority or the legend (greedy, by data-p).
  map._rrDeclutter = function () {
    var box = legend.getContainer();
    var lr = box.offsetWidth ? box.getBoundingClientRect() : null;
    var names = Array.prototype.slice.call(map.getContainer().querySelectorAll(".rr-label-name"));
    names.sort(function (a, b) { return (+b.getAttribute("data-p") || 0) - (+a.getAttribute("data-p") || 0); });
    var kept = [];
    names.forEach(function (el) { el.classList.remove("rr-hidden"); });
    names.forEach(function (el) {
      var r = el.getBoundingClientRect();
      var hide = lr !== null && overlap(r, lr);
      for (var i = 0; !hide && i < kept.length; i++) hide = overlap(r, kept[i]);
      if (hide) el.classList.add("rr-hidden"); else kept.push(r);
    });
  };
  // The legend goes on the side where the county leaves more room; the county is fitted beside it.
  map._rrLayout = function () {
    var box = legend.getContainer();
    var size = map.getSize();
    var w = box.offsetWidth, h = box.offsetHeight;
    var padBR = [pad, pad];
    if (w > 0 && size.x > 0 && size.y > 0) {
      var z = map.getBoundsZoom(fit, false, L.point(2 * pad, 2 * pad));
      var nw = map.project(fit.getNorthWest(), z), se = map.project(fit.getSouthEast(), z);
      var spareX = size.x - (se.x - nw.x), spareY = size.y - (se.y - nw.y);
      var pos = spareX / (w + pad) >= spareY / (h + pad) ? "topright" : "bottomright";
      if (legend.getPosition() !== pos) legend.setPosition(pos);
      padBR = pos === "topright" ? [w + 2 * pad, pad] : [pad, h + 2 * pad];
    }
    if (!map._rrUserMoved && size.x > 0 && size.y > 0) {
      fitting = true;
      map.fitBounds(fit, {paddingTopLeft: [pad, pad], paddingBottomRight: padBR, animate: false});
      fitting = false;
    }
    map._rrDeclutter();
  };
  map._rrSetLegend = function (html) {
    var box = legend.getContainer();
    var old = box.querySelector("details");
    var open = old ? old.open : true;
    box.innerHTML = html;
    box.style.display = html ? "" : "none";
    var now = box.querySelector("details");
    if (now) {
      now.open = open;
      now.addEventListener("toggle", function () { map._rrDeclutter(); });
    }
    map._rrLayout();
  };
  fitting = true;
  map.fitBounds(fit, {padding: [pad, pad], animate: false});
  fitting = false;
  map.on("resize", map._rrLayout);
  // The legend's size changes when its content or the style sheets arrive, or when it is folded: lay out again.
  if (window.ResizeObserver) {
    var last = "";
    new ResizeObserver(function () {
      var box = legend.getContainer(), now = box.offsetWidth + "x" + box.offsetHeight;
      if (now !== last) { last = now; map._rrLayout(); }
    }).observe(legend.getContainer());
  }
  map.on("zoomend moveend", map._rrDeclutter);
  // Leaflet focuses the map on every press so the arrow keys work, and focus() scrolls the page around this frame
  // until the frame is in view. With the map partly scrolled out of the page, that moved the map between press and
  // release and the click landed beside the marker. Focus without scrolling; the keys still work.
  if (map.keyboard && map.keyboard.enabled()) {
    map.keyboard.disable();
    map.keyboard._onMouseDown = function () {
      if (!this._focused) this._map.getContainer().focus({preventScroll: true});
    };
    map.keyboard.enable();
  }
})
"""


class ViewControl(MacroElement):
    """Fit, legend and name placement of the live map (see the module docstring); ``bounds`` in display datum."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        + _VIEW_JS
        + "({{ this._parent.get_name() }}, {{ this.bounds }}, {{ this.padding }});\n{% endmacro %}"
    )

    def __init__(self, bounds: Sequence[Sequence[float]], padding: int = FIT_PADDING) -> None:
        super().__init__()
        self._name = "ViewControl"
        self.bounds = script_json([list(corner) for corner in bounds])
        self.padding = int(padding)


class LegendLayer(DataLayer):
    """The legend's content as an overlay: added with the plan layers, it sets the map's legend (``data[0]``:
    escaped markup), so the legend lists what is drawn now.  Without a :class:`ViewControl` it does nothing."""

    builder = """
var html = data[0];
var Layer = L.Layer.extend({
  onAdd: function (map) { if (map._rrSetLegend) map._rrSetLegend(html); },
  onRemove: function () {}
});
return new Layer();
"""

    def __init__(self, html: str, name: str = "LegendLayer") -> None:
        super().__init__(script_json([html]), name)
