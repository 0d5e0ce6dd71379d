"""Interop tier: every KML export validates against the OGC KML 2.2 schema (xmllint, offline).

The schema is ``ogckml22.xsd`` with its imports (Atom, xAL) as shipped in the PyPI package ``pykml``
(requirements-dev.txt), installed at set-up — no hand copy in the repository.  ``make test`` installs
libxml2-utils (xmllint) when missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from interop_support import by_key, cases, kml_schema, require, run

pytestmark = pytest.mark.interop


def validate(path: Path) -> tuple[bool, str]:
    xmllint = require("xmllint", "libxml2-utils")
    done = run([xmllint, "--nonet", "--noout", "--schema", str(kml_schema()), str(path)])
    return done.returncode == 0, done.stderr


@pytest.mark.parametrize("key", cases(("kml",)))
def test_every_kml_validates_against_the_ogc_kml_22_schema(key: str, interop_exports: tuple[Any, ...]) -> None:
    ok, message = validate(by_key(interop_exports, key).path)
    assert ok, message[-3000:]
    assert "validates" in message


def test_the_schema_check_fails_on_the_old_element_order(interop_exports: tuple[Any, ...], tmp_path: Path) -> None:
    """A Schema written before the Styles (what exports did before issue 15) is refused: the check can fail."""
    text = by_key(interop_exports, cases(("kml",), gk=False)[0]).path.read_text(encoding="utf-8")
    start, end = text.index("  <Schema "), text.index("</Schema>") + len("</Schema>\n")
    schema = text[start:end]
    first_style = text.index("  <Style ")
    broken = text[:first_style] + schema + text[first_style:start] + text[end:]
    path = tmp_path / "schema_first.kml"
    path.write_text(broken, encoding="utf-8")
    ok, message = validate(path)
    assert not ok and "Schema" in message
