"""A description of the machine and software the benchmark ran on (for docs/perf.md)."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

PACKAGES = (
    "streamlit",
    "folium",
    "streamlit-folium",
    "branca",
    "geopandas",
    "shapely",
    "pyogrio",
    "matplotlib",
    "playwright",
    "mapclassify",
)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _mem_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return None


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.platform()


def chromium_version(path: str) -> str:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=20, check=False)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.TimeoutExpired):
        return "not found"


def versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def describe(chromium: str = "/usr/bin/chromium") -> list[str]:
    """Markdown bullet lines describing the machine, OS, load and library versions."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    mem = _mem_gib()
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    libs = ", ".join(f"{k} {v}" for k, v in versions().items())
    lines = [
        f"- CPU: {_cpu_model()}, {cores} cores available to the benchmark",
        f"- Memory: {mem:.1f} GiB" if mem else "- Memory: unknown",
        f"- OS: {_os_name()} (kernel {platform.release()}), Python {platform.python_version()}",
        f"- Browser: {chromium_version(chromium)} (headless, offline: non-localhost requests blocked)",
        f"- Libraries: {libs}",
    ]
    if load is not None:
        lines.append(f"- Load average at start: {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1/5/15 min)")
    return lines


def load_average() -> float | None:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None
