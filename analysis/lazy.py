"""Public names of a package that load on first use (PEP 562): one ``__getattr__``/``__dir__`` pair for every package
of the library that keeps its imports light (``analysis``, ``analysis.store``, ``analysis.lab``, ``analysis.glitch``).

Example:
    >>> import types, sys
    >>> pkg = types.ModuleType("demo_pkg"); pkg.__all__ = ["dumps"]; sys.modules["demo_pkg"] = pkg
    >>> pkg.__getattr__, pkg.__dir__ = lazy_names("demo_pkg", {"dumps": "json"}, relative=False)
    >>> pkg.dumps([1])
    '[1]'
    >>> "dumps" in vars(pkg), "dumps" in dir(pkg)
    (True, True)
    >>> del sys.modules["demo_pkg"]
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_names(package: str, names: dict[str, str], *, submodules: bool = False, relative: bool = True
               ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``: ``names`` maps a public name to the module (relative to
    ``package`` unless ``relative=False``) that defines it; the module is imported when the name is first asked for,
    and the value kept in the package. ``submodules``: any other public name is tried as a submodule
    (``analysis.store`` after a bare ``import analysis``)."""

    def __getattr__(name: str) -> Any:
        if name in names:
            target = f".{names[name]}" if relative else names[name]
            value = getattr(importlib.import_module(target, package), name)
            setattr(sys.modules[package], name, value)
            return value
        if submodules and not name.startswith("_"):
            try:
                return importlib.import_module(f".{name}", package)
            except ModuleNotFoundError as e:
                if e.name != f"{package}.{name}":
                    raise
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        module = sys.modules[package]
        return sorted({*vars(module), *getattr(module, "__all__", ())})

    return __getattr__, __dir__
