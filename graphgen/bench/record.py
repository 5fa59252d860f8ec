"""Timing helpers and the provenance every recorded result carries."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path


def median_seconds(fn: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` over ``repeats`` runs after ``warmup`` untimed runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def point_in_subprocess(module: str, *args: object, timeout: float) -> dict:
    """Run ``python -m module args...`` in a fresh process and return the JSON record it prints last.

    A fresh process per point keeps one measurement's memory and caches out of the next. A run that
    fails or outlives ``timeout`` seconds gives ``{"failed": reason}`` (the last stderr line).
    """
    import json
    import sys

    try:
        out = subprocess.run(
            [sys.executable, "-m", module, *map(str, args)], capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {"failed": f"no result within {timeout:.0f} s"}
    if out.returncode != 0:
        return {"failed": (out.stderr.strip().splitlines()[-1:] or ["no output"])[0]}
    return json.loads(out.stdout.strip().splitlines()[-1])


class PeakMemory:
    """Peak resident memory of this process while a block runs, in MB (Linux ``VmHWM``).

    ``/proc/self/clear_refs`` resets the high-water mark on entry; ``mb`` is the peak minus the
    resident size at entry, i.e. what the block added at its worst moment.
    """

    @staticmethod
    def _status_kb(field: str) -> int:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        raise OSError(f"{field} not in /proc/self/status")

    def __enter__(self) -> PeakMemory:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        self._before = self._status_kb("VmRSS")
        self.mb = 0.0
        return self

    def __exit__(self, *exc) -> None:
        self.mb = (self._status_kb("VmHWM") - self._before) / 1024


def git_sha(repo: Path | None = None) -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=repo or Path(__file__).resolve().parents[2],
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def provenance(command: str) -> dict:
    """Version, git sha, machine and thread facts for a results file."""
    import torch

    from graphgen import __version__

    return {
        "graphgen_version": __version__,
        "git_sha": git_sha(),
        "command": command,
        "date_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpu_count": os.cpu_count(),
            "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(),
        },
    }


def write_record(path: str | os.PathLike, record: dict) -> None:
    """Write a measurement script's ``record`` atomically to ``path`` as indented JSON, with the
    provenance of the running command (``python`` and its arguments) under ``provenance``."""
    import json
    import sys

    from graphgen.io._atomic import atomic_write

    with atomic_write(path, "w") as fh:
        json.dump({**record, "provenance": provenance("python " + " ".join(sys.argv))}, fh, indent=2)
