"""Export and presentation-PNG timings, ours (gisio) against the obvious geopandas/matplotlib calls.

"Export of all layers" = every feature of the view written to GeoJSON plus to a GeoPackage (ours: one layer per
category, the full-resolution boundaries and the indicator table, as ``cli.py export`` does; baseline:
``GeoDataFrame.to_file`` of the same features, list/dict columns as JSON text, which GPKG needs).
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd


@dataclass
class OfflineResult:
    export_s: float | None = None
    png_s: float | None = None
    export_error: str | None = None
    png_error: str | None = None


def timed(fn: Callable[[], Any], runs: int) -> float:
    """Median wall time of ``runs`` calls (one untimed warm-up call first: imports, font cache)."""
    fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _json_columns(features: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = features.copy()
    for col in ("places", "attributes", "source"):
        out[col] = out[col].map(lambda v: json.dumps(v, ensure_ascii=False))
    return out


def measure_ours(county: str, runs: int) -> OfflineResult:
    from geo.boundaries import load_boundaries
    from geo.features import load_features

    _plan, features = load_features(county)
    plan = _plan
    result = OfflineResult()
    tmp = Path(tempfile.mkdtemp(prefix="rrmap-bench-export-"))
    try:
        from gisio.export import export_features

        full = load_boundaries("full")
        indicators = _indicators(county)

        def export() -> None:
            export_features(features, "geojson", tmp / "all.geojson")
            export_features(features, "gpkg", tmp / "all.gpkg", boundaries=full, indicators=indicators)

        result.export_s = timed(export, runs)
    except Exception as exc:  # noqa: BLE001 - reported in the table (gisio is being written alongside)
        result.export_error = f"{type(exc).__name__}: {exc}"[:200]
    try:
        from gisio.printmap import render_map

        display = load_boundaries("display")

        def png() -> None:
            render_map(features, tmp / "map.png", title=plan.title, boundaries=display, county=county, page="1920x1080")

        result.png_s = timed(png, runs)
    except Exception as exc:  # noqa: BLE001 - reported in the table, the other rows still run
        result.png_error = f"{type(exc).__name__}: {exc}"[:200]
    return result


def _indicators(county: str) -> Any:
    try:
        from plan.indicators import indicators_frame, load_indicators

        return indicators_frame(load_indicators(county))
    except Exception:  # noqa: BLE001 - indicators are optional for the export timing
        return None


def measure_baseline(county: str, runs: int) -> OfflineResult:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from geo.boundaries import load_boundaries
    from geo.features import load_features

    _plan, features = load_features(county)
    full = load_boundaries("full")
    tmp = Path(tempfile.mkdtemp(prefix="rrmap-bench-baseline-"))
    result = OfflineResult()
    table = _json_columns(features)

    def export() -> None:
        table.to_file(tmp / "all.geojson", driver="GeoJSON")
        table.to_file(tmp / "all.gpkg", driver="GPKG", layer="features")

    result.export_s = timed(export, runs)

    def png() -> None:
        fig = Figure(figsize=(9.6, 5.4), dpi=200)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        full.plot(ax=ax, color="#f4f1ea", edgecolor="#444444", linewidth=0.5)
        features[features.geometry.notna()].plot(ax=ax, column="category", legend=True, markersize=20)
        ax.set_axis_off()
        fig.savefig(tmp / "map.png")

    result.png_s = timed(png, runs)
    return result
