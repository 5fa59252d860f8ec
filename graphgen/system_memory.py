"""The memory this machine has available now (Linux): what the command line caps itself at, and
what the samplers check a single large allocation against before making it.

``MemAvailable`` of ``/proc/meminfo``, lowered to the room left under the process's cgroup-v2
``memory.max`` where one is set. ``None`` where it cannot be read (macOS, Windows, old kernels):
callers then skip their check.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["available_memory", "own_cgroup_files", "available_bytes"]


def available_memory(meminfo: str, cgroup_max: str | None = None, cgroup_current: str | None = None) -> int | None:
    """Bytes available to a new process: ``MemAvailable`` of ``meminfo`` (the text of
    ``/proc/meminfo``), lowered to ``cgroup_max - cgroup_current`` when the cgroup's ``memory.max``
    is a number (not ``max``); ``None`` when ``meminfo`` has no ``MemAvailable`` line."""
    match = re.search(r"^MemAvailable:\s+(\d+)\s*kB", meminfo, flags=re.MULTILINE)
    if match is None:
        return None
    available = int(match[1]) * 1024
    if cgroup_max is not None and cgroup_max.strip().isdigit() and cgroup_current is not None:
        room = int(cgroup_max) - int(cgroup_current or 0)
        available = min(available, max(room, 0))
    return available


def own_cgroup_files() -> tuple[str | None, str | None]:
    """``memory.max`` and ``memory.current`` of this process's cgroup (v2), or ``None`` each."""
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            if line.startswith("0::"):
                folder = Path("/sys/fs/cgroup") / line[3:].lstrip("/")
                return (folder / "memory.max").read_text(), (folder / "memory.current").read_text()
    except OSError:
        pass
    return None, None


def available_bytes() -> int | None:
    """:func:`available_memory` of this machine and process now; ``None`` where unknown."""
    try:
        meminfo = Path("/proc/meminfo").read_text()
    except OSError:
        return None
    return available_memory(meminfo, *own_cgroup_files())
