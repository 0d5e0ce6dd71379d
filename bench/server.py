"""Start ``streamlit run <script>`` on a free port, wait for ``/_stcore/health``, read its peak memory, stop it.

tests/conftest.py reuses free_port and wait_healthy from here.  Benchmark apps live in bench/apps/;
Streamlit serves ``static/`` next to the *main script*, so every script is run from a scratch directory holding a
copy of the script and of the app's ``static/`` (vendored Leaflet etc.); imports resolve through PYTHONPATH.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = Path(__file__).resolve().parent / "apps"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def python_path() -> str:
    """PYTHONPATH for benchmark processes: the repository first."""
    old = os.environ.get("PYTHONPATH")
    return os.pathsep.join([str(ROOT)] + ([old] if old else []))


def peak_rss_mb(pid: int) -> float | None:
    """Peak resident set size (VmHWM) of a live process in MiB, from /proc (psutil is not a dependency)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    url: str
    log: Path
    workdir: Path
    extra: dict[str, str] = field(default_factory=dict)

    def peak_rss_mb(self) -> float | None:
        return peak_rss_mb(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)  # polling interval of the health check, not a wait for app state
    raise RuntimeError(f"streamlit did not become healthy within {timeout:.0f}s")


def start(script: Path, env_extra: dict[str, str] | None = None) -> Server:
    """Run ``script`` (app.py or a bench app) with ``streamlit run`` from a scratch copy next to ``static/``."""
    work = Path(tempfile.mkdtemp(prefix="rrmap-bench-"))
    shutil.copytree(ROOT / "static", work / "static")
    (work / ".streamlit").mkdir()
    shutil.copy2(ROOT / ".streamlit" / "config.toml", work / ".streamlit" / "config.toml")
    target = work / script.name
    shutil.copy2(script, target)
    port = free_port()
    log = work / "streamlit.log"
    env = {**os.environ, "PYTHONPATH": python_path(), **(env_extra or {})}
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(target),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
        "--server.enableStaticServing",
        "true",
        "--server.fileWatcherType",
        "none",
    ]
    handle = log.open("wb")
    proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=handle, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    server = Server(proc, url, log, work)
    try:
        wait_healthy(url, proc)
    except RuntimeError as exc:
        tail = server.log_tail()
        server.stop()
        raise RuntimeError(f"{exc}\n--- streamlit log ---\n{tail}") from exc
    return server
