"""Validity tests: connectedness, and those of the synthetic benchmark families (SPECTRE / DiGress /
GRAN definitions).

Each test takes one graph (``Data`` or networkx) and returns ``bool``; inputs are never modified.

* ``connected``: at least one node and connected: the one test that applies to any dataset
  (enzymes, proteins and ego graphs, a user's own files).
* ``planar``: connected and planar (``networkx.check_planarity``).
* ``tree``: a tree.
* ``lobster``: a tree that becomes a path (or a single node / nothing) after removing its leaves
  twice (GRAN / DiGress ``is_lobster_graph``).
* ``grid``: isomorphic to ``grid_2d_graph(i, j)`` for some ``2 <= i <= j <= 19`` with ``i j = n``.
* ``sbm_modularity``: the SPECTRE/DiGress SBM test (block sizes 20-40, 2-5 blocks, mean p-value of
  the per-block "Wald" statistics ``W = (p̂ - p)² / (p̂(1 - p̂) + 1e-6)`` above 0.9 with
  ``p = 0.3`` inside and ``0.005`` between blocks) **without graph-tool**: the blocks are the
  best-modularity partition among Louvain, greedy modularity, label propagation and
  Kernighan–Lin bisection (PolyGraph's substitute). It disagrees with graph-tool's stochastic
  block-model fit on some graphs, so it is never called plain "SBM validity"; its acceptance rate on
  the SPECTRE SBM training set is recorded in ``metrics/results/`` (the graph-tool test accepts
  about 86 % of it).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = [
    "is_connected_graph",
    "is_planar_graph",
    "is_tree_graph",
    "is_lobster_graph",
    "is_grid_graph",
    "sbm_modularity_pvalue",
    "is_sbm_graph_modularity",
    "VALIDITY",
    "to_nx",
]


def to_nx(graph):
    """A networkx copy of ``graph`` (``Data`` or networkx); self-loops are not removed."""
    import networkx as nx

    if hasattr(graph, "edge_index"):
        from graphgen.data.convert import to_networkx

        return to_networkx(graph)
    return nx.Graph(graph)


def is_connected_graph(graph) -> bool:
    import networkx as nx

    g = to_nx(graph)
    return g.number_of_nodes() > 0 and nx.is_connected(g)


def is_planar_graph(graph) -> bool:
    import networkx as nx

    g = to_nx(graph)
    return is_connected_graph(g) and nx.check_planarity(g)[0]


def is_tree_graph(graph) -> bool:
    import networkx as nx

    g = to_nx(graph)
    return g.number_of_nodes() > 0 and nx.is_tree(g)


def is_lobster_graph(graph) -> bool:
    g = to_nx(graph)
    if not is_tree_graph(g):
        return False
    for _ in range(2):
        g.remove_nodes_from([v for v, d in list(g.degree()) if d == 1])
    degrees = [d for _, d in g.degree()]
    ones, twos = degrees.count(1), degrees.count(2)
    return (ones == 2 and twos == g.number_of_nodes() - 2) or (ones == 0 and twos == 0 and g.number_of_nodes() <= 1)


def is_grid_graph(graph, max_side: int = 19) -> bool:
    import networkx as nx

    g = to_nx(graph)
    n = g.number_of_nodes()
    for i in range(2, max_side + 1):
        if n % i:
            continue
        j = n // i
        if not i <= j <= max_side:
            continue
        if g.number_of_edges() != 2 * i * j - i - j:
            continue
        if nx.is_isomorphic(g, nx.grid_2d_graph(i, j)):
            return True
    return False


def _best_modularity_partition(g, seed: int) -> list[set]:
    import networkx as nx
    from networkx.algorithms import community as nxc

    candidates = []
    for make in (
        lambda: nxc.louvain_communities(g, seed=seed),
        lambda: nxc.greedy_modularity_communities(g),
        lambda: list(nxc.label_propagation_communities(g)),
        lambda: list(nxc.kernighan_lin_bisection(g, seed=seed)),
    ):
        try:
            parts = [set(c) for c in make() if c]
        except (nx.NetworkXError, ZeroDivisionError, ValueError):
            continue
        candidates.append((nxc.modularity(g, parts), parts))
    return max(candidates, key=lambda c: c[0])[1] if candidates else [set(g.nodes())]


def sbm_modularity_pvalue(
    graph, p_intra: float = 0.3, p_inter: float = 0.005, seed: int = 0
) -> tuple[float, int, list[int]]:
    """Mean p-value of the SBM test, number of blocks and block sizes (see the module docstring)."""
    from scipy.stats import chi2

    g = to_nx(graph)
    if g.number_of_edges() == 0:
        return 0.0, 0, []
    blocks = _best_modularity_partition(g, seed)
    index = {v: b for b, members in enumerate(blocks) for v in members}
    k = len(blocks)
    sizes = np.array([len(b) for b in blocks], dtype=np.float64)
    counts = np.zeros((k, k))
    for u, v in g.edges():
        a, b = index[u], index[v]
        counts[a, b] += 1
        counts[b, a] += 1  # a within-block edge adds 2 to the diagonal, as graph-tool's matrix does
    est_intra = np.diagonal(counts) / (sizes * (sizes - 1) + 1e-6)
    inter = counts.copy()
    np.fill_diagonal(inter, 0)
    est_inter = inter / (np.outer(sizes, sizes) + 1e-6)
    w_intra = (est_intra - p_intra) ** 2 / (est_intra * (1 - est_intra) + 1e-6)
    w = (est_inter - p_inter) ** 2 / (est_inter * (1 - est_inter) + 1e-6)
    np.fill_diagonal(w, w_intra)
    return float((1 - chi2.cdf(np.abs(w), 1)).mean()), k, sizes.astype(int).tolist()


def is_sbm_graph_modularity(
    graph,
    p_intra: float = 0.3,
    p_inter: float = 0.005,
    min_size: int = 20,
    max_size: int = 40,
    min_blocks: int = 2,
    max_blocks: int = 5,
    seed: int = 0,
) -> bool:
    """The strict SBM test with modularity-based blocks (see the module docstring)."""
    pvalue, k, sizes = sbm_modularity_pvalue(graph, p_intra, p_inter, seed)
    if not min_blocks <= k <= max_blocks or any(s < min_size or s > max_size for s in sizes):
        return False
    return pvalue > 0.9


VALIDITY: dict[str, Callable] = {
    "connected": is_connected_graph,
    "planar": is_planar_graph,
    "tree": is_tree_graph,
    "lobster": is_lobster_graph,
    "grid": is_grid_graph,
    "sbm_modularity": is_sbm_graph_modularity,
}
