"""Shared fixtures and hypothesis strategies for graphgen's tests."""

from __future__ import annotations

import os
import sys


def _pin_openblas_kernel() -> None:
    """Use OpenBLAS's AVX2 kernel where the CPU has AVX2 (before numpy loads OpenBLAS).

    The literature's spectral MMD drops eigenvalues that round-off puts just above 2, and that
    round-off depends on the kernel OpenBLAS picks for the CPU (see
    :mod:`graphgen.metrics.descriptors`); the regression values in ``tests/metrics/data`` were
    computed with this kernel. A kernel the user chose (``OPENBLAS_CORETYPE``) is kept.
    """
    if "OPENBLAS_CORETYPE" in os.environ or "numpy" in sys.modules:
        return
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return
    if " avx2" in flags:
        os.environ["OPENBLAS_CORETYPE"] = "Haswell"


_pin_openblas_kernel()


def _private_cache_folder() -> None:
    """graphgen's cache folder (graphgen.cache) in a temporary folder of this test run, removed at
    exit: tests neither read a user's cache entries nor leave their own in the home folder."""
    import atexit
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="graphgen-test-cache-")
    os.environ["GRAPHGEN_CACHE_DIR"] = folder
    os.environ.pop("GRAPHGEN_CACHE", None)
    atexit.register(shutil.rmtree, folder, ignore_errors=True)


_private_cache_folder()

import numpy as np  # noqa: E402  (after the kernel is chosen)
import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from graphgen.data import from_edge_array  # noqa: E402

# One intra-op thread, as graphgen's own training and sampling use: the tests' tensors are small, and
# two threads on this 2-core machine made HiGen tests 3-20x slower whenever another process shared
# the cores (measured 2026-12-03: a row-subsampling test 27.2 s vs 1.3 s, the coordinated
# cross-edge test 66 s vs 19 s). Tests that need more threads set them themselves.
torch.set_num_threads(1)


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
