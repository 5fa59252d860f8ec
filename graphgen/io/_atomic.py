"""Atomic file writes: write to a temporary file in the target folder, then rename over the target.

A killed process therefore never leaves a half-written output: the target either keeps its old
content or holds the complete new one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def output_folder(path: str | os.PathLike) -> Path:
    """The folder ``path`` will be written into; a :class:`~graphgen.errors.GraphgenError` naming it
    when it does not exist (so a command can refuse before its work, not after)."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        from graphgen.errors import GraphgenError

        raise GraphgenError(f"cannot write {target}: folder {folder} does not exist")
    return folder


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file next to ``path``; on success rename it to ``path``.

    Args:
        path: the final file.
        mode: ``"wb"`` or ``"w"`` (text, UTF-8, ``\\n`` line endings).

    If the body raises, the temporary file is removed and ``path`` is untouched.
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_write mode must be 'wb' or 'w', got {mode!r}")
    target = Path(path)
    folder = output_folder(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    os.chmod(tmp, 0o666 & ~_current_umask())  # mkstemp creates 0600; give the usual permissions
    try:
        kwargs = {"encoding": "utf-8", "newline": "\n"} if mode == "w" else {}
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
