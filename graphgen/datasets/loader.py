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
import os
from pathlib import Path

import torch
from torch_geometric.data import Data

from graphgen.datasets.catalog import dataset_file, dataset_info
from graphgen.datasets.splits import SPLITS, holdout_split, split_indices
from graphgen.errors import DatasetError

__all__ = ["load_dataset", "load_smiles", "split_indices", "holdout_split", "SPLITS"]


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
