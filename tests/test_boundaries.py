"""The dependency direction: engine and store never import textual or app; engine never store."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "engine": ("textual", "pipetrace.app", "pipetrace.store"),
    "store": ("textual", "pipetrace.app", "pipetrace.engine"),
}


def _hits(name: str, forbidden: tuple[str, ...]) -> bool:
    """Whether a dotted module name is one of the forbidden packages or inside one."""
    return any(name == bad or name.startswith(bad + ".") for bad in forbidden)


def imported_modules(path: Path) -> set[str]:
    """Top-level names of every absolute import in a file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_forbidden_import_in_source(package: str) -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for name in sorted(imported_modules(path))
        if _hits(name, FORBIDDEN[package])
    ]
    assert offenders == []


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_forbidden_module_loaded_at_runtime(package: str) -> None:
    code = (
        "import importlib, pkgutil, sys\n"
        f"import pipetrace.{package} as {package}\n"
        f"for info in pkgutil.walk_packages({package}.__path__, 'pipetrace.{package}.'):\n"
        "    if '.migrations' in info.name:\n"
        "        continue\n"
        "    try:\n"
        "        importlib.import_module(info.name)\n"
        "    except ImportError as exc:\n"
        "        if 'opentelemetry' not in str(exc):\n"
        "            raise\n"
        f"bad = sorted(m for m in sys.modules\n"
        f"             if any(m == b or m.startswith(b + '.') for b in {FORBIDDEN[package]!r}))\n"
        "print(bad)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
