"""Copy the front-end files the map needs from node_modules (npm registry) into static/vendor.

Streamlit serves static/ at /app/static/ (server.enableStaticServing), so the map loads Leaflet & co. from the
app itself and works on an intranet with no internet.  static/vendor is rebuilt, never committed.
Runs with the system Python (standard library only).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "node_modules"
VENDOR = ROOT / "static" / "vendor"

# package directory -> sub-paths to copy (files or directories)
FILES: dict[str, list[str]] = {
    "leaflet": ["dist/leaflet.js", "dist/leaflet.css", "dist/images", "LICENSE"],
    "leaflet.markercluster": [
        "dist/leaflet.markercluster.js",
        "dist/MarkerCluster.css",
        "dist/MarkerCluster.Default.css",
        "MIT-LICENCE.txt",
    ],
    # Category icons: the SVGs only (layers/icons.py), no icon font.
    "@fortawesome/fontawesome-free": ["svgs/solid", "LICENSE.txt"],
    # Drawing and editing plan items on the map (layers/drawing.py); loaded only while a user draws.
    "@geoman-io/leaflet-geoman-free": ["dist/leaflet-geoman.min.js", "dist/leaflet-geoman.css", "LICENSE"],
}
# Scripts the live map loads as one file (streamlit-folium loads scripts one after another): bundle -> parts, in
# order, each keeping its own licence header.  The parts are the files of layers.assets.SCRIPT_BUNDLE's assets
# (a test checks the two agree).
BUNDLES: dict[str, list[str]] = {
    "bundle/leaflet-markercluster.js": [
        "leaflet/dist/leaflet.js",
        "leaflet.markercluster/dist/leaflet.markercluster.js",
    ],
}


def main() -> int:
    if not NODE.is_dir():
        print("node_modules is missing: run `npm ci` first (make does this)", file=sys.stderr)
        return 1
    tmp = VENDOR.with_name("vendor.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    for package, parts in FILES.items():
        for part in parts:
            src = NODE / package / part
            dst = tmp / package / part
            if not src.exists():
                print(f"missing {src} (package.json out of date?)", file=sys.stderr)
                return 1
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, dst)
            else:
                shutil.copy2(src, dst)
    for bundle, parts in BUNDLES.items():
        out = tmp / bundle
        out.parent.mkdir(parents=True, exist_ok=True)
        code = [
            f"/* {part} (see its LICENSE in this directory tree) */\n" + (tmp / part).read_text(encoding="utf-8")
            for part in parts
        ]
        out.write_text(";\n".join(code) + "\n", encoding="utf-8")
    shutil.rmtree(VENDOR, ignore_errors=True)
    tmp.rename(VENDOR)  # swap in whole, never half-copied
    print(f"vendored {sum(len(v) for v in FILES.values())} paths into {VENDOR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
