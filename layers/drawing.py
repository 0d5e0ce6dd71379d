"""Drawing and editing one plan item on the live map, with Leaflet-Geoman (npm, MIT), through streamlit-folium.

Why Geoman rather than Leaflet.draw: it is maintained (Leaflet.draw's last release is from 2018), speaks Chinese
(``map.pm.setLang("zh")``), refuses self-intersecting areas while drawing, and snaps — here to the town seats only
(``L.PM.setOptIn``: nothing but the item being edited is editable, and only layers marked ``snapIgnore: false``,
the town labels of :mod:`layers.labels`, are snap targets).  streamlit-folium listens to Leaflet.draw's events
(``draw:created`` / ``draw:edited``) and returns ``window.drawnItems`` as ``all_drawings``; a few lines of glue
re-fire Geoman's events under those names.

Two parts:

* :class:`DrawSupport` belongs to the static map of the edit mode (one map per view and basemap, so entering the
  edit mode loads the map once with Geoman).  It creates ``drawnItems``, the glue, and the CSS that makes every
  other layer transparent to the mouse while editing (a click must add a vertex, not select an item).
* :func:`edit_group` is a dynamic overlay (``feature_group_to_add``): it sets the item being edited (id, the
  version it was loaded at, the kind of drawing offered), rebuilds the toolbar and puts the item's current
  geometry into ``drawnItems``.  Switching items therefore does not reload the map.

Each drawing carries ``item_id``, ``version`` and ``edited`` in its GeoJSON properties: the app saves only a
drawing of the item it is editing, based on that version, and only when the user presses the save button.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import folium
from branca.element import Element, MacroElement
from folium.elements import JSCSSMixin
from jinja2 import Template
from shapely.geometry.base import BaseGeometry

import config
from geo.usergeo import KIND_LABELS
from layers.base import figure_of
from layers.jsonlayer import script_json

# Geoman toolbar buttons, all off unless named: the item's kind turns one drawing tool on.
_TOOLS_OFF = {
    "drawMarker": False,
    "drawCircleMarker": False,
    "drawPolyline": False,
    "drawRectangle": False,
    "drawPolygon": False,
    "drawCircle": False,
    "drawText": False,
    "cutPolygon": False,
    "rotateMode": False,
    "removalMode": False,  # deleting is a button of the app, with the user's name and a note
    "dragMode": False,
    "editMode": True,
}
KIND_TOOLS = {"point": "drawMarker", "line": "drawPolyline", "area": "drawPolygon"}
KIND_SHAPES = {"point": "Marker", "line": "Line", "area": "Polygon"}  # Geoman's shape names
EDIT_COLOR = "#E4002B"

EDIT_CSS = """
<style>
.rr-editing .leaflet-overlay-pane .leaflet-interactive:not(.rr-editable),
.rr-editing .leaflet-marker-pane .leaflet-marker-icon:not(.rr-editable):not(.marker-icon),
.rr-editing .leaflet-marker-pane .leaflet-marker-icon:not(.rr-editable):not(.marker-icon) * {
  pointer-events: none !important;  /* labels inside a marker (town names) ask for events themselves */
}
.rr-editing .leaflet-tooltip-pane { display: none; }
.rr-editing .leaflet-pm-toolbar .button-container a { width: 34px; height: 34px; }
</style>
"""


def toolbar(kind: str) -> dict[str, Any]:
    """Geoman ``addControls`` options offering the drawing tool of ``kind`` (point, line or area) and editing."""
    if kind not in KIND_TOOLS:
        raise ValueError(f"unknown drawing kind {kind!r}")
    return {"position": "topleft", **_TOOLS_OFF, KIND_TOOLS[kind]: True}


class DrawSupport(JSCSSMixin, MacroElement):
    """Geoman, ``drawnItems`` and the glue to streamlit-folium, on the static map of the edit mode."""

    default_js = [
        ("leaflet_geoman_js", "https://unpkg.com/@geoman-io/leaflet-geoman-free@2.20.2/dist/leaflet-geoman.js")
    ]
    default_css = [
        ("leaflet_geoman_css", "https://unpkg.com/@geoman-io/leaflet-geoman-free@2.20.2/dist/leaflet-geoman.css")
    ]
    _template = Template(
        """{% macro script(this, kwargs) %}
