"""C++ extensions compiled on first use, with a pure-Python path always behind them.

graphgen ships a few hot loops as C++ source (the selective scan of :mod:`graphgen.nn.scan_kernel`,
the graphlet counter of :mod:`graphgen.metrics.orbit_kernel`). :class:`NativeExtension` builds
such a source with ``torch.utils.cpp_extension.load_inline`` the first time it is needed (a C++
compiler and ninja must be present; the build is cached in torch's extension directory, so later
processes load it in well under a second). Build options are tried in order; if none builds, or
the extension's environment variable is ``0``, :meth:`NativeExtension.load` returns ``None`` and the
caller takes its pure-Python path, which computes the same results.

One build per Python environment: each name carries :func:`environment_tag`, a hash of the
interpreter and the torch installation it compiles against. torch caches a build under its name
alone, and its build file names the torch headers and libraries of the environment that made it, so
two virtual environments sharing the one cache (a project's and a notebook kernel's, a CI clone's)
rebuilt each other's copy at every switch (``graphgen sample -n 8`` took 27-28 s instead of
3.6-3.9 s, ``metrics/results/native-build-per-environment.json``) and could load a copy
built against another torch. A build that is about to happen is announced (``INFO`` on the
``graphgen.native`` logger, which the ``graphgen`` command prints), since the first call of a
command waits on it without any other sign.

Builds of environments that are gone are removed: each virtual environment (a CI clone's, a deleted
project's) leaves its own copies, about 2 MB each, and nothing else would ever delete them. Before
graphgen builds an extension it removes the cached builds of the same extension whose ``build.ninja``
links against a torch library directory that no longer exists and that no process has built or
loaded for :data:`ORPHAN_AGE_DAYS` days (:func:`remove_orphaned_builds`); a build whose torch is still
installed, one without a ``build.ninja`` or one holding a build lock is kept. The age matters where
one cache serves several containers that see different paths: a build whose torch is invisible from
here may still be in use there, and without the age each side would delete the other's build at every
switch; with it, such a build is made again at most once a month.

A stale build lock is cleared: torch guards a build with a ``lock`` file in the build directory and
waits, without end, while it exists; a process killed during its build (Ctrl-C on the first call, a
killed test run) leaves it behind, and every later process would hang at "loading". A lock older
than :data:`STALE_LOCK_SECONDS` (builds take about a minute) is removed with a warning.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import sys
import sysconfig
import time
from pathlib import Path

__all__ = [
    "NativeExtension",
    "vectorised_build_options",
    "clear_stale_build_lock",
    "environment_tag",
    "is_built",
    "remove_orphaned_builds",
    "STALE_LOCK_SECONDS",
    "ORPHAN_AGE_DAYS",
]

_LOG = logging.getLogger(__name__)

STALE_LOCK_SECONDS = 900  # a build lock older than this was left by a killed process
ORPHAN_AGE_DAYS = 30  # a build for a torch that is gone, unused this long, is removed


def clear_stale_build_lock(name: str) -> bool:
    """Remove the build lock of extension ``name`` if it is older than :data:`STALE_LOCK_SECONDS`
    (see the module docstring); whether one was removed."""
    from torch.utils.cpp_extension import _get_build_directory

    lock = Path(_get_build_directory(name, False)) / "lock"
    try:
        age = time.time() - lock.stat().st_mtime
    except FileNotFoundError:
        return False
    if age <= STALE_LOCK_SECONDS:
        return False
    _LOG.warning("removing a stale build lock (%.0f s old, left by a killed build): %s", age, lock)
    lock.unlink(missing_ok=True)
    return True


def environment_tag(torch_version: str | None = None, torch_dir: str | None = None, python: str | None = None) -> str:
    """Eight hex digits naming this Python environment's builds (module docstring): a hash of the
    torch version, the directory torch is installed in (its headers and libraries) and the
    interpreter (version and include directory). Arguments override this process's values (tests)."""
    import torch

    parts = (
        torch.__version__ if torch_version is None else torch_version,
        str(Path(torch.__file__).resolve().parent) if torch_dir is None else torch_dir,
        f"{sys.version} {sysconfig.get_paths()['include']}" if python is None else python,
    )
    return hashlib.sha1("\n".join(parts).encode()).hexdigest()[:8]


def is_built(name: str) -> bool:
    """Whether torch's cache already holds the compiled extension ``name`` (its shared library)."""
    from torch.utils.cpp_extension import _get_build_directory

    return (Path(_get_build_directory(name, False)) / f"{name}.so").is_file()


_TORCH_LIBRARY_DIR = re.compile(r"^ldflags\s*=.*?-L(\S+)", re.M)


