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
import os
from functools import lru_cache
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


@lru_cache(maxsize=4)
def _molecule_table(smiles_path: Path, targets_path: Path, mtimes: tuple[int, int]):
    """``(smiles, qm9_index, targets, target_names)`` of a molecule dataset's two CSV files (every
    row; cached per file version like the split table): the SMILES as a tuple of strings, the
    ``index`` column as int64 and the targets as a read-only float64 array. Read whole with numpy's
    parser (the same doubles as ``float()``), several times faster than a ``csv`` reader."""
    import numpy as np

    def text_lines(path: Path, header: str) -> list[str]:
        with gzip.open(path, "rb") as fh:
            lines = fh.read().decode("ascii").splitlines()
        if not lines or not lines[0].startswith(header):
            raise DatasetError(f"{path}: expected a CSV header starting {header!r}")
        return lines

    smiles_lines = text_lines(smiles_path, "index,smiles")
    target_lines = text_lines(targets_path, "index,")
    names = tuple(target_lines[0].split(",")[1:])
    try:
        fields = ",".join(smiles_lines[1:]).split(",")  # one split for the whole file: index, smiles, ...
        if len(fields) != 2 * (len(smiles_lines) - 1):
            raise ValueError("every row must hold an index and a SMILES string (with no comma)")
        index = np.array(fields[0::2]).astype(np.int64)
        smiles = tuple(fields[1::2])
        table = np.loadtxt(target_lines[1:], delimiter=",", dtype=np.float64, ndmin=2)
    except (ValueError, IndexError) as exc:
        raise DatasetError(f"{smiles_path.parent}: malformed molecule CSV ({exc})") from None
    if table.shape != (len(smiles), len(names) + 1) or not np.array_equal(table[:, 0], index):
        raise DatasetError(f"{smiles_path.parent}: the SMILES and target files do not list the same molecules")
    targets = np.ascontiguousarray(table[:, 1:])
    targets.flags.writeable = False
    return smiles, index, targets, names


def _molecule_columns(name: str, root):
    paths = (dataset_file(name, "qm9_smiles.csv.gz", root), dataset_file(name, "qm9_targets.csv.gz", root))
    return _molecule_table(*paths, tuple(p.stat().st_mtime_ns for p in paths))


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
    all_smiles, _, all_targets, names = _molecule_columns(info.name, root)
    smiles = [all_smiles[i] for i in indices]
    targets = torch.from_numpy(all_targets[indices])  # fancy indexing: a writable copy
    return smiles, targets.reshape(len(indices), len(names)), list(names)


def _load_molecules(name: str, indices: list[int], root) -> list[Data]:
    from graphgen.io.molecules import smiles_to_graph

    smiles, index, targets, _ = _molecule_columns(name, root)
    graphs = []
    for i in indices:
        g = smiles_to_graph(smiles[i])
        g.y = torch.tensor(targets[i : i + 1])
        g.qm9_index = int(index[i])
        graphs.append(g)
    return graphs
