"""Vectorised per-graph operations on a batch of graphs in COO form.

Every function accepts a single ``Data`` or a PyG ``Batch`` (many graphs stacked block-diagonally,
with the ``batch`` vector mapping nodes to graphs) and works on all graphs at once, without a
Python loop over graphs. Node-level results have shape ``(N,)`` for the ``N`` nodes of the batch.

Conventions (those of networkx, so that metrics agree with the reference code):

* degrees, triangles and clustering look at the **simple structure**: weights and self-loops are
  ignored; ``clustering(v) = 2 T(v) / (d(v) (d(v) - 1))`` and ``0`` when ``d(v) < 2``;
* the normalised Laplacian uses the weighted adjacency ``A`` (self-loops on the diagonal) and
  ``d = A 1``: ``L = D^{-1/2} (D - A) D^{-1/2}``, so an isolated node has a zero row
  (``networkx.normalized_laplacian_matrix``).

Example:
    >>> from graphgen.data import from_edge_array
    >>> triangle = from_edge_array(4, [[0, 1], [1, 2], [0, 2], [2, 3]])
    >>> triangle_counts(triangle).tolist(), clustering_coefficients(triangle).tolist()
    ([1, 1, 1, 0], [1.0, 1.0, 0.3333333333333333, 0.0])
"""

from __future__ import annotations

import warnings

import torch
from torch_geometric.data import Data

from graphgen.data.convert import graph_from_dense

__all__ = [
    "batch_vector",
    "num_graphs",
    "nodes_per_graph",
    "node_offsets",
    "degree",
    "triangle_counts",
    "edge_triangle_counts",
    "graph_triangle_counts",
    "clustering_coefficients",
    "normalized_laplacian",
    "to_dense",
    "from_dense",
    "segment_arange",
    "segment_logsumexp",
    "self_loop_weights",
    "edge_chunks",
]


def batch_vector(data: Data) -> torch.Tensor:
    """The node-to-graph vector ``(N,)``; all zeros for a single ``Data``."""
    b = getattr(data, "batch", None)
    if b is None:
        return torch.zeros(int(data.num_nodes), dtype=torch.long)
    return b


def num_graphs(data: Data) -> int:
    """Number of graphs in a batch (1 for a single ``Data``)."""
    n = getattr(data, "num_graphs", None)
    return int(n) if n is not None and getattr(data, "batch", None) is not None else 1


def nodes_per_graph(data: Data) -> torch.Tensor:
    """Node count of each graph, shape ``(B,)``."""
    return torch.bincount(batch_vector(data), minlength=num_graphs(data))


def node_offsets(data: Data) -> torch.Tensor:
    """Index of each graph's first node, shape ``(B,)`` (PyG's ``ptr[:-1]``)."""
    counts = nodes_per_graph(data)
    return torch.cumsum(counts, 0) - counts


def _simple_edges(data: Data) -> torch.Tensor:
    ei = data.edge_index
    return ei[:, ei[0] != ei[1]]


def degree(data: Data, *, weighted: bool = False) -> torch.Tensor:
    """Node degrees ``(N,)``.

    Args:
        weighted: sum ``edge_weight`` (self-loops counted once, as stored) instead of counting
            distinct non-loop neighbours.
    """
    n = int(data.num_nodes)
    ei = data.edge_index
    if weighted:
        w = getattr(data, "edge_weight", None)
        w = torch.ones(ei.shape[1], dtype=torch.long) if w is None else w
        return torch.zeros(n, dtype=w.dtype).index_add_(0, ei[0], w)
    return torch.bincount(_simple_edges(data)[0], minlength=n)


def sparse_coo(indices: torch.Tensor, values: torch.Tensor, shape: tuple[int, int], *, check: bool) -> torch.Tensor:
    """A coalesced sparse COO tensor, with torch's invariant checks explicitly on (``check``) or off.

    The checks are set through ``torch.sparse.check_sparse_tensor_invariants``, not the
    ``check_invariants=`` argument: torch 2.11 with CUDA warns "Sparse invariant checks are implicitly
    disabled" for every construction outside that context, the argument included
    (``metrics/scripts/sparse_warning_probe.py`` on an H200; torch 2.13's CPU wheel is silent either way).
    """
    with torch.sparse.check_sparse_tensor_invariants(enable=check):
        return torch.sparse_coo_tensor(indices, values, shape).coalesce()


