"""Open a torch file without ever unpickling arbitrary objects (``weights_only=True``)."""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch


def safe_torch_load(path: Path, error: type[Exception], what: str) -> Any:
    """``torch.load(path, weights_only=True)`` with one-line errors of type ``error``.

    Args:
        path: the file.
        error: exception class to raise (e.g. ``CheckpointError``).
        what: what the file should be, for messages ("checkpoint", "graph file").
    """
    if not path.is_file():
        raise error(f"{what} {path} does not exist")
    if not zipfile.is_zipfile(path):
        raise error(f"{path} is not a PyTorch {what} (not a torch.save zip archive)")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise error(
            f"{path} holds Python objects other than tensors and plain containers; graphgen refuses to "
            f"unpickle them (a {what} must open with torch.load(weights_only=True))"
        ) from None
    except Exception as exc:  # truncated archives raise RuntimeError, bad records EOFError, ...
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise error(f"{path} is a corrupted {what}: {msg}") from None
