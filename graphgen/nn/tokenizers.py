"""Graph tokenizers: turn a batch of graphs into sequences for sequence models.

Every tokenizer is a strategy with one method, ``tokenize(edge_index, batch, num_nodes, generator)``,
returning a :class:`Tokens` record: a sparse **pooling matrix** ``P`` whose rows are tokens (the
mean over each token's member nodes) and the layout of those tokens into padded sequences. An
encoder turns node states ``h`` into token states with ``P @ h`` at every layer, so tokenization
(walk sampling, clustering) runs once per batch, and gradients flow through the pooling.

* :class:`NodeTokenizer` -- one sequence per graph, its nodes sorted by degree (ascending, ties
  broken by uniform noise, stable sort: Graph-Mamba's ordering);
* :class:`RandomWalkTokenizer` -- GMN (Behrouz & Hashemi 2024): for node ``v``, walk length
  ``m_hat = 1..m`` and repetition ``1..s``, the union ``T`` of ``M`` random walks of length ``m_hat``
  from ``v`` is a token; a node's sequence is ``[T_m^(1..s), ..., T_1^(1..s), {v}]`` (widest first,
  the node itself last: length ``m s + 1``). Token extras: ``log |T|``, ``log(1 + |E(G[T])|)``,
  ``m_hat / m``. Deviation from GMN, documented: a token is encoded by the mean of its members'
  states plus those extras, not by a GatedGCN run on ``G[T]``;
* :class:`HACTokenizer` -- GSM++ (Behrouz et al. 2024): hierarchical affinity clustering
  (Borůvka rounds: every cluster joins its most similar neighbouring cluster, similarity = the
  largest edge similarity ``-||x_u - x_v||`` between them, single linkage) builds a tree; the
  ``"bfs"`` reading is one node sequence per graph in tree order (siblings adjacent), the ``"dfs"``
  reading is, per node, its root-to-leaf path of clusters (coarse to fine, the node last).
  Choice: the similarity uses the input features, not learned GatedGCN states, so the tree is
  computed once per batch. :func:`hac_positional_encoding` gives each node ``log`` of the size of
  its cluster at every level (the HAC-tree positional encoding; GSM++'s exact formula is unknown).

Tokenizers run on the CPU and take CPU tensors; :meth:`Tokens.to` moves their result to the
device of the node states. Choice: tokenization is discrete, data-dependent work (sorts, scipy's
connected components, walks drawn from a CPU ``torch.Generator``), done once per batch; keeping it
on the CPU means one seed gives the same tokens on every device, so an encoder's output on a GPU
equals its CPU output up to float rounding (``tests/nn/test_cuda.py``).

Example:
    >>> import torch
    >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    >>> tokens = NodeTokenizer().tokenize(edge_index, torch.zeros(3, dtype=torch.long), 3)
    >>> tokens.lengths.tolist(), tokens.order.tolist()  # degrees 1, 2, 1: the path's ends first
    ([3], [0, 2, 1])
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from graphgen.data.ops import sparse_coo

__all__ = [
    "Tokens",
    "Tokenizer",
    "NodeTokenizer",
    "RandomWalkTokenizer",
    "HACTokenizer",
    "HACTree",
    "degree_order",
    "hac_tree",
    "hac_positional_encoding",
    "random_walks",
]


@dataclass
class Tokens:
    """Tokens of a batch laid out as padded sequences.

    Attributes:
        pool: sparse ``(T, N)`` matrix; token ``t`` is ``pool[t] @ h`` (a mean over its members).
        order: ``(T,)`` token ids in sequence order (sequence after sequence).
        lengths: ``(S,)`` length of every sequence.
        owner: ``(S,)`` the node a sequence belongs to (per-node sequences), or -1 (per-graph).
        extras: ``(T, k)`` token features beyond the pooled states (sizes, scales), maybe ``k = 0``.
    """

    pool: torch.Tensor
    order: torch.Tensor
    lengths: torch.Tensor
    owner: torch.Tensor
    extras: torch.Tensor

    def to(self, device: torch.device | str) -> Tokens:
        """This record with every tensor on ``device`` (tokenizers build it on the CPU)."""
        return Tokens(*(t.to(device) for t in (self.pool, self.order, self.lengths, self.owner, self.extras)))

    def sequences(self, h: torch.Tensor) -> torch.Tensor:
        """``(S, L_max, d)`` padded token states for node states ``h`` (``(N, d)``)."""
        tok = torch.sparse.mm(self.pool, h)[self.order]
        if self.extras.shape[1]:
            tok = torch.cat([tok, self.extras[self.order]], dim=1)
        return pad_sequences(tok, self.lengths)


def pad_sequences(flat: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Split ``flat`` (``(sum lengths, d)``) into a zero-padded ``(S, max length, d)`` tensor."""
    seq = torch.repeat_interleave(torch.arange(lengths.numel(), device=flat.device), lengths)
    starts = torch.cumsum(lengths, 0) - lengths
    pos = torch.arange(flat.shape[0], device=flat.device) - starts[seq]
    out = flat.new_zeros(lengths.numel(), int(lengths.max()) if lengths.numel() else 0, flat.shape[1])
    out[seq, pos] = flat
    return out


