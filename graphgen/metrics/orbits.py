"""Graphlet orbit counts: the 15 node orbits of all graphlets on 2 to 4 nodes (ORCA's numbering).

For every node ``v`` we count, exactly and in int64, how many induced connected subgraphs on 2-4
nodes contain ``v`` in each automorphism orbit (Hočevar & Demšar, "A combinatorial approach to
graphlet counting", Bioinformatics 2014, whose numbering we follow)::

    0  edge                          8  4-cycle
    1  end of a 3-path              9  paw, the pendant node
    2  middle of a 3-path          10  paw, a degree-2 triangle node
    3  triangle                    11  paw, the degree-3 node
    4  end of a 4-path             12  diamond, a degree-2 node
    5  middle of a 4-path          13  diamond, a degree-3 node
    6  leaf of a 3-star            14  4-clique
    7  centre of a 3-star

Method (ours, written from the definitions). Orbits 0-3 have closed forms in the degrees ``d`` and
triangle counts ``T``. For orbits 4-14 we first count **non-induced** pattern occurrences ``N_k(v)``
(the pattern's edges must be present, other edges among its 4 nodes may be too), which are cheap
sparse-algebra expressions::

    N4  = (A S)_v - d_v (d_v - 1) - 2 T_v,     S = A (d - 1)
    N5  = (d_v - 1) S_v - 2 T_v
    N6  = Σ_{a~v} C(d_a - 1, 2)                 N7  = C(d_v, 3)
    N8  = Σ_{b≠v} C((A²)_vb, 2)
    N9  = Σ_{a~v} (T_a - c_va)                 N10 = Σ_{a~v} c_va (d_a - 2)
    N11 = T_v (d_v - 2)
    N12 = Σ_{triangles {v,a,b}} (c_ab - 1)      N13 = Σ_{a~v} C(c_va, 2)
    N14 = number of 4-cliques containing v

with ``c_uv = |N(u) ∩ N(v)|`` on edges. Each induced orbit ``j`` contains each pattern orbit ``k``
a fixed number of times ``M[k, j]``, so ``N = M O``. ``M`` is obtained by evaluating the same
formulas on the 11 graphlet-orbit representatives themselves; it is unitriangular, so the induced
counts ``O = M⁻¹ N`` follow exactly in integer arithmetic. Triangles and 4-cliques are listed
explicitly (each once, by increasing node id), which costs ``O(Σ_v d_v²)``.

Graphs are handled as one block-diagonal sparse matrix, so a whole set is counted in one pass.
Self-loops are ignored (they are not part of any graphlet). Edgeless graphs give zeros.

Two implementations evaluate these formulas: the C++ counter of :mod:`graphgen.metrics.orbit_kernel`
(graph by graph with node markers; used when it builds here, about 10x faster on the metrics
benchmark's SBM graphs) and the vectorised numpy code below (sparse products, always available).
``method="auto"`` takes the first available; both are tested against ORCA and against each other.

Example:
    >>> import numpy as np
    >>> orbit_counts_from_edges(4, np.array([[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]]))[0].tolist()
    [3, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.sparse as sp

__all__ = ["orbit_counts_from_edges", "triangle_counts", "common_neighbour_counts", "NUM_ORBITS", "ORBIT_NAMES"]

_METHODS = ("auto", "native", "numpy")

NUM_ORBITS = 15
ORBIT_NAMES = (
    "edge",
    "3-path end",
    "3-path middle",
    "triangle",
    "4-path end",
    "4-path middle",
    "3-star leaf",
    "3-star centre",
    "4-cycle",
    "paw pendant",
    "paw degree-2",
    "paw degree-3",
    "diamond degree-2",
    "diamond degree-3",
    "4-clique",
)


def _choose2(x: np.ndarray) -> np.ndarray:
    return x * (x - 1) // 2


def _choose3(x: np.ndarray) -> np.ndarray:
    return x * (x - 1) * (x - 2) // 6


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + c)`` for each pair, vectorised."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - (np.cumsum(counts) - counts), counts)
    return offsets + np.arange(total, dtype=np.int64)


def _contains(sorted_keys: np.ndarray, query: np.ndarray) -> np.ndarray:
    if sorted_keys.size == 0:
        return np.zeros(query.shape, dtype=bool)
    pos = np.searchsorted(sorted_keys, query).clip(max=sorted_keys.size - 1)
    return sorted_keys[pos] == query


class _Adjacency:
    """Membership tests and common-neighbour counts for a block-diagonal union of graphs.

    When the graphs are small enough, each node gets a dense row over the nodes of its own graph
    (a boolean row for O(1) membership and a packed 64-bit row whose AND/popcount gives common
    neighbour counts). Otherwise sorted keys and binary search are used. Both give identical results.
    """

    DENSE_BUDGET = 64_000_000  # booleans in the dense local adjacency before falling back

    def __init__(self, n: int, rows: np.ndarray, cols: np.ndarray, graph_of_node: np.ndarray | None):
        self.n = n
        if graph_of_node is None:
            graph_of_node = np.zeros(n, dtype=np.int64)
        sizes = np.bincount(graph_of_node) if n else np.zeros(1, dtype=np.int64)
        offsets = np.cumsum(sizes) - sizes
        self.local = np.arange(n, dtype=np.int64) - offsets[graph_of_node]
        width = int(sizes.max()) if n else 0
        self.dense = n * width <= self.DENSE_BUDGET and width > 0
        if self.dense:
            self.bool_rows = np.zeros((n, width), dtype=bool)
            self.bool_rows[rows, self.local[cols]] = True
            padded = np.zeros((n, -(-width // 64) * 64), dtype=bool)
            padded[:, :width] = self.bool_rows
            self.bit_rows = np.packbits(padded, axis=1, bitorder="little").view(np.uint64)
        else:
            self.keys = np.sort(rows * n + cols)

    def contains(self, u: np.ndarray, x: np.ndarray) -> np.ndarray:
        if self.dense:
            return self.bool_rows[u, self.local[x]]
        return _contains(self.keys, u * self.n + x)

    def common(self, u: np.ndarray, w: np.ndarray, a2_lookup) -> np.ndarray:
        """``|N(u) ∩ N(w)|`` for pairs of nodes of the same graph."""
        if self.dense:
            out = np.zeros(u.size, dtype=np.int64)
            for start in range(0, u.size, 1 << 16):  # chunks bound the temporary memory
                sl = slice(start, start + (1 << 16))
                out[sl] = np.bitwise_count(self.bit_rows[u[sl]] & self.bit_rows[w[sl]]).sum(axis=1)
            return out
        return a2_lookup(u, w)


def _sorted_lookup(a2, n: int):
    """``(x, y) -> (A²)_{xy}`` by binary search in the sorted entries of ``A²``."""
    a2 = a2.copy()
    a2.sort_indices()
    keys = np.repeat(np.arange(n, dtype=np.int64), np.diff(a2.indptr)) * n + a2.indices
    vals = a2.data.astype(np.int64)

    def lookup(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        query = x * n + y
        if keys.size == 0:
            return np.zeros(query.shape, dtype=np.int64)
        pos = np.searchsorted(keys, query).clip(max=keys.size - 1)
        return np.where(keys[pos] == query, vals[pos], 0)

    return lookup


def common_neighbour_counts(
    n: int, edges: np.ndarray, graph_of_node: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(rows, cols, c)``: both directions of each edge and ``c = |N(row) ∩ N(col)|``.

    ``edges`` are undirected edges ``u < v`` without loops or duplicates.
    """
    rows = np.concatenate([edges[:, 0], edges[:, 1]])
    cols = np.concatenate([edges[:, 1], edges[:, 0]])
    lookup = _Adjacency(n, rows, cols, graph_of_node)
    if lookup.dense:
        return rows, cols, lookup.common(rows, cols, None)
    adj = sp.csr_matrix((np.ones(rows.size, dtype=np.int64), (rows, cols)), shape=(n, n))
    return rows, cols, _sorted_lookup((adj @ adj).tocsr(), n)(rows, cols)


