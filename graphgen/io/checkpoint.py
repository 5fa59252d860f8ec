"""graphgen checkpoints: self-describing, safe to open, written atomically.

A checkpoint is one ``torch.save`` file of plain containers and tensors only, so it loads with
``torch.load(weights_only=True)`` and never unpickles arbitrary objects::

    {
      "format": "graphgen.checkpoint", "format_version": 1,
      "model": "higen",                     # registry name of the model class
      "config": {...},                      # the model's config dataclass as a dict
      "state_dict": {name: Tensor},         # model weights
      "graphgen_version": "0.1.0",
      "data_fingerprint": "sha256:..." | None,   # of the training graphs (see graphs_fingerprint)
      "metadata": {...},                    # free-form JSON-like: dataset, epochs, metrics, command
      "extra": {...},                       # optional tensors/containers: optimizer and RNG state
    }

Rebuilding a model is ``Model(Config(**ckpt.config))`` followed by ``load_state_dict``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from graphgen.errors import CheckpointError
from graphgen.io._atomic import atomic_write
from graphgen.io._safe_load import safe_torch_load

__all__ = [
    "Checkpoint",
    "save_checkpoint",
    "load_checkpoint",
    "graphs_fingerprint",
    "strip_training_state",
    "CHECKPOINT_FORMAT",
]

CHECKPOINT_FORMAT = "graphgen.checkpoint"
CHECKPOINT_VERSION = 1


@dataclass
class Checkpoint:
    """The content of a checkpoint file (see the module docstring)."""

    model: str
    config: dict[str, Any]
    state_dict: dict[str, torch.Tensor]
    graphgen_version: str = ""
    data_fingerprint: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def graphs_fingerprint(graphs: Sequence) -> str:
    """A sha256 over the node counts and sorted edge lists of ``graphs`` (order-sensitive).

    Two training sets with the same graphs in the same order and labelling give the same value.
    """
    h = hashlib.sha256()
    for g in graphs:
        ei = g.edge_index
        key = (ei[0] * max(int(g.num_nodes), 1) + ei[1]).sort().values
        h.update(int(g.num_nodes).to_bytes(8, "little"))
        h.update(key.to(torch.int64).numpy().tobytes())
        h.update(b"|")
    return "sha256:" + h.hexdigest()


def save_checkpoint(ckpt: Checkpoint, path: str | os.PathLike) -> None:
    """Write ``ckpt`` to ``path`` atomically."""
    from graphgen import __version__

    payload = {
        "format": CHECKPOINT_FORMAT,
        "format_version": CHECKPOINT_VERSION,
        "model": ckpt.model,
        "config": dict(ckpt.config),
        "state_dict": {k: v.detach().cpu() for k, v in ckpt.state_dict.items()},
        "graphgen_version": ckpt.graphgen_version or __version__,
        "data_fingerprint": ckpt.data_fingerprint,
        "metadata": dict(ckpt.metadata),
        "extra": dict(ckpt.extra),
    }
    with atomic_write(path, "wb") as fh:
        torch.save(payload, fh)


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Open a checkpoint safely (``weights_only=True``) and validate its header.

    Raises:
        CheckpointError: missing file, not a torch file, unsafe content, or an unknown format.
    """
    p = Path(path)
    obj = safe_torch_load(p, CheckpointError, "checkpoint")
    if not isinstance(obj, Mapping) or obj.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{p} is not a graphgen checkpoint")
    if obj.get("format_version") != CHECKPOINT_VERSION:
        raise CheckpointError(
            f"{p} has checkpoint format version {obj.get('format_version')!r}; "
            f"this graphgen reads version {CHECKPOINT_VERSION}"
        )
    missing = [k for k in ("model", "config", "state_dict") if k not in obj]
    if missing:
        raise CheckpointError(f"{p} lacks {', '.join(missing)}")
    return Checkpoint(
        model=str(obj["model"]),
        config=dict(obj["config"]),
        state_dict=dict(obj["state_dict"]),
        graphgen_version=str(obj.get("graphgen_version", "")),
        data_fingerprint=obj.get("data_fingerprint"),
        metadata=dict(obj.get("metadata") or {}),
        extra=dict(obj.get("extra") or {}),
    )


def strip_training_state(src: str | os.PathLike, dst: str | os.PathLike) -> Checkpoint:
    """Copy a training checkpoint without its optimizer and RNG state (what ships with a package):
    the model, config, fingerprint and metadata (including the loss history) are kept."""
    ckpt = load_checkpoint(src)
    ckpt.extra = {}
    save_checkpoint(ckpt, dst)
    return ckpt
