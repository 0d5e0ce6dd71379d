"""Presentation PNG: exact size, not blank, title/legend/scale bar/north arrow/note drawn, Chinese without tofu."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from PIL import Image

from geo.boundaries import load_boundaries
from gisio.errors import FontMissingError, GisIOError
from gisio.png import ELEMENTS, parse_size, render_png
from tests.fixtures.gisio.samples import COUNTY, sample_features


@pytest.fixture(scope="module")
def features() -> gpd.GeoDataFrame:
    return sample_features()


@pytest.fixture(scope="module")
def boundaries() -> gpd.GeoDataFrame:
    return load_boundaries("display")


def _ink(pixels: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """Share of non-white pixels inside a box (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = box
    region = pixels[y0:y1, x0:x1, :3]
    return float((region.min(axis=2) < 235).mean()) if region.size else 0.0


@pytest.mark.parametrize(("size", "expected"), [("1920x1080", (1920, 1080)), ("a4", (3508, 2480))])
def test_png_has_its_size_and_every_element_drawn(
    tmp_path: Path, features: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame, size: str, expected: tuple[int, int]
) -> None:
    steps: list[float] = []
    out = tmp_path / "map.png"
    result = render_png(
        features,
        out,
        title="测试规划（交换格式）",
        boundaries=boundaries,
        county=COUNTY,
        size=size,
        progress=lambda f, _m: steps.append(f),
    )
    with Image.open(out) as img:
        assert img.size == expected
        pixels = np.asarray(img.convert("RGB"))
    # Not blank: many colours and real contrast.
    assert pixels.std() > 20
    packed = (pixels[..., 0].astype(np.uint32) << 16) | (pixels[..., 1].astype(np.uint32) << 8) | pixels[..., 2]
    assert len(np.unique(packed)) > 50
    width, height = expected
    for name in ELEMENTS:
        x0, y0, x1, y1 = result.elements[name]
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height, name
        assert _ink(pixels, result.elements[name]) > 0.01, f"{name} is empty"
    # The legend and title are separate from the map; the north arrow and scale bar inside it.
    mx0, my0, mx1, my1 = result.elements["map"]
    for name in ("north_arrow", "scale_bar"):
        x0, y0, x1, y1 = result.elements[name]
        assert mx0 <= x0 and x1 <= mx1 and my0 <= y0 and y1 <= my1, name
    assert result.elements["legend"][0] > mx1
    assert result.elements["title"][3] < my0
    assert steps == sorted(steps) and steps[-1] == 1.0
    assert "CJK" in result.font


def test_a_character_missing_from_the_font_aborts_instead_of_drawing_tofu(
    tmp_path: Path, features: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame
) -> None:
    out = tmp_path / "map.png"
    # U+1F5FA (world map emoji) is not in Noto Sans CJK.
    with pytest.raises(GisIOError, match="缺少部分汉字"):
        render_png(features, out, title="测试\U0001f5fa", boundaries=boundaries, county=COUNTY)
    assert not out.exists()


def test_missing_cjk_font_gives_a_clear_message(tmp_path: Path, features: gpd.GeoDataFrame, monkeypatch) -> None:
    from matplotlib import font_manager

    monkeypatch.setattr(font_manager.fontManager, "ttflist", [])
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *a, **k: [])
    with pytest.raises(FontMissingError, match="fonts-noto-cjk"):
        render_png(features, tmp_path / "map.png", title="测试")
    assert not (tmp_path / "map.png").exists()


@pytest.mark.parametrize("size", ["huge", "10x10", "99999x1080"])
def test_bad_sizes_are_refused(size: str) -> None:
    with pytest.raises(GisIOError, match="尺寸"):
        parse_size(size)
