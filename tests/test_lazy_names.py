"""The engine's and the store's names load with their modules on first use: importing the package
loads none of the heavy parts, and every public name is the object its module defines."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import pytest

PACKAGES = {
    "pipetrace.engine": "lupa",
    "pipetrace.store": "sqlalchemy",
    "pipetrace.store.auther": "pipetrace.store.auther.repository",
}
"""Each package, and what importing it alone must not load."""


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_importing_the_package_loads_none_of_its_heavy_parts(package: str) -> None:
    heavy = PACKAGES[package]
    code = (
        f"import sys, {package}\nprint(sorted(m for m in sys.modules if m.startswith({heavy!r})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_every_public_name_is_its_module_s_own(package: str) -> None:
    loaded = importlib.import_module(package)
    for name in loaded.__all__:
        value = getattr(loaded, name)
        assert not inspect.ismodule(value), name
        home = getattr(value, "__module__", None)
        if home is not None and home.startswith(package):
            assert getattr(importlib.import_module(home), name) is value, name


@pytest.mark.parametrize(
    "first",
    ["from pipetrace.engine import GivenScript", "import pipetrace.engine.given_pipelines"],
)
def test_a_name_shared_with_its_module_is_the_name_not_the_module(first: str) -> None:
    code = (
        f"{first}\n"
        "from pipetrace.engine import given_pipelines\n"
        "from pipetrace.engine.given_pipelines import given_pipelines as own\n"
        "print(callable(given_pipelines), given_pipelines is own)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.stdout.split() == ["True", "True"], result.stderr
