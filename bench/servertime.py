"""Server time of one script run, cold and warm (a click on a feature), and the bytes of the map, via AppTest.

Run as ``python -m bench.servertime <script> <county> [--cold N] [--clicks N]`` in a fresh process (the benchmark
does this, so one case's caches never warm another's); prints one JSON object.

* ``first_s``: the first run in the fresh process (empty caches; also pays the first import of the project code).
* ``cold_s``: runs in a new session after clearing ``st.cache_data``/``st.cache_resource`` and every
  ``functools`` cache of the project's modules (what a server sees after its caches are emptied).
* ``click_s``: a click on a feature in a warm session: the map component returns the clicked object, exactly as
  streamlit-folium's frontend would, and we time everything the server does until the page is final (for the app
  that is two script runs: the click, then its ``st.rerun()``).
* ``map_bytes``: UTF-8 size of the map component's arguments (script, header, html, feature groups, links …), i.e.
  what st_folium sends to the browser for the map.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

PROJECT_PACKAGES = ("config", "geo", "layers", "plan", "gisio", "bench")


def _walk(node: Any):
    yield node
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        for child in children.values():
            yield from _walk(child)


def map_component(at: Any) -> Any:
    """The ComponentInstance proto of the st_folium map in an AppTest tree (or None)."""
    for node in _walk(at._tree):
        if getattr(node, "type", None) == "component_instance":
            proto = node.proto
            if "folium" in proto.component_name:
                return proto
    return None


def clear_caches() -> None:
    """Empty Streamlit's caches and the functools caches of the project's own modules."""
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    for name, module in list(sys.modules.items()):
        if module is None or name.split(".")[0] not in PROJECT_PACKAGES:
            continue
        for value in list(vars(module).values()):
            clear = getattr(value, "cache_clear", None)
            if callable(clear) and getattr(value, "__module__", None) == name:
                clear()


def click_value(kind: str, feature: tuple[str, str, float, float]) -> dict[str, Any]:
    """What streamlit-folium returns after a click on ``feature`` = (id, name, lat, lng)."""
    fid, name, lat, lng = feature
    point = {"lat": lat, "lng": lng}
    if kind == "app":  # returned_objects=["last_object_clicked_tooltip"]; the tooltip text carries the click key
        return {"last_object_clicked_tooltip": f"{name}⟦f:{fid}⟧"}
    return {  # st_folium defaults: every returned object
        "last_clicked": point,
        "last_object_clicked": point,
        "last_object_clicked_tooltip": name,
        "last_object_clicked_popup": None,
        "all_drawings": None,
        "last_active_drawing": None,
        "bounds": {"_southWest": {"lat": lat - 1, "lng": lng - 1}, "_northEast": {"lat": lat + 1, "lng": lng + 1}},
        "zoom": 8,
        "last_circle_radius": None,
        "last_circle_polygon": None,
        "selected_layers": None,
        "selected_tags": None,
        "last_geocoder_result": None,
    }


def value_id(value: dict[str, Any]) -> str:
    tip = value.get("last_object_clicked_tooltip") or ""
    return tip.split("⟦f:", 1)[-1].rstrip("⟧")


def count_paths(js: str) -> int:
    """Leaflet vector layers created by a folium script (each draws one SVG path)."""
    return sum(js.count(f"L.{kind}(") for kind in ("polygon", "polyline", "circleMarker", "circle", "rectangle"))


def clickable_features(county: str) -> list[tuple[str, str, float, float]]:
    from geo.features import load_features

    _plan, features = load_features(county)
    located = features[features.geometry.notna()]
    out = []
    for fid, name, geom in zip(located["id"], located["name"], located.geometry):
        pt = geom.representative_point()
        out.append((str(fid), str(name), round(pt.y, 6), round(pt.x, 6)))
    return out


def measure(script: Path, county: str, cold: int, clicks: int, kind: str) -> dict[str, Any]:
    from streamlit.proto.WidgetStates_pb2 import WidgetState
    from streamlit.testing.v1 import AppTest

    def new_app() -> AppTest:
        at = AppTest.from_file(str(script), default_timeout=600)
        at.query_params["county"] = county
        return at

    def run(at: AppTest, ws: Any = None) -> float:
        t0 = time.perf_counter()
        at._run(ws) if ws is not None else at.run()
        dt = time.perf_counter() - t0
        if at.exception:
            raise RuntimeError(f"{script.name} raised: {[e.message for e in at.exception][:3]}")
        return dt

    at = new_app()
    first = run(at)
    cold_runs = []
    for _ in range(cold):
        clear_caches()
        at = new_app()
        cold_runs.append(run(at))
    run(at)  # warm session
    proto = map_component(at)
    if proto is None:
        raise RuntimeError(f"{script.name}: no st_folium component in the page")
    args = json.loads(proto.json_args)
    parts = {k: len(json.dumps(v, ensure_ascii=False).encode()) for k, v in args.items() if v is not None}

    features = clickable_features(county)
    click_runs = []
    for i in range(clicks if features else 0):
        proto = map_component(at)
        ws = at._tree.get_widget_states()
        value = click_value(kind, features[i % len(features)])
        ws.widgets.append(WidgetState(id=proto.id, json_value=json.dumps(value, ensure_ascii=False)))
        click_runs.append(run(at, ws))
        if kind == "app" and at.session_state["selected"] != f"f:{value_id(value)}":
            raise RuntimeError(f"the simulated click did not select the feature: {at.session_state['selected']!r}")
    return {
        "script": script.name,
        "county": county,
        "first_s": first,
        "cold_s": cold_runs,
        "click_s": click_runs,
        "map_bytes": len(proto.json_args.encode("utf-8")),
        "js_paths": count_paths((args.get("script") or "") + (args.get("feature_group") or "")),
        "js_markers": (args.get("script") or "").count("L.marker(")
        + (args.get("feature_group") or "").count("L.marker("),
        "map_parts": parts,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("script", type=Path)
    parser.add_argument("county")
    parser.add_argument("--cold", type=int, default=3)
    parser.add_argument("--clicks", type=int, default=5)
    parser.add_argument("--kind", choices=("app", "baseline"), default="app")
    ns = parser.parse_args(argv)
    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    result = measure(ns.script.resolve(), ns.county, ns.cold, ns.clicks, ns.kind)
    result["cold_median_s"] = statistics.median(result["cold_s"]) if result["cold_s"] else None
    result["click_median_s"] = statistics.median(result["click_s"]) if result["click_s"] else None
    print("BENCH-JSON " + json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
