"""Benchmark datasets shipped with graphgen, seeded synthetic generators, and molecules from SMILES.

The names below are imported on first use (:mod:`graphgen._lazy`)."""

from typing import TYPE_CHECKING

from graphgen._lazy import lazy_exports

_EXPORTS = {
    "DatasetInfo": "catalog",
    "data_root": "catalog",
    "dataset_file": "catalog",
    "dataset_info": "catalog",
    "list_datasets": "catalog",
    "SPLITS": "loader",
    "load_dataset": "loader",
    "load_smiles": "loader",
    "split_indices": "loader",
    "GENERATORS": "synthetic",
    "generate": "synthetic",
    "community_graphs": "synthetic",
    "grid_graphs": "synthetic",
    "planar_graphs": "synthetic",
    "sbm_graphs": "synthetic",
    "tree_graphs": "synthetic",
    "lobster_graphs": "synthetic",
    "ego_graphs": "synthetic",
    "erdos_renyi_graphs": "synthetic",
    "barabasi_albert_graphs": "synthetic",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
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
