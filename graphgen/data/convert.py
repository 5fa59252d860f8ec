"""Conversions between the graph representations graphgen accepts and PyG ``Data``.

The one in-memory currency is an **undirected** PyG ``Data``: ``edge_index`` holds every edge in both
directions, sorted row-major (coalesced), with ``num_nodes`` always set. An optional integer
``edge_weight`` (int64) carries multiplicities on coarse hierarchy levels; a self-loop ``(i, i)`` is
stored once, with its weight.

Example:
    >>> import numpy as np
    >>> g = from_edge_array(3, np.array([[0, 1], [1, 2]]))
    >>> g.edge_index.tolist()
    [[0, 1, 1, 2], [1, 0, 2, 1]]
    >>> upper_edges(g).tolist()
    [[0, 1], [1, 2]]
"""

from __future__ import annotations

import numpy as np
import torch
from torch_geometric.data import Data

from graphgen.errors import InvalidGraphError

__all__ = [
    "from_edge_array",
    "upper_edges",
    "upper_edge_weights",
    "check_simple_graph",
    "check_undirected_graph",
    "check_node_ids",
    "from_networkx",
    "to_networkx",
    "graph_from_dense",
    "num_undirected_edges",
]


def check_node_ids(edges, num_nodes: int, what: str = "graph") -> None:
    """Raise :class:`InvalidGraphError` unless every endpoint in ``edges`` (a torch tensor or numpy
    array of node ids, any shape) lies in ``0..num_nodes-1``: an id outside would be read as another
    node (or fail deep inside an indexing op), so every reader of graphs checks it first."""
    count = edges.numel() if torch.is_tensor(edges) else np.size(edges)
    if count:
        low, high = int(edges.min()), int(edges.max())
        if low < 0 or high >= num_nodes:
            raise InvalidGraphError(
                f"{what} has an edge at node {low if low < 0 else high}, outside its {num_nodes} nodes "
                f"(ids 0..{num_nodes - 1})"
            )


def from_edge_array(
    num_nodes: int,
    edges: np.ndarray | torch.Tensor | list,
    edge_weight: np.ndarray | torch.Tensor | list | None = None,
    *,
    allow_self_loops: bool = False,
    allow_duplicates: bool = False,
) -> Data:
    """Build an undirected ``Data`` from a list of undirected edges ``(u, v)``.

    Args:
        num_nodes: number of nodes ``n``; nodes are ``0..n-1`` (isolated nodes are kept).
        edges: integer array of shape ``(E, 2)``; each undirected edge listed once, in any
            orientation.
        edge_weight: optional positive integer weight per edge, shape ``(E,)``.
        allow_self_loops: keep ``(i, i)`` entries (coarse graphs); otherwise they raise.
        allow_duplicates: sum the weights of repeated edges instead of raising.

    Raises:
        InvalidGraphError: negative or out-of-range node ids, self-loops or duplicates when not
            allowed, non-positive weights.
    """
    if num_nodes < 0:
        raise InvalidGraphError(f"number of nodes must be >= 0, got {num_nodes}")
    e = torch.as_tensor(np.asarray(edges, dtype=np.int64) if not torch.is_tensor(edges) else edges)
    e = e.to(torch.long).reshape(-1, 2)
    check_node_ids(e, num_nodes)
    w = None
    if edge_weight is not None:
        w = torch.as_tensor(np.asarray(edge_weight) if not torch.is_tensor(edge_weight) else edge_weight)
        if w.is_floating_point():
            if not torch.equal(w, w.round()):
                raise InvalidGraphError("edge weights must be integers (multiplicities)")
        w = w.to(torch.long).reshape(-1)
        if w.numel() != e.shape[0]:
            raise InvalidGraphError(f"{w.numel()} edge weights for {e.shape[0]} edges")
        if w.numel() and int(w.min()) <= 0:
            raise InvalidGraphError("edge weights must be positive integers")
    lo, hi = torch.minimum(e[:, 0], e[:, 1]), torch.maximum(e[:, 0], e[:, 1])
    loops = lo == hi
    if not allow_self_loops and bool(loops.any()):
        i = int(lo[loops][0])
        raise InvalidGraphError(f"self-loop on node {i} ({int(loops.sum())} self-loops in total)")
    key = lo * max(num_nodes, 1) + hi
    uniq, inverse = torch.unique(key, return_inverse=True)
    if uniq.numel() != key.numel():
        if not allow_duplicates:
            counts = torch.bincount(inverse)
            d = int(uniq[counts > 1][0])
            raise InvalidGraphError(f"duplicate edge ({d // max(num_nodes, 1)}, {d % max(num_nodes, 1)})")
        base = w if w is not None else torch.ones(key.numel(), dtype=torch.long)
        w = torch.zeros(uniq.numel(), dtype=torch.long).index_add_(0, inverse, base)
        lo, hi = uniq // max(num_nodes, 1), uniq % max(num_nodes, 1)
    elif w is not None:
        order = torch.argsort(key)
        lo, hi, w = lo[order], hi[order], w[order]
    else:
        order = torch.argsort(key)
        lo, hi = lo[order], hi[order]
    return _symmetrise(num_nodes, lo, hi, w)


