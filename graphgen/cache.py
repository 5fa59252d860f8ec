"""graphgen's cache folder: results that are slow to compute, the same every time, and safe to lose.

Today: the reference side of the molecule metrics (:class:`graphgen.metrics.molecules.MoleculeReference`),
13,000 molecules of qm9's test split taking minutes to describe. Where: ``$GRAPHGEN_CACHE_DIR`` if
set, else ``$XDG_CACHE_HOME/graphgen``, else ``~/.cache/graphgen``; ``GRAPHGEN_CACHE=off`` turns
caching off (everything is computed afresh, nothing written). Entries are named by a digest of
everything their value depends on (inputs, the versions of the libraries that compute them, a format
number), so a stale entry is never read; each is written atomically, holds only arrays (``.npz``,
read without pickle) and JSON, and an unreadable one is computed again and replaced. Deleting the
folder is always safe.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

__all__ = ["cache_dir", "digest"]


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
