"""Point features (demonstration villages and towns, sites, projects): badges grouped in a marker cluster.

Villages placed at their town seat share one position; the cluster groups them and spiderfies on click, so each
stays clickable.  Only markers that (nearly) coincide are clustered, the map is never blurred into bubbles.
"""
from __future__ import annotations

import folium
import geopandas as gpd
from folium.plugins import MarkerCluster

from layers.base import (
    text,
    BoundPopup,
    BoundTooltip,
    click_key,
    designation_level,
    feature_popup_html,
    is_approximate,
    kind_of,
    latlng,
    marker_icon,
    parts,
    tooltip_html,
)
import config

CLUSTER_OPTIONS = {
    "maxClusterRadius": 18,          # px: only markers at (almost) the same place are grouped
    "spiderfyOnMaxZoom": True,
    "showCoverageOnHover": False,
    "spiderfyDistanceMultiplier": 1.6,
}
# Cluster badge: count in a neutral disc (the default green/yellow/orange reads as a heat scale).
CLUSTER_ICON = """function (cluster) {
    var n = cluster.getChildCount();
    return L.divIcon({html: '<div><span>' + n + '</span></div>', className: 'rr-cluster', iconSize: L.point(30, 30)});
}"""


def point_rows(features: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Rows drawn as point markers (geometry made of points only)."""
    mask = [kind_of(g) == "point" for g in features.geometry]
    return features[mask]


def feature_tooltip(row) -> str:  # type: ignore[no-untyped-def]
    cat = config.CATEGORIES.get(row["category"], row["category"])
    sub = " · ".join(x for x in (cat, text(row.get("designation"))) if x)
    return tooltip_html(row["name"], sub, click_key("f", row["id"]))


def point_markers(features: gpd.GeoDataFrame) -> list[folium.Marker]:
    """One marker per point (a multi-town item gets one marker at each town), each with tooltip and popup."""
    markers: list[folium.Marker] = []
    for _, row in point_rows(features).iterrows():
        level = designation_level(row["designation"])
        approx = is_approximate(row["category"], row["precision"])
        tip = feature_tooltip(row)
        popup = feature_popup_html(row)
        for pt in parts(row.geometry):
            marker = folium.Marker(latlng(pt), icon=marker_icon(row["category"], level, approx))
            marker.add_child(BoundTooltip(tip))
            marker.add_child(BoundPopup(popup))
            markers.append(marker)
    return markers


def point_cluster(features: gpd.GeoDataFrame, name: str = "点状要素") -> MarkerCluster:
    """All point markers of ``features`` in one cluster group."""
    cluster = MarkerCluster(name=name, options=CLUSTER_OPTIONS, icon_create_function=CLUSTER_ICON)
    for marker in point_markers(features):
        cluster.add_child(marker)
    return cluster
