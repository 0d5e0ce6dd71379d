"""Point features (demonstration villages and towns, sites, projects): badges grouped in a marker cluster.

Villages placed at their town seat share one position; the cluster groups them and spiderfies on click, so each
stays clickable.  With a plan's few hundred points only markers that (nearly) coincide are clustered, the map is
never blurred into bubbles; with thousands (the municipal scale) the cluster radius grows so the page keeps only
a few hundred elements and stays responsive.

All markers of a layer are one folium element (:class:`PointLayer`): a compact JSON array turned into
``L.marker``/``L.divIcon`` badges by a loop in the browser.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from folium.elements import JSCSSMixin

import config
from config import category_color, category_icon
from layers.base import (
    DECIMALS,
    click_key_pieces,
    feature_popup_pieces,
    kinds,
    marker_size,
    symbol_state,
    tooltip_pieces,
)
from layers.jsonlayer import POPUP_OPTIONS, TOOLTIP_OPTIONS, DataLayer, StringTable, script_json
from plan.designations import LEVEL_NAMES, designation_level
from present.markup import text

CLUSTER_OPTIONS = {
    "maxClusterRadius": 18,  # px: only markers at (almost) the same place are grouped
    "spiderfyOnMaxZoom": True,
    "showCoverageOnHover": False,
    "spiderfyDistanceMultiplier": 1.6,
    "chunkedLoading": True,  # add thousands of markers without freezing the page
}
# Above this many points, cluster by area (markercluster's default radius) instead of by coincidence only.
MANY_POINTS = 500
MANY_POINTS_RADIUS = 80
# Items sharing one town seat (villages placed at their town's seat) are drawn as a ring around the seat, not as a
# stack or a count bubble, when there are at most this many; the seat's own town item stays at the centre.
RING_MAX = 24
RING_GAP = 4  # px between neighbouring badges on the ring
LABEL_SECTOR = 0.6  # radians each side of east kept free for the town's name label (it sits right of the seat)


def cluster_options(n_points: int) -> dict[str, Any]:
    """Cluster options for a layer of ``n_points`` markers (the radius grows with the number of points)."""
    options = dict(CLUSTER_OPTIONS)
    if n_points > MANY_POINTS:
        options["maxClusterRadius"] = MANY_POINTS_RADIUS
    return options


def point_rows(features: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Rows drawn as point markers (geometry made of points only)."""
    return features[kinds(features.geometry) == "point"]


def feature_tooltip(row: Mapping[str, Any]) -> str:
    return "".join(feature_tooltip_pieces(row))


def feature_tooltip_pieces(row: Mapping[str, Any]) -> list[str]:
    cat = config.CATEGORIES.get(row["category"], row["category"])
    sub = " · ".join(x for x in (cat, text(row.get("designation"))) if x)
    return tooltip_pieces(row["name"], sub, click_key_pieces("f", row["id"]))


