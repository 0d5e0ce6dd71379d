"""Regenerate the README's print-layout pictures: a 1920×1080 slide PNG and an A4 portrait PDF page rendered to PNG.

Usage: .venv/bin/python scripts/print_samples.py [--county 500235] [--out docs]

The PDF page is rasterised by poppler's ``pdftoppm`` (Debian ``poppler-utils``; ``make test`` installs it).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cli

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--county", default="500235")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args(argv)
    slide = args.out / f"presentation_{args.county}.png"
    if cli.main(["png", "--county", args.county, "--out", str(slide)]) != 0:
        return 1
    exe = shutil.which("pdftoppm")
    if not exe:
        print("pdftoppm is missing: sudo apt-get install poppler-utils", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "page.pdf"
        if cli.main(["pdf", "--county", args.county, "--page", "a4-portrait", "--dpi", "150", "--out", str(pdf)]) != 0:
            return 1
        stem = args.out / f"print_{args.county}_a4"
        subprocess.run([exe, "-r", "110", "-png", "-singlefile", str(pdf), str(stem)], check=True)
    print(f"wrote {slide} and {stem}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