def _last_used(folder: Path) -> float:
    """When a build folder was last written, or its shared library last loaded (its access time, which
    some mounts keep coarse or not at all; then the build time counts). Reading ``build.ninja`` here
    must not count as use, so only the libraries' access times do."""
    times = [folder.stat().st_mtime]
    for path in folder.iterdir():
        stat = path.stat()
        times += [stat.st_mtime, stat.st_atime] if path.suffix == ".so" else [stat.st_mtime]
    return max(times)


def remove_orphaned_builds(name: str) -> list[Path]:
    """Remove the cached builds of extension ``name``'s base (``name`` without its environment tag)
    made in other environments whose torch library directory no longer exists and which were not
    built or loaded for :data:`ORPHAN_AGE_DAYS` days (module docstring); returns the folders removed.
    ``name`` itself is never touched."""
    from torch.utils.cpp_extension import _get_build_directory

    own = Path(_get_build_directory(name, False))
    base = name.rsplit("_", 1)[0]
    sibling = re.compile(re.escape(base) + r"_[0-9a-f]{8}$")
    removed = []
    for folder in sorted(own.parent.iterdir()):
        if folder == own or not folder.is_dir() or not sibling.match(folder.name) or (folder / "lock").exists():
            continue
        try:
            if time.time() - _last_used(folder) < ORPHAN_AGE_DAYS * 86400:
                continue
            found = _TORCH_LIBRARY_DIR.search((folder / "build.ninja").read_text(errors="replace"))
        except OSError:
            continue
        if found is None or Path(found.group(1)).exists():
            continue
        shutil.rmtree(folder, ignore_errors=True)
        _LOG.info("removed a build of %s for a torch that is no longer installed (%s)", base, found.group(1))
        removed.append(folder)
    return removed


def vectorised_build_options(name: str) -> list[tuple[str, list[str]]]:
    """``(extension name, compiler flags)`` to try in order for a floating-point kernel.

    First ``-O3 -ffast-math -fopenmp-simd`` (GCC then vectorises loops that call ``exp`` through
    glibc's vector maths library; ``-ffast-math`` is a compile flag only, the link step never sees
    it, so the process's floating-point mode is left alone), plus ``-mavx2 -mfma`` when PyTorch
    reports an AVX2 or AVX-512 CPU; then a plain ``-O3`` build. The name carries the choice, so
    differently built copies never overwrite each other in the cache.
    """
    import torch

    fast = ["-O3", "-ffast-math", "-fopenmp-simd"]
    suffix = "generic"
    if torch.backends.cpu.get_cpu_capability() in ("AVX2", "AVX512"):
        fast += ["-mavx2", "-mfma"]
        suffix = "avx2"
    return [(f"{name}_{suffix}", fast), (f"{name}_plain", ["-O3"])]


class NativeExtension:
    """A C++ source compiled once per Python environment and loaded once per process.

    Args:
        source: C++ source (``#include <torch/extension.h>``).
        functions: the functions to bind.
        build_options: ``(extension name, compiler flags)`` pairs, tried in order; each name is
            given this environment's :func:`environment_tag` when built.
        env_var: setting it to ``0`` disables the extension (the caller's Python path runs).
        description: what it is, for log messages.
    """

    def __init__(
        self,
        source: str,
        functions: list[str],
        build_options: list[tuple[str, list[str]]],
        env_var: str,
        description: str,
    ):
        self.source = source
        self.functions = functions
        self.build_options = build_options
        self.env_var = env_var
        self.description = description
        self._module = None
        self._tried = False
        self._error: str | None = None

    def load(self):
        """The compiled module, or ``None`` when it cannot be built here or ``env_var=0``."""
        if os.environ.get(self.env_var, "1") == "0":
            return None
        if not self._tried:
            self._tried = True
            from torch.utils.cpp_extension import load_inline

            tag = environment_tag()
            for base, flags in self.build_options:
                name = f"{base}_{tag}"
                try:
                    clear_stale_build_lock(name)
                    if not is_built(name):
                        remove_orphaned_builds(name)
                        _LOG.info(
                            "building the %s for this Python environment (once; about half a minute)",
                            self.description,
                        )
                    self._module = load_inline(
                        name=name,
                        cpp_sources=self.source,
                        functions=self.functions,
                        extra_cflags=flags,
                        verbose=False,
                    )
                    self._error = None
                    break
                except Exception as exc:  # noqa: BLE001 -- no compiler, no ninja, ...: the next option
                    self._error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if self._module is None:
                _LOG.warning("the %s could not be built (%s); using the Python path", self.description, self._error)
        return self._module

    @property
    def error(self) -> str | None:
        """Why :meth:`load` could not build the extension (``None`` if it did or was not tried)."""
        return self._error
