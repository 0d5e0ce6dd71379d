"""Write a file so that readers see the old file or the whole new one, never half of it."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def atomic_write(out: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` and move the finished file to ``out``; on any error nothing is left behind.

    The temporary file sits in a private directory beside ``out`` (same file system, so the final
    :func:`os.replace` is atomic), and carries ``out``'s own name (writers such as GDAL's that derive a layer
    name from the file name see the right one).

    Raises
    ------
    FileNotFoundError
        ``write`` returned without creating the file.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
    try:
        tmp = tmp_dir / out.name
        write(tmp)
        if not tmp.is_file():
            raise FileNotFoundError(f"没有生成文件 {out.name}")
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return out


def atomic_write_text(out: Path, text: str) -> Path:
    """:func:`atomic_write` of UTF-8 text."""

    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    return atomic_write(out, write)
