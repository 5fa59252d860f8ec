"""A cap on the ``graphgen`` process's memory, so that a request far beyond the machine ends in one line.

Without it, a request such as ``graphgen sample --num-nodes 100000000`` allocates until the kernel's
out-of-memory killer ends the process with ``SIGKILL``: no message, exit status 137, and possibly
other processes killed with it. With the cap, the allocation that would cross it fails inside the
process (``MemoryError``, or torch's ``can't allocate memory``), which the command line's error
boundary turns into ``graphgen: error: out of memory ...`` and exit status 1 (no output file is
written: outputs are written atomically after sampling).

The cap is the soft ``RLIMIT_DATA`` of the process (Linux >= 4.7 counts private writable mappings
against it, i.e. the heap and torch's tensors, but not the address space that libraries or an
accelerator's driver merely reserve, which is why it is not ``RLIMIT_AS``). It is set to the memory
the machine has available when the command starts (``MemAvailable`` of ``/proc/meminfo``, and the
room left under the process's cgroup-v2 ``memory.max`` where one is set), never above a cap already
in force. The environment variable ``GRAPHGEN_MEMORY_CAP`` sets another cap (``16G``, ``512M``, a
byte count) or turns it ``off``. Where ``/proc/meminfo`` or :mod:`resource` is missing (macOS,
Windows) nothing is capped. Only the console script caps itself: :func:`graphgen.cli.main` called
with an argument list (tests, embedding) leaves the calling process alone.
"""

from __future__ import annotations

import os
import re

from graphgen.errors import InvalidArgumentError
from graphgen.system_memory import available_bytes

__all__ = ["ENV_VAR", "parse_memory_size", "cap_memory", "describe_cap"]

ENV_VAR = "GRAPHGEN_MEMORY_CAP"
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_memory_size(text: str) -> int | None:
    """Bytes for ``"16G"``, ``"1.5G"``, ``"512M"``, ``"512MiB"``, ``"2GB"``, ``"1048576"``
    (binary units, case-insensitive); ``None`` for ``"off"``. Anything else raises
    :class:`~graphgen.errors.InvalidArgumentError`."""
    value = text.strip()
    if value.lower() == "off":
        return None
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?", value, flags=re.IGNORECASE)
    number = int(float(match[1]) * _UNITS[match[2].upper()]) if match else 0
    if number <= 0:
        raise InvalidArgumentError(f"{ENV_VAR} must be 'off' or a positive size such as 16G or 512M, got {text!r}")
    return number


def cap_memory(environ: dict[str, str] | None = None) -> int | None:
    """Lower this process's soft ``RLIMIT_DATA`` to the cap (module docstring) and return it in
    bytes; ``None`` where nothing was capped (turned off, or no way to measure or to set it)."""
    environ = os.environ if environ is None else environ
    setting = environ.get(ENV_VAR)
    if setting is not None:
        cap = parse_memory_size(setting)
        if cap is None:
            return None
    else:
        cap = available_bytes()
        if cap is None:
            return None
    try:
        import resource
    except ImportError:  # Windows
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    for limit in (soft, hard):
        if limit != resource.RLIM_INFINITY:
            cap = min(cap, limit)
    try:
        resource.setrlimit(resource.RLIMIT_DATA, (cap, hard))
    except (OSError, ValueError):
        return None
    return cap


def describe_cap(cap: int | None, environ: dict[str, str] | None = None) -> str:
    """The words the out-of-memory message adds about the cap: ``""`` when none was set."""
    if cap is None:
        return ""
    environ = os.environ if environ is None else environ
    source = f"set by {ENV_VAR}" if ENV_VAR in environ else f"the memory available at start; {ENV_VAR} changes it"
    return f" (graphgen capped itself at {cap / (1 << 30):.1f} GiB, {source})"