def _common_neighbours_per_edge(ei: torch.Tensor, n: int) -> torch.Tensor:
    """For each directed edge (u, v) of a simple symmetric graph: |N(u) ∩ N(v)| via sparse A @ A."""
    if ei.shape[1] == 0:
        return torch.zeros(0, dtype=torch.long)
    ones = torch.ones(ei.shape[1], dtype=torch.float64, device=ei.device)
    adj = sparse_coo(ei, ones, (n, n), check=False)
    with warnings.catch_warnings():  # torch notes that its sparse CSR kernels are "beta"
        warnings.simplefilter("ignore", UserWarning)
        a2 = torch.sparse.mm(adj, adj).coalesce()
    keys = a2.indices()[0] * n + a2.indices()[1]
    query = ei[0] * n + ei[1]
    pos = torch.searchsorted(keys, query).clamp(max=max(keys.numel() - 1, 0))
    found = keys.numel() > 0
    vals = a2.values()[pos] if found else torch.zeros_like(query, dtype=torch.float64)
    hit = (keys[pos] == query) if found else torch.zeros_like(query, dtype=torch.bool)
    return torch.where(hit, vals, torch.zeros_like(vals)).round().to(torch.long)


def edge_triangle_counts(edge_index: torch.Tensor, num_nodes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Triangles of a simple graph given as an edge list with **both directions** of each edge
    (each at most once; self-loop entries are ignored): ``(per_node (N,), per_entry (E,))`` int64,
    the triangles through each node (``networkx.triangles``) and, for each listed entry ``(u, v)``,
    the triangles on that edge, ``|N(u) ∩ N(v)|`` (0 for a self-loop entry)."""
    loops = edge_index[0] == edge_index[1]
    ei = edge_index[:, ~loops]
    common = _common_neighbours_per_edge(ei, num_nodes)
    per_entry = torch.zeros(edge_index.shape[1], dtype=torch.long)
    per_entry[~loops] = common
    per_node = torch.zeros(num_nodes, dtype=torch.long).index_add_(0, ei[0], common) // 2
    return per_node, per_entry


def triangle_counts(data: Data) -> torch.Tensor:
    """Number of triangles through each node, ``(N,)`` int64 (``networkx.triangles``)."""
    return edge_triangle_counts(data.edge_index, int(data.num_nodes))[0]


def graph_triangle_counts(data: Data) -> torch.Tensor:
    """Number of triangles in each graph of the batch, ``(B,)`` int64."""
    per_node = triangle_counts(data)
    out = torch.zeros(num_graphs(data), dtype=torch.long).index_add_(0, batch_vector(data), per_node)
    return out // 3


def clustering_coefficients(data: Data) -> torch.Tensor:
    """Local clustering coefficient of each node, ``(N,)`` float64 (``networkx.clustering``)."""
    t = triangle_counts(data).to(torch.float64)
    d = degree(data).to(torch.float64)
    denom = d * (d - 1)
    return torch.where(denom > 0, 2 * t / denom.clamp(min=1), torch.zeros_like(t))


def normalized_laplacian(data: Data) -> torch.Tensor:
    """Sparse normalised Laplacian ``D^{-1/2} (D - A) D^{-1/2}``, ``(N, N)`` float64 COO.

    For a batch it is block-diagonal, one block per graph. Weights and self-loops are used.
    """
    n = int(data.num_nodes)
    ei = data.edge_index
    w = getattr(data, "edge_weight", None)
    w = torch.ones(ei.shape[1], dtype=torch.float64) if w is None else w.to(torch.float64)
    d = torch.zeros(n, dtype=torch.float64).index_add_(0, ei[0], w)
    inv_sqrt = torch.where(d > 0, d.clamp(min=1e-300).rsqrt(), torch.zeros_like(d))
    off_vals = -w * inv_sqrt[ei[0]] * inv_sqrt[ei[1]]
    diag = torch.arange(n)
    diag_vals = (d > 0).to(torch.float64)
    idx = torch.cat([ei, torch.stack([diag, diag])], dim=1)
    vals = torch.cat([off_vals, diag_vals])
    return sparse_coo(idx, vals, (n, n), check=False)


def to_dense(data: Data, max_num_nodes: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Dense adjacency and node mask of a batch.

    Returns:
        ``(adj, mask)`` with ``adj`` of shape ``(B, n_max, n_max)`` (integer weights, or ones) and
        ``mask`` of shape ``(B, n_max)`` marking real nodes.
    """
    b = batch_vector(data)
    counts = nodes_per_graph(data)
    n_max = int(counts.max()) if counts.numel() else 0
    if max_num_nodes is not None:
        if max_num_nodes < n_max:
            raise ValueError(f"max_num_nodes={max_num_nodes} is below the largest graph ({n_max} nodes)")
        n_max = max_num_nodes
    local = torch.arange(int(data.num_nodes)) - node_offsets(data)[b]
    ei = data.edge_index
    w = getattr(data, "edge_weight", None)
    w = torch.ones(ei.shape[1], dtype=torch.long) if w is None else w
    adj = torch.zeros(counts.numel(), n_max, n_max, dtype=w.dtype)
    adj.index_put_((b[ei[0]], local[ei[0]], local[ei[1]]), w, accumulate=True)
    mask = torch.zeros(counts.numel(), n_max, dtype=torch.bool)
    mask[b, local] = True
    return adj, mask


def from_dense(adj: torch.Tensor, mask: torch.Tensor, *, allow_self_loops: bool = False) -> list[Data]:
    """Inverse of :func:`to_dense`: one ``Data`` per graph, keeping the masked nodes only."""
    if adj.dim() != 3 or mask.shape != adj.shape[:2]:
        raise ValueError(f"adj (B, n, n) and mask (B, n) expected, got {tuple(adj.shape)} and {tuple(mask.shape)}")
    graphs = []
    for a, m in zip(adj, mask):
        keep = m.nonzero().flatten()
        graphs.append(graph_from_dense(a[keep][:, keep], allow_self_loops=allow_self_loops))
    return graphs


def segment_arange(counts: torch.Tensor) -> torch.Tensor:
    """Position of each element inside its segment, for consecutive segments of ``counts`` elements:
    ``segment_arange([2, 3]) = [0, 1, 0, 1, 2]``."""
    return torch.arange(int(counts.sum())) - torch.repeat_interleave(torch.cumsum(counts, 0) - counts, counts)


def segment_logsumexp(values: torch.Tensor, segment: torch.Tensor, num_segments: int) -> torch.Tensor:
    """``logsumexp`` of the rows of ``values`` ``(P, K)`` within segments, ``(S, K)``; empty segments
    give ``-inf``."""
    k = values.shape[1]
    idx = segment.unsqueeze(1).expand(-1, k)
    peak = torch.full((num_segments, k), float("-inf"), dtype=values.dtype).scatter_reduce(
        0, idx, values, reduce="amax", include_self=True
    )
    safe_peak = torch.where(torch.isfinite(peak), peak, torch.zeros_like(peak))
    sums = torch.zeros((num_segments, k), dtype=values.dtype).index_add_(
        0, segment, torch.exp(values - safe_peak[segment])
    )
    return torch.log(sums) + safe_peak


def self_loop_weights(edge_index: torch.Tensor, edge_weight: torch.Tensor, num_nodes: int) -> torch.Tensor:
    """The self-loop weight of every node (0 without a loop), ``(N,)`` in ``edge_weight``'s dtype."""
    loops = edge_index[0] == edge_index[1]
    return torch.zeros(num_nodes, dtype=edge_weight.dtype).index_put_((edge_index[0, loops],), edge_weight[loops])


def edge_chunks(graphs, max_edges: int) -> list[tuple[int, int]]:
    """``(start, stop)`` ranges of consecutive ``graphs`` holding at most ``max_edges`` undirected
    edges each (a graph with more is a range of its own): batches whose memory is bounded by edges."""
    ranges, start, edges = [], 0, 0
    for k, g in enumerate(graphs):
        e = int(g.edge_index.shape[1]) // 2
        if k > start and edges + e > max_edges:
            ranges.append((start, k))
            start, edges = k, 0
        edges += e
    if start < len(graphs):
        ranges.append((start, len(graphs)))
    return ranges
