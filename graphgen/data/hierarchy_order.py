"""Generation order of a hierarchy: relabel every level so that HiGen can generate it row by row.

Top-down (Karami, ICLR 2024; ``specs/higen.md`` §1.2): the nodes of each level are ordered by
their parent's position (so every community is a contiguous block, in parent order), and inside
each community by a strategy:

* ``bfsdc`` (HiGen's BFS with "degree and cut" keys; enzymes, proteins, ego): each node has the
  key ``(-w_cut, -w_self, deg, id)`` where ``w_cut`` is its weight to the nodes already placed,
  ``w_self`` its self-loop weight and ``deg`` its weighted degree inside the community. The first
  node has the smallest key (the largest self-loop on coarse levels, the lowest degree on the leaf
  level); then the frontier node with the smallest key -- the one most strongly tied to the placed
  nodes -- comes next. A community that is not connected restarts from its smallest key.
* ``dfs`` (SBM): depth-first from the highest-degree node (:func:`graphgen.data.dfs_order`).
* ``bfs``, ``degree``: :func:`graphgen.data.bfs_order`, :func:`graphgen.data.degree_order`.

Every prefix of a connected community is connected under ``bfsdc``, ``bfs`` and ``dfs``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch_geometric.data import Data

from graphgen.data.hierarchy import Hierarchy, batch_from_edges
from graphgen.data.ops import nodes_per_graph
from graphgen.data.ordering import bfs_order, degree_order, dfs_order, inverse_permutation

__all__ = ["bfsdc_order", "WITHIN_COMMUNITY_ORDERS", "order_hierarchy"]


def bfsdc_order(community: Data) -> torch.Tensor:
    """HiGen's BFSDC order of one (weighted) community graph, as a permutation (see the module)."""
    n = int(community.num_nodes)
    ei = community.edge_index
    w = getattr(community, "edge_weight", None)
    w = torch.ones(ei.shape[1], dtype=torch.long) if w is None else w
    self_w = [0] * n
    deg = [0] * n
    nbrs: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    for (u, v), x in zip(ei.t().tolist(), w.tolist()):
        if u == v:
            self_w[u] += x
        else:
            deg[u] += x
            nbrs[u].append((v, x))
    cut = [0] * n
    placed = [False] * n
    frontier: set[int] = set()
    order: list[int] = []
    while len(order) < n:
        pool = frontier if frontier else {v for v in range(n) if not placed[v]}
        node = min(pool, key=lambda v: (-cut[v], -self_w[v], deg[v], v))
        placed[node] = True
        order.append(node)
        frontier.discard(node)
        for v, x in nbrs[node]:
            if not placed[v]:
                cut[v] += x
                frontier.add(v)
    return torch.tensor(order, dtype=torch.long)


WITHIN_COMMUNITY_ORDERS: dict[str, Callable[[Data], torch.Tensor]] = {
    "bfsdc": bfsdc_order,
    "dfs": dfs_order,
    "bfs": bfs_order,
    "degree": degree_order,
}


def _relabel_level(level, perm: torch.Tensor):
    """The level's batch with node ``perm[k]`` renamed ``k`` (perm keeps graphs contiguous)."""
    inv = inverse_permutation(perm)
    ei = inv[level.edge_index]
    n = int(level.num_nodes)
    order = torch.argsort(ei[0] * max(n, 1) + ei[1])
    return batch_from_edges(nodes_per_graph(level), ei[:, order], level.edge_weight[order])


def order_hierarchy(h: Hierarchy, within: str | Callable[[Data], torch.Tensor] = "bfsdc") -> Hierarchy:
    """A copy of ``h`` with every level relabelled into generation order.

    Args:
        h: a hierarchy from :func:`~graphgen.data.build_hierarchy`.
        within: the within-community order, a name in :data:`WITHIN_COMMUNITY_ORDERS` or a function
            ``community Data -> permutation``.

    Returns:
        A :class:`Hierarchy` whose nodes at every level are numbered in generation order; its
        ``community_order(l)`` is then the identity, and ``communities(l)`` lists communities in
        parent order with their nodes in generation order.
    """
    strategy = WITHIN_COMMUNITY_ORDERS[within] if isinstance(within, str) else within
    levels = [h.levels[0]]
    assignments = []
    parent_inv = torch.arange(int(h.levels[0].num_nodes))  # old parent id -> new parent id
    for lv in range(1, len(h.levels)):
        level, parent = h.levels[lv], h.assignments[lv - 1]
        comm = h.communities(lv)
        rank = torch.empty(int(level.num_nodes), dtype=torch.long)  # position inside the community
        for c in range(comm.num_graphs):
            sub = comm.get_example(c)
            local = strategy(sub)
            rank[sub.level_node[local]] = torch.arange(local.numel())
        new_parent = parent_inv[parent]
        key = new_parent * (int(level.num_nodes) + 1) + rank
        perm = torch.argsort(key)
        levels.append(_relabel_level(level, perm))
        assignments.append(new_parent[perm])
        parent_inv = inverse_permutation(perm)
    return Hierarchy(levels=levels, assignments=assignments, trivial_levels=list(h.trivial_levels))
