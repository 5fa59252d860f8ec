"""Fixed glibc heap thresholds for tensor-heavy work: fewer page faults, the same results.

On Linux, PyTorch's CPU tensors come from glibc's ``malloc``. By default glibc hands an allocation
above a *dynamic* threshold (128 KiB at start, raised to the size of each large block freed, up to
32 MiB) to its own ``mmap`` and returns it to the kernel when freed, and it gives the top of the heap
back (``trim``) once more than a small, also dynamic, amount is free there. Graph models allocate and
free tensors of a few MiB at every step (a GNN's edge messages, a chunk of pair scores), so a process
can spend much of its time faulting the same pages in again: ``graphgen sample -c higen-planar-faces
-n 40`` took about 500,000 minor page faults. Which threshold a process ends up with depends on the
sizes it happened to free first, so the same code can be fast or slow after an unrelated change in
how it chunks its work (session 45: smaller pair chunks, faster by themselves, made that command with
``--preset strips`` 1.5 s slower through faults alone).

:func:`tune_heap` fixes both thresholds instead (``mallopt``): blocks up to :data:`MMAP_THRESHOLD`
come from the heap and are reused, and up to :data:`TRIM_THRESHOLD` of free heap stays with the
process. The faults fall 3- to 9-fold and large draws get faster (``metrics/results/heap-tuning-cli.json``:
a 3,000-node SBM graph 13.6 s -> 10.9 s, whole commands); peak memory moved by -10 % to +7 %, and memory freed
after a peak is kept by the process (at most :data:`TRIM_THRESHOLD` at the top of the heap) rather
than given back. Only the allocator's bookkeeping changes, never a value computed.

The ``graphgen`` console script calls it at start; a Python program or notebook may call
``graphgen.heap.tune_heap()`` itself (it is a process-wide setting, so the library never makes it on
import). It does nothing, and returns ``False``, where the C library is not glibc (macOS, Windows,
musl), where ``GRAPHGEN_HEAP_TUNING=off``, or where the environment already sets one of glibc's own
``MALLOC_*`` thresholds (those are the user's choice and stand).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

__all__ = ["ENV_VAR", "MMAP_THRESHOLD", "TRIM_THRESHOLD", "USER_SETTINGS", "tune_heap"]

ENV_VAR = "GRAPHGEN_HEAP_TUNING"
MMAP_THRESHOLD = 32 << 20  # bytes: larger blocks still get their own mapping (glibc's dynamic maximum)
TRIM_THRESHOLD = 256 << 20  # bytes of free heap top kept before glibc gives memory back to the kernel
#: glibc's environment variables for the same settings: where one is set, :func:`tune_heap` leaves them be
USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_")
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameters (malloc.h)


def _glibc():
    """The process's C library if it is glibc (it exports ``gnu_get_libc_version``), else ``None``."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    if not hasattr(libc, "gnu_get_libc_version") or not hasattr(libc, "mallopt"):
        return None
    return libc


def tune_heap(environ: dict[str, str] | None = None) -> bool:
    """Fix glibc's mmap and trim thresholds for this process (module docstring); ``True`` when both
    were set, ``False`` where nothing was changed (not glibc, turned off, or the user's own settings)."""
    environ = os.environ if environ is None else environ
    if environ.get(ENV_VAR, "").strip().lower() == "off":
        return False
    if any(name in environ for name in USER_SETTINGS):
        return False
    libc = _glibc()
    if libc is None:
        return False
    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    libc.mallopt.restype = ctypes.c_int
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