def _symmetrise(num_nodes: int, lo: torch.Tensor, hi: torch.Tensor, w: torch.Tensor | None) -> Data:
    """Both directions of each upper edge (self-loops once), sorted row-major."""
    off = lo != hi
    row = torch.cat([lo, hi[off]])
    col = torch.cat([hi, lo[off]])
    order = torch.argsort(row * max(num_nodes, 1) + col)
    data = Data(edge_index=torch.stack([row, col])[:, order].contiguous(), num_nodes=num_nodes)
    if w is not None:
        data.edge_weight = torch.cat([w, w[off]])[order].contiguous()
    return data


def upper_edges(data: Data) -> torch.Tensor:
    """Each undirected edge once as ``(u, v)`` with ``u <= v``, shape ``(E, 2)``, sorted."""
    ei = data.edge_index
    keep = ei[0] <= ei[1]
    return ei[:, keep].t().contiguous()


def upper_edge_weights(data: Data) -> torch.Tensor:
    """Weights aligned with :func:`upper_edges` (ones when the graph is unweighted)."""
    keep = data.edge_index[0] <= data.edge_index[1]
    w = getattr(data, "edge_weight", None)
    if w is None:
        return torch.ones(int(keep.sum()), dtype=torch.long)
    return w[keep]


def num_undirected_edges(data: Data) -> int:
    """Number of undirected edges counted with multiplicity: ``sum of upper weights``."""
    return int(upper_edge_weights(data).sum())


def check_simple_graph(data: Data, *, what: str = "graph") -> None:
    """Raise :class:`InvalidGraphError` unless ``data`` is a valid simple undirected graph.

    Checks: ``num_nodes`` set, endpoints in range, no self-loops, no duplicate entries, and every
    edge present in both directions (with the same ``edge_weight`` where there is one):
    :func:`check_undirected_graph` without self-loops.
    """
    check_undirected_graph(data, what=what, allow_self_loops=False)


def check_undirected_graph(data: Data, *, what: str = "graph", allow_self_loops: bool = True) -> None:
    """Raise :class:`InvalidGraphError` unless ``data`` is an undirected graph as graphgen stores one
    (module docstring): ``num_nodes`` set, ``edge_index`` of shape ``(2, E)`` with endpoints in
    range, no duplicate entries, every edge in both directions with the same ``edge_weight`` (where
    there is one), and self-loops only where ``allow_self_loops`` (coarse levels keep them)."""
    n = data.num_nodes
    if n is None:
        raise InvalidGraphError(f"{what} has no num_nodes")
    ei = data.edge_index
    if ei is None:
        raise InvalidGraphError(f"{what} has no edge_index")
    if not torch.is_tensor(ei) or ei.dtype not in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8):
        raise InvalidGraphError(f"{what}: edge_index must be a tensor of integer node ids, got {_kind(ei)}")
    if ei.dim() != 2 or ei.shape[0] != 2:
        raise InvalidGraphError(f"{what}: edge_index must have shape (2, E), got {tuple(ei.shape)}")
    if ei.numel() == 0:
        return
    check_node_ids(ei, n, what)
    ei = ei.long()
    if not allow_self_loops and bool((ei[0] == ei[1]).any()):
        i = int(ei[0][ei[0] == ei[1]][0])
        raise InvalidGraphError(f"{what} has a self-loop on node {i}")
    key = ei[0] * n + ei[1]
    if torch.unique(key).numel() != key.numel():
        raise InvalidGraphError(f"{what} has duplicate edges")
    forward, backward = torch.sort(key), torch.sort(ei[1] * n + ei[0])
    if not torch.equal(forward.values, backward.values):
        raise InvalidGraphError(f"{what} is not undirected (an edge lacks its reverse)")
    weight = getattr(data, "edge_weight", None)
    if weight is not None and not torch.equal(weight[forward.indices], weight[backward.indices]):
        raise InvalidGraphError(f"{what} is not undirected (an edge's weight differs from its reverse's)")


