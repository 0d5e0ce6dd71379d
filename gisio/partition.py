"""How the items of a plan are laid out in GIS layers: one geometry type per layer, and a table without geometry.

QGIS and ArcGIS split a layer of mixed geometry types by type and silently drop the rows without geometry
(desktop QGIS added 72 of 城口's 130 items from a mixed GeoPackage); ``ogr2ogr`` to Shapefile or File Geodatabase
refuses mixed layers outright.  So every format lays items out the same way:

* one layer per category and geometry family (point, line, polygon), in :data:`config.CATEGORIES` order — a
  category with points and lines gives two layers;
* inside a layer one declared type: single parts when all rows are single, ``Multi*`` when any row is multi-part
  (the single ones are promoted, as GIS layers do; :func:`gisio.reimport.to_features` gives them back);
* the items without geometry (county-wide and unlocated) in one attribute table, :data:`NOGEOM_LAYER`.

Every item is in exactly one layer, so the layers together are the whole plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
from shapely.geometry import MultiLineString, MultiPoint, MultiPolygon
from shapely.geometry.base import BaseGeometry

import config
from geo.features import located_mask
from gisio.errors import GisIOError

# Geometry type -> family; the family names the layer (``demo_village_point``).
FAMILIES: dict[str, str] = {
    "Point": "point",
    "MultiPoint": "point",
    "LineString": "line",
    "MultiLineString": "line",
    "Polygon": "polygon",
    "MultiPolygon": "polygon",
}
FAMILY_LABELS: dict[str, str] = {"point": "点", "line": "线", "polygon": "面"}
_SINGLE: dict[str, str] = {"point": "Point", "line": "LineString", "polygon": "Polygon"}
_MULTI: dict[str, type[BaseGeometry]] = {"point": MultiPoint, "line": MultiLineString, "polygon": MultiPolygon}

NOGEOM_LAYER = "no_geometry"
NOGEOM_TITLE = "全域与未定位条目（无几何）"


@dataclass(frozen=True)
class ItemLayer:
    """One layer of plan items: its name, Chinese title, what it holds and which rows of the feature table.

    ``positions`` index the feature table by position, in plan order.  ``geometry_type`` is the declared type
    (``None`` for the table without geometry).
    """

    name: str
    title: str
    category: str | None
    family: str | None
    geometry_type: str | None
    positions: tuple[int, ...]

    @property
    def spatial(self) -> bool:
        return self.geometry_type is not None

    @property
    def count(self) -> int:
        return len(self.positions)


def _family(geom: BaseGeometry, fid: object) -> str:
    family = FAMILIES.get(geom.geom_type)
    if family is None:
        raise GisIOError(
            f"条目 {fid} 的几何类型 {geom.geom_type} 无法放入单一类型的 GIS 图层（支持点、线、面及其多部件形式）",
            "geometry_type",
        )
    return family


def item_layers(features: gpd.GeoDataFrame) -> list[ItemLayer]:
    """The layers the items of ``features`` go to (only non-empty ones), in a fixed order.

    Raises
    ------
    GisIOError
        A geometry is of a type no single-type layer holds (e.g. a GeometryCollection).
    """
    located = located_mask(features).to_numpy()
    families: list[str | None] = [
        _family(geom, fid) if ok else None for geom, fid, ok in zip(features.geometry.values, features["id"], located)
    ]
    categories = list(features["category"])
    known = list(config.CATEGORIES)
    extra = [c for c in dict.fromkeys(categories) if c not in config.CATEGORIES]
    layers: list[ItemLayer] = []
    for category in [*known, *extra]:
        for family in FAMILY_LABELS:
            rows = tuple(i for i, (c, f) in enumerate(zip(categories, families)) if c == category and f == family)
            if not rows:
                continue
            multi = any(features.geometry.values[i].geom_type.startswith("Multi") for i in rows)
            label = config.CATEGORIES.get(category, category)
            layers.append(
                ItemLayer(
                    name=f"{category}_{family}",
                    title=f"{label}（{FAMILY_LABELS[family]}）",
                    category=category,
                    family=family,
                    geometry_type=f"Multi{_SINGLE[family]}" if multi else _SINGLE[family],
                    positions=rows,
                )
            )
    nogeom = tuple(int(i) for i in np.flatnonzero(~located))
    if nogeom:
        layers.append(ItemLayer(NOGEOM_LAYER, NOGEOM_TITLE, None, None, None, nogeom))
    return layers


def promote(geoms: Sequence[BaseGeometry], geometry_type: str) -> list[BaseGeometry]:
    """``geoms`` with single parts wrapped into the declared ``Multi*`` type (unchanged for a single type)."""
    if not geometry_type.startswith("Multi"):
        return list(geoms)
    family = FAMILIES[geometry_type]
    return [g if g.geom_type == geometry_type else _MULTI[family]([g]) for g in geoms]


def layer_frame(table: gpd.GeoDataFrame, layer: ItemLayer) -> gpd.GeoDataFrame:
    """The rows of ``layer`` from ``table`` (a frame row-aligned with the feature table), geometry promoted.

    For the table without geometry the result still has a (null) geometry column; writers drop it.
    """
    part = table.iloc[list(layer.positions)].reset_index(drop=True)
    if layer.geometry_type is None:
        return part
    out = part.copy()
    out[out.geometry.name] = promote(list(part.geometry.values), layer.geometry_type)
    return out
