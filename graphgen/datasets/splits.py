"""Split protocols of the shipped datasets: which graphs of a dataset's ``all`` order form its
train / val / test splits, and seeded held-out shares of a training split.

Kept apart from :mod:`graphgen.datasets.loader` so that reading a catalogue's splits (``graphgen
datasets list``) needs neither torch nor PyG; only :func:`holdout_split` imports torch, for its seeded
permutation.
"""

from __future__ import annotations

import gzip
import json
from functools import lru_cache
from pathlib import Path

from graphgen.datasets.catalog import dataset_file, dataset_info
from graphgen.errors import DatasetError

__all__ = ["SPLITS", "split_indices", "protocol_splits", "holdout_split", "HOLDOUT_SEED"]

SPLITS = ("train", "val", "test", "all")
# split names used in the source files -> graphgen's names
_SPLIT_ALIASES = {"validate(subset_of_train)": "val", "valid": "val", "validation": "val"}


@lru_cache(maxsize=8)
def _molecule_split_table(path: Path, mtime_ns: int) -> dict[str, dict[str, list[int]]]:
    """Every protocol's splits of a molecule split CSV (``index`` column, then one column per
    protocol naming each row's split): ``{protocol: {split: row numbers}}``, cached per file version.
    The file is read whole and split by hand (no field holds a comma or a quote), several times
    faster than a ``csv`` reader on qm9's 130,831 rows."""
    import numpy as np

    with gzip.open(path, "rb") as fh:
        lines = fh.read().decode("ascii").splitlines()
    header = lines[0].split(",") if lines else []
    fields = ",".join(lines[1:]).split(",")  # one split for the whole file
    if len(lines) < 2 or len(fields) != (len(lines) - 1) * len(header):
        raise DatasetError(f"{path}: every row must have the {len(header)} fields of its header")
    table = np.array(fields, dtype=object).reshape(len(lines) - 1, len(header))
    out: dict[str, dict[str, list[int]]] = {}
    for column, protocol in enumerate(header[1:], start=1):
        names = table[:, column].astype(str)
        out[protocol] = {str(split): np.flatnonzero(names == split).tolist() for split in dict.fromkeys(names)}
    return out


def _protocol_splits(name: str, protocol: str | None, root) -> tuple[str, dict[str, list[int]]]:
    info = dataset_info(name, root)
    protocol = protocol or info.default_protocol
    if protocol not in info.protocols:
        raise DatasetError(
            f"dataset {info.name} has no split protocol {protocol!r}; choose one of {', '.join(info.protocols)}"
        )
    if info.kind == "molecules":
        path = dataset_file(info.name, "qm9_splits.csv.gz", root)
        table = _molecule_split_table(path, path.stat().st_mtime_ns)
        if protocol not in table:
            raise DatasetError(f"{path}: no column for split protocol {protocol!r}")
        splits = {split: list(rows) for split, rows in table[protocol].items()}  # the caller's own lists
        splits["all"] = list(range(sum(len(rows) for rows in splits.values())))
        return protocol, splits
    raw = json.loads(dataset_file(info.name, "splits.json", root).read_text(encoding="utf-8"))
    splits = {_SPLIT_ALIASES.get(k, k): v for k, v in raw["protocols"][protocol].items()}
    splits["all"] = list(range(int(raw["num_graphs"])))
    return protocol, splits


def protocol_splits(name: str, protocol: str | None = None, *, root=None) -> dict[str, list[int]]:
    """Every split of a protocol (the dataset's default if ``None``), as :func:`split_indices` reads
    them one at a time, and ``all``: the split table read once for all of them."""
    return _protocol_splits(name, protocol, root)[1]


HOLDOUT_SEED = 0  # the held-out share of a training split is the same for every training seed


def holdout_split(items: list, fraction: float) -> tuple[list, list]:
    """``(kept, held_out)``: ``round(fraction * n)`` of ``items``, at least one, chosen by a seeded
    permutation (:data:`HOLDOUT_SEED`, the same for every caller and training seed), are held out;
    both parts keep the items' order. ``fraction`` must lie in ``(0, 1)`` and leave an item kept."""
    if not 0.0 < fraction < 1.0:
        raise DatasetError(f"the held-out share of the training split must lie in (0, 1), got {fraction}")
    items = list(items)
    count = max(1, round(fraction * len(items)))
    if count >= len(items):
        raise DatasetError(f"holding out {count} of {len(items)} training graphs leaves none to train on")
    import torch

    order = torch.randperm(len(items), generator=torch.Generator().manual_seed(HOLDOUT_SEED)).tolist()
    held = set(order[:count])
    return [g for i, g in enumerate(items) if i not in held], [g for i, g in enumerate(items) if i in held]


def _holdout(splits: dict[str, list[int]], fraction: float) -> dict[str, list[int]]:
    """``splits`` with ``train`` divided into a kept part and a held-out ``val``
    (:func:`holdout_split`); the protocol's own validation split, if any, is replaced."""
    train, val = holdout_split(splits["train"], fraction)
    return {**splits, "train": train, "val": val}


def split_indices(
    name: str, split: str = "train", *, protocol: str | None = None, root=None, holdout: float = 0.0
) -> list[int]:
    """0-based indices (into the dataset's ``all`` order) of one split under a protocol.

    ``holdout`` (a share in ``(0, 1)``; 0: none): the validation split is that seeded share of the
    protocol's training split, which keeps the rest (for datasets and protocols without a held-out
    validation split; the same share for every caller, see :func:`_holdout`).
    """
    protocol, splits = _protocol_splits(name, protocol, root)
    if holdout:
        splits = _holdout(splits, holdout)
    if split not in splits:
        raise DatasetError(
            f"dataset {dataset_info(name, root).name} has no {split!r} split under protocol {protocol!r}; "
            f"available: {', '.join(splits)}"
        )
    return list(splits[split])
