"""Lazy re-exports for package ``__init__`` modules (PEP 562).

``from graphgen.models import HiGen`` must keep working, but importing ``graphgen.models`` to read
its catalogue of shipped checkpoints (``graphgen models list``) should not import torch and PyG,
about three seconds on this machine's CPU. A package declares which submodule defines each public
name; the submodule is imported the first time one of its names is read.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable


def lazy_exports(
    package: str, submodules: dict[str, tuple[str, ...]]
) -> tuple[Callable[[str], object], Callable[[], list[str]], list[str]]:
    """Return ``(__getattr__, __dir__, __all__)`` for ``package`` whose public names live in submodules.

    ``submodules`` maps each submodule (relative to ``package``, e.g. ``"pretrained"``) to the public
    names it defines. Reading a name imports its submodule once and caches the value in the package's
    namespace, so later reads are plain attribute lookups. Unknown names raise ``AttributeError`` as a
    module without ``__getattr__`` would.
    """
    exports = {name: submodule for submodule, names in submodules.items() for name in names}

    def __getattr__(name: str) -> object:
        submodule = exports.get(name)
        if submodule is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{submodule}"), name)
        setattr(importlib.import_module(package), name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(importlib.import_module(package))) | set(exports))

    return __getattr__, __dir__, list(exports)
