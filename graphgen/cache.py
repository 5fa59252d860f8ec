"""graphgen's cache folder: results that are slow to compute, the same every time, and safe to lose.

Today: the reference side of the molecule metrics (:class:`graphgen.metrics.molecules.MoleculeReference`),
13,000 molecules of qm9's test split taking minutes to describe. Where: ``$GRAPHGEN_CACHE_DIR`` if
set, else ``$XDG_CACHE_HOME/graphgen``, else ``~/.cache/graphgen``; ``GRAPHGEN_CACHE=off`` turns
caching off (everything is computed afresh, nothing written). Entries are named by a digest of
everything their value depends on (inputs, the versions of the libraries that compute them, a format
number), so a stale entry is never read; each is written atomically, holds only arrays (``.npz``,
read without pickle) and JSON, and an unreadable one is computed again and replaced. Deleting the
folder is always safe.

Entries are folders; reading one marks it used (:func:`mark_used`: its modification time), and
making a new one removes the entries of its kind unused for :data:`UNUSED_AGE_DAYS` days
(:func:`remove_unused`): entries of an older graphgen, RDKit or fcd-torch are never read again
(their digest names those versions), so without this the folder would only grow. A process still
reading an entry another one removes finds its files gone and computes them again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path

__all__ = ["cache_dir", "digest", "mark_used", "remove_unused", "UNUSED_AGE_DAYS"]

UNUSED_AGE_DAYS = 30  # an entry neither made nor read for this long is removed when another is made


def cache_dir(kind: str) -> Path | None:
    """The folder for cache entries of ``kind`` (created), or ``None`` when caching is off or the
    folder cannot be made (a read-only home, say: then nothing is cached, and nothing fails)."""
    if os.environ.get("GRAPHGEN_CACHE", "").strip().lower() in ("off", "0", "false", "no"):
        return None
    root = os.environ.get("GRAPHGEN_CACHE_DIR")
    if not root:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        root = os.path.join(base, "graphgen")
    folder = Path(root) / kind
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder


def digest(*parts) -> str:
    """A hex digest naming a cache entry: SHA-256 of the JSON of ``parts`` (strings, numbers, lists)."""
    return hashlib.sha256(json.dumps(parts, separators=(",", ":")).encode("utf-8")).hexdigest()[:32]


def mark_used(entry: Path) -> None:
    """Set ``entry``'s modification time to now (a read counts as use; access times are not kept
    reliably on every mount). Failing to is not an error."""
    try:
        os.utime(entry)
    except OSError:
        pass


def remove_unused(folder: Path, *, keep: Path | None = None, days: float = UNUSED_AGE_DAYS) -> list[Path]:
    """Remove the entry folders directly in ``folder`` (one kind's folder of :func:`cache_dir`)
    whose modification time is more than ``days`` days old, except ``keep``; returns those removed.
    Files beside the entries and anything that cannot be read or removed are left alone."""
    removed = []
    cutoff = time.time() - days * 86400
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return removed
    for entry in entries:
        try:
            if entry == keep or entry.is_symlink() or not entry.is_dir() or entry.stat().st_mtime >= cutoff:
                continue
        except OSError:
            continue
        shutil.rmtree(entry, ignore_errors=True)
        if not entry.exists():
            removed.append(entry)
    return removed
