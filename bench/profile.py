"""Profile warm script runs (or clicks) of a Streamlit script under AppTest with cProfile.

Streamlit runs the script in its own thread, which a cProfile started in the main thread does not see (and a
stack sampler is skewed by the GIL), so the script is run through a small wrapper that enables one shared
``cProfile.Profile`` inside the script thread, around the real script's code.  Use py-spy or pyinstrument instead
when they are installed.

    python -m bench.profile app.py 500235 [--runs 3] [--click] [--top 40] [--sort tottime]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import tempfile
import time
from pathlib import Path

PROFILE = cProfile.Profile()

WRAPPER = """
import bench.profile as _bp
_bp.run_script({path!r}, globals())
"""


def run_script(path: str, scope: dict) -> None:
    """Execute the real script in the wrapper's namespace with the shared profiler enabled."""
    code = compile(Path(path).read_text(encoding="utf-8"), path, "exec")
    scope["__file__"] = path
    PROFILE.enable()
    try:
        exec(code, scope)
    finally:
        PROFILE.disable()


def main(argv: list[str] | None = None) -> int:
    from bench.servertime import click_value, clickable_features, map_component

    parser = argparse.ArgumentParser()
    parser.add_argument("script", type=Path)
    parser.add_argument("county")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--click", action="store_true")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--callers", default="", help="also print the callers of functions matching this")
    ns = parser.parse_args(argv)
    from streamlit.proto.WidgetStates_pb2 import WidgetState
    from streamlit.testing.v1 import AppTest

    real = ns.script.resolve()
    with tempfile.TemporaryDirectory(prefix="rrmap-prof-") as tmp:
        wrapper = Path(tmp) / real.name
        wrapper.write_text(WRAPPER.format(path=str(real)), encoding="utf-8")
        at = AppTest.from_file(str(wrapper), default_timeout=600)
        at.query_params["county"] = ns.county
        at.run()
        at.run()
        import bench.profile as shared  # the module the wrapper enables (this file may run as __main__)

        shared.PROFILE.clear()
        feats = clickable_features(ns.county) if ns.click else []
        t0 = time.perf_counter()
        for i in range(ns.runs):
            if ns.click:
                ws = at._tree.get_widget_states()
                value = click_value("app", feats[i % len(feats)])
                ws.widgets.append(WidgetState(id=map_component(at).id, json_value=json.dumps(value)))
                at._run(ws)
            else:
                at.run()
        dt = time.perf_counter() - t0
    print(f"{ns.runs} {'clicks' if ns.click else 'runs'}: {dt / ns.runs * 1000:.0f} ms each (profiled)")
    out = io.StringIO()
    stats = pstats.Stats(shared.PROFILE, stream=out).sort_stats(ns.sort)
    stats.print_stats(ns.top)
    if ns.callers:
        stats.print_callers(ns.callers)
    print(out.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
