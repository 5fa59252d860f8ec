"""Benchmark datasets shipped with graphgen, seeded synthetic generators, and molecules from SMILES.

The names below are imported on first use (:mod:`graphgen._lazy`)."""

from typing import TYPE_CHECKING

from graphgen._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "catalog": ("DatasetInfo", "data_root", "dataset_file", "dataset_info", "list_datasets"),
        "loader": ("load_dataset", "load_smiles"),
        "splits": ("SPLITS", "split_indices"),
        "synthetic": (
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
        ),
    },
)

if TYPE_CHECKING:
    from graphgen.datasets.catalog import DatasetInfo, data_root, dataset_file, dataset_info, list_datasets
    from graphgen.datasets.loader import load_dataset, load_smiles
    from graphgen.datasets.splits import SPLITS, split_indices
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
