"""Contextual stochastic block models: graphs with node classes and class-dependent features.

A seller/buyer "world" shares the class means ``mu_c`` (drawn once from ``world_seed``); each
dataset then draws its own graphs: node classes uniformly from ``classes``, edges independently
with probability ``p_in`` inside a class and ``p_out`` across, features

    x_v = signal * mu_{y_v} + feature_shift + noise * eps_v,     eps_v ~ N(0, I).

Used by the valuation tests and the usefulness benchmark (valuation scores against the accuracy a
classifier trained on a seller's data reaches on the buyer's distribution).

Example:
    >>> graphs = contextual_sbm(2, classes=(0, 1), num_nodes=30, seed=0)
    >>> graphs[0].x.shape, sorted(set(graphs[0].y.tolist())) <= [0, 1]
    (torch.Size([30, 16]), True)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from graphgen.errors import GraphgenError
from graphgen.seeding import numpy_rng

__all__ = ["class_means", "contextual_sbm"]


def class_means(num_classes: int, feature_dim: int, *, world_seed: int = 0) -> np.ndarray:
    """Unit-norm class means ``(num_classes, feature_dim)`` shared by every dataset of one world."""
    means = np.random.default_rng(world_seed).standard_normal((num_classes, feature_dim))
    return means / np.linalg.norm(means, axis=1, keepdims=True)


def contextual_sbm(
    num_graphs: int,
    *,
    classes: Sequence[int],
    num_nodes: int = 50,
    p_in: float = 0.2,
    p_out: float = 0.02,
    signal: float = 1.0,
    noise: float = 0.5,
    feature_shift: float | np.ndarray = 0.0,
    num_classes: int = 10,
    feature_dim: int = 16,
    world_seed: int = 0,
    seed: int = 0,
) -> list:
    """``num_graphs`` CSBM graphs (``Data`` with float ``x`` and integer ``y``); see the module docstring."""
    import torch

    from graphgen.data import from_edge_array

    if num_graphs < 1 or num_nodes < 1:
        raise GraphgenError("contextual_sbm needs num_graphs >= 1 and num_nodes >= 1")
    classes = np.asarray(list(classes), dtype=np.int64)
    if classes.size == 0 or classes.min() < 0 or classes.max() >= num_classes:
        raise GraphgenError(f"classes must be a non-empty subset of 0..{num_classes - 1}")
    for name, p in (("p_in", p_in), ("p_out", p_out)):
        if not 0.0 <= p <= 1.0:
            raise GraphgenError(f"{name} must lie in [0, 1], got {p}")
    means = class_means(num_classes, feature_dim, world_seed=world_seed)
    rng = numpy_rng(seed)
    iu, ju = np.triu_indices(num_nodes, k=1)
    graphs = []
    for _ in range(num_graphs):
        y = rng.choice(classes, size=num_nodes)
        prob = np.where(y[iu] == y[ju], p_in, p_out)
        keep = rng.random(prob.shape[0]) < prob
        graph = from_edge_array(num_nodes, np.stack([iu[keep], ju[keep]], axis=1))
        x = signal * means[y] + feature_shift + noise * rng.standard_normal((num_nodes, feature_dim))
        graph.x = torch.from_numpy(x.astype(np.float32))
        graph.y = torch.from_numpy(y)
        graphs.append(graph)
    return graphs