def _non_induced_counts(
    n: int, u: np.ndarray, w: np.ndarray, graph_of_node: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Orbits 0-3 (induced, closed form) and non-induced pattern counts N4..N14, each ``(n,)`` int64.

    ``u < w`` are the undirected edges (no loops, no duplicates), node ids ``0..n-1``;
    ``graph_of_node`` (optional) says which graph of a block-diagonal union each node belongs to.
    """
    m = u.size
    ones = np.ones(2 * m, dtype=np.int64)
    rows, cols = np.concatenate([u, w]), np.concatenate([w, u])
    adj = sp.csr_matrix((ones, (rows, cols)), shape=(n, n), dtype=np.int64)
    deg = np.asarray(adj.sum(axis=1)).ravel().astype(np.int64)
    a2 = (adj @ adj).tocsr()  # (A²)_{vb}: common neighbours of v and b
    a2_rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(a2.indptr))
    a2_vals = a2.data.astype(np.int64)
    lookup = _Adjacency(n, rows, cols, graph_of_node)
    a2_lookup = None if lookup.dense else _sorted_lookup(a2, n)
    c_edge = lookup.common(rows, cols, a2_lookup)  # c_va for each directed edge (v=rows, a=cols)
    tri = np.bincount(rows, weights=c_edge, minlength=n).astype(np.int64) // 2
    s = adj @ (deg - 1)

    # ---- list triangles u < v < x: x runs over the upper neighbours of v, checked against (u, x)
    upper = sp.csr_matrix((np.ones(m, dtype=np.int64), (u, w)), shape=(n, n))
    upper.sort_indices()
    starts, counts = upper.indptr[w], np.diff(upper.indptr)[w]
    cand = upper.indices[_ranges(starts, counts)].astype(np.int64)
    eu, ev = np.repeat(u, counts), np.repeat(w, counts)
    ok = lookup.contains(eu, cand)
    t_u, t_v, t_x = eu[ok], ev[ok], cand[ok]
    # ---- list 4-cliques u < v < x < y: y over the upper neighbours of x, checked against u and v
    starts, counts = upper.indptr[t_x], np.diff(upper.indptr)[t_x]
    cand = upper.indices[_ranges(starts, counts)].astype(np.int64)
    qu, qv = np.repeat(t_u, counts), np.repeat(t_v, counts)
    ok = lookup.contains(qu, cand)
    ok[ok] = lookup.contains(qv[ok], cand[ok])
    k4_nodes = np.concatenate([qu[ok], qv[ok], np.repeat(t_x, counts)[ok], cand[ok]])
    k4 = np.bincount(k4_nodes, minlength=n).astype(np.int64)

    out = np.zeros((NUM_ORBITS, n), dtype=np.int64)
    out[0] = deg
    out[1] = s - 2 * tri
    out[2] = _choose2(deg) - tri
    out[3] = tri
    out[4] = adj @ s - deg * (deg - 1) - 2 * tri
    out[5] = (deg - 1) * s - 2 * tri
    out[6] = adj @ _choose2(deg - 1)
    out[7] = _choose3(deg)
    off_diag = a2_rows != a2.indices
    out[8] = np.bincount(a2_rows[off_diag], weights=_choose2(a2_vals[off_diag]), minlength=n).astype(np.int64)
    out[9] = adj @ tri - np.bincount(rows, weights=c_edge, minlength=n).astype(np.int64)
    out[10] = np.bincount(rows, weights=c_edge * (deg[cols] - 2), minlength=n).astype(np.int64)
    out[11] = tri * (deg - 2)
    # N12: each triangle credits each of its nodes with (common neighbours of the other two) - 1
    tri_nodes = np.concatenate([t_u, t_v, t_x])
    opposite = np.concatenate(
        [lookup.common(t_v, t_x, a2_lookup), lookup.common(t_u, t_x, a2_lookup), lookup.common(t_u, t_v, a2_lookup)]
    )
    out[12] = np.bincount(tri_nodes, weights=opposite - 1, minlength=n).astype(np.int64)
    out[13] = np.bincount(rows, weights=_choose2(c_edge), minlength=n).astype(np.int64)
    out[14] = k4
    return out[:4], out[4:]


# representatives of the 11 orbits on 4 nodes: (edges, node in the orbit)
_REPRESENTATIVES = (
    ([(0, 1), (1, 2), (2, 3)], 0),  # 4  path end
    ([(0, 1), (1, 2), (2, 3)], 1),  # 5  path middle
    ([(0, 1), (0, 2), (0, 3)], 1),  # 6  star leaf
    ([(0, 1), (0, 2), (0, 3)], 0),  # 7  star centre
    ([(0, 1), (1, 2), (2, 3), (0, 3)], 0),  # 8  cycle
    ([(0, 1), (1, 2), (0, 2), (2, 3)], 3),  # 9  paw pendant
    ([(0, 1), (1, 2), (0, 2), (2, 3)], 0),  # 10 paw degree-2
    ([(0, 1), (1, 2), (0, 2), (2, 3)], 2),  # 11 paw degree-3
    ([(0, 1), (1, 2), (2, 3), (0, 3), (0, 2)], 1),  # 12 diamond degree-2
    ([(0, 1), (1, 2), (2, 3), (0, 3), (0, 2)], 0),  # 13 diamond degree-3
    ([(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)], 0),  # 14 clique
)


@lru_cache(maxsize=1)
def _inverse_pattern_matrix() -> np.ndarray:
    """Exact integer inverse of M, where ``M[k, j]`` = copies of pattern orbit k in induced orbit j."""
    cols = []
    for edges, node in _REPRESENTATIVES:
        e = np.array(edges, dtype=np.int64)
        _, non_induced = _non_induced_counts(4, e[:, 0], e[:, 1])
        cols.append(non_induced[:, node])
    m = np.stack(cols, axis=1)
    if not np.array_equal(np.diag(m), np.ones(11, dtype=np.int64)) or np.any(np.tril(m, -1)):
        raise AssertionError("pattern matrix is not unitriangular; orbit formulas are inconsistent")
    inv = np.eye(11, dtype=np.int64)  # back-substitution for the upper-unitriangular inverse
    for i in range(10, -1, -1):
        for j in range(i + 1, 11):
            inv[i] -= m[i, j] * inv[j]
    return inv


def _simple_edges(edges) -> tuple[np.ndarray, np.ndarray]:
    """``(u, w)`` with ``u < w``, self-loops removed."""
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    u, w = np.minimum(e[:, 0], e[:, 1]), np.maximum(e[:, 0], e[:, 1])
    keep = u != w
    return u[keep], w[keep]


def _native(method: str, function, *args):
    """The C++ counter's result for ``method`` auto/native, ``None`` for numpy (or auto without it)."""
    if method not in _METHODS:
        raise ValueError(f"unknown orbit-counting method {method!r}; choose one of {', '.join(_METHODS)}")
    if method == "numpy":
        return None
    result = function(*args)
    if result is None and method == "native":
        raise RuntimeError("the C++ graphlet counter is not available here (see graphgen.metrics.orbit_kernel)")
    return result


def orbit_counts_from_edges(
    num_nodes: int, edges: np.ndarray, graph_of_node: np.ndarray | None = None, method: str = "auto"
) -> np.ndarray:
    """Orbit counts ``(num_nodes, 15)`` int64 of a simple undirected graph (or a block-diagonal union).

    Args:
        num_nodes: number of nodes.
        edges: ``(E, 2)`` undirected edges, each once, any orientation; self-loops are ignored.
        graph_of_node: for a union of graphs whose nodes are contiguous per graph, the graph of
            each node (lets both counters work graph by graph; results are identical).
        method: ``auto`` (the C++ counter when it builds, else numpy), ``native`` or ``numpy``.
    """
    from graphgen.metrics.orbit_kernel import native_pattern_counts

    u, w = _simple_edges(edges)
    counts = _native(method, native_pattern_counts, num_nodes, u, w, graph_of_node)
    if counts is None:
        counts = np.concatenate(_non_induced_counts(num_nodes, u, w, graph_of_node), axis=0)
    induced = _inverse_pattern_matrix() @ counts[4:]
    return np.concatenate([counts[:4], induced], axis=0).T.copy()


def triangle_counts(
    num_nodes: int, edges: np.ndarray, graph_of_node: np.ndarray | None = None, method: str = "auto"
) -> np.ndarray:
    """Triangles at each node ``(num_nodes,)`` int64; arguments as :func:`orbit_counts_from_edges`."""
    from graphgen.metrics.orbit_kernel import native_triangle_counts

    u, w = _simple_edges(edges)
    tri = _native(method, native_triangle_counts, num_nodes, u, w, graph_of_node)
    if tri is None:
        rows, _, common = common_neighbour_counts(num_nodes, np.stack([u, w], axis=1), graph_of_node)
        tri = np.bincount(rows, weights=common, minlength=num_nodes).astype(np.int64) // 2
    return tri