class PointLayer(JSCSSMixin, DataLayer):
    """Badges: ``[cluster options, styles, strings, items, points, tooltip options, popup options, sizes]``.

    ``styles``: ``[colour, Font Awesome icon]`` per category; ``strings``: the markup pieces of a
    :class:`layers.jsonlayer.StringTable`; ``items``: ``[tooltip pieces, popup pieces, style index, level,
    symbol state (0 at the place, 1 approximate, 2 drawn by a user)]`` per feature; ``points``: ``[lat, lng, item index]`` (a multi-town item has one point per
    town), or ``[lat, lng, item index, dx, dy, z]`` for a badge drawn ``dx, dy`` pixels from its position — a ring
    around a town seat (:func:`ring_offsets`), not clustered; ``z`` raises town items above their villages.
    ``sizes``: badge size in px per designation level.  The badge markup is that of
    :func:`layers.base.marker_html`.  Tooltips are strings (streamlit-folium reads the clicked marker's tooltip
    text); popups are assembled when opened.
    """

    default_js = [
        (
            "markerclusterjs",
            "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/leaflet.markercluster.js",
        )
    ]
    default_css = [
        ("markerclustercss", "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css"),
        (
            "markerclusterdefaultcss",
            "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.Default.css",
        ),
    ]
    builder = """
var opts = data[0], styles = data[1], strs = data[2], items = data[3], pts = data[4];
var tipOpts = data[5], popOpts = data[6], sizes = data[7];
function markup(ix) {
  var s = "";
  for (var k = 0; k < ix.length; k++) s += strs[ix[k]];
  return s;
}
opts.iconCreateFunction = function (cluster) {
  var n = cluster.getChildCount();
  return L.divIcon({html: "<div><span>" + n + "</span></div>", className: "rr-cluster", iconSize: L.point(30, 30)});
};
var group = L.markerClusterGroup(opts);
var ring = L.featureGroup();
var icons = {}, tips = [];
function badgeIcon(it, dx, dy) {
  var st = styles[it[2]], size = sizes[it[3]];
  return L.divIcon({
    html: '<div class="rr-pin rr-l' + it[3] + ["", " rr-approx", " rr-drawn"][it[4]] + '" style="--c:' + st[0]
      + ";width:" + size + "px;height:" + size + 'px"><i class="fa-solid fa-' + st[1] + '"></i></div>',
    iconSize: [size, size], iconAnchor: [size / 2 - dx, size / 2 - dy], className: "rr-icon"
  });
}
function badge(it) {
  var key = it[2] + ":" + it[3] + ":" + it[4];
  if (!icons[key]) icons[key] = badgeIcon(it, 0, 0);
  return icons[key];
}
function popup(it) {
  return function () { return markup(it[1]); };
}
// Tooltip and popup are bound when a marker is first drawn (not clustered away): with thousands of points only
// the few hundred on screen pay for them.  streamlit-folium reads a clicked marker's tooltip, which it then has.
var RrMarker = L.Marker.extend({
  onAdd: function (map) {
    if (!this._rrBound) {
      var k = this.options.rrItem, it = items[k];
      if (tips[k] === undefined) tips[k] = markup(it[0]);
      this.bindTooltip(tips[k], tipOpts);
      this.bindPopup(popup(it), popOpts);
      this._rrBound = true;
    }
    return L.Marker.prototype.onAdd.call(this, map);
  }
});
var markers = [];
for (var i = 0; i < pts.length; i++) {
  var p = pts[i];
  if (p.length > 3) {
    ring.addLayer(new RrMarker([p[0], p[1]], {icon: badgeIcon(items[p[2]], p[3], p[4]), rrItem: p[2],
                                            zIndexOffset: p[5]}));
  } else {
    markers.push(new RrMarker([p[0], p[1]], {icon: badge(items[p[2]]), rrItem: p[2]}));
  }
}
group.addLayers(markers);
return L.featureGroup([group, ring]);
"""

    def __init__(self, data: str, name: str = "PointLayer") -> None:
        super().__init__(data, name)


# Columns of the feature table that tooltips and popups read.
_ROW_COLUMNS = ("id", "name", "category", "designation", "places", "precision", "source")


# Built layers by content: every script run of the app draws the map again, and with thousands of points building
# the JSON costs far more than recognising the same rows (a few recent filter states are kept).
_MEMO: OrderedDict[bytes, tuple[str, int]] = OrderedDict()
_MEMO_SIZE = 8
_MEMO_LOCK = threading.Lock()  # Streamlit runs each session's script in its own thread


def _fingerprint(frame: gpd.GeoDataFrame) -> bytes:
    """Digest of everything :func:`point_data` reads from ``frame`` (the columns and the coordinates)."""
    digest = hashlib.blake2b(digest_size=20)
    for column in _ROW_COLUMNS:
        digest.update(repr(frame[column].tolist()).encode("utf-8"))
    digest.update(b"".join(shapely.to_wkb(frame.geometry.values)))
    return digest.digest()


def point_data(features: gpd.GeoDataFrame) -> tuple[str, int]:
    """The :class:`PointLayer` JSON of the point features, and the number of markers it draws."""
    frame = point_rows(features)
    key = _fingerprint(frame)
    with _MEMO_LOCK:
        if key in _MEMO:
            _MEMO.move_to_end(key)
            return _MEMO[key]
    built = _build_point_data(frame)
    with _MEMO_LOCK:
        _MEMO[key] = built
        while len(_MEMO) > _MEMO_SIZE:
            _MEMO.popitem(last=False)
    return built


