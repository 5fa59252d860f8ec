"""Load the shipped benchmark datasets as lists of PyG ``Data``.

Example:
    >>> from graphgen.datasets import load_dataset
    >>> train = load_dataset("community_small", split="train")
    >>> len(train), train[0].num_nodes
    (80, 14)
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
from functools import lru_cache
from pathlib import Path

import torch
from torch_geometric.data import Data

from graphgen.datasets.catalog import dataset_file, dataset_info
from graphgen.errors import DatasetError

__all__ = ["load_dataset", "load_smiles", "split_indices", "holdout_split", "SPLITS"]

SPLITS = ("train", "val", "test", "all")
# split names used in the source files -> graphgen's names
_SPLIT_ALIASES = {"validate(subset_of_train)": "val", "valid": "val", "validation": "val"}


@lru_cache(maxsize=8)
def _molecule_split_table(path: Path, mtime_ns: int) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """Header and rows of a molecule split CSV, cached per file version."""
    with gzip.open(path, "rt", encoding="ascii") as fh:
        rows = list(csv.reader(fh))
    return tuple(rows[0]), tuple(tuple(r) for r in rows[1:])


def _protocol_splits(name: str, protocol: str | None, root) -> tuple[str, dict[str, list[int]]]:
    info = dataset_info(name, root)
    protocol = protocol or info.default_protocol
    if protocol not in info.protocols:
        raise DatasetError(
            f"dataset {info.name} has no split protocol {protocol!r}; choose one of {', '.join(info.protocols)}"
        )
    if info.kind == "molecules":
        path = dataset_file(info.name, "qm9_splits.csv.gz", root)
        header, rows = _molecule_split_table(path, path.stat().st_mtime_ns)
        column = header.index(protocol)
        splits: dict[str, list[int]] = {}
        for i, row in enumerate(rows):
            splits.setdefault(row[column], []).append(i)
        splits["all"] = list(range(len(rows)))
        return protocol, splits
    raw = json.loads(dataset_file(info.name, "splits.json", root).read_text(encoding="utf-8"))
    splits = {_SPLIT_ALIASES.get(k, k): v for k, v in raw["protocols"][protocol].items()}
    splits["all"] = list(range(int(raw["num_graphs"])))
    return protocol, splits


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


def _graph_labels(name: str, root) -> list[int] | None:
    info = dataset_info(name, root)
    if "all_meta.csv" not in info.files:
        return None
    with dataset_file(info.name, "all_meta.csv", root).open(encoding="ascii") as fh:
        return [int(row["graph_label"]) for row in csv.DictReader(fh)]


def load_dataset(
    name: str,
    split: str = "train",
    *,
    protocol: str | None = None,
    root: str | os.PathLike | None = None,
    limit: int | None = None,
    holdout: float = 0.0,
) -> list[Data]:
    """Load one split of a shipped dataset.

    Args:
        name: a catalogue name (``graphgen datasets list``), e.g. ``"planar"``, ``"qm9"``.
        split: ``"train"``, ``"val"``, ``"test"`` or ``"all"`` (what exists depends on the protocol).
        protocol: split protocol (e.g. ``"spectre"`` or ``"digress"`` for planar); default: the
            dataset's documented default.
        root: catalogue folder (default: the files shipped with graphgen).
        limit: keep only the first ``limit`` graphs of the split (useful for QM9).
        holdout: hold out this share of the training split as the validation split (see
            :func:`split_indices`); ``"train"`` then returns the rest.

    Returns:
        A list of undirected ``Data`` graphs. Graph datasets with class labels (enzymes, proteins)
        carry ``y``; molecules carry ``x``, ``edge_attr``, ``smiles`` and the targets ``y``
        (mu, alpha, homo, lumo, gap) -- see :mod:`graphgen.io.molecules`.

    Raises:
        UnknownDatasetError, DatasetError, ChecksumError: with a one-line explanation.
    """
    from graphgen.io.formats import parse_graph6_lines

    info = dataset_info(name, root)
    indices = split_indices(info.name, split, protocol=protocol, root=root, holdout=holdout)
    if limit is not None:
        indices = indices[: max(limit, 0)]
    if info.kind == "molecules":
        return _load_molecules(info.name, indices, root)
    path = dataset_file(info.name, "all.g6", root)
    lines = [line for line in path.read_bytes().splitlines() if line.strip()]
    chosen = [lines[i] for i in indices]
    graphs = parse_graph6_lines(chosen, str(path))
    labels = _graph_labels(info.name, root)
    if labels is not None:
        for g, i in zip(graphs, indices):
            g.y = torch.tensor([labels[i]], dtype=torch.long)
    return graphs


def _read_gz_csv(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rb") as fh:
        return list(csv.DictReader(io.TextIOWrapper(fh, encoding="ascii")))


def load_smiles(
    name: str = "qm9", split: str = "train", *, protocol: str | None = None, root=None
) -> tuple[list[str], torch.Tensor, list[str]]:
    """SMILES strings and targets of a molecule dataset split, without parsing molecules.

    Returns:
        ``(smiles, targets, target_names)`` with ``targets`` float64 of shape ``(M, T)``.
    """
    info = dataset_info(name, root)
    if info.kind != "molecules":
        raise DatasetError(f"dataset {info.name} holds graphs, not molecules")
    indices = split_indices(info.name, split, protocol=protocol, root=root)
    smiles_rows = _read_gz_csv(dataset_file(info.name, "qm9_smiles.csv.gz", root))
    target_rows = _read_gz_csv(dataset_file(info.name, "qm9_targets.csv.gz", root))
    names = [k for k in target_rows[0] if k != "index"]
    smiles = [smiles_rows[i]["smiles"] for i in indices]
    targets = torch.tensor([[float(target_rows[i][k]) for k in names] for i in indices], dtype=torch.float64)
    return smiles, targets.reshape(len(indices), len(names)), names


def _load_molecules(name: str, indices: list[int], root) -> list[Data]:
    from graphgen.io.molecules import smiles_to_graph

    smiles_rows = _read_gz_csv(dataset_file(name, "qm9_smiles.csv.gz", root))
    target_rows = _read_gz_csv(dataset_file(name, "qm9_targets.csv.gz", root))
    names = [k for k in target_rows[0] if k != "index"]
    graphs = []
    for i in indices:
        g = smiles_to_graph(smiles_rows[i]["smiles"])
        g.y = torch.tensor([[float(target_rows[i][k]) for k in names]], dtype=torch.float64)
        g.qm9_index = int(smiles_rows[i]["index"])
        graphs.append(g)
    return graphs
