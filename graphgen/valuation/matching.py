"""Graph matching to a public proxy graph and blind message passing (EXPERIMENTAL).

A **reconstruction** of the "blind message passing" of Falahati & Mohammadi Amiri (2024), whose
method section we could not read (see ``metrics/README.md`` and the valuation spec). Each party k
(buyer or seller) aligns its graph ``A_k`` to a public proxy graph ``A_p`` with public node
features ``F_p``, without revealing ``A_k``:

1. alignment: ``pi_k = argmax_P tr(A_p P A_k P^T)``, a quadratic assignment problem solved with FAQ
   (``scipy.optimize.quadratic_assignment``, best of ``restarts`` randomised starts), or
   Gromov-Wasserstein between shortest-path matrices rounded to a permutation
   (``linear_sum_assignment``); the smaller graph is padded with isolated nodes;
2. message passing: ``Z^0 = P_{pi_k}^T F_p`` (each node takes the features of the proxy node it is
   matched to, replacing its private features), ``Z^{h+1} = 1/2 (Z^h + D_k^{-1} A_k Z^h)``,
   ``E_k = [Z^0 || ... || Z^H]``;
3. disparity: the OT cost between the rows of ``E_b`` and ``E_s`` (Euclidean ground cost).

Status, measured (see the tests): the matching recovers a planted permutation exactly on small
random graphs, but the disparity built on it barely separates graph families (a shifted family
scores about like the buyer's own family), and it is only approximately invariant to relabelling
because the matching is approximate. The default structural disparity
(:func:`graphgen.valuation.structural.structural_disparity`) does not use it.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from graphgen.errors import GraphgenError
from graphgen.seeding import numpy_rng

__all__ = ["MATCHING_METHODS", "dense_adjacency", "match_to_proxy", "proxy_embeddings", "blind_structural_disparity"]

MATCHING_METHODS = ("faq", "gw")


def dense_adjacency(graph, size: int | None = None) -> np.ndarray:
    """The 0/1 adjacency of ``graph`` as a dense ``size x size`` array (padded with isolated nodes)."""
    n = int(graph.num_nodes)
    size = n if size is None else size
    if size < n:
        raise GraphgenError(f"cannot pad a graph of {n} nodes to {size}")
    adj = np.zeros((size, size))
    ei = graph.edge_index.numpy()
    adj[ei[0], ei[1]] = 1.0
    np.fill_diagonal(adj, 0.0)
    return adj


def _alignment_score(adj_p: np.ndarray, adj_k: np.ndarray, perm: np.ndarray) -> float:
    """``tr(A_p P A_k P^T)`` for the matching proxy node i -> node perm[i]."""
    return float(np.sum(adj_p * adj_k[np.ix_(perm, perm)]))


def _shortest_paths(adj: np.ndarray) -> np.ndarray:
    from scipy.sparse.csgraph import shortest_path

    dist = shortest_path(sp.csr_matrix(adj), unweighted=True)
    finite = np.isfinite(dist)
    far = (dist[finite].max() + 1) if finite.any() else 1.0
    return np.where(finite, dist, far)  # unreachable pairs: one more than the diameter


def _random_doubly_stochastic(size: int, rng: np.random.Generator, iterations: int = 50) -> np.ndarray:
    """A random doubly stochastic matrix (Sinkhorn-balanced uniform noise), as FAQ's randomised start."""
    m = rng.random((size, size)) + 1e-3
    for _ in range(iterations):
        m /= m.sum(axis=1, keepdims=True)
        m /= m.sum(axis=0, keepdims=True)
    return m


def match_to_proxy(graph, proxy, *, method: str = "faq", restarts: int = 5, seed: int = 0) -> np.ndarray:
    """Node matching ``proxy node i -> graph node perm[i]`` on the padded size ``max(n, n_p)``.

    Indices ``>= n`` (or proxy indices ``>= n_p``) are padding nodes. Returns the best of
    ``restarts`` randomised starts by the alignment score ``tr(A_p P A_k P^T)``.
    """
    from scipy.optimize import linear_sum_assignment, quadratic_assignment

    if method not in MATCHING_METHODS:
        raise GraphgenError(f"unknown matching method {method!r}; choose one of {', '.join(MATCHING_METHODS)}")
    if restarts < 1:
        raise GraphgenError(f"restarts must be >= 1, got {restarts}")
    size = max(int(graph.num_nodes), int(proxy.num_nodes))
    adj_k, adj_p = dense_adjacency(graph, size), dense_adjacency(proxy, size)
    rng = numpy_rng(seed)
    best, best_score = None, -np.inf
    for attempt in range(restarts):
        # the first start is the uninformative one (barycentre / product coupling), the rest random
        if method == "faq":
            start = "barycenter" if attempt == 0 else _random_doubly_stochastic(size, rng)
            result = quadratic_assignment(
                adj_p, adj_k, method="faq", options={"maximize": True, "P0": start, "rng": rng}
            )
            perm = np.asarray(result.col_ind)
        else:
            import ot

            uniform = np.full(size, 1.0 / size)
            start = None if attempt == 0 else _random_doubly_stochastic(size, rng) / size
            plan = ot.gromov.gromov_wasserstein(
                _shortest_paths(adj_p), _shortest_paths(adj_k), uniform, uniform, "square_loss", G0=start
            )
            perm = linear_sum_assignment(-plan)[1]
        score = _alignment_score(adj_p, adj_k, perm)
        if score > best_score:
            best, best_score = perm, score
    return best


def proxy_embeddings(
    graph,
    proxy,
    proxy_features: np.ndarray,
    *,
    iterations: int = 3,
    method: str = "faq",
    restarts: int = 5,
    seed: int = 0,
) -> np.ndarray:
    """``E_k = [Z^0 || ... || Z^H]`` for the real nodes of ``graph`` (step 2 of the module docstring)."""
    from graphgen.valuation.structural import wl_propagate

    features = np.asarray(proxy_features, dtype=np.float64)
    if features.ndim != 2 or features.shape[0] != int(proxy.num_nodes):
        raise GraphgenError(f"proxy features must have one row per proxy node ({int(proxy.num_nodes)})")
    n = int(graph.num_nodes)
    perm = match_to_proxy(graph, proxy, method=method, restarts=restarts, seed=seed)
    size = perm.shape[0]
    padded = np.zeros((size, features.shape[1]))
    padded[: features.shape[0]] = features
    z0 = np.zeros((size, features.shape[1]))
    z0[perm] = padded  # node perm[i] takes proxy node i's features
    adj = sp.csr_matrix(dense_adjacency(graph))
    return wl_propagate(adj, z0[:n], iterations)


def blind_structural_disparity(
    graphs_a, graphs_b, proxy, proxy_features, *, iterations: int = 3, method: str = "faq", seed: int = 0, **ot_options
) -> float:
    """Pooled OT disparity between the proxy-routed embeddings of two datasets (EXPERIMENTAL)."""
    from graphgen.valuation.structural import pooled_disparity

    emb_a = [
        proxy_embeddings(g, proxy, proxy_features, iterations=iterations, method=method, seed=seed) for g in graphs_a
    ]
    emb_b = [
        proxy_embeddings(g, proxy, proxy_features, iterations=iterations, method=method, seed=seed) for g in graphs_b
    ]
    return pooled_disparity(emb_a, emb_b, **ot_options)
