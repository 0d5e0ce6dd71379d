"""Layer styles that travel with the data: QGIS QML and OGC SLD 1.1 (Symbology Encoding), written by hand.

The app's own look: the category palette of :data:`config.CATEGORY_STYLE`, one marker shape per category, and
the precision styling of the live map — an item whose drawn position only approximates it
(:func:`config.is_approximate`: a village at its town seat, a schematic belt) is hollow with a dashed outline,
a dashed line, or a faint area with a dashed edge.  Boundaries are outlines with labels, never a fill that
covers the map.  Every style carries the layer's Chinese field aliases (QGIS 3.22 reads aliases from the style,
not from ``gpkg_data_columns``).

QML and SLD are generated from the same description, so QGIS (QML, the GeoPackage ``layer_styles`` default) and
other clients (SLD: GeoServer, ArcGIS Pro's import) draw the same thing.  No QGIS is needed to write them; the
interop tests load them in QGIS 3.22.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

import config
from gisio.partition import ItemLayer

QGIS_VERSION = "3.22.16-Białowieża"

# QGIS SimpleMarker shape and SLD WellKnownName per category (the map shows Font Awesome icons; GIS clients get
# shapes every client has).  Colours do most of the telling apart; shapes help in print and for colour blindness.
MARKER_SHAPES: dict[str, tuple[str, str]] = {
    "demo_town": ("star", "star"),
    "demo_village": ("circle", "circle"),
    "relocation_site": ("square", "square"),
    "industrial_park": ("square", "square"),
    "industrial_belt": ("circle", "circle"),
    "industry_cluster": ("triangle", "triangle"),
    "infrastructure": ("diamond", "diamond"),
    "public_service": ("cross_fill", "cross"),
    "tourism_site": ("hexagon", "hexagon"),
    "ecological": ("triangle", "triangle"),
    "other": ("circle", "circle"),
}
MARKER_MM = 4.0
LINE_MM = 0.8
BAND_MM = 3.0
OUTLINE_MM = 0.5
MM_TO_PX = 96 / 25.4  # SLD sizes are pixels at the standard 96 dpi (0.28 mm per pixel in SE: close enough)
FILL_ALPHA = 71  # 0.28 of 255: the map's area fill
APPROX_FILL_ALPHA = 20  # 0.08 of 255
BAND_ALPHA = 56  # 0.22 of 255: the translucent band under a belt
BOUNDARY_COLOUR = config.BOUNDARY_STYLE["color"]
LABEL_FONT = "Noto Sans CJK SC"


@dataclass(frozen=True)
class LayerStyle:
    """A layer's style as QML and SLD text (SLD empty for tables without geometry)."""

    qml: str
    sld: str
    description: str


def _rgba(colour: str, alpha: int = 255) -> str:
    h = colour.lstrip("#")
    return f"{int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha}"


# --- QML ------------------------------------------------------------------------------------------------------


def _options(props: Mapping[str, str]) -> str:
    inner = "".join(f'<Option name={quoteattr(k)} type="QString" value={quoteattr(str(v))}/>' for k, v in props.items())
    return f'<Option type="Map">{inner}</Option>'


def _symbol_layer(cls: str, props: Mapping[str, str], sub: str = "") -> str:
    return f'<layer class="{cls}" enabled="1" locked="0" pass="0">{_options(props)}{sub}</layer>'


def _marker(shape: str, fill: str, outline: str, *, dashed: bool) -> str:
    return _symbol_layer(
        "SimpleMarker",
        {
            "name": shape,
            "color": fill,
            "outline_color": outline,
            "outline_style": "dash" if dashed else "solid",
            "outline_width": str(OUTLINE_MM if dashed else 0.3),
            "outline_width_unit": "MM",
            "size": str(MARKER_MM),
            "size_unit": "MM",
            "scale_method": "diameter",
            "joinstyle": "miter",
        },
    )


def _line(colour: str, width: float, *, dashed: bool) -> str:
    return _symbol_layer(
        "SimpleLine",
        {
            "line_color": colour,
            "line_width": str(width),
            "line_width_unit": "MM",
            "line_style": "dash" if dashed else "solid",
            "capstyle": "round",
            "joinstyle": "round",
        },
    )