def unpad_sequences(padded: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`pad_sequences`: the real positions, sequence after sequence."""
    mask = torch.arange(padded.shape[1], device=padded.device)[None, :] < lengths[:, None]
    return padded[mask]


class Tokenizer:
    """The strategy interface: ``tokenize(edge_index, batch, num_nodes, generator=None, x=None) -> Tokens``.

    ``deterministic`` tokenizers ignore the generator (one tokenization per input).
    """

    deterministic = False

    def tokenize(self, edge_index, batch, num_nodes, generator=None, x=None) -> Tokens:  # pragma: no cover
        raise NotImplementedError


def _degree(edge_index: torch.Tensor, num_nodes: int) -> torch.Tensor:
    return torch.bincount(edge_index[0], minlength=num_nodes)


def _feature_rank(x: torch.Tensor) -> torch.Tensor:
    """Rank of every row of ``x`` in lexicographic order of its columns (stable; equal rows keep id order)."""
    order = torch.arange(x.shape[0])
    for col in range(x.shape[1] - 1, -1, -1):
        order = order[torch.argsort(x[order, col], stable=True)]
    rank = torch.empty_like(order)
    rank[order] = torch.arange(x.shape[0])
    return rank


def degree_order(
    edge_index: torch.Tensor,
    batch: torch.Tensor,
    num_nodes: int,
    generator: torch.Generator | None = None,
    x: torch.Tensor | None = None,
) -> torch.Tensor:
    """Nodes sorted by (graph, degree, tie-break), ascending and stable.

    Tie-break: the features ``x`` in lexicographic order when given (canonical: permutation
    equivariant when no two tied nodes share features), else uniform noise from ``generator``
    (Graph-Mamba), else node id.
    """
    order = torch.arange(num_nodes)
    if x is not None:
        order = torch.argsort(_feature_rank(x.detach()), stable=True)
    elif generator is not None:
        order = torch.randperm(num_nodes, generator=generator)
    degree = _degree(edge_index, num_nodes)
    order = order[torch.argsort(degree[order], stable=True)]
    return order[torch.argsort(batch[order], stable=True)]


def _mean_pool(rows: torch.Tensor, cols: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """Sparse ``(T, N)`` matrix averaging, for every token row, the member nodes in ``cols``."""
    counts = torch.bincount(rows, minlength=shape[0]).float()
    values = 1.0 / counts[rows]
    return sparse_coo(torch.stack([rows, cols]), values, shape, check=True)


def _identity_pool(num_nodes: int) -> torch.Tensor:
    idx = torch.arange(num_nodes)
    return _mean_pool(idx, idx, (num_nodes, num_nodes))


@dataclass
class NodeTokenizer(Tokenizer):
    """One sequence per graph: its nodes by ascending degree; ties broken at random (``"random"``,
    Graph-Mamba) or by the node features (``"features"``: canonical, hence permutation-equivariant)."""

    tie_break: str = "random"

    def __post_init__(self):
        if self.tie_break not in ("random", "features"):
            raise ValueError(f"tie_break must be 'random' or 'features', got {self.tie_break!r}")
        self.deterministic = self.tie_break == "features"

    def tokenize(self, edge_index, batch, num_nodes, generator=None, x=None) -> Tokens:
        by_features = self.tie_break == "features" and x is not None
        order = degree_order(
            edge_index, batch, num_nodes, None if by_features else generator, x if by_features else None
        )
        lengths = torch.bincount(batch, minlength=int(batch.max()) + 1 if num_nodes else 0)
        return Tokens(
            _identity_pool(num_nodes), order, lengths, torch.full_like(lengths, -1), torch.zeros(num_nodes, 0)
        )


def random_walks(
    edge_index: torch.Tensor, num_nodes: int, starts: torch.Tensor, length: int, generator: torch.Generator | None
) -> torch.Tensor:
    """``(len(starts), length + 1)`` uniform random walks (an isolated node stays where it is)."""
    order = torch.argsort(edge_index[0], stable=True)
    targets = edge_index[1][order]
    deg = _degree(edge_index, num_nodes)
    ptr = torch.cumsum(deg, 0) - deg
    walk = [starts]
    cur = starts
    for _ in range(length):
        d = deg[cur]
        pick = (torch.rand(cur.shape, generator=generator) * d.clamp(min=1)).long().clamp(max=(d - 1).clamp(min=0))
        nxt = targets[(ptr[cur] + pick).clamp(max=max(targets.numel() - 1, 0))] if targets.numel() else cur
        cur = torch.where(d > 0, nxt, cur)
        walk.append(cur)
    return torch.stack(walk, dim=1)


@dataclass
class RandomWalkTokenizer(Tokenizer):
    """GMN neighbourhood tokens (see the module docstring): ``m`` walk lengths, ``s`` samples, ``M`` walks."""

    m: int = 2
    s: int = 1
    M: int = 4

    def __post_init__(self):
        if self.m < 0 or self.s < 1 or self.M < 1:
            raise ValueError(
                f"RandomWalkTokenizer needs m >= 0, s >= 1, M >= 1; got m={self.m}, s={self.s}, M={self.M}"
            )

    @property
    def sequence_length(self) -> int:
        return self.m * self.s + 1

    def tokenize(self, edge_index, batch, num_nodes, generator=None, x=None) -> Tokens:
        n = num_nodes
        nodes = torch.arange(n)
        rows, cols, extras = [], [], []
        token = 0
        edge_keys = torch.unique(edge_index[0] * max(n, 1) + edge_index[1])
        per_node_tokens = []  # token ids of each slot, widest first; shape (slots, n)
        for m_hat in range(self.m, 0, -1):
            for _ in range(self.s):
                walks = random_walks(edge_index, n, nodes.repeat_interleave(self.M), m_hat, generator)
                members = walks.view(n, self.M * (m_hat + 1))  # (n, K) with repeats
                members, _ = torch.sort(members, dim=1)
                first = torch.ones_like(members, dtype=torch.bool)
                first[:, 1:] = members[:, 1:] != members[:, :-1]
                size = first.sum(dim=1)
                pairs = members[:, :, None] * max(n, 1) + members[:, None, :]  # (n, K, K)
                inside = torch.isin(pairs, edge_keys) & first[:, :, None] & first[:, None, :]
                num_edges = inside.sum(dim=(1, 2)) // 2
                tok_ids = token + nodes
                r = tok_ids[:, None].expand_as(members)[first]
                rows.append(r)
                cols.append(members[first])
                extras.append(
                    torch.stack(
                        [size.float().log(), num_edges.float().log1p(), torch.full((n,), m_hat / self.m)], dim=1
                    )
                )
                per_node_tokens.append(tok_ids)
                token += n
        rows.append(token + nodes)
        cols.append(nodes)
        extras.append(torch.zeros(n, 3))  # the node itself: no extras
        per_node_tokens.append(token + nodes)
        token += n
        pool = _mean_pool(torch.cat(rows), torch.cat(cols), (token, n))
        order = torch.stack(per_node_tokens, dim=1).reshape(-1)  # node after node, slots in order
        lengths = torch.full((n,), self.sequence_length, dtype=torch.long)
        return Tokens(pool, order, lengths, nodes, torch.cat(extras))


@dataclass
class HACTree:
    """A hierarchical affinity clustering of a batch: ``assignment[l][v]`` = cluster of node v at level l.

    Level 0 holds singletons; the last level holds one cluster per graph. Cluster ids are global
    across the batch and distinct between levels' tensors (each level numbered from 0).
    """

    assignment: list[torch.Tensor]
    num_clusters: list[int]

    @property
    def num_levels(self) -> int:
        return len(self.assignment)


def _components(num: int, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Connected-component labels (0..k-1 in order of first appearance) of ``num`` items linked a-b."""
    import numpy as np
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(a.numel()), (a.numpy(), b.numpy())), shape=(num, num))
    _, labels = connected_components(graph, directed=False)
    labels = torch.from_numpy(labels).long()
    _, first = torch.unique(labels, return_inverse=True)
    return first


