"""Node orderings returned as permutations.

A permutation ``perm`` lists old node ids in their new order: the node at new position ``k`` is old
node ``perm[k]``. :func:`permute_graph` applies one. All orderings are deterministic unless a
``torch.Generator`` is given, in which case they are random but repeatable.

Rules (documented choices):

* BFS and DFS start from the node of maximum degree (lowest id among ties) and visit neighbours in
  ascending id; on a disconnected graph they restart with the same rule among unvisited nodes.
  With a ``generator`` the graph is first relabelled by a random permutation, which randomises the
  start among ties and the neighbour order (GraphRNN-style random BFS).
* Degree order sorts by degree (descending by default); ties are broken by id, or randomly with a
  ``generator``.

Example:
    >>> from graphgen.data import from_edge_array
    >>> star = from_edge_array(4, [[0, 3], [1, 3], [2, 3]])
    >>> bfs_order(star).tolist(), degree_order(star).tolist()
    ([3, 0, 1, 2], [3, 0, 1, 2])
"""

from __future__ import annotations

from collections import deque

import torch
from torch_geometric.data import Data

from graphgen.data.ops import degree

__all__ = ["bfs_order", "dfs_order", "degree_order", "random_order", "permute_graph", "inverse_permutation"]


def inverse_permutation(perm: torch.Tensor) -> torch.Tensor:
    """``inv`` with ``inv[perm[k]] = k``."""
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(perm.numel(), dtype=perm.dtype)
    return inv


def permute_graph(data: Data, perm: torch.Tensor) -> Data:
    """Relabel nodes so that new node ``k`` is old node ``perm[k]``; node-level tensors follow.

    Edge-level tensors (``edge_weight``, ``edge_attr``) follow their edges; the result is coalesced.
    """
    n = int(data.num_nodes)
    perm = torch.as_tensor(perm, dtype=torch.long)
    if perm.numel() != n or not torch.equal(torch.sort(perm).values, torch.arange(n)):
        raise ValueError(f"perm must be a permutation of 0..{n - 1}")
    inv = inverse_permutation(perm)
    out = data.clone()
    ei = inv[data.edge_index]
    order = torch.argsort(ei[0] * max(n, 1) + ei[1])
    out.edge_index = ei[:, order]
    num_edges = data.edge_index.shape[1]
    for key, value in data.items():
        if key == "edge_index" or not torch.is_tensor(value):
            continue
        if data.is_node_attr(key) and value.shape[:1] == (n,):
            out[key] = value[perm]
        elif data.is_edge_attr(key) and value.shape[:1] == (num_edges,):
            out[key] = value[order]
    return out


def _neighbours(data: Data) -> list[list[int]]:
    n = int(data.num_nodes)
    nbrs: list[list[int]] = [[] for _ in range(n)]
    for u, v in data.edge_index.t().tolist():  # edge_index is sorted, so each list ascends
        if u != v:
            nbrs[u].append(v)
    return nbrs


def _traversal(data: Data, generator: torch.Generator | None, depth_first: bool) -> torch.Tensor:
    n = int(data.num_nodes)
    relabel = random_order(n, generator=generator) if generator is not None else torch.arange(n)
    g = permute_graph(data, relabel) if generator is not None else data
    nbrs = _neighbours(g)
    deg = degree(g)
    # start candidates: by descending degree, then ascending id
    starts = sorted(range(n), key=lambda v: (-int(deg[v]), v))
    seen = [False] * n
    order: list[int] = []
    for s in starts:
        if seen[s]:
            continue
        if depth_first:
            stack = [s]
            while stack:
                u = stack.pop()
                if seen[u]:
                    continue
                seen[u] = True
                order.append(u)
                stack.extend(v for v in reversed(nbrs[u]) if not seen[v])
        else:
            seen[s] = True
            queue = deque([s])
            while queue:
                u = queue.popleft()
                order.append(u)
                for v in nbrs[u]:
                    if not seen[v]:
                        seen[v] = True
                        queue.append(v)
    return relabel[torch.tensor(order, dtype=torch.long)]


def bfs_order(data: Data, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """Breadth-first order (see the module docstring for start and tie rules)."""
    return _traversal(data, generator, depth_first=False)


def dfs_order(data: Data, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """Depth-first preorder (see the module docstring for start and tie rules)."""
    return _traversal(data, generator, depth_first=True)


def degree_order(data: Data, *, descending: bool = True, generator: torch.Generator | None = None) -> torch.Tensor:
    """Nodes sorted by degree; ties by ascending id, or at random with ``generator``."""
    n = int(data.num_nodes)
    d = degree(data)
    tie = random_order(n, generator=generator) if generator is not None else torch.arange(n)
    rank = inverse_permutation(tie)  # random tie-break key
    key = (-d if descending else d) * (n + 1) + rank
    return torch.argsort(key)


def random_order(data_or_n: Data | int, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """A uniformly random permutation of the nodes, drawn from ``generator``."""
    n = data_or_n if isinstance(data_or_n, int) else int(data_or_n.num_nodes)
    return torch.randperm(n, generator=generator)
