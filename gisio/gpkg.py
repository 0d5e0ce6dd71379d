"""GeoPackage delivery: single-type item layers, the items without geometry, boundaries, tables, styles, metadata.

Written as GeoPackage 1.2 (pyogrio's GDAL writes 1.4 by default, which the GDAL 3.6 under QGIS 3.22 warns about on
every open and whose validator fails) with an R-tree spatial index on every feature table.  Inside:

* one layer per category and geometry family (:mod:`gisio.partition`), and ``no_geometry``: an attribute table
  (no geometry column) of the county-wide and unlocated items — together exactly the items of the selection;
* ``boundaries`` (districts: ``adcode, name, level``) and ``municipality`` (the municipal outline) separately;
* ``attributes`` (every figure, one row each), ``indicators`` (the plan's indicator table), ``data_dictionary``
  and ``readme`` (数据说明) as attribute tables; ``rrmap_export`` (what the importer reads back);
* QGIS default styles in ``layer_styles`` (QML + SLD), Chinese aliases and descriptions in
  ``gpkg_data_columns``, ISO 19139 metadata and the 数据说明 text in ``gpkg_metadata``.
"""

from __future__ import annotations

import warnings
from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from geo.crs import crs_label
from gisio.dictionary import aliases, dictionary_frame, dictionary_rows, layer_description, layer_title
from gisio.gpkg_schema import FieldDoc, MetadataRow, StyleRow, finish_gpkg, geometry_columns
from gisio.metadata import APP_NAME, LayerSummary, iso_metadata_xml, readme_sections, readme_text
from gisio.package import Package, attributes_only
from gisio.partition import ItemLayer
from gisio.styles import LayerStyle, boundary_style, item_style, table_style

GPKG_VERSION = "1.2"
GPKG_META_TABLE = "rrmap_export"
GPKG_BOUNDARIES = "boundaries"
GPKG_MUNICIPALITY = "municipality"
GPKG_INDICATORS = "indicators"
GPKG_ATTRIBUTES = "attributes"
GPKG_DICTIONARY = "data_dictionary"
GPKG_README = "readme"
# Key of the rrmap_export row listing the item layers (the importer reads exactly these back).
ITEM_LAYERS_KEY = "item_layers"
TEXT_PLAIN_URI = "https://www.iana.org/assignments/media-types/text/plain"


