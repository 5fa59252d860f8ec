"""Benchmark datasets shipped with graphgen, seeded synthetic generators, and molecules from SMILES."""

from graphgen.datasets.catalog import DatasetInfo, data_root, dataset_file, dataset_info, list_datasets
from graphgen.datasets.loader import SPLITS, load_dataset, load_smiles, split_indices
from graphgen.datasets.synthetic import (
    GENERATORS,
    barabasi_albert_graphs,
    community_graphs,
    ego_graphs,
    erdos_renyi_graphs,
    generate,
    grid_graphs,
    lobster_graphs,
    planar_graphs,
    sbm_graphs,
    tree_graphs,
)

__all__ = [
    "DatasetInfo",
    "data_root",
    "dataset_file",
    "dataset_info",
    "list_datasets",
    "SPLITS",
    "load_dataset",
    "load_smiles",
    "split_indices",
    "GENERATORS",
    "generate",
    "community_graphs",
    "grid_graphs",
    "planar_graphs",
    "sbm_graphs",
    "tree_graphs",
    "lobster_graphs",
    "ego_graphs",
    "erdos_renyi_graphs",
    "barabasi_albert_graphs",
]