def hac_tree(edge_index: torch.Tensor, batch: torch.Tensor, x: torch.Tensor | None, num_nodes: int) -> HACTree:
    """Affinity clustering (Bateni et al. 2017) by Borůvka rounds; see the module docstring.

    Edge similarity ``-||x_u - x_v||`` (degree when ``x`` is None), ties broken by the smaller
    neighbour id. Each round, every cluster links to its most similar neighbouring cluster and
    connected groups merge: on a connected graph the number of clusters at least halves per round.
    Once no edge crosses clusters, the remaining clusters of each graph merge into its root.
    """
    feats = _degree(edge_index, num_nodes).float()[:, None] if x is None else x.detach().float()
    sim = -(feats[edge_index[0]] - feats[edge_index[1]]).norm(dim=1)
    cluster = torch.arange(num_nodes)
    levels, counts = [cluster.clone()], [num_nodes]
    num_graphs = int(batch.max()) + 1 if num_nodes else 0
    while True:
        cu, cv = cluster[edge_index[0]], cluster[edge_index[1]]
        cross = cu != cv
        k = counts[-1]
        if not cross.any():
            break
        su, sv, ss = cu[cross], cv[cross], sim[cross]
        # the best neighbour of every cluster: sort by (cluster, -similarity, neighbour id)
        key = torch.argsort(sv, stable=True)
        key = key[torch.argsort(-ss[key], stable=True)]
        key = key[torch.argsort(su[key], stable=True)]
        su, sv = su[key], sv[key]
        first = torch.ones_like(su, dtype=torch.bool)
        first[1:] = su[1:] != su[:-1]
        cluster = _components(k, su[first], sv[first])[cluster]
        counts.append(int(cluster.max()) + 1)
        levels.append(cluster.clone())
    if counts[-1] != num_graphs:  # disconnected graphs: one root per graph above the components
        root = batch.clone()
        levels.append(root)
        counts.append(num_graphs)
    return HACTree(levels, counts)


