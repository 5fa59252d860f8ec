"""The graph hierarchy shared by HiGen and multi-resolution diffusion, batched across graphs.

For a leaf graph ``G`` with ``|E|`` edges and nested partitions (see :mod:`graphgen.data.partition`),
the hierarchy is the sequence of graphs ``G^0 (root), G^1, ..., G^L = G``. With the assignment
matrix ``S ∈ {0,1}^{K×n}`` of level ``l`` into level ``l-1``, the coarse graph is

    W = S A Sᵀ,  with its diagonal halved,

that is (Karami, ICLR 2024, Sec. 3):

* ``w_ii`` = number of edges inside community ``i`` (stored as a coarse **self-loop** of weight
  ``w_ii``; on coarse levels the edges inside a community include its members' self-loops);
* ``w_ij`` = number of edges between communities ``i`` and ``j``;
* ``Σ_i w_ii + Σ_{i<j} w_ij = |E|`` at every level; the root is one node with self-loop ``|E|``.

Each node ``i`` of ``G^{l-1}`` owns a **community** ``C_i^l`` (the subgraph of ``G^l`` induced by its
members, self-loops included), and each coarse edge ``(i, j)`` owns a **bipartite block** ``B_ij^l``
(the edges of ``G^l`` between ``C_i`` and ``C_j``). The communities and blocks reassemble ``G^l``
exactly. Everything is batched: a :class:`Hierarchy` of ``B`` graphs holds each level as one PyG
``Batch`` of ``B`` graphs, and the communities of a level, over all graphs, as one ``Batch``.

Example:
    >>> from graphgen.data import from_edge_array, build_hierarchy
    >>> two_triangles = from_edge_array(6, [[0, 1], [1, 2], [0, 2], [3, 4], [4, 5], [3, 5], [2, 3]])
    >>> h = build_hierarchy(two_triangles, seed=0)
    >>> coarse = h.levels[1]
    >>> coarse.edge_index.tolist(), coarse.edge_weight.tolist()
    ([[0, 0, 1, 1], [0, 1, 0, 1]], [3, 1, 1, 3])
    >>> h.communities(2).num_graphs, h.bipartites(2).weight.tolist()
    (2, [1])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch_geometric.data import Batch, Data

from graphgen.data.convert import _symmetrise, check_simple_graph, from_edge_array
from graphgen.data.ops import batch_vector, nodes_per_graph, num_graphs
from graphgen.data.partition import LouvainPartitioner, Partitioner
from graphgen.errors import InvalidGraphError

__all__ = ["Hierarchy", "BipartiteBlocks", "build_hierarchy", "coarsen", "batch_from_edges"]


def batch_from_edges(
    nodes_per_graph: torch.Tensor,
    edge_index: torch.Tensor,
    edge_weight: torch.Tensor | None = None,
    **graph_attrs: torch.Tensor,
) -> Batch:
    """Build a ``Batch`` from block-diagonal global COO edges (sorted by row) and per-graph sizes.

    ``graph_attrs`` are node-level tensors of length ``N`` split across the graphs.
    """
    counts = nodes_per_graph.tolist()
    offsets = torch.cumsum(nodes_per_graph, 0) - nodes_per_graph
    graph_of_node = torch.repeat_interleave(torch.arange(len(counts)), nodes_per_graph)
    edges_per_graph = torch.bincount(graph_of_node[edge_index[0]], minlength=len(counts)).tolist()
    ei_parts = torch.split(edge_index, edges_per_graph, dim=1)
    w_parts = torch.split(edge_weight, edges_per_graph) if edge_weight is not None else [None] * len(counts)
    attr_parts = {k: torch.split(v, counts) for k, v in graph_attrs.items()}
    data_list = []
    for b, (n, ei, w) in enumerate(zip(counts, ei_parts, w_parts)):
        d = Data(edge_index=ei - offsets[b], num_nodes=n)
        if w is not None:
            d.edge_weight = w
        for k, parts in attr_parts.items():
            d[k] = parts[b]
        data_list.append(d)
    return Batch.from_data_list(data_list)


def coarsen(graph: Data, assignment: torch.Tensor, num_communities: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Coarse graph ``W = S A Sᵀ`` (diagonal halved) in global COO form.

    Args:
        graph: the (batched) level graph; ``edge_weight`` defaults to ones; self-loops stored once.
        assignment: ``(N,)`` community id of each node, global over the batch.
        num_communities: total number of communities ``K``.

    Returns:
        ``(edge_index, edge_weight)`` of the coarse graph: both directions, self-loops once, sorted.
    """
    ei = graph.edge_index
    w = getattr(graph, "edge_weight", None)
    w = torch.ones(ei.shape[1], dtype=torch.long) if w is None else w
    upper = ei[0] <= ei[1]
    cs, cd = assignment[ei[0, upper]], assignment[ei[1, upper]]
    lo, hi = torch.minimum(cs, cd), torch.maximum(cs, cd)
    key = lo * max(num_communities, 1) + hi
    uniq, inverse = torch.unique(key, return_inverse=True)
    weights = torch.zeros(uniq.numel(), dtype=torch.long).index_add_(0, inverse, w[upper])
    k = max(num_communities, 1)
    coarse = _symmetrise(num_communities, uniq // k, uniq % k, weights)
    return coarse.edge_index, coarse.edge_weight


@dataclass
class BipartiteBlocks:
    """The bipartite blocks ``B_ij`` of one level, over all graphs of a batch.

    Block ``k`` joins community ``left_parent[k]`` to ``right_parent[k]`` (global node ids of the
    parent level, ``left < right``). Cross edge ``e`` belongs to block ``edge_block[e]`` and joins
    level nodes ``edge_left[e]`` (in the left community) and ``edge_right[e]``; ``left_local`` and
    ``right_local`` are their positions inside their communities, so block ``k`` is a sub-matrix of
    the ``n_i × n_j`` candidate pairs.

    Shapes:
        ``left_parent, right_parent, weight, graph_id, left_size, right_size``: ``(K,)``;
        ``edge_block, edge_left, edge_right, left_local, right_local, edge_weight``: ``(E_x,)``.
    """

    left_parent: torch.Tensor
    right_parent: torch.Tensor
    weight: torch.Tensor
    graph_id: torch.Tensor
    left_size: torch.Tensor
    right_size: torch.Tensor
    edge_block: torch.Tensor
    edge_left: torch.Tensor
    edge_right: torch.Tensor
    left_local: torch.Tensor
    right_local: torch.Tensor
    edge_weight: torch.Tensor

    @property
    def num_blocks(self) -> int:
        return int(self.left_parent.numel())


@dataclass
class Hierarchy:
    """A batch of graph hierarchies (see the module docstring).

    Attributes:
        levels: ``levels[0]`` is the root level (one node per graph, self-loop ``|E|``),
            ``levels[-1]`` the leaf graphs; each is a ``Batch`` of ``B`` graphs with integer
            ``edge_weight`` (leaf weights are ones).
        assignments: ``assignments[l]`` maps the nodes of ``levels[l + 1]`` to nodes of
            ``levels[l]`` (global ids over the batch).
        trivial_levels: per level, the number of graphs for which the partitioner could not
            coarsen further, so the step above that level is an identity (see partition.py).
    """

    levels: list[Batch]
    assignments: list[torch.Tensor]
    trivial_levels: list[int]

    @property
    def num_levels(self) -> int:
        """Number of levels below the root (2 for HiGen's coarse + leaf)."""
        return len(self.levels) - 1

    @property
    def num_graphs(self) -> int:
        return num_graphs(self.levels[-1])

    def _check_level(self, level: int) -> None:
        if not 1 <= level <= self.num_levels:
            raise IndexError(f"level must be in 1..{self.num_levels}, got {level}")

    def community_order(self, level: int) -> torch.Tensor:
        """Nodes of ``levels[level]`` grouped by parent (stable): a permutation of the level's nodes."""
        self._check_level(level)
        return torch.sort(self.assignments[level - 1], stable=True).indices

    def communities(self, level: int) -> Batch:
        """The communities of ``levels[level]``, one graph per parent node, as one ``Batch``.

        Each community graph carries node attribute ``level_node`` (global id in the level) and graph
        attributes ``parent_node`` (global parent id) and ``graph_id``. Edges keep their weights;
        on coarse levels the members' self-loops are edges of the community.
        """
        self._check_level(level)
        g, parent = self.levels[level], self.assignments[level - 1]
        num_parents = int(self.levels[level - 1].num_nodes)
        order = self.community_order(level)
        position = torch.empty_like(order)
        position[order] = torch.arange(order.numel())
        ei = g.edge_index
        inside = parent[ei[0]] == parent[ei[1]]
        cei = position[ei[:, inside]]
        w = g.edge_weight[inside]
        sort = torch.argsort(cei[0] * max(order.numel(), 1) + cei[1])
        sizes = torch.bincount(parent, minlength=num_parents)
        batch = batch_from_edges(sizes, cei[:, sort], w[sort], level_node=order)
        batch.parent_node = torch.arange(num_parents)
        batch.graph_id = batch_vector(self.levels[level - 1])
        return batch

    def bipartites(self, level: int) -> BipartiteBlocks:
        """The bipartite blocks between linked communities of ``levels[level]``."""
        self._check_level(level)
        g, parent = self.levels[level], self.assignments[level - 1]
        num_parents = int(self.levels[level - 1].num_nodes)
        ei, w = g.edge_index, g.edge_weight
        pu, pv = parent[ei[0]], parent[ei[1]]
        cross = pu < pv  # each cross edge once, oriented left (smaller parent) -> right
        left, right, weight = ei[0, cross], ei[1, cross], w[cross]
        key = pu[cross] * max(num_parents, 1) + pv[cross]
        blocks, edge_block = torch.unique(key, return_inverse=True)
        order = torch.argsort(edge_block * max(int(g.num_nodes), 1) ** 2 + left * max(int(g.num_nodes), 1) + right)
        left, right, weight, edge_block = left[order], right[order], weight[order], edge_block[order]
        sizes = torch.bincount(parent, minlength=num_parents)
        first = torch.cumsum(sizes, 0) - sizes  # first position of each community in community_order
        rank = torch.empty(int(g.num_nodes), dtype=torch.long)
        rank[self.community_order(level)] = torch.arange(int(g.num_nodes))
        lp, rp = blocks // max(num_parents, 1), blocks % max(num_parents, 1)
        return BipartiteBlocks(
            left_parent=lp,
            right_parent=rp,
            weight=torch.zeros(blocks.numel(), dtype=torch.long).index_add_(0, edge_block, weight),
            graph_id=batch_vector(self.levels[level - 1])[lp],
            left_size=sizes[lp],
            right_size=sizes[rp],
            edge_block=edge_block,
            edge_left=left,
            edge_right=right,
            left_local=rank[left] - first[parent[left]],
            right_local=rank[right] - first[parent[right]],
            edge_weight=weight,
        )

    def graph_signatures(self) -> list[bytes]:
        """One digest per graph of everything its hierarchy holds, as numbered: every level's edges
        and weights and every assignment, in the graph's own (local) node ids. Two hierarchies of a
        graph get the same digest exactly when their tensors are equal, so after ``order_hierarchy``
        equal digests mean the same generation sequence."""
        import hashlib

        digests = [hashlib.sha1() for _ in range(self.num_graphs)]
        for lv, level in enumerate(self.levels):
            graph = batch_vector(level)
            start = torch.cumsum(nodes_per_graph(level), 0) - nodes_per_graph(level)
            ei, w = level.edge_index, level.edge_weight
            owner = graph[ei[0]]
            parts = [(owner, torch.cat([(ei - start[owner]).t(), w.view(-1, 1)], 1))]
            if lv + 1 < len(self.levels):  # the assignment of the level below, in local ids on both sides
                child = self.levels[lv + 1]
                child_graph = batch_vector(child)
                local = self.assignments[lv] - start[child_graph]
                parts.append((child_graph, local.view(-1, 1)))
            for tag, (owner_of, rows) in enumerate(parts):  # each graph's rows, in order: one stable sort
                order = torch.argsort(owner_of, stable=True)
                counts = torch.bincount(owner_of, minlength=self.num_graphs).tolist()
                for digest, mine in zip(digests, torch.split(rows[order].to(torch.int64), counts), strict=True):
                    digest.update(f"|{lv}.{tag}:{tuple(mine.shape)}|".encode())
                    digest.update(mine.contiguous().numpy().tobytes())
        return [d.digest() for d in digests]

    def reassemble(self, level: int) -> Data:
        """Rebuild ``levels[level]`` (global ids, whole batch) from its communities and blocks."""
        comm = self.communities(level)
        blocks = self.bipartites(level)
        inner = comm.level_node[comm.edge_index]
        keep = inner[0] <= inner[1]
        edges = torch.cat([inner[:, keep].t(), torch.stack([blocks.edge_left, blocks.edge_right], 1)])
        weights = torch.cat([comm.edge_weight[keep], blocks.edge_weight])
        return from_edge_array(int(self.levels[level].num_nodes), edges, weights, allow_self_loops=True)


def _as_batch(graphs: Data | Batch | Sequence[Data]) -> Batch:
    if isinstance(graphs, Batch):
        data_list = graphs.to_data_list()
    elif isinstance(graphs, Data):
        data_list = [graphs]
    else:
        data_list = list(graphs)
    if not data_list:
        raise InvalidGraphError("cannot build a hierarchy of zero graphs")
    clean = []
    for k, g in enumerate(data_list):
        if int(g.num_nodes or 0) == 0:
            raise InvalidGraphError(f"graph {k} has no nodes; a hierarchy needs at least one node")
        check_simple_graph(g, what=f"graph {k}")  # ids in range, both directions, no self-loop or repeat
        ei = g.edge_index.long()
        w = getattr(g, "edge_weight", None)
        d = Data(edge_index=ei, num_nodes=int(g.num_nodes))
        d.edge_weight = torch.ones(ei.shape[1], dtype=torch.long) if w is None else w.to(torch.long)
        clean.append(d)
    return Batch.from_data_list(clean)


def build_hierarchy(
    graphs: Data | Batch | Sequence[Data],
    *,
    num_levels: int = 2,
    partitioner: Partitioner | None = None,
    seed: int = 0,
) -> Hierarchy:
    """Build the hierarchies of one graph or a batch of graphs.

    Args:
        graphs: leaf graphs (simple, undirected, at least one node each).
        num_levels: levels below the root (2: coarse graph + leaf graph, as in HiGen; >= 1).
            ``num_levels=1`` is the trivial hierarchy root -> leaf.
        partitioner: a :class:`~graphgen.data.partition.Partitioner` (default: Louvain at
            resolution 1).
        seed: seed of the partitioner, the same for every graph, so a graph's hierarchy does not
            depend on the batch it is in.

    Returns:
        A :class:`Hierarchy` whose ``levels`` are ``Batch`` objects of all graphs.
    """
    if num_levels < 1:
        raise ValueError(f"num_levels must be >= 1, got {num_levels}")
    leaf = _as_batch(graphs)
    partitioner = partitioner or LouvainPartitioner()
    data_list = leaf.to_data_list()
    num_partitions = num_levels - 1
    per_graph = [partitioner.partition_levels(g, num_partitions, seed) if num_partitions else [] for g in data_list]
    # root assignment: every node of the coarsest level -> the graph's root
    levels: list[Batch] = [leaf]
    assignments: list[torch.Tensor] = []
    trivial: list[int] = []
    current = leaf
    for step in range(num_partitions):
        local = [parts[step] for parts in per_graph]
        sizes = torch.tensor([int(a.max()) + 1 if a.numel() else 0 for a in local], dtype=torch.long)
        offsets = torch.cumsum(sizes, 0) - sizes
        assignment = torch.cat([a + offsets[b] for b, a in enumerate(local)])
        trivial.append(sum(int(s) == int(n) for s, n in zip(sizes, nodes_per_graph(current))))
        cei, cw = coarsen(current, assignment, int(sizes.sum()))
        coarse = batch_from_edges(sizes, cei, cw)
        assignments.append(assignment)
        levels.append(coarse)
        current = coarse
    root_assignment = batch_vector(current)
    rei, rw = coarsen(current, root_assignment, num_graphs(leaf))
    root = batch_from_edges(torch.ones(num_graphs(leaf), dtype=torch.long), rei, rw)
    assignments.append(root_assignment)
    levels.append(root)
    trivial.append(0)
    levels.reverse()
    assignments.reverse()
    trivial.reverse()
    return Hierarchy(levels=levels, assignments=assignments, trivial_levels=trivial)
