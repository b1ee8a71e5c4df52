"""A package's public names, each imported from its module only when first used, so importing
the package (or a light module inside it) does not load what only some commands need."""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(package: str, modules: Mapping[str, tuple[str, ...]]) -> Callable[[str], Any]:
    """A module `__getattr__` for `package`: `modules` maps a module (relative to the package,
    as ".engine") to the names it provides; the first use of a name imports its module and
    keeps all of that module's names on the package.

    A name spelled like its module (`given_pipelines` in `.given_pipelines`) stays the name: the
    import system puts a loaded submodule on its package under the module's name, however it
    was imported, and the package takes the name from it instead (as an eager `from .x import
    x` in the package would have left it)."""
    home = {name: module for module, names in modules.items() for name in names}
    shared = {module.rpartition(".")[2] for module in modules} & set(home)

    def __getattr__(name: str) -> Any:
        module = home.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        loaded = importlib.import_module(module, package)
        for provided in modules[module]:
            setattr(sys.modules[package], provided, getattr(loaded, provided))
        return getattr(loaded, name)

    class Package(types.ModuleType):
        """The package's module, keeping a shared name over its module object."""

        def __setattr__(self, name: str, value: Any) -> None:
            if name in shared and isinstance(value, types.ModuleType):
                value = getattr(value, name)
            super().__setattr__(name, value)

    if shared:
        sys.modules[package].__class__ = Package
    return __getattr__
