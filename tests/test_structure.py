"""The layout a reviewer can check by reading, checked by the tests: who imports whom, what takes keywords.

Packages, lowest first: ``plan`` (plan data) → ``geo`` (locations, the feature table) → ``gisio`` (files in and
out) → ``present`` (what is shown beside the map) → ``layers`` (what is drawn on the map) → ``ui`` (Streamlit);
``config`` is below all of them, ``app.py`` and ``cli.py`` above.  A package imports only from packages below it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import config

ROOT = config.ROOT
ORDER = ("config", "plan", "geo", "store", "gisio", "present", "layers", "ui")
# What each package may import from (besides itself): everything below it in ORDER, minus these exceptions.
NOT_ALLOWED = {"gisio": {"layers", "present", "ui"}, "present": {"layers", "ui", "gisio"}}
ENTRY_POINTS = ("app.py", "cli.py")


def product_modules() -> list[Path]:
    files = [ROOT / name for name in (*ENTRY_POINTS, "config.py")]
    for package in ORDER[1:]:
        files += sorted((ROOT / package).rglob("*.py")) if (ROOT / package).is_dir() else []
    return files


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def imports_of(path: Path) -> Iterator[tuple[int, str]]:
    """Every module ``path`` imports (top level and inside functions), with its line."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.lineno, node.module
            for alias in node.names:  # "from ui import data" imports ui.data
                yield node.lineno, f"{node.module}.{alias.name}"


def package_of(module: str) -> str:
    return module.split(".")[0]


def test_app_py_is_a_table_of_contents() -> None:
    lines = (ROOT / "app.py").read_text(encoding="utf-8").splitlines()
    assert len(lines) < 200, f"app.py has {len(lines)} lines"


def test_only_ui_imports_streamlit() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in product_modules()
        if not module_name(path).startswith("ui.") and module_name(path) != "ui"
        for line, name in imports_of(path)
        if package_of(name) in ("streamlit", "streamlit_folium")
    ]
    assert offenders == []


def test_packages_import_only_from_below() -> None:
    offenders = []
    for path in product_modules():
        mod = module_name(path)
        own = package_of(mod)
        if own not in ORDER:
            continue
        below = set(ORDER[: ORDER.index(own)]) - NOT_ALLOWED.get(own, set())
        for line, name in imports_of(path):
            other = package_of(name)
            if other in ORDER and other != own and other not in below:
                offenders.append(f"{path.relative_to(ROOT)}:{line}: {own} imports {name}")
    assert offenders == [], "\n".join(offenders)


def test_no_import_cycle() -> None:
    modules = {module_name(p): p for p in product_modules()}
    graph = {
        mod: {name for _line, name in imports_of(path) if name in modules and name != mod}
        for mod, path in modules.items()
    }
    state: dict[str, int] = {}  # 1 visiting, 2 done
    stack: list[str] = []

    def visit(mod: str) -> None:
        state[mod] = 1
        stack.append(mod)
        for nxt in sorted(graph[mod]):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt) :] + [nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[mod] = 2

    for mod in sorted(graph):
        if mod not in state:
            visit(mod)


def test_public_functions_with_more_than_three_parameters_take_the_rest_by_keyword() -> None:
    offenders = []
    for path in product_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or node.name.startswith("_"):
                continue
            positional = [a.arg for a in (*node.args.posonlyargs, *node.args.args) if a.arg not in ("self", "cls")]
            if len(positional) > 3:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}({', '.join(positional)})")
    assert offenders == [], "\n".join(offenders)


_MARKER = re.compile(r"#\s*(type:\s*ignore(?:\[[^\]]*\])?|noqa(?::\s*[A-Z0-9, ]+)?|fmt:\s*skip)(.*)$")


def test_every_lint_marker_says_why() -> None:
    offenders = []
    for path in [*product_modules(), *sorted((ROOT / "tests").rglob("*.py")), *sorted((ROOT / "bench").rglob("*.py"))]:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = _MARKER.search(line)
            if match and not re.search(r"\w", match.group(2)):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == [], "markers without a reason:\n" + "\n".join(offenders)


def test_non_browser_tests_collect_without_playwright(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    (tmp_path / "sitecustomize.py").write_text(
        "import sys\n"
        "class _NoPlaywright:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'playwright':\n"
        "            raise ImportError('playwright is blocked for this check')\n"
        "sys.meta_path.insert(0, _NoPlaywright())\n",
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", "not browser", "-p", "no:cacheprovider"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "tests collected" in result.stdout or "selected" in result.stdout