def _fill(colour: str, outline: str, *, brush: str = "solid", dashed: bool = False, width: float = OUTLINE_MM) -> str:
    return _symbol_layer(
        "SimpleFill",
        {
            "color": colour,
            "style": brush,
            "outline_color": outline,
            "outline_style": "dash" if dashed else "solid",
            "outline_width": str(width),
            "outline_width_unit": "MM",
            "joinstyle": "round",
        },
    )


def _symbol(kind: str, name: str, layers: Sequence[str]) -> str:
    return (
        f'<symbol type="{kind}" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">'
        + "".join(layers)
        + "</symbol>"
    )


def _item_symbol_layers(category: str, family: str, approximate: bool) -> tuple[str, list[str]]:
    colour = config.category_color(category)
    if family == "point":
        shape = MARKER_SHAPES.get(category, MARKER_SHAPES["other"])[0]
        if approximate:  # hollow: white inside, dashed ring in the category colour (the map's .rr-approx badge)
            return "marker", [_marker(shape, _rgba("#ffffff"), _rgba(colour), dashed=True)]
        return "marker", [_marker(shape, _rgba(colour), _rgba("#ffffff"), dashed=False)]
    if family == "line":
        band = _line(_rgba(colour, BAND_ALPHA), BAND_MM, dashed=False)
        return "line", [band, _line(_rgba(colour), LINE_MM, dashed=approximate)]
    alpha = APPROX_FILL_ALPHA if approximate else FILL_ALPHA
    return "fill", [_fill(_rgba(colour, alpha), _rgba(colour), dashed=approximate)]


def _aliases_xml(aliases: Mapping[str, str]) -> str:
    items = "".join(
        f'<alias index="{i}" field={quoteattr(field)} name={quoteattr(alias)}/>'
        for i, (field, alias) in enumerate(aliases.items())
    )
    return f"<aliases>{items}</aliases>"


def _qml(body: Sequence[str], aliases: Mapping[str, str], *, display: str | None, labels: bool = False) -> str:
    parts = [
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>",
        f'<qgis version="{QGIS_VERSION}" styleCategories="AllStyleCategories" labelsEnabled="{int(labels)}">',
        *body,
        _aliases_xml(aliases),
    ]
    if display:
        parts.append(f"<previewExpression>{escape(quote_field(display))}</previewExpression>")
    parts.append("</qgis>")
    return "\n".join(parts)


def quote_field(name: str) -> str:
    """A field reference in a QGIS expression (``"name"``)."""
    return '"' + name.replace('"', '""') + '"'


