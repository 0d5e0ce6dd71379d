"""Point features (demonstration villages and towns, sites, projects): badges grouped in a marker cluster.

Villages placed at their town seat share one position; the cluster groups them and spiderfies on click, so each
stays clickable.  With a plan's few hundred points only markers that (nearly) coincide are clustered, the map is
never blurred into bubbles; with thousands (the municipal scale) the cluster radius grows so the page keeps only
a few hundred elements and stays responsive.

All markers of a layer are one folium element (:class:`PointLayer`): a compact JSON array turned into
``L.marker``/``L.divIcon`` badges by a loop in the browser.
"""
from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from folium.elements import JSCSSMixin

import config
from layers.base import (
    DECIMALS,
    category_color,
    category_icon,
    click_key,
    designation_level,
    feature_popup_html,
    is_approximate,
    kind_of,
    text,
    tooltip_html,
)
from layers.jsonlayer import POPUP_OPTIONS, TOOLTIP_OPTIONS, DataLayer, StringTable, script_json

CLUSTER_OPTIONS = {
    "maxClusterRadius": 18,          # px: only markers at (almost) the same place are grouped
    "spiderfyOnMaxZoom": True,
    "showCoverageOnHover": False,
    "spiderfyDistanceMultiplier": 1.6,
    "chunkedLoading": True,          # add thousands of markers without freezing the page
}
# Above this many points, cluster by area (markercluster's default radius) instead of by coincidence only.
MANY_POINTS = 500
MANY_POINTS_RADIUS = 80


def cluster_options(n_points: int) -> dict[str, Any]:
    """Cluster options for a layer of ``n_points`` markers (the radius grows with the number of points)."""
    options = dict(CLUSTER_OPTIONS)
    if n_points > MANY_POINTS:
        options["maxClusterRadius"] = MANY_POINTS_RADIUS
    return options


def point_rows(features: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Rows drawn as point markers (geometry made of points only)."""
    types = features.geometry.geom_type
    mask = types.isin(["Point", "MultiPoint"])
    collections = types == "GeometryCollection"
    if collections.any():
        mask |= collections & [kind_of(g) == "point" for g in features.geometry]
    return features[mask]


def feature_tooltip(row) -> str:  # type: ignore[no-untyped-def]
    cat = config.CATEGORIES.get(row["category"], row["category"])
    sub = " · ".join(x for x in (cat, text(row.get("designation"))) if x)
    return tooltip_html(row["name"], sub, click_key("f", row["id"]))


class PointLayer(JSCSSMixin, DataLayer):
    """Clustered badges: ``[cluster options, styles, strings, items, points, tooltip options, popup options]``.

    ``styles``: ``[colour, Font Awesome icon]`` per category; ``strings``: the markup pieces of a
    :class:`layers.jsonlayer.StringTable`; ``items``: ``[tooltip pieces, popup pieces, style index, level,
    approximate (0/1)]`` per feature; ``points``: ``[lat, lng, item index]`` (a multi-town item has one point per
    town).  The badge markup is that of :func:`layers.base.marker_html`.  Tooltips are strings (streamlit-folium
    reads the clicked marker's tooltip text); popups are assembled when opened.
    """

    default_js = [("markerclusterjs", "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/leaflet.markercluster.js")]
    default_css = [
        ("markerclustercss", "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css"),
        ("markerclusterdefaultcss", "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.Default.css"),
    ]  # fmt: skip
    builder = """
var opts = data[0], styles = data[1], strs = data[2], items = data[3], pts = data[4];
var tipOpts = data[5], popOpts = data[6];
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
var icons = [], tips = [];
function badge(it) {
  var key = it[2] * 10 + it[3] + (it[4] ? 5 : 0);
  if (!icons[key]) {
    var st = styles[it[2]], size = 24 + 4 * it[3];
    icons[key] = L.divIcon({
      html: '<div class="rr-pin rr-l' + it[3] + (it[4] ? " rr-approx" : "") + '" style="--c:' + st[0]
        + ";width:" + size + "px;height:" + size + 'px"><i class="fa-solid fa-' + st[1] + '"></i></div>',
      iconSize: [size, size], iconAnchor: [size / 2, size / 2], className: "rr-icon"
    });
  }
  return icons[key];
}
function popup(it) {
  return function () { return markup(it[1]); };
}
var markers = new Array(pts.length);
for (var i = 0; i < pts.length; i++) {
  var p = pts[i], it = items[p[2]];
  if (tips[p[2]] === undefined) tips[p[2]] = markup(it[0]);
  var m = L.marker([p[0], p[1]], {icon: badge(it)});
  m.bindTooltip(tips[p[2]], tipOpts);
  m.bindPopup(popup(it), popOpts);
  markers[i] = m;
}
group.addLayers(markers);
return group;
"""

    def __init__(self, data: str, name: str = "PointLayer") -> None:
        super().__init__(data, name)


# Columns of the feature table that tooltips and popups read.
_ROW_COLUMNS = ("id", "name", "category", "designation", "places", "precision", "source")


def point_data(features: gpd.GeoDataFrame) -> tuple[str, int]:
    """The :class:`PointLayer` JSON of the point features, and the number of markers it draws."""
    styles: list[list[str]] = []
    style_index: dict[str, int] = {}
    strings = StringTable()
    items: list[list[Any]] = []
    frame = point_rows(features)
    columns = {c: frame[c].tolist() for c in _ROW_COLUMNS}
    markups: list[str] = []
    for n in range(len(frame)):
        row = {c: values[n] for c, values in columns.items()}
        cat = row["category"]
        if cat not in style_index:
            style_index[cat] = len(styles)
            styles.append([category_color(cat), category_icon(cat)])
        markups += [feature_tooltip(row), feature_popup_html(row)]
        items.append([None, None, style_index[cat], designation_level(row["designation"]),
                      int(is_approximate(cat, row["precision"]))])  # fmt: skip
    interned = strings.intern_all(markups)
    for n, item in enumerate(items):
        item[0], item[1] = interned[2 * n], interned[2 * n + 1]
    # Every vertex of every (multi)point, vectorised: [lat, lng, item index].
    xy, owner = shapely.get_coordinates(frame.geometry.values, return_index=True)
    latlngs = np.round(xy[:, ::-1], DECIMALS).tolist()
    points = [[lat, lng, n] for (lat, lng), n in zip(latlngs, owner.tolist())]
    data = [cluster_options(len(points)), styles, strings.strings, items, points, TOOLTIP_OPTIONS, POPUP_OPTIONS]
    return script_json(data), len(points)


def point_layers(features: gpd.GeoDataFrame) -> list[PointLayer]:
    """All point markers of ``features`` in one cluster layer (none without points)."""
    data, n = point_data(features)
    return [PointLayer(data, "PointLayer")] if n else []