var drawnItems = L.featureGroup().addTo({{ this._parent.get_name() }});
(function (map) {
  // streamlit-folium appends Leaflet's CSS after the scripts run, so Leaflet cannot find its marker images itself.
  L.Icon.Default.imagePath = {{ this.image_path|tojson }};
  L.PM.setOptIn(true);
  map.pm.setLang("zh");
  map.pm.setGlobalOptions({
    layerGroup: drawnItems, snappable: true, snapDistance: 20, allowSelfIntersection: false,
    continueDrawing: false, finishOn: null,
    markerStyle: {icon: new L.Icon.Default({className: "rr-editable"})},
    pathOptions: {color: {{ this.color|tojson }}, weight: 4, className: "rr-editable"},
    templineStyle: {color: {{ this.color|tojson }}}, hintlineStyle: {color: {{ this.color|tojson }}, dashArray: "5,5"}
  });
  map.getContainer().classList.add("rr-editing");
  function mark(layer, action) {
    var edit = window.rrEdit || {}, before = (layer.feature && layer.feature.properties) || {};
    layer.feature = layer.feature || {type: "Feature", properties: {}};
    // A drawing edited after it was created is still a new drawing.
    var how = before.edited && before.action === "created" ? "created" : action;
    layer.feature.properties = {item_id: edit.item_id, version: edit.version, edited: true, action: how};
  }
  window.rrWatch = function (layer) {
    layer.on("pm:edit", function (e) {
      mark(e.layer, "edited");
      map.fire("draw:edited", {layers: drawnItems});
    });
  };
  map.on("pm:create", function (e) {
    // One item has one geometry: a new drawing replaces the one there was.
    drawnItems.eachLayer(function (l) { if (l !== e.layer) drawnItems.removeLayer(l); });
    if (!drawnItems.hasLayer(e.layer)) drawnItems.addLayer(e.layer);
    e.layer.options.pmIgnore = false;
    L.PM.reInitLayer(e.layer);
    mark(e.layer, "created");
    window.rrWatch(e.layer);
    map.fire("draw:created", {layer: e.layer, layerType: e.shape});
  });
})({{ this._parent.get_name() }});
{% endmacro %}"""
    )

    def __init__(self, image_path: str | None = None, color: str = EDIT_COLOR) -> None:
        super().__init__()
        self._name = "DrawSupport"
        self.image_path = image_path or "/" + config.STATIC_URL.strip("/") + "/vendor/leaflet/dist/images/"
        self.color = color

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # MacroElement.render returns None; Element's stub says str
        figure_of(self).header.add_child(Element(EDIT_CSS), name="rr_edit_css")
        super().render(**kwargs)


@dataclass(frozen=True)
class EditTarget:
    """The item being edited: its id, the version it was loaded at (0: none yet), the kind of drawing offered,
    and its current geometry in the display datum (None: nothing drawn yet)."""

    item_id: str
    version: int
    kind: str
    geometry: BaseGeometry | None = None
    token: int = 0  # changed to put the loaded geometry back (discarding an unsaved drawing)

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


class EditItem(MacroElement):
    """Sets the item being edited, rebuilds the toolbar and puts the item's geometry into ``drawnItems``."""

    _template = Template(
        """{% macro script(this, kwargs) %}
(function (map, data) {
  var edit = data[0];
  window.rrEdit = edit;
  map.pm.disableDraw();
  map.pm.disableGlobalEditMode();
  map.pm.removeControls();
  map.pm.addControls(data[1]);
  drawnItems.clearLayers();
  if (data[2]) {
    var style = {color: data[3], weight: 4, className: "rr-editable", pmIgnore: false};
    L.geoJSON(data[2], {
      pmIgnore: false,
      style: function () { return style; },
      pointToLayer: function (f, latlng) {
        return L.marker(latlng, {pmIgnore: false, icon: new L.Icon.Default({className: "rr-editable"})});
      }
    }).eachLayer(function (layer) {
      drawnItems.addLayer(layer);
      window.rrWatch(layer);
    });
  }
  // Tell streamlit-folium what is editable now, so a drawing of the previous item is not taken for this one's.
  map.fire("draw:edited", {layers: L.featureGroup()});
  // Nothing to edit yet: the drawing tool is ready, one click on the map starts the drawing.
  if (!data[2]) map.pm.enableDraw(data[4]);
})(window.map, {{ this.data }});
{% endmacro %}"""
    )

    def __init__(self, target: EditTarget, color: str = EDIT_COLOR) -> None:
        super().__init__()
        self._name = "EditItem"
        feature = None
        if target.geometry is not None and not target.geometry.is_empty:
            feature = {
                "type": "Feature",
                "properties": {"item_id": target.item_id, "version": target.version, "edited": False},
                "geometry": target.geometry.__geo_interface__,
            }
        meta = {"item_id": target.item_id, "version": target.version, "kind": target.kind, "token": target.token}
        self.data = script_json([meta, toolbar(target.kind), feature, color, KIND_SHAPES[target.kind]])


def edit_group(target: EditTarget) -> folium.FeatureGroup:
    """The dynamic overlay that makes ``target`` the edited item (see the module docstring)."""
    group = folium.FeatureGroup(name="标绘", control=False)
    group.add_child(EditItem(target))
    return group


@dataclass(frozen=True)
class Drawing:
    """A drawing of the edited item returned by the map: GeoJSON geometry in the display datum, and whether it
    is a new drawing (``created``) or an edit of the geometry that was loaded (``edited``)."""

    geometry: dict[str, Any]
    action: str


def pending_drawing(value: Any, item_id: str, version: int) -> Drawing | None:
    """The unsaved drawing of ``item_id`` loaded at ``version`` in the map's return value, if the user made one.

    Drawings of another item, or of the same item loaded at another version (a stale return value after a save or
    a switch), are ignored.
    """
    drawings = (value or {}).get("all_drawings") if isinstance(value, dict) else None
    for feature in reversed(drawings or []):
        props = (feature or {}).get("properties") or {}
        if props.get("item_id") == item_id and props.get("version") == version and props.get("edited"):
            geometry = feature.get("geometry")
            if isinstance(geometry, dict):
                return Drawing(geometry, "created" if props.get("action") == "created" else "edited")
    return None
