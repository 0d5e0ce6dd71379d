"""Serve folium's JavaScript/CSS from the app itself instead of CDNs.

folium and its plugins declare their assets as ``default_js`` / ``default_css`` lists of (name, CDN URL).  We
replace each with the copy installed from the npm registry into ``static/vendor`` (see scripts/vendor_assets.py),
or drop it where the map does not need it (jQuery, Bootstrap, glyphicons).  An asset we do not know raises
:class:`OfflineAssetError`, so a new plugin can never silently pull from the internet.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import branca
import folium

import config

# folium asset name -> path under static/vendor; None = not needed by our maps.
LOCAL_ASSETS: dict[str, str | None] = {
    "leaflet": "leaflet/dist/leaflet.js",
    "leaflet_css": "leaflet/dist/leaflet.css",
    "jquery": None,
    "bootstrap": None,
    "bootstrap_css": None,
    "glyphicons_css": None,
    # Badges are divIcons with SVG icons (layers.icons): no awesome-markers, no icon font.
    "awesome_markers": None,
    "awesome_markers_css": None,
    "awesome_markers_font_css": None,
    "awesome_rotate_css": None,
    "markerclusterjs": "leaflet.markercluster/dist/leaflet.markercluster.js",
    "markerclustercss": "leaflet.markercluster/dist/MarkerCluster.css",
    "markerclusterdefaultcss": "leaflet.markercluster/dist/MarkerCluster.Default.css",
    # Leaflet-Geoman (MIT): drawing and editing a plan item (layers.drawing), the names folium's GeoMan plugin uses.
    "leaflet_geoman_js": "@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.min.js",
    "leaflet_geoman_css": "@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.css",
}


# The live map's scripts in one file, built at set-up by scripts/vendor_assets.py (BUNDLES): streamlit-folium loads
# scripts one after another, so one file saves a round trip before the map draws.  (name, path, replaced assets)
SCRIPT_BUNDLE = ("leaflet_bundle", "bundle/leaflet-markercluster.js", ("leaflet", "markerclusterjs"))
LOCAL_ASSETS[SCRIPT_BUNDLE[0]] = SCRIPT_BUNDLE[1]


class OfflineAssetError(RuntimeError):
    """A map element wants an asset that is not installed locally."""


def _walk(element: branca.element.Element) -> Iterator[branca.element.Element]:
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from _walk(child)


def _local(items: list[tuple[str, str]], base_url: str) -> list[tuple[str, str]]:
    out = []
    for name, url in items:
        if name not in LOCAL_ASSETS:
            raise OfflineAssetError(f"no local copy of map asset {name!r} ({url}); add it to package.json")
        path = LOCAL_ASSETS[name]
        if path is not None:
            out.append((name, f"{base_url}/{path}"))
    return out


def _base(base_url: str | None) -> str:
    return (base_url if base_url is not None else "/" + config.STATIC_URL.strip("/") + "/vendor").rstrip("/")


E = TypeVar("E", bound=branca.element.Element)


def localise(fmap: E, base_url: str | None = None) -> E:
    """Point every asset of ``fmap`` (and its children) at ``base_url`` (default: Streamlit's static route).

    Mutates and returns ``fmap``; call it after all layers are added.
    """
    base = _base(base_url)
    for element in _walk(fmap):
        for attr in ("default_js", "default_css"):
            items = getattr(element, attr, None)
            if items:
                setattr(element, attr, _local(list(items), base))
    return fmap


def live_assets(
    fmap: folium.Map, groups: Sequence[branca.element.Element] = (), base_url: str | None = None
) -> folium.Map:
    """:func:`localise` the live map and its overlay groups, loading Leaflet and markercluster as one bundle.

    The bundle comes first on the map (Leaflet before everything); its parts are removed wherever they were
    declared.  The offline HTML export does not use this (it inlines each file, :func:`inline_assets`).
    """
    for group in groups:
        localise(group, base_url)
    localise(fmap, base_url)
    name, path, parts = SCRIPT_BUNDLE
    for element in [*_walk(fmap), *(e for g in groups for e in _walk(g))]:
        items = getattr(element, "default_js", None)
        if items and any(n in (*parts, name) for n, _ in items):
            declaring: Any = element  # any element type may declare scripts (folium's JSCSSMixin and others)
            declaring.default_js = [(n, u) for n, u in items if n not in (*parts, name)]
    fmap.default_js = [(name, f"{_base(base_url)}/{path}"), *fmap.default_js]  # first: Leaflet before anything
    return fmap


_CSS_URL = re.compile(r"url\((['\"]?)(?!data:)([^'\")]+)\1\)")


def _inline_css(path: Path) -> str:
    """CSS with its url(...) references (fonts, images) embedded as data URIs."""
    css = path.read_text(encoding="utf-8")

    def embed(match: re.Match[str]) -> str:
        target = (path.parent / match.group(2).split("?")[0].split("#")[0]).resolve()
        if not target.is_file():
            return match.group(0)
        mime = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        data = base64.b64encode(target.read_bytes()).decode("ascii")
        return f"url(data:{mime};base64,{data})"

    return _CSS_URL.sub(embed, css)


def _literal(text: str) -> Callable[[re.Match[str]], str]:
    """A replacement for :meth:`re.Pattern.sub` that inserts ``text`` as it is (no backslash escapes)."""
    return lambda _match: text


def inline_assets(html: str) -> str:
    """Replace local <script src>/<link href> of vendored assets with their content (self-contained HTML)."""
    for rel in LOCAL_ASSETS.values():
        if rel is None:
            continue
        path = config.VENDOR_DIR / rel
        pattern_js = re.compile(rf'<script src="[^"]*/{re.escape(rel)}"></script>')
        pattern_css = re.compile(rf'<link rel="stylesheet" href="[^"]*/{re.escape(rel)}"\s*/>')
        if pattern_js.search(html):
            if not path.is_file():
                raise OfflineAssetError(f"{path} is missing: run `make assets`")
            code = path.read_text(encoding="utf-8").replace("</script", "<\\/script")
            html = pattern_js.sub(_literal(f"<script>{code}</script>"), html)
        if pattern_css.search(html):
            if not path.is_file():
                raise OfflineAssetError(f"{path} is missing: run `make assets`")
            css = _inline_css(path)
            html = pattern_css.sub(_literal(f"<style>{css}</style>"), html)
    return html