def _expression_list(values: Iterable[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in sorted(values))


@dataclass(frozen=True)
class _Rule:
    label: str
    approximate: bool
    precisions: frozenset[str]


def _in_order(precisions: Iterable[str]) -> list[str]:
    """Precision codes in the order of :data:`config.PRECISIONS` (unknown ones last, alphabetically)."""
    known = [p for p in config.PRECISIONS if p in set(precisions)]
    return known + sorted(set(precisions) - set(known))


def _rules(category: str, precisions: Iterable[str]) -> list[_Rule]:
    """Rules of an item layer: approximate positions (if any), then everything else (if any)."""
    present = set(precisions)
    approx = {p for p in present if config.is_approximate(category, p)}
    rest = present - approx
    rules = []
    if approx:
        names = "、".join(config.PRECISIONS.get(p, p) for p in _in_order(approx))
        rules.append(_Rule(f"近似位置：{names}", True, frozenset(approx)))
    if rest:
        names = "、".join(config.PRECISIONS.get(p, p) for p in _in_order(rest))
        rules.append(_Rule(names, False, frozenset(rest)))
    return rules


def item_style(
    layer: ItemLayer,
    *,
    precisions: Iterable[str],
    aliases: Mapping[str, str],
    precision_field: str = "precision",
    name_field: str = "name",
) -> LayerStyle:
    """The style of an item layer: a rule-based renderer in the category's colour and shape, hollow/dashed for
    approximate positions; field aliases; the name as display expression.

    ``precisions`` are the precision codes present in the layer (a legend lists only what is there).  For the
    table without geometry the style holds only the aliases.
    """
    if layer.category is None or layer.family is None:
        return table_style(aliases, description="字段中文别名", display=name_field)
    rules = _rules(layer.category, precisions)
    symbols, rule_xml, sld_rules = [], [], []
    field_ref = quote_field(precision_field)
    for n, rule in enumerate(rules):
        kind, symbol_layers = _item_symbol_layers(layer.category, layer.family, rule.approximate)
        symbols.append(_symbol(kind, str(n), symbol_layers))
        # Approximate positions are picked by precision; the other rule takes the rest ("ELSE"), or everything
        # when it is the only rule.
        if rule.approximate:
            expression = f"{field_ref} IN ({_expression_list(rule.precisions)})"
        else:
            expression = "ELSE" if len(rules) > 1 else ""
        rule_xml.append(
            f'<rule key={quoteattr("{rule-" + str(n) + "}")} symbol="{n}" label={quoteattr(rule.label)}'
            + (f" filter={quoteattr(expression)}" if expression else "")
            + "/>"
        )
        sld_rules.append(_sld_item_rule(layer, rule, precision_field, else_rule=expression == "ELSE"))
    renderer = (
        '<renderer-v2 type="RuleRenderer" symbollevels="0" forceraster="0" enableorderby="0">'
        f'<rules key="{{rules-root}}">{"".join(rule_xml)}</rules>'
        f"<symbols>{''.join(symbols)}</symbols></renderer-v2>"
    )
    qml = _qml([renderer], aliases, display=name_field)
    sld = _sld(layer.name, sld_rules)
    return LayerStyle(qml, sld, f"{layer.title}：类别配色，近似位置空心/虚线")


def table_style(
    aliases: Mapping[str, str], *, description: str = "字段中文别名", display: str | None = None
) -> LayerStyle:
    """The style of a table without geometry: only its field aliases (and display field)."""
    return LayerStyle(_qml([], aliases, display=display), "", description)


def boundary_style(level: str, aliases: Mapping[str, str], *, name: str) -> LayerStyle:
    """Districts (``level='county'``): thin grey outlines labelled with their names; the municipality
    (``'province'``): a thick outline.  No fill: the boundary never covers the items or a basemap."""
    width = 0.3 if level == "county" else 0.8
    symbol = _symbol("fill", "0", [_fill(_rgba("#ffffff", 0), _rgba(BOUNDARY_COLOUR), brush="no", width=width)])
    renderer = (
        '<renderer-v2 type="singleSymbol" symbollevels="0" forceraster="0" enableorderby="0">'
        f"<symbols>{symbol}</symbols></renderer-v2>"
    )
    body = [renderer]
    labels = level == "county"
    if labels:
        body.append(
            '<labeling type="simple"><settings calloutType="simple">'
            f'<text-style fieldName="name" fontFamily="{LABEL_FONT}" fontSize="8" fontSizeUnit="Point" '
            f'textColor="{_rgba(BOUNDARY_COLOUR)}" textOpacity="1" isExpression="0">'
            '<text-buffer bufferDraw="1" bufferSize="0.8" bufferSizeUnits="MM" bufferColor="255,255,255,255" '
            'bufferOpacity="0.8"/></text-style>'
            '<placement placement="1" priority="5"/><rendering obstacle="0" scaleVisibility="0"/>'
            "</settings></labeling>"
        )
    qml = _qml(body, aliases, display="name", labels=labels)
    stroke = _sld_stroke(BOUNDARY_COLOUR, width * MM_TO_PX, dashed=False)
    symbolizer = f"<se:PolygonSymbolizer>{stroke}</se:PolygonSymbolizer>"
    if labels:
        symbolizer += (
            "<se:TextSymbolizer><se:Label><ogc:PropertyName>name</ogc:PropertyName></se:Label>"
            f"<se:Font>{_p('font-family', LABEL_FONT)}{_p('font-size', '11')}</se:Font>"
            f"<se:Halo><se:Radius>2</se:Radius><se:Fill>{_p('fill', '#ffffff')}</se:Fill></se:Halo>"
            f"<se:Fill>{_p('fill', BOUNDARY_COLOUR)}</se:Fill></se:TextSymbolizer>"
        )
    title = "区县边界" if level == "county" else "市界"
    sld = _sld(name, [f"<se:Rule><se:Name>{title}</se:Name>{symbolizer}</se:Rule>"])
    return LayerStyle(qml, sld, f"{title}：灰色轮廓线，无填充")


# --- SLD 1.1 / Symbology Encoding -------------------------------------------------------------------------------

_SLD_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<StyledLayerDescriptor xmlns="http://www.opengis.net/sld" '
    'xmlns:se="http://www.opengis.net/se" xmlns:ogc="http://www.opengis.net/ogc" '
    'xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'version="1.1.0" xsi:schemaLocation="http://www.opengis.net/sld '
    'http://schemas.opengis.net/sld/1.1.0/StyledLayerDescriptor.xsd">'
)
_DASH_PX = "6 4"


