"""What a delivery holds, built once and written by each format's writer.

A :class:`Package` is the export of one selection in one CRS: the items as flat typed columns laid out in
single-type layers (:mod:`gisio.partition`), the long ``attributes`` table, the plan's indicator table, the
district boundaries (one level) and the municipal outline, and the facts of the 数据说明 (:mod:`gisio.metadata`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd
from shapely.geometry import MultiPolygon

import config
from geo.boundaries import boundaries_source
from geo.crs import to_crs
from geo.errors import GeoDataError
from geo.features import located_mask
from gisio.dictionary import DictionaryRow, dictionary_rows, layer_description, layer_title
from gisio.metadata import DataSource, Delivery, LayerSummary, delivery_sources
from gisio.partition import ItemLayer, item_layers, layer_frame
from gisio.tabular import attributes_table, tabular_frame
from plan.model import Plan

BOUNDARY_LEVELS: dict[str, str] = {"county": "区县级", "province": "省级（直辖市）"}


@dataclass(frozen=True)
class Package:
    """One selection of plan items, ready for the writers (every frame already in ``crs``)."""

    title: str
    crs: str
    items: gpd.GeoDataFrame  # tabular_frame rows in plan order
    layers: tuple[ItemLayer, ...]
    attributes: pd.DataFrame
    indicators: pd.DataFrame | None
    districts: gpd.GeoDataFrame | None
    municipality: gpd.GeoDataFrame | None
    plans: tuple[Plan, ...]
    counties: tuple[str, ...]
    located: int
    sources: tuple[DataSource, ...] = field(default=())

    @property
    def total(self) -> int:
        return len(self.items)

    def layer(self, layer: ItemLayer) -> gpd.GeoDataFrame:
        """The rows of ``layer`` (geometry promoted to the layer's declared type)."""
        return layer_frame(self.items, layer)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables beside the item layers, by name (only those that have rows)."""
        out: dict[str, pd.DataFrame] = {}
        if self.districts is not None and len(self.districts):
            out["boundaries"] = self.districts
        if self.municipality is not None and len(self.municipality):
            out["municipality"] = self.municipality
        out["attributes"] = self.attributes
        if self.indicators is not None and len(self.indicators):
            out["indicators"] = self.indicators
        return out

    def delivery(
        self, format_label: str, *, layers: Sequence[LayerSummary] | None = None, notes: Sequence[str] = ()
    ) -> Delivery:
        """The readme facts of this package written as ``format_label`` (``layers``: as that format names them)."""
        if layers is None:
            layers = [LayerSummary(x.name, x.title, x.count, layer_description(x)) for x in self.layers]
            layers += [
                LayerSummary(name, layer_title(name), len(frame), layer_description(name))
                for name, frame in self.tables().items()
            ]
        return Delivery(
            title=self.title,
            crs=self.crs,
            format_label=format_label,
            total=self.total,
            located=self.located,
            counties=self.counties,
            plans=self.plans,
            layers=tuple(layers),
            sources=tuple(self.sources),
            notes=tuple(notes),
        )

    def dictionary(
        self, extra: Mapping[str, pd.DataFrame] | None = None, names: Mapping[str, Mapping[str, str]] | None = None
    ) -> list[DictionaryRow]:
        """Dictionary rows of the item layers (one entry each) and the tables, plus ``extra`` tables."""
        frames: dict[str, pd.DataFrame] = {
            layer.name: self.layer(layer) if layer.spatial else attributes_only(self.layer(layer))
            for layer in self.layers
        }
        frames.update(self.tables())
        frames.update(extra or {})
        titles = {layer.name: layer.title for layer in self.layers}
        titles.update({name: layer_title(name) for name in frames if name not in titles})
        return dictionary_rows(frames, titles, names)


def attributes_only(frame: gpd.GeoDataFrame | pd.DataFrame) -> pd.DataFrame:
    """``frame`` without its geometry column(s), as a plain table."""
    return pd.DataFrame(frame.drop(columns=[c for c in frame.columns if str(frame[c].dtype) == "geometry"]))


def _boundary_frames(
    boundaries: gpd.GeoDataFrame | None, crs: str
) -> tuple[gpd.GeoDataFrame | None, gpd.GeoDataFrame | None]:
    """Districts (one level) and the municipality, each with ``adcode, name, level, level_label, data_source``."""
    if boundaries is None or not len(boundaries):
        return None, None
    try:
        source = boundaries_source()
    except GeoDataError:
        source = None
    frame = boundaries[["adcode", "name", "geometry"]].copy()
    frame["adcode"] = frame["adcode"].astype(str)
    is_municipal = frame["adcode"] == config.MUNICIPAL_ADCODE
    out: list[gpd.GeoDataFrame | None] = []
    for mask, level in ((~is_municipal, "county"), (is_municipal, "province")):
        part = frame[mask].reset_index(drop=True)
        if part.empty:
            out.append(None)
            continue
        part.insert(2, "level", level)
        part.insert(3, "level_label", BOUNDARY_LEVELS[level])
        part.insert(4, "data_source", source)
        part = gpd.GeoDataFrame(part, geometry="geometry", crs=boundaries.crs or config.WGS84)
        part["geometry"] = [g if g.geom_type == "MultiPolygon" else MultiPolygon([g]) for g in part.geometry.values]
        out.append(to_crs(part, crs))
    return out[0], out[1]


def build_package(
    features: gpd.GeoDataFrame,
    *,
    crs: str,
    title: str,
    boundaries: gpd.GeoDataFrame | None = None,
    indicators: pd.DataFrame | None = None,
    plans: Sequence[Plan] = (),
) -> Package:
    """Everything a writer needs for ``features`` in ``crs``.

    Raises
    ------
    gisio.errors.GisIOError
        An item's geometry fits no single-type layer.
    geo.errors.GeoDataError
        A dataset the metadata must name cannot be read.
    """
    counties = tuple(sorted(set(features["county"].astype(str)))) if len(features) else ()
    wanted = [p for p in plans if p.county in counties] or list(plans)
    items = to_crs(tabular_frame(features), crs)
    districts, municipality = _boundary_frames(boundaries, crs)
    sources = delivery_sources(features, wanted, boundaries=districts is not None or municipality is not None)
    return Package(
        title=title,
        crs=crs,
        items=items,
        layers=tuple(item_layers(features)),
        attributes=attributes_table(features),
        indicators=indicators.reset_index(drop=True) if indicators is not None else None,
        districts=districts,
        municipality=municipality,
        plans=tuple(wanted),
        counties=counties,
        located=int(located_mask(features).sum()),
        sources=tuple(sources),
    )