class _Writer:
    """Writes tables into one GeoPackage; the first write creates the file with the dataset options."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.created = False
        self.written: list[str] = []

    def write(
        self,
        frame: gpd.GeoDataFrame | pd.DataFrame,
        name: str,
        *,
        geometry_type: str | None = None,
    ) -> None:
        layer_options = {"IDENTIFIER": name, "DESCRIPTION": layer_description(name)}
        options: dict[str, object] = {"driver": "GPKG", "layer": name}
        if not self.created:
            options["dataset_options"] = {"VERSION": GPKG_VERSION}
        if geometry_type is not None:
            options["geometry_type"] = geometry_type
            options["promote_to_multi"] = False
            layer_options["SPATIAL_INDEX"] = "YES"
        options["layer_options"] = layer_options
        with warnings.catch_warnings():
            # pyogrio warns that a DataFrame without geometry becomes an attribute table: exactly what we want.
            warnings.simplefilter("ignore", UserWarning)
            pyogrio.write_dataframe(frame.reset_index(drop=True), self.path, **options)
        self.created = True
        self.written.append(name)


def _style_of(layer: ItemLayer, frame: pd.DataFrame) -> LayerStyle:
    columns = [c for c in frame.columns if str(frame[c].dtype) != "geometry"]
    return item_style(layer, precisions=set(frame["precision"]), aliases=aliases(columns))


def write_gpkg(package: Package, path: Path, *, format_label: str = "GeoPackage") -> list[str]:
    """Write ``package`` to the GeoPackage ``path`` (a new file); returns the tables written, items first."""
    writer = _Writer(path)
    styles: dict[str, LayerStyle] = {}
    frames: dict[str, pd.DataFrame] = {}
    for layer in package.layers:
        frame = package.layer(layer)
        if layer.spatial:
            writer.write(frame, layer.name, geometry_type=layer.geometry_type)
        else:
            frame = attributes_only(frame)
            writer.write(frame, layer.name)
        frames[layer.name] = frame
        styles[layer.name] = _style_of(layer, frame)
    for name, table in package.tables().items():
        columns = [c for c in table.columns if str(table[c].dtype) != "geometry"]
        if name in (GPKG_BOUNDARIES, GPKG_MUNICIPALITY):
            writer.write(table, name, geometry_type="MultiPolygon")
            level = "county" if name == GPKG_BOUNDARIES else "province"
            styles[name] = boundary_style(level, aliases(columns), name=name)
        else:
            writer.write(table, name)
            styles[name] = table_style(aliases(columns))
        frames[name] = table
    item_names = [layer.name for layer in package.layers]
    summaries = [LayerSummary(x.name, x.title, x.count, layer_description(x)) for x in package.layers] + [
        LayerSummary(n, layer_title(n), len(t), layer_description(n)) for n, t in package.tables().items()
    ]
    summaries += [LayerSummary(n, layer_title(n), -1, layer_description(n)) for n in (GPKG_DICTIONARY, GPKG_README)]
    notes = ("各图层打开即带样式（layer_styles 中的 QML/SLD 默认样式）；字段中文名见 gpkg_data_columns 与样式别名。",)
    delivery = package.delivery(format_label, layers=summaries, notes=notes)
    readme = pd.DataFrame(readme_sections(delivery), columns=["section", "content"])
    writer.write(readme, GPKG_README)
    meta = pd.DataFrame(
        {
            "key": ["app", "crs", "crs_label", "counties", "created", ITEM_LAYERS_KEY],
            "value_text": [
                APP_NAME,
                package.crs,
                crs_label(package.crs),
                ",".join(package.counties),
                date.today().isoformat(),
                ",".join(item_names),
            ],
        }
    )
    writer.write(meta, GPKG_META_TABLE)
    frames[GPKG_README] = readme
    frames[GPKG_META_TABLE] = meta
    # The dictionary describes every table, itself included; geometry columns under their name in the file.
    geoms = geometry_columns(path)
    frames[GPKG_DICTIONARY] = dictionary_frame([])
    titles = {layer.name: layer.title for layer in package.layers}
    named = {name: _rename_geometry(frame, geoms.get(name)) for name, frame in frames.items()}
    rows = dictionary_rows(named, {**{n: layer_title(n) for n in named}, **titles})
    dictionary = dictionary_frame(rows)
    writer.write(dictionary, GPKG_DICTIONARY)
    styles[GPKG_DICTIONARY] = table_style(aliases(dictionary.columns))
    styles[GPKG_README] = table_style(aliases(readme.columns), display="content")
    styles[GPKG_META_TABLE] = table_style(aliases(meta.columns))
    fields = [
        FieldDoc(r.table_name, r.column_name, r.alias, r.description)
        for r in rows
        if not r.type.startswith("几何") and r.table_name in writer.written
    ]
    style_rows = [
        StyleRow(
            name, geoms.get(name, ""), titles.get(name) or layer_title(name), style.qml, style.sld, style.description
        )
        for name, style in styles.items()
    ]
    identifiers = {
        name: (titles.get(name) or layer_title(name), _description(package, name)) for name in writer.written
    }
    finish_gpkg(
        path,
        fields=fields,
        styles=style_rows,
        metadata=[
            MetadataRow(iso_metadata_xml(delivery)),
            MetadataRow(readme_text(delivery), mime_type="text/plain", standard_uri=TEXT_PLAIN_URI),
        ],
        identifiers=identifiers,
    )
    return writer.written


def _rename_geometry(frame: pd.DataFrame, column: str | None) -> pd.DataFrame:
    if column is None or "geometry" not in frame.columns or column == "geometry":
        return frame
    return pd.DataFrame(frame).rename(columns={"geometry": column})


def _description(package: Package, name: str) -> str:
    layer = next((x for x in package.layers if x.name == name), None)
    return layer_description(layer if layer is not None else name)