def _p(name: str, value: str) -> str:
    return f'<se:SvgParameter name="{name}">{escape(value)}</se:SvgParameter>'


def _sld_stroke(colour: str, width_px: float, *, dashed: bool, opacity: float = 1.0) -> str:
    parts = _p("stroke", colour) + _p("stroke-width", f"{width_px:.1f}")
    if opacity < 1:
        parts += _p("stroke-opacity", f"{opacity:.2f}")
    if dashed:
        parts += _p("stroke-dasharray", _DASH_PX)
    return f"<se:Stroke>{parts}</se:Stroke>"


def _sld_item_symbolizers(category: str, family: str, approximate: bool) -> str:
    colour = config.category_color(category)
    if family == "point":
        shape = MARKER_SHAPES.get(category, MARKER_SHAPES["other"])[1]
        fill, outline = ("#ffffff", colour) if approximate else (colour, "#ffffff")
        stroke = _sld_stroke(outline, (OUTLINE_MM if approximate else 0.3) * MM_TO_PX, dashed=approximate)
        return (
            f"<se:PointSymbolizer><se:Graphic><se:Mark><se:WellKnownName>{shape}</se:WellKnownName>"
            f"<se:Fill>{_p('fill', fill)}</se:Fill>{stroke}</se:Mark>"
            f"<se:Size>{MARKER_MM * MM_TO_PX:.0f}</se:Size></se:Graphic></se:PointSymbolizer>"
        )
    if family == "line":
        band = _sld_stroke(colour, BAND_MM * MM_TO_PX, dashed=False, opacity=BAND_ALPHA / 255)
        line = _sld_stroke(colour, LINE_MM * MM_TO_PX, dashed=approximate)
        return f"<se:LineSymbolizer>{band}</se:LineSymbolizer><se:LineSymbolizer>{line}</se:LineSymbolizer>"
    alpha = (APPROX_FILL_ALPHA if approximate else FILL_ALPHA) / 255
    fill = _p("fill", colour) + _p("fill-opacity", f"{alpha:.2f}")
    stroke = _sld_stroke(colour, OUTLINE_MM * MM_TO_PX, dashed=approximate)
    return f"<se:PolygonSymbolizer><se:Fill>{fill}</se:Fill>{stroke}</se:PolygonSymbolizer>"


def _sld_item_rule(layer: ItemLayer, rule: _Rule, precision_field: str, *, else_rule: bool) -> str:
    assert layer.category is not None and layer.family is not None
    if else_rule:
        flt = "<se:ElseFilter/>"
    elif rule.approximate:
        tests = [
            f"<ogc:PropertyIsEqualTo><ogc:PropertyName>{escape(precision_field)}</ogc:PropertyName>"
            f"<ogc:Literal>{escape(p)}</ogc:Literal></ogc:PropertyIsEqualTo>"
            for p in sorted(rule.precisions)
        ]
        body = tests[0] if len(tests) == 1 else f"<ogc:Or>{''.join(tests)}</ogc:Or>"
        flt = f"<ogc:Filter>{body}</ogc:Filter>"
    else:
        flt = ""
    symbolizers = _sld_item_symbolizers(layer.category, layer.family, rule.approximate)
    return f"<se:Rule><se:Name>{escape(rule.label)}</se:Name>{flt}{symbolizers}</se:Rule>"


def _sld(layer_name: str, rules: Sequence[str]) -> str:
    return (
        _SLD_HEAD + f"<NamedLayer><se:Name>{escape(layer_name)}</se:Name><UserStyle><se:Name>{escape(layer_name)}"
        f"</se:Name><se:FeatureTypeStyle>{''.join(rules)}</se:FeatureTypeStyle></UserStyle></NamedLayer>"
        "</StyledLayerDescriptor>"
    )
