"""Print layout (PNG and vector PDF): page size and resolution, every legend symbol visible where it is drawn,
no two labels touching, demonstration towns above villages, nothing the legend lists hidden, Chinese without tofu.

Pixels are sampled in the written files (PDF pages rasterised by poppler's ``pdftoppm``, which ``make test``
installs), at the positions the renderer reports.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
from PIL import Image

import config
from geo.boundaries import load_boundaries
from gisio.errors import FontMissingError, GisIOError
from gisio.printmap import ELEMENTS, PrintResult, check_extent, page_spec, render_map
from present.countyview import CountyView, build_view
from tests.fixtures.gisio.samples import COUNTY, sample_features

MAX_COLOR_DISTANCE = 40.0  # RGB distance between the expected colour and the nearest pixel around a sample


@pytest.fixture(scope="module")
def boundaries() -> gpd.GeoDataFrame:
    return load_boundaries("display")


@pytest.fixture(scope="module")
def yunyang() -> CountyView:
    return build_view("500235")


@pytest.fixture(scope="module")
def municipal() -> CountyView:
    return build_view(config.MUNICIPAL_ADCODE)


def rgb(color: str) -> np.ndarray:
    return np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)


def nearest_distance(pixels: np.ndarray, x: int, y: int, color: str, radius: int = 2) -> float:
    """Distance from ``color`` of the closest pixel within ``radius`` of (x, y) (anti-aliasing moves edges)."""
    patch = pixels[max(0, y - radius) : y + radius + 1, max(0, x - radius) : x + radius + 1, :3].astype(float)
    return float(np.sqrt(((patch - rgb(color)) ** 2).sum(axis=2)).min())


def boxes_intersect(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def rasterise_pdf(pdf: Path, dpi: int, tmp_path: Path) -> np.ndarray:
    exe = shutil.which("pdftoppm")
    assert exe, "pdftoppm is missing: `make test` installs Debian's poppler-utils"
    stem = tmp_path / "page"
    subprocess.run([exe, "-r", str(dpi), "-png", "-singlefile", str(pdf), str(stem)], check=True, timeout=120)
    with Image.open(stem.with_suffix(".png")) as img:
        return np.asarray(img.convert("RGB"))


def assert_legend_visible(result: PrintResult, pixels: np.ndarray) -> None:
    assert result.legend, "the legend lists nothing"
    for symbol in result.legend:
        distance = nearest_distance(pixels, symbol.x, symbol.y, symbol.color)
        assert distance < MAX_COLOR_DISTANCE, f"legend symbol of {symbol.label} not visible ({distance:.0f})"


def assert_labels_apart(result: PrintResult) -> None:
    boxes = [box for _text, box in result.labels]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not boxes_intersect(a, b), (result.labels[i], b)
    mx0, my0, mx1, my1 = result.elements["map"]
    for text, (x0, y0, x1, y1) in result.labels:
        assert mx0 <= x0 and x1 <= mx1 and my0 <= y0 and y1 <= my1, f"label {text} leaves the map"


def render(view: CountyView, out: Path, boundaries: gpd.GeoDataFrame, **kwargs: Any) -> PrintResult:
    return render_map(
        view.features,
        out,
        title=view.plan.title,
        subtitle="规划要素分布",
        boundaries=boundaries,
        county=view.county,
        towns=dict(view.seats),
        **kwargs,
    )


@pytest.mark.parametrize(
    ("page", "dpi", "pixels"),
    [("1920x1080", None, (1920, 1080)), ("a4-landscape", 150, (1753, 1240)), ("a4-portrait", 300, (2480, 3507))],
)
def test_png_has_the_page_size_and_dpi_asked_for(
    tmp_path: Path, yunyang: CountyView, boundaries: gpd.GeoDataFrame, page: str, dpi: int | None, pixels: tuple
) -> None:
    steps: list[float] = []
    out = tmp_path / "map.png"
    result = render(yunyang, out, boundaries, page=page, dpi=dpi, progress=lambda f, _m: steps.append(f))
    with Image.open(out) as img:
        assert img.size == pixels
        if dpi:
            assert [round(v) for v in img.info["dpi"]] == [dpi, dpi]
        page_pixels = np.asarray(img.convert("RGB"))
    assert result.page.pixels == pixels
    width, height = pixels
    for name in ELEMENTS:
        x0, y0, x1, y1 = result.elements[name]
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height, name
    assert_legend_visible(result, page_pixels)
    assert_labels_apart(result)
    assert steps == sorted(steps) and steps[-1] == 1.0
    # the note is legible: at least 7 pt per line (3+ lines) at the page's resolution
    note_h = result.elements["note"][3] - result.elements["note"][1]
    assert note_h / 4 >= 7 / 72 * result.page.dpi


@pytest.mark.parametrize(("page", "points"), [("a4-portrait", (595.3, 841.9)), ("a3-landscape", (1190.6, 841.9))])
def test_pdf_is_a_vector_page_of_the_paper_size(
    tmp_path: Path, yunyang: CountyView, boundaries: gpd.GeoDataFrame, page: str, points: tuple[float, float]
) -> None:
    out = tmp_path / "map.pdf"
    result = render(yunyang, out, boundaries, page=page, dpi=150, fmt="pdf")
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    box = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
    assert box is not None
    assert (round(float(box.group(1)), 1), round(float(box.group(2)), 1)) == points
    assert b"/Subtype /Image" not in data  # vector: no raster image on the page
    pixels = rasterise_pdf(out, 150, tmp_path)
    # poppler rounds the page up to whole pixels, the renderer truncates: at most one pixel apart
    assert all(abs(a - b) <= 1 for a, b in zip(pixels.shape[1::-1], result.page.pixels))
    assert_legend_visible(result, pixels)
    assert_labels_apart(result)


def test_demo_towns_are_drawn_above_villages_and_every_point_layer_shows(
    tmp_path: Path, yunyang: CountyView, boundaries: gpd.GeoDataFrame
) -> None:
    out = tmp_path / "map.png"
    result = render(yunyang, out, boundaries)
    with Image.open(out) as img:
        pixels = np.asarray(img.convert("RGB"))
    towns = result.markers["demo_town"]
    assert len(towns) == result.counts["demo_town"]
    for x, y in towns:  # each star is seen, none under a village
        assert nearest_distance(pixels, x, y, config.category_color("demo_town"), radius=1) < MAX_COLOR_DISTANCE
    for category, centres in result.markers.items():
        seen = [
            nearest_distance(pixels, x, y, config.category_color(category), 1) < MAX_COLOR_DISTANCE for x, y in centres
        ]
        assert sum(seen) >= 0.9 * len(seen), f"{category}: {sum(seen)} of {len(seen)} markers visible"
    # villages sharing a town seat are set around it, not on one pixel
    villages = result.markers["demo_village"]
    assert len(set(villages)) == len(villages)
    assert len(result.labels) >= len(yunyang.seats) * 0.8  # town names


def test_municipal_areas_nested_in_others_stay_visible(
    tmp_path: Path, municipal: CountyView, boundaries: gpd.GeoDataFrame
) -> None:
    out = tmp_path / "map.png"
    result = render(municipal, out, boundaries)
    with Image.open(out) as img:
        pixels = np.asarray(img.convert("RGB"))
    assert_legend_visible(result, pixels)
    mx0, my0, mx1, my1 = result.elements["map"]
    inside = pixels[my0:my1, mx0:mx1].astype(float)
    for category in result.counts:
        distance = np.sqrt(((inside - rgb(config.category_color(category))) ** 2).sum(axis=2))
        assert (distance < 30).sum() > 200, f"{category} listed in the legend but not seen on the map"
    assert result.labels, "district names"
    assert_labels_apart(result)


def test_an_extent_frames_a_box_and_counts_only_what_is_drawn(
    tmp_path: Path, yunyang: CountyView, boundaries: gpd.GeoDataFrame
) -> None:
    located = yunyang.features[yunyang.features.geometry.notna()]
    west, south, east, north = located.total_bounds
    box = (west, south, (west + east) / 2, (south + north) / 2)
    whole = render(yunyang, tmp_path / "all.png", boundaries)
    part = render(yunyang, tmp_path / "part.png", boundaries, extent=box)
    assert sum(part.counts.values()) < sum(whole.counts.values())
    assert all(part.counts[c] <= whole.counts[c] for c in part.counts)
    labels = {symbol.label for symbol in part.legend}
    assert all(any(label.startswith(config.CATEGORIES[c]) for label in labels) for c in part.counts)


@pytest.mark.parametrize("extent", [(1, 2, 3), (108, 31, 107, 32), (float("nan"), 30, 109, 31), ("a", 1, 2, 3)])
def test_bad_extents_are_refused(extent: tuple) -> None:
    with pytest.raises(GisIOError, match="出图范围"):
        check_extent(extent)


def test_a_character_missing_from_the_font_aborts_instead_of_drawing_tofu(
    tmp_path: Path, boundaries: gpd.GeoDataFrame
) -> None:
    out = tmp_path / "map.png"
    # U+1F5FA (world map emoji) is not in Noto Sans CJK.
    with pytest.raises(GisIOError, match="缺少部分汉字"):
        render_map(sample_features(), out, title="测试\U0001f5fa", boundaries=boundaries, county=COUNTY)
    assert not out.exists()


def test_missing_cjk_font_gives_a_clear_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from matplotlib import font_manager

    monkeypatch.setattr(font_manager.fontManager, "ttflist", [])
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *a, **k: [])
    with pytest.raises(FontMissingError, match="fonts-noto-cjk"):
        render_map(sample_features(), tmp_path / "map.png", title="测试")
    assert not (tmp_path / "map.png").exists()


@pytest.mark.parametrize(("page", "dpi"), [("huge", None), ("10x10", None), ("99999x1080", None), ("a4", 600)])
def test_bad_pages_are_refused(page: str, dpi: int | None) -> None:
    with pytest.raises(GisIOError, match="尺寸|分辨率|纸张"):
        page_spec(page, dpi)


def test_bad_format_and_layers_are_refused(tmp_path: Path) -> None:
    with pytest.raises(GisIOError, match="输出格式"):
        render_map(sample_features(), tmp_path / "m.svg", title="t", fmt="svg")
    with pytest.raises(GisIOError, match="未知的图层"):
        render_map(sample_features(), tmp_path / "m.png", title="t", layers=["rivers"])
    assert not list(tmp_path.iterdir())