def _build_point_data(frame: gpd.GeoDataFrame) -> tuple[str, int]:
    styles: list[list[str]] = []
    style_index: dict[str, int] = {}
    strings = StringTable()
    items: list[list[Any]] = []
    columns = {c: frame[c].tolist() for c in _ROW_COLUMNS}
    pieces: list[list[str]] = []
    for n in range(len(frame)):
        row = {c: values[n] for c, values in columns.items()}
        cat = row["category"]
        if cat not in style_index:
            style_index[cat] = len(styles)
            styles.append([category_color(cat), category_icon(cat)])
        pieces += [feature_tooltip_pieces(row), feature_popup_pieces(row)]
        items.append(
            [
                None,
                None,
                style_index[cat],
                designation_level(row["designation"]),
                symbol_state(cat, row["precision"]),
            ]
        )
    interned = strings.intern_pieces(pieces)
    for n, item in enumerate(items):
        item[0], item[1] = interned[2 * n], interned[2 * n + 1]
    # Every vertex of every (multi)point, vectorised: [lat, lng, item index].
    xy, owner = shapely.get_coordinates(frame.geometry.values, return_index=True)
    latlngs = np.round(xy[:, ::-1], DECIMALS).tolist()
    points: list[list[Any]] = [[lat, lng, n] for (lat, lng), n in zip(latlngs, owner.tolist())]
    sizes = [marker_size(level) for level in LEVEL_NAMES]  # by designation level: one formula, in Python
    if len(points) <= MANY_POINTS:  # a county's plan; the municipal scale keeps plain clustering
        categories = columns["category"]
        at_seat = [str(columns["precision"][n]) in _AT_SEAT for n in range(len(frame))]
        _ring_points(points, items, sizes, categories, at_seat)
    data = [cluster_options(len(points)), styles, strings.strings, items, points, TOOLTIP_OPTIONS, POPUP_OPTIONS, sizes]
    return script_json(data), len(points)


_AT_SEAT = frozenset({"town", "multi_town"})  # precisions that put an item at a town seat
_TOWN_CATEGORIES = frozenset({"demo_town"})
TOWN_Z = 1000  # a town's own item is drawn above the villages around it


def ring_offsets(sizes: list[int]) -> list[tuple[int, int]]:
    """Pixel offsets (dx, dy; y down) placing badges of these sizes on a ring around one point.

    The ring is just large enough for the badges side by side, and leaves a sector east of the point free for the
    town's name label.  Deterministic: same sizes, same offsets.
    """
    if not sizes:
        return []
    circumference = sum(s + RING_GAP for s in sizes)
    usable = 2 * math.pi - 2 * LABEL_SECTOR
    radius = max(max(sizes) * 0.9, circumference / usable)
    step = usable / len(sizes)
    out = []
    for k in range(len(sizes)):
        angle = LABEL_SECTOR + step * (k + 0.5)  # counter-clockwise from east, skipping the label sector
        out.append((round(radius * math.cos(angle)), round(-radius * math.sin(angle))))
    return out


def _ring_points(
    points: list[list[Any]], items: list[list[Any]], sizes: list[int], categories: list[str], at_seat: list[bool]
) -> None:
    """Give the badges sharing a town seat ring offsets (in place): the town's own items stay at the centre."""
    groups: dict[tuple[float, float], list[int]] = {}
    for i, (lat, lng, n) in enumerate(points):
        if at_seat[n]:
            groups.setdefault((lat, lng), []).append(i)
    for members in groups.values():
        if len(members) < 2 or len(members) > RING_MAX:
            continue
        centre = [i for i in members if categories[points[i][2]] in _TOWN_CATEGORIES]
        around = [i for i in members if i not in centre]
        for i in centre:
            points[i] += [0, 0, TOWN_Z]
        offsets = ring_offsets([sizes[items[points[i][2]][3]] for i in around])
        for i, (dx, dy) in zip(around, offsets):
            points[i] += [dx, dy, 0]


def point_layers(features: gpd.GeoDataFrame) -> list[PointLayer]:
    """All point markers of ``features`` in one cluster layer (none without points)."""
    data, n = point_data(features)
    return [PointLayer(data, "PointLayer")] if n else []