def hac_positional_encoding(tree: HACTree, max_levels: int) -> torch.Tensor:
    """``(N, max_levels)``: log of the size of each node's cluster at levels 1..max_levels (last level repeated)."""
    cols = []
    for level in range(1, max_levels + 1):
        a = tree.assignment[min(level, tree.num_levels - 1)]
        cols.append(torch.bincount(a).float()[a].log())
    return torch.stack(cols, dim=1) if cols else torch.zeros(tree.assignment[0].numel(), 0)


def _tree_order(tree: HACTree, batch: torch.Tensor, node_rank: torch.Tensor) -> torch.Tensor:
    """Nodes sorted so that every cluster of every level is contiguous (siblings adjacent).

    Clusters are ordered by the smallest ``node_rank`` among their members, not by their ids, so
    the reading does not depend on how nodes are numbered when the ranks are canonical.
    """
    keys = [batch]
    for level in range(tree.num_levels - 1, -1, -1):
        a = tree.assignment[level]
        first = torch.full((tree.num_clusters[level],), node_rank.numel(), dtype=torch.long)
        first = first.scatter_reduce(0, a, node_rank, reduce="amin")
        keys.append(first[a])
    order = torch.arange(batch.numel())
    for key in reversed(keys):  # least significant first, stable sorts
        order = order[torch.argsort(key[order], stable=True)]
    return order


@dataclass
class HACTokenizer(Tokenizer):
    """GSM++ HAC tokens: ``reading="bfs"`` (tree-ordered node sequence per graph) or ``"dfs"`` (per-node paths)."""

    reading: str = "bfs"
    deterministic = True

    def __post_init__(self):
        if self.reading not in ("bfs", "dfs"):
            raise ValueError(f"HAC reading must be 'bfs' or 'dfs', got {self.reading!r}")

    def tokenize(self, edge_index, batch, num_nodes, generator=None, x=None) -> Tokens:
        return self.from_tree(hac_tree(edge_index, batch, x, num_nodes), batch, num_nodes, x)

    def from_tree(self, tree, batch, num_nodes, x=None) -> Tokens:
        """The tokens of an already built :func:`hac_tree` (lets an encoder build the tree once)."""
        if self.reading == "bfs":
            lengths = torch.bincount(batch, minlength=int(batch.max()) + 1 if num_nodes else 0)
            rank = _feature_rank(x.detach()) if x is not None else torch.arange(num_nodes)
            return Tokens(
                _identity_pool(num_nodes),
                _tree_order(tree, batch, rank),
                lengths,
                torch.full_like(lengths, -1),
                torch.zeros(num_nodes, 0),
            )
        # dfs: per node, its clusters from the root (last level) down to itself (level 0)
        rows, cols, offsets, extras = [], [], [], []
        offset = 0
        nodes = torch.arange(num_nodes)
        for level in range(tree.num_levels - 1, -1, -1):
            a = tree.assignment[level]
            rows.append(offset + a)
            cols.append(nodes)
            offsets.append(offset)
            sizes = torch.bincount(a, minlength=tree.num_clusters[level]).float()
            extras.append(torch.stack([sizes.log(), torch.full_like(sizes, level / max(tree.num_levels - 1, 1))], 1))
            offset += tree.num_clusters[level]
        pool = _mean_pool(torch.cat(rows), torch.cat(cols), (offset, num_nodes))
        path = torch.stack(
            [off + tree.assignment[lv] for off, lv in zip(offsets, range(tree.num_levels - 1, -1, -1))], 1
        )
        lengths = torch.full((num_nodes,), tree.num_levels, dtype=torch.long)
        return Tokens(pool, path.reshape(-1), lengths, nodes, torch.cat(extras))