def _kind(value) -> str:
    return f"a {value.dtype} tensor" if torch.is_tensor(value) else type(value).__name__


def from_networkx(graph, *, weight: str | None = None) -> Data:
    """Convert a ``networkx.Graph`` to ``Data``; nodes are relabelled ``0..n-1`` in iteration order.

    Args:
        graph: an undirected networkx graph (directed graphs raise).
        weight: edge attribute to read as an integer ``edge_weight`` (self-loops then allowed).
    """
    if graph.is_directed():
        raise InvalidGraphError("directed graphs are not supported; convert to undirected first")
    index = {v: i for i, v in enumerate(graph.nodes())}
    edges = np.array([(index[u], index[v]) for u, v in graph.edges()], dtype=np.int64).reshape(-1, 2)
    w = None
    if weight is not None:
        w = np.array([d.get(weight, 1) for _, _, d in graph.edges(data=True)])
    return from_edge_array(len(index), edges, w, allow_self_loops=weight is not None)


def to_networkx(data: Data, *, weight: str | None = None):
    """Convert ``Data`` to an undirected ``networkx.Graph`` with nodes ``0..n-1``.

    Args:
        data: a graph as produced by :func:`from_edge_array`; anything else (an edge stored one way
            only, an id outside ``0..n-1``, duplicate entries) raises :class:`InvalidGraphError`
            (:func:`check_undirected_graph`) rather than being read as another graph.
        weight: name of the edge attribute to store ``edge_weight`` under (``None``: drop weights).
    """
    import networkx as nx

    check_undirected_graph(data)

    g = nx.Graph()
    g.add_nodes_from(range(int(data.num_nodes)))
    e = upper_edges(data).tolist()
    if weight is None:
        g.add_edges_from(e)
    else:
        w = upper_edge_weights(data).tolist()
        g.add_edges_from((u, v, {weight: x}) for (u, v), x in zip(e, w))
    return g


def graph_from_dense(adj: torch.Tensor, *, allow_self_loops: bool = False) -> Data:
    """Build ``Data`` from a symmetric ``(n, n)`` adjacency with non-negative integer entries.

    Entries above one become ``edge_weight``; a 0/1 matrix gives an unweighted graph.
    """
    if adj.dim() != 2 or adj.shape[0] != adj.shape[1]:
        raise InvalidGraphError(f"adjacency must be square, got shape {tuple(adj.shape)}")
    if not torch.equal(adj, adj.t()):
        raise InvalidGraphError("adjacency must be symmetric")
    n = adj.shape[0]
    upper = torch.triu(adj, diagonal=0 if allow_self_loops else 1)
    if not allow_self_loops and bool(torch.diagonal(adj).ne(0).any()):
        raise InvalidGraphError("adjacency has a non-zero diagonal (self-loops)")
    idx = upper.nonzero()
    vals = upper[idx[:, 0], idx[:, 1]]
    if vals.numel() and bool((vals < 0).any()):
        raise InvalidGraphError("adjacency has negative entries")
    weighted = vals.numel() > 0 and bool((vals != 1).any())
    return from_edge_array(n, idx, vals if weighted else None, allow_self_loops=allow_self_loops)
