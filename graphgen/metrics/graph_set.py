"""Input hygiene for metrics: a set of graphs as numpy edge arrays, with nothing dropped silently.

Metrics accept ``list[Data]`` (graphgen's currency), ``list[networkx.Graph]`` or a PyG ``Batch``.
:func:`as_graph_set` converts them once into :class:`GraphSet` and records what it had to change:

* graphs with **0 nodes** are excluded from every descriptor (a histogram of nothing is
  undefined) and counted in ``n_empty`` -- never dropped without a trace;
* **self-loops** are stripped (they are not part of any graphlet and networkx treats them
  inconsistently across degree, clustering and the Laplacian); the number of graphs affected is
  ``n_with_self_loops`` and a :class:`MetricInputWarning` is emitted;
* **duplicate edges** are merged (simple graphs only), counted in ``n_with_duplicate_edges``;
* an edge at a node id outside ``0..n-1`` is an error (:class:`~graphgen.errors.InvalidGraphError`),
  never a silent renumbering.

The input graphs are never modified.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["GraphSet", "as_graph_set", "MetricInputWarning"]


class MetricInputWarning(UserWarning):
    """Something in the input had to be changed before a metric could be computed."""


@dataclass
class GraphSet:
    """Simple undirected graphs as ``(num_nodes, upper-triangular edge array)`` pairs.

    Attributes:
        num_nodes: ``(G,)`` node counts of the kept (non-empty) graphs.
        edges: list of ``(E_g, 2)`` int64 arrays with ``u < v``, sorted.
        n_input: graphs given. ``n_empty``: 0-node graphs excluded.
        n_with_self_loops / n_with_duplicate_edges: graphs that had them (then removed).
    """

    num_nodes: np.ndarray
    edges: list[np.ndarray]
    n_input: int = 0
    n_empty: int = 0
    n_with_self_loops: int = 0
    n_with_duplicate_edges: int = 0
    kept_index: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return int(self.num_nodes.size)

    def union(self) -> tuple[int, np.ndarray, np.ndarray]:
        """All graphs as one block-diagonal graph: ``(N, edges (E, 2), graph id of each node)``.

        Computed once per set (like :meth:`degrees` and :meth:`triangles`); the arrays are read-only.
        """
        if "union" not in self._cache:
            offsets = np.concatenate([[0], np.cumsum(self.num_nodes)[:-1]]).astype(np.int64)
            edges = (
                np.concatenate([e + o for e, o in zip(self.edges, offsets)])
                if self.edges
                else np.zeros((0, 2), dtype=np.int64)
            )
            graph_of_node = np.repeat(np.arange(len(self), dtype=np.int64), self.num_nodes)
            self._cache["union"] = (
                int(self.num_nodes.sum()),
                _read_only(edges.reshape(-1, 2)),
                _read_only(graph_of_node),
            )
        return self._cache["union"]

    def degrees(self) -> np.ndarray:
        """Degree of every node of :meth:`union` (int64, read-only)."""
        if "degrees" not in self._cache:
            n, edges, _ = self.union()
            self._cache["degrees"] = _read_only(np.bincount(edges.ravel(), minlength=n).astype(np.int64))
        return self._cache["degrees"]

    def triangles(self) -> np.ndarray:
        """Triangles at every node of :meth:`union` (int64, read-only)."""
        from graphgen.metrics.orbits import triangle_counts

        if "triangles" not in self._cache:
            self._cache["triangles"] = _read_only(triangle_counts(*self.union()))
        return self._cache["triangles"]

    def report(self) -> dict[str, int]:
        return {
            "n_input": self.n_input,
            "n_used": len(self),
            "n_empty": self.n_empty,
            "n_with_self_loops": self.n_with_self_loops,
            "n_with_duplicate_edges": self.n_with_duplicate_edges,
        }


def _edges_of(graph, what: str = "graph") -> tuple[int, np.ndarray]:
    if hasattr(graph, "edge_index"):  # PyG Data; no edge_index: no edges, as PyG reads it
        n = int(graph.num_nodes or 0)
        if graph.edge_index is None:
            return n, np.zeros((0, 2), dtype=np.int64)
        if graph.edge_index.is_floating_point() or graph.edge_index.is_complex():
            from graphgen.errors import InvalidGraphError

            raise InvalidGraphError(f"{what}: edge_index must hold integer node ids, got {graph.edge_index.dtype}")
        e = graph.edge_index.detach().cpu().numpy().T.astype(np.int64)
        return n, e.reshape(-1, 2)
    if hasattr(graph, "number_of_nodes"):  # networkx
        index = {v: i for i, v in enumerate(graph.nodes())}
        e = np.array([(index[u], index[v]) for u, v in graph.edges()], dtype=np.int64)
        return len(index), e.reshape(-1, 2)
    raise TypeError(f"expected torch_geometric Data or networkx graphs, got {type(graph).__name__}")


def _read_only(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def _sorted_unique(keys: np.ndarray) -> np.ndarray:
    """``np.unique`` for int64 keys by sort and compare (several times faster on small arrays)."""
    keys = np.sort(keys)
    return keys[np.concatenate([[True], keys[1:] != keys[:-1]])] if keys.size else keys


def _has_repeats(keys: np.ndarray) -> bool:
    if keys.size < 2 or bool(np.all(keys[1:] > keys[:-1])):  # strictly increasing: the usual case
        return False
    keys = np.sort(keys)
    return bool(np.any(keys[1:] == keys[:-1]))


def as_graph_set(graphs, *, name: str = "graphs") -> GraphSet:
    """Convert graphs for the metrics, counting (and warning about) every change made."""
    from graphgen.data.convert import check_node_ids

    if isinstance(graphs, GraphSet):
        return graphs
    if hasattr(graphs, "to_data_list"):
        graphs = graphs.to_data_list()
    graphs = list(graphs) if not isinstance(graphs, Sequence) else graphs
    sizes, edges, kept = [], [], []
    n_empty = n_loops = n_dups = 0
    for k, g in enumerate(graphs):
        n, e = _edges_of(g, f"{name}: graph {k}")
        check_node_ids(e, n, f"{name}: graph {k}")  # an id outside would wrap into other pairs below
        if n == 0:
            n_empty += 1
            continue
        loops = e[:, 0] == e[:, 1]
        if loops.any():
            n_loops += 1
            e = e[~loops]
        if _has_repeats(e[:, 0] * n + e[:, 1]):  # the same stored pair more than once
            n_dups += 1
        lo, hi = np.minimum(e[:, 0], e[:, 1]), np.maximum(e[:, 0], e[:, 1])
        keys = _sorted_unique(lo * n + hi)
        sizes.append(n)
        edges.append(np.stack([keys // n, keys % n], axis=1))
        kept.append(k)
    if n_loops:
        warnings.warn(
            f"{name}: stripped self-loops from {n_loops} graphs before computing metrics",
            MetricInputWarning,
            stacklevel=3,
        )
    return GraphSet(
        num_nodes=np.array(sizes, dtype=np.int64),
        edges=edges,
        n_input=len(graphs),
        n_empty=n_empty,
        n_with_self_loops=n_loops,
        n_with_duplicate_edges=n_dups,
        kept_index=np.array(kept, dtype=np.int64),
    )
