"""The boundary-walk order of a community's nodes: the order in which coordinated blocks place pairs.

The coordinated block model (:mod:`graphgen.models.higen.block_sequence`) places a leaf block's
``w_ij`` edges as an increasing sequence of pairs ``e = a n_j + c`` under a fixed order of each
community's nodes. Any order that is a function of the two communities keeps the model exact (each
edge set still has exactly one increasing sequence, so probabilities sum to 1), but the order
decides what the coordination features ``φ`` can see when a pair is scored. By default the order is
the communities' **generation order** (node ids), a breadth-first order. In a planar triangulation
the cut between two communities is a strip of triangles along both communities' outer borders:
node ``a``'s cross edges go to a run of consecutive border nodes of ``C_j`` and the next border node
of ``C_i`` continues the run from its last node. Under the generation order the border nodes of a
community are scattered, so consecutive rows of a block are seldom border neighbours and the next
edge of the strip often shares nothing with those placed (see ``cross_ladder``).

**Our option** (``HiGenConfig.cross_order = "boundary"``): number each community's nodes along its
border first. With ``T(u, v)`` the number of common neighbours of ``u`` and ``v`` inside the
community,

* a **border edge** is an intra-community edge with ``T(u, v) <= 1`` (an edge of a triangulated
  disc's outer cycle lies on one triangle, an inner edge on two; tree-like edges on none);
* a **border node** is an endpoint of a border edge, or a node with no intra-community edge;
* the **walk** starts at the border node with the smallest generation index and repeatedly steps to
  the unvisited border-edge neighbour of the current node with the smallest generation index; when
  there is none it restarts at the smallest unvisited border node; the other (inner) nodes follow
  in generation order.

On a triangulated disc the walk goes once round the outer cycle. The order depends only on the
community's edges and its generation order, which the sampler knows before it places cross edges,
so training (real communities) and sampling (generated ones) use the same rule. It is computed in
Python, ``O(n + e)`` per level.
"""

from __future__ import annotations

import torch

from graphgen.data.ops import edge_triangle_counts

__all__ = ["CROSS_ORDERS", "community_positions", "border_cycles"]

CROSS_ORDERS = ("generation", "boundary")


def community_positions(edge_index: torch.Tensor, parent: torch.Tensor, order: str = "generation") -> torch.Tensor:
    """Each node's place in its community ``(N,)`` under ``order`` (module docstring).

    ``edge_index``: the level's edges, both directions (only intra-community ones are read);
    ``parent``: each node's community. Nodes are numbered community by community in generation
    order (an ordered hierarchy or a sampled level), so ``"generation"`` is a node's id minus its
    community's first id.
    """
    if order not in CROSS_ORDERS:
        raise ValueError(f"unknown cross order {order!r}; choose one of {', '.join(CROSS_ORDERS)}")
    n = int(parent.numel())
    sizes = torch.bincount(parent, minlength=int(parent.max()) + 1 if n else 0)
    starts = torch.cumsum(sizes, 0) - sizes
    generation = torch.arange(n) - starts[parent] if n else torch.zeros(0, dtype=torch.long)
    if order == "generation" or n == 0:
        return generation
    return _boundary_walk(edge_index, parent, starts, sizes)[0]


def border_cycles(edge_index: torch.Tensor, parent: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each community's **border cycle**: its border nodes (module docstring) in walk order, read
    cyclically (the last border node is followed by the first). Returns ``(place, length)``: each
    node's place on its community's cycle ``(N,)``, ``-1`` for an inner node, and each community's
    number of border nodes ``(C,)`` (0 when every intra edge lies on two triangles or more). The
    strip-shaped leaf blocks (:mod:`graphgen.models.higen.strip_blocks`) run along these cycles."""
    n = int(parent.numel())
    sizes = torch.bincount(parent, minlength=int(parent.max()) + 1 if n else 0)
    if n == 0:
        return torch.zeros(0, dtype=torch.long), sizes
    position, on_border = _boundary_walk(edge_index, parent, torch.cumsum(sizes, 0) - sizes, sizes)
    length = torch.bincount(parent[on_border], minlength=int(sizes.numel()))
    return torch.where(on_border, position, torch.full_like(position, -1)), length


def _boundary_walk(edge_index, parent, starts, sizes) -> tuple[torch.Tensor, torch.Tensor]:
    """``(place of each node under the "boundary" order, whether it is a border node)``: the border
    nodes of a community take its first places, in walk order (module docstring)."""
    n = int(parent.numel())
    u, v = edge_index
    inside = (parent[u] == parent[v]) & (u != v)
    intra = edge_index[:, inside]
    _, common = edge_triangle_counts(intra, n)
    border = common <= 1
    neighbours: list[list[int]] = [[] for _ in range(n)]
    for a, b in intra[:, border].t().tolist():
        neighbours[a].append(b)
    for nbrs in neighbours:
        nbrs.sort()
    has_intra = torch.zeros(n, dtype=torch.bool)
    has_intra[intra[0]] = True
    on_border = (~has_intra).tolist()
    for a in intra[0, border].tolist():
        on_border[a] = True
    position = torch.empty(n, dtype=torch.long)
    visited = [False] * n
    for start, size in zip(starts.tolist(), sizes.tolist()):
        place = 0
        for first in range(start, start + size):
            if not on_border[first] or visited[first]:
                continue
            node = first
            while node is not None:
                visited[node] = True
                position[node] = place
                place += 1
                node = next((b for b in neighbours[node] if not visited[b]), None)
        for node in range(start, start + size):
            if not visited[node]:
                position[node] = place
                place += 1
    return position, torch.tensor(on_border, dtype=torch.bool)
