"""A deadline for reading and matching an imported file, so a hostile or huge file cannot hold a session.

The work runs in a worker thread and the caller waits at most ``seconds``; then it gets an
:class:`~gisio.errors.ImportRejected` with code ``"timeout"`` and a Chinese message (the app shows it, the CLI
prints it and exits).  Python cannot kill a thread, so the work also stops itself: loops over features call
:func:`checkpoint`, which raises once the deadline has passed, and SQLite queries are interrupted by
:func:`sqlite_progress_handler`.  A C call that never returns is abandoned to its (daemon) thread.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import config
from gisio.errors import ImportRejected

T = TypeVar("T")

_local = threading.local()


@dataclass
class Deadline:
    """When the work of one import step must be done by, and what to say when it is not."""

    seconds: float
    what: str
    end: float = field(init=False)
    given_up: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.end = time.monotonic() + self.seconds

    def expired(self) -> bool:
        return self.given_up.is_set() or time.monotonic() > self.end

    def error(self) -> ImportRejected:
        return ImportRejected(
            f"{self.what}超过 {self.seconds:g} 秒仍未完成，已停止：文件可能过大或结构异常"
            "（可拆分文件后再试；时限可用环境变量 RRMAP_IMPORT_TIMEOUT_S 调整）",
            "timeout",
        )

    def check(self) -> None:
        if self.expired():
            raise self.error()


def current() -> Deadline | None:
    """The deadline of the work running in this thread (None outside :func:`run_with_deadline`)."""
    return getattr(_local, "deadline", None)


def checkpoint() -> None:
    """Raise the timeout refusal if this thread's deadline has passed; cheap enough to call per feature."""
    deadline = current()
    if deadline is not None and deadline.expired():
        raise deadline.error()


def sqlite_progress_handler() -> Callable[[], int]:
    """A ``sqlite3.Connection.set_progress_handler`` callback: non-zero (interrupt the query) once expired."""
    deadline = current()
    return lambda: 1 if deadline is not None and deadline.expired() else 0


def run_with_deadline(func: Callable[[], T], *, what: str, seconds: float | None = None) -> T:
    """``func()`` in a worker thread; its result, its exception, or the timeout refusal after ``seconds``.

    Parameters
    ----------
    func
        The work; it should call :func:`checkpoint` in its loops.
    what
        The work in planner's words, for the message (``"读取“村点.geojson”"``).
    seconds
        Default ``config.IMPORT_TIMEOUT_S``; ``math.inf`` runs ``func`` here, without a deadline.  Inside work that
        already has a deadline, ``func`` runs in the same thread under the outer deadline.

    Raises
    ------
    ImportRejected
        Code ``"timeout"`` when the deadline passed; any exception ``func`` raised, unchanged.
    """
    limit = config.IMPORT_TIMEOUT_S if seconds is None else float(seconds)
    if current() is not None or math.isinf(limit):
        return func()
    deadline = Deadline(max(limit, 0.0), what)
    outcome: dict[str, object] = {}
    done = threading.Event()

    def work() -> None:
        _local.deadline = deadline
        try:
            outcome["value"] = func()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread, which re-raises it
            outcome["error"] = exc
        finally:
            done.set()

    worker = threading.Thread(target=work, name="rrmap-import", daemon=True)
    worker.start()
    if not done.wait(deadline.seconds):
        deadline.given_up.set()  # the worker stops at its next checkpoint
        raise deadline.error()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]  # a BaseException, stored by work()
    return outcome["value"]  # type: ignore[return-value]  # func's T, stored by work()
