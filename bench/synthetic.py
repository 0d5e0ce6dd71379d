"""A synthetic municipal data set for the scale case: N village points spread over Chongqing's 38 districts.

Clearly synthetic (names ``合成村00001``, category ``demo_village``, precision ``exact``, source ``SYNTHETIC``),
generated in memory with a fixed seed and never written under ``data/``.  The rows have the columns of the app's
feature table (:data:`geo.features.FEATURE_COLUMNS`), so the app's own layer builders can draw them.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

import config
from geo.features import FEATURE_COLUMNS

N_VILLAGES = 20_000
SEED = 20_240_601
SYNTHETIC_SOURCE = "SYNTHETIC"


def allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` into integer parts proportional to ``weights`` (largest remainder; sums to ``total``)."""
    w = np.asarray(weights, dtype=float)
    if total < 0 or w.ndim != 1 or len(w) == 0 or (w < 0).any() or w.sum() <= 0:
        raise ValueError("allocate needs total >= 0 and non-negative weights with a positive sum")
    exact = total * w / w.sum()
    counts = np.floor(exact).astype(int)
    rest = total - int(counts.sum())
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[:rest]] += 1
    return counts


def points_in(geom: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniform random (lon, lat) points inside ``geom`` (rejection sampling in its bounding box)."""
    minx, miny, maxx, maxy = geom.bounds
    shapely.prepare(geom)
    out = np.empty((0, 2))
    while len(out) < n:
        need = n - len(out)
        batch = max(64, int(need * 2.5))
        xy = np.column_stack([rng.uniform(minx, maxx, batch), rng.uniform(miny, maxy, batch)])
        inside = shapely.contains_xy(geom, xy[:, 0], xy[:, 1])
        out = np.vstack([out, xy[inside][:need]])
    return out


def synthetic_villages(districts: gpd.GeoDataFrame, n: int = N_VILLAGES, seed: int = SEED) -> gpd.GeoDataFrame:
    """``n`` synthetic village points inside the districts of ``districts`` (adcode, name, geometry; EPSG:4326).

    Points are spread in proportion to district area (at least one per district when ``n`` allows), uniformly
    inside each polygon.  Same input, same seed -> identical output.
    """
    units = districts[districts["adcode"].astype(str) != config.MUNICIPAL_ADCODE].reset_index(drop=True)
    if units.empty:
        raise ValueError("no district polygons to place synthetic villages in")
    areas = shapely.area(units.geometry.values)  # square degrees: only the proportions matter
    counts = allocate(n, areas)
    if n >= len(units):  # every district gets a village: move one from the largest where a district got none
        for i in np.flatnonzero(counts == 0):
            counts[int(np.argmax(counts))] -= 1
            counts[i] = 1
    rng = np.random.default_rng(seed)
    rows: list[dict[str, object]] = []
    xy_all: list[np.ndarray] = []
    k = 0
    for (code, name, geom), count in zip(units[["adcode", "name", "geometry"]].itertuples(index=False), counts):
        xy = points_in(geom, int(count), rng)
        xy_all.append(xy)
        for _ in range(int(count)):
            k += 1
            rows.append(
                {
                    "id": f"syn-{k:05d}",
                    "name": f"合成村{k:05d}",
                    "category": "demo_village",
                    "county": str(code),
                    "county_name": name,
                    "designation": "合成示范村（基准测试）",
                    "places": [f"合成村{k:05d}"],
                    "attributes": [],
                    "precision": "exact",
                    "source": {
                        "seed": SYNTHETIC_SOURCE,
                        "section": "基准测试合成数据",
                        "lines": [1, 1],
                        "quote": "基准测试合成数据，非真实规划内容",
                    },
                    "reason": "合成数据（基准测试）",
                }
            )
    xy = np.vstack(xy_all) if xy_all else np.empty((0, 2))
    geometry = shapely.points(np.round(xy, 6))
    return gpd.GeoDataFrame(rows, columns=list(FEATURE_COLUMNS), geometry=geometry, crs=config.WGS84)
