"""A throwaway PostgreSQL + PostGIS cluster for one test session (team mode of the store).

No service is used or left running and no port is opened: the cluster lives in a fresh temporary directory,
listens only on a unix socket in that directory (``listen_addresses=''``), and is stopped (``-m immediate``) and
deleted at the end.  ``initdb`` and ``postgres`` refuse to run as root, so as root every server command runs as
Debian's ``postgres`` system user (``runuser``).  Needs Debian's ``postgresql`` and ``postgresql-15-postgis-3``
(``make test`` installs them when missing).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

TEMPLATE = "rrmap_template"


def pg_bindir() -> Path | None:
    """The newest installed PostgreSQL server's bin directory (``RRMAP_PG_BINDIR`` overrides)."""
    env = os.environ.get("RRMAP_PG_BINDIR")
    if env:
        return Path(env)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def _as_server_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _run(cmd: list[str]) -> None:
    result = subprocess.run(_as_server_user(cmd), capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:2])} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")


class Cluster:
    """initdb + pg_ctl start in a temporary directory; :meth:`new_database` clones a PostGIS template."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        # Not under pytest's tmp_path (0700 root: the postgres user could not enter it).  Short: the socket path
        # (dir + '/.s.PGSQL.5432') must stay under 107 bytes.
        self.dir = Path(tempfile.mkdtemp(prefix="rrmap-pg-"))
        self.data = self.dir / "data"
        self.started = False
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)

    def start(self) -> None:
        _run(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ]
        )
        options = (
            f"-c listen_addresses='' -k {self.dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=80 -c shared_buffers=32MB"
        )
        _run(
            [
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.dir / "log"),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ]
        )
        self.started = True
        import psycopg

        with psycopg.connect(self.url_for("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {TEMPLATE}")
        with psycopg.connect(self.url_for(TEMPLATE), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION postgis")

    def url_for(self, database: str) -> str:
        return f"postgresql://postgres@/{database}?host={self.dir}"  # the socket directory as host: no TCP

    def new_database(self) -> str:
        """A fresh database with PostGIS (a copy of the template); returns its URL."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url_for("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        return self.url_for(name)

    def drop_database(self, url: str) -> None:
        import psycopg

        name = url.split("@/", 1)[1].split("?", 1)[0]
        with psycopg.connect(self.url_for("postgres"), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        try:
            if self.started:
                _run([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"])
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
