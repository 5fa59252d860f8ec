"""Shared fixtures and hypothesis strategies for graphgen's tests."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import strategies as st

from graphgen.data import from_edge_array


@st.composite
def simple_graphs(draw, min_nodes: int = 0, max_nodes: int = 24):
    """A random simple undirected graph as ``Data`` (isolated nodes allowed)."""
    n = draw(st.integers(min_nodes, max_nodes))
    pairs = [(i, j) for j in range(n) for i in range(j)]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=len(pairs))) if pairs else []
    return from_edge_array(n, np.array(chosen, dtype=np.int64).reshape(-1, 2))


def random_graph(n: int, p: float, seed: int):
    """A seeded G(n, p) graph as ``Data``."""
    rng = np.random.default_rng(seed)
    iu, ju = np.triu_indices(n, k=1)
    keep = rng.random(iu.size) < p
    return from_edge_array(n, np.stack([iu[keep], ju[keep]], 1))


@pytest.fixture
def generator():
    return torch.Generator().manual_seed(0)
