"""HiGen's bipartite (cross-community) model: pair scores and the batched block likelihood.

After the communities of a level are generated, every parent edge ``(i, j)`` with weight ``w_ij``
places exactly ``w_ij`` units on the ``n_i n_j`` pairs of ``C_i × C_j`` (see
:mod:`graphgen.models.higen.bipartite` for the distributions: a multinomial per block on coarse
levels, the exact conditional Bernoulli on the leaf level).

Network (v0, documented simplification of the reference's GraphGPS over all candidate pairs):
GRAN layers over the level's **intra-community** edges (what is known when blocks are generated)
with node input ``[log1p(self-loop), log1p(intra degree)]`` plus the position encoding of the node
in its community (with ``triangle_features`` also the triangle inputs of
:func:`~graphgen.models.higen.community_net.triangle_inputs` on the intra-community graph: where a
community's boundary runs, which is where cross edges attach); the score of pair ``(a, b)`` of block ``(i, j)`` is
``MLP([h_a + h_b, h_a ⊙ h_b, log1p(w_ij), log1p(n_i n_j)])`` -- symmetric in the two communities.

**Blocks in rounds** (``cross_rounds``, our option). The paper places every block of a level
independently given the communities, so one node can collect cross edges from several blocks: in
samples of ``higen-enzymes`` on the real communities, 19.2 % of the nodes with cross edges have
them to two or more communities, 4.9 % in the test graphs -- and nodes short of edges inside their
community go without (3 sampling seeds; ``metrics/scripts/higen_leaf_diagnostics.py``,
``metrics/results/higen-leaf-diagnostics-enzymes*.json``). With rounds the
blocks of a level are ordered by a greedy edge colouring of the parent graph
(:func:`block_rounds`: blocks in order of ``(i, j)``, each in the first round that no earlier block
of ``i`` or ``j`` holds), and

    p(cross edges of the level) = Π_ρ Π_{(i,j) in round ρ} p(B_ij | B_{i'j'} of rounds < ρ),

each factor the block distribution above with pair scores that also see
``[log1p e_a + log1p e_b, 1[e_a > 0] + 1[e_b > 0]]``, ``e_a`` the cross edges node ``a`` got in
earlier rounds (:func:`earlier_cross_edges`). Blocks of one round share no community, so a round is
sampled in parallel; training evaluates every round at once from the true earlier edges (teacher
forcing). Each factor is a normalised block distribution, so the level's probabilities still sum
to 1; the new inputs' weights start at zero, so training starts from the independent blocks.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from graphgen.data.hierarchy import Hierarchy
from graphgen.data.ops import segment_arange, segment_logsumexp, self_loop_weights
from graphgen.models.higen.bipartite import segment_conditional_bernoulli_log_prob
from graphgen.models.higen.block_sequence import blocks_sequence_log_likelihood, coordination_net, sample_blocks
from graphgen.models.higen.boundary_walk import CROSS_ORDERS
from graphgen.models.higen.community_net import _GranLayer, _mlp, position_encoding, triangle_inputs
from graphgen.models.higen.strip_blocks import StripModel, strip_conflicts, strip_tables

__all__ = [
    "BlockPairs",
    "block_pairs",
    "block_log_likelihood",
    "blocks_log_likelihood",
    "BipartiteNetConfig",
    "BipartiteNet",
    "PAIR_CHUNK",
    "block_rounds",
    "earlier_cross_edges",
    "sample_coordinated_blocks",
]

PAIR_CHUNK = 4096  # pairs scored at once when autograd is off (sampling); 65536 until session 45, when 4096
# scored the 2.2 million pairs of a 3,000-node higen-sbm graph in 1.0 s instead of 1.7 s (one thread), bit for bit
PLANAR_STRIP_TRIES = 50  # draws of a strip under the planar-strips decoding before it is kept as it is


@dataclass
class BlockPairs:
    """Every candidate pair of every block of one level: ``(Q,)`` pairs, ``(B,)`` blocks."""

    pair_block: torch.Tensor  # (Q,) block of each pair
    pair_left: torch.Tensor  # (Q,) level node ids
    pair_right: torch.Tensor
    pair_target: torch.Tensor  # (Q,) units on the pair (0/1 on the leaf level)
    block_weight: torch.Tensor  # (B,) w_ij
    block_size: torch.Tensor  # (B,) n_i n_j
    leaf: bool
    pair_earlier: torch.Tensor | None = None  # (Q, 2) cross edges of each endpoint in earlier rounds (rounds)

    def select_blocks(self, members: torch.Tensor) -> tuple[torch.Tensor, BlockPairs]:
        """The blocks where ``members`` (``(B,)`` bool) holds, renumbered: ``(keep, sub)`` with
        ``keep`` the ``(Q,)`` mask of their pairs (pairs keep their order)."""
        keep = members[self.pair_block]
        return keep, BlockPairs(
            pair_block=(torch.cumsum(members.long(), 0) - 1)[self.pair_block[keep]],
            pair_left=self.pair_left[keep],
            pair_right=self.pair_right[keep],
            pair_target=self.pair_target[keep],
            block_weight=self.block_weight[members],
            block_size=self.block_size[members],
            leaf=self.leaf,
            pair_earlier=None if self.pair_earlier is None else self.pair_earlier[keep],
        )


def block_rounds(left_parent: torch.Tensor, right_parent: torch.Tensor) -> torch.Tensor:
    """The round ``(B,)`` of every block ``(i, j)``: blocks in order of ``(i, j)``, each in the first
    round held by no earlier block of ``i`` or of ``j`` (a greedy edge colouring of the parent graph,
    at most ``2Δ - 1`` rounds), so the blocks of a round share no community."""
    b = int(left_parent.numel())
    rounds = torch.zeros(b, dtype=torch.long)
    if b == 0:
        return rounds
    key = left_parent * (int(right_parent.max()) + 1) + right_parent
    taken: dict[int, set[int]] = {}
    for block in torch.argsort(key).tolist():
        i, j = int(left_parent[block]), int(right_parent[block])
        busy = taken.setdefault(i, set()) | taken.setdefault(j, set())
        r = 0
        while r in busy:
            r += 1
        rounds[block] = r
        taken[i].add(r)
        taken[j].add(r)
    return rounds


def earlier_cross_edges(pairs: BlockPairs, rounds: torch.Tensor, num_nodes: int) -> torch.Tensor:
    """``(Q, 2)``: for each pair ``(a, b)`` of a block of round ``ρ``, the units of cross edges that
    ``a`` and ``b`` hold (``pairs.pair_target``) in blocks of rounds before ``ρ``."""
    q = pairs.pair_block.numel()
    if q == 0:
        return torch.zeros((0, 2), dtype=torch.float64)
    pair_round = rounds[pairs.pair_block]
    num_rounds = int(rounds.max()) + 1
    hit = pairs.pair_target > 0
    units = pairs.pair_target[hit].double()
    count = torch.zeros(num_nodes * num_rounds, dtype=torch.float64)
    count.index_add_(0, pairs.pair_left[hit] * num_rounds + pair_round[hit], units)
    count.index_add_(0, pairs.pair_right[hit] * num_rounds + pair_round[hit], units)
    count = count.view(num_nodes, num_rounds)
    before = torch.cumsum(count, 1) - count  # units in rounds strictly before each round
    return torch.stack([before[pairs.pair_left, pair_round], before[pairs.pair_right, pair_round]], 1)


def block_pairs(h: Hierarchy, level: int, rounds: bool = False) -> BlockPairs:
    """Candidate pairs and targets of the bipartite blocks of ``h.levels[level]``; with ``rounds``
    also each pair's :func:`earlier_cross_edges` under :func:`block_rounds`."""
    blocks = h.bipartites(level)
    order = h.community_order(level)
    sizes = torch.bincount(h.assignments[level - 1], minlength=int(h.levels[level - 1].num_nodes))
    first = torch.cumsum(sizes, 0) - sizes  # first position of each community in community order
    m = blocks.left_size * blocks.right_size
    pair_block = torch.repeat_interleave(torch.arange(blocks.num_blocks), m)
    within = segment_arange(m)
    right_size = blocks.right_size[pair_block]
    a_local, b_local = within // right_size, within % right_size
    pair_left = order[first[blocks.left_parent[pair_block]] + a_local]
    pair_right = order[first[blocks.right_parent[pair_block]] + b_local]
    n = int(h.levels[level].num_nodes)
    edge_key = blocks.edge_left * n + blocks.edge_right
    sort = torch.argsort(edge_key)
    edge_key, edge_w = edge_key[sort], blocks.edge_weight[sort]
    key = pair_left * n + pair_right
    pos = torch.searchsorted(edge_key, key).clamp(max=max(edge_key.numel() - 1, 0))
    hit = (edge_key[pos] == key) if edge_key.numel() else torch.zeros_like(key, dtype=torch.bool)
    target = torch.where(hit, edge_w[pos] if edge_key.numel() else torch.zeros_like(key), torch.zeros_like(key))
    pairs = BlockPairs(pair_block, pair_left, pair_right, target, blocks.weight, m, leaf=level == len(h.levels) - 1)
    if rounds:
        pairs.pair_earlier = earlier_cross_edges(pairs, block_rounds(blocks.left_parent, blocks.right_parent), n)
    return pairs


def block_log_likelihood(pairs: BlockPairs, logits: torch.Tensor) -> torch.Tensor:
    """Log-likelihood of every block ``(B,)`` given pair scores ``(Q,)``."""
    b = int(pairs.block_weight.numel())
    logits = logits.double()
    y = pairs.pair_target.double()
    if not pairs.leaf:  # multinomial over the block's pairs
        log_z = segment_logsumexp(logits.unsqueeze(1), pairs.pair_block, b).squeeze(1)
        log_pi = logits - log_z[pairs.pair_block]
        total = pairs.block_weight.double()
        per = torch.zeros(b, dtype=logits.dtype).index_add_(0, pairs.pair_block, y * log_pi - torch.lgamma(y + 1))
        return torch.lgamma(total + 1) + per
    # conditional Bernoulli with k = w_ij: one DP over the padded pairs of all blocks at once
    slot = segment_arange(pairs.block_size)
    return segment_conditional_bernoulli_log_prob(
        logits.unsqueeze(1), pairs.pair_target, pairs.pair_block, slot, b, pairs.block_weight
    ).squeeze(1)


def blocks_log_likelihood(
    net: BipartiteNet, pairs: BlockPairs, logits: torch.Tensor, level_graph, parent
) -> torch.Tensor:
    """Log-likelihood ``(B,)`` of the blocks under ``net``'s distribution: the coordinated sequence
    model on the leaf level when ``net`` has one (mixed with strips when it has a strip model,
    :mod:`graphgen.models.higen.strip_blocks`), else :func:`block_log_likelihood`."""
    if pairs.leaf and net.coordination is not None:
        coordinated = blocks_sequence_log_likelihood(
            logits.double(),
            pairs,
            level_graph.edge_index,
            parent,
            net.coordination,
            order=net.config.order,
            both_directions=net.config.both_directions,
        )
        if net.strips is None:
            return coordinated
        tables = strip_tables(pairs, level_graph.edge_index, parent, net.config.strip_segments)
        return net.strips.mixture_log_likelihood(logits.double(), pairs, tables, coordinated)
    return block_log_likelihood(pairs, logits)


def sample_coordinated_blocks(
    net: BipartiteNet,
    logits: torch.Tensor,
    pairs: BlockPairs,
    level_edge_index: torch.Tensor,
    parent,
    draws,
    border=None,
    report: dict | None = None,
) -> torch.Tensor:
    """Units ``(Q,)`` on the pairs of leaf blocks drawn from ``net``'s coordinated model
    (:func:`~graphgen.models.higen.block_sequence.sample_blocks`) or, when ``net`` has a strip model,
    from the mixture: each block's component first, then its edges (``border``: the strips' border
    cycles when given, :func:`~graphgen.models.higen.strip_blocks.strip_tables`).

    Under ``draws.planar_strips`` (a constrained decoding, :class:`~graphgen.models.higen.model.Draws`)
    every feasible block is a strip, untwisted, redrawn up to :data:`PLANAR_STRIP_TRIES` times while it
    meets earlier rounds' cross edges as :func:`~graphgen.models.higen.strip_blocks.strip_conflicts`
    forbids; blocks still in conflict after that are kept and counted in ``report["planar_strips_exhausted"]``."""
    logits = logits.double()

    def coordinated(sub: BlockPairs, sub_logits: torch.Tensor) -> torch.Tensor:
        return sample_blocks(
            sub_logits,
            sub,
            level_edge_index,
            parent,
            net.coordination,
            draws,
            order=net.config.order,
            both_directions=net.config.both_directions,
        )

    if net.strips is None:
        return coordinated(pairs, logits)
    tables = strip_tables(pairs, level_edge_index, parent, net.config.strip_segments, border)
    planar = draws.planar_strips
    strip = tables.feasible.clone() if planar else net.strips.choose_strips(tables, draws)
    out = torch.zeros(pairs.pair_block.numel(), dtype=torch.long)

    def draw_strips(blocks: torch.Tensor) -> None:
        keep, sub = pairs.select_blocks(blocks)
        if sub.block_weight.numel():
            out[keep] = net.strips.sample(logits[keep], sub, tables.select(blocks, keep, sub), draws, planar)

    draw_strips(strip)
    if planar and pairs.pair_earlier is not None:  # redraw the strips in conflict with earlier rounds
        redraw = strip & strip_conflicts(out, pairs, tables, pairs.pair_earlier)
        for _ in range(PLANAR_STRIP_TRIES - 1):
            if not bool(redraw.any()):
                break
            draw_strips(redraw)
            redraw = strip & strip_conflicts(out, pairs, tables, pairs.pair_earlier)
        if report is not None:
            report["planar_strips_exhausted"] = report.get("planar_strips_exhausted", 0) + int(redraw.sum())
    keep, sub = pairs.select_blocks(~strip)
    if sub.block_weight.numel():
        out[keep] = coordinated(sub, logits[keep])
    return out


@dataclass(frozen=True)
class BipartiteNetConfig:
    hidden: int = 64
    num_layers: int = 3
    position_dim: int = 16
    coordinated: bool = False  # leaf blocks placed edge by edge (graphgen.models.higen.block_sequence)
    rounds: bool = False  # blocks in rounds; pair scores see each endpoint's cross edges of earlier rounds
    ladder: bool = False  # coordinated blocks: g also reads t_3 (graphgen.models.higen.block_sequence)
    triangle_features: bool = False  # nodes and intra edges also see their triangle counts (community_net)
    order: str = "generation"  # coordinated blocks: the order pairs are placed in (boundary_walk)
    both_directions: bool = False  # coordinated blocks: a mixture of the right community's order and its reverse
    contact: bool = False  # coordinated blocks: g also reads u_a, u_c (graphgen.models.higen.block_sequence)
    strips: bool = False  # coordinated blocks: a mixture with zipped strips (graphgen.models.higen.strip_blocks)
    strip_segments: bool = False  # strips: a side never steps between border places no edge joins
    strip_windows: bool = False  # strips: the start also reads the intra degrees along and before the strip

    @property
    def node_dim(self) -> int:
        """Width of the node input features (without the position encoding)."""
        return 2 + 2 * int(self.triangle_features)

    @property
    def edge_dim(self) -> int:
        return 1 + int(self.triangle_features)

    def __post_init__(self):
        if (self.ladder or self.contact) and not self.coordinated:
            raise ValueError("the ladder and contact features belong to coordinated blocks (coordinated=True)")
        if self.order not in CROSS_ORDERS:
            raise ValueError(f"unknown order {self.order!r}; choose one of {', '.join(CROSS_ORDERS)}")
        if self.strips and not self.coordinated:
            raise ValueError("strips belong to coordinated blocks (coordinated=True)")
        if (self.strip_segments or self.strip_windows) and not self.strips:
            raise ValueError("strip segments and windows belong to strips (strips=True)")
        if (self.order != "generation" or self.both_directions) and not self.coordinated:
            raise ValueError("a pair order or both directions belong to coordinated blocks (coordinated=True)")


def _block_features(pairs: BlockPairs) -> torch.Tensor:
    """``(B, 2)``: ``log1p`` of each block's edge weight and of its pair count."""
    return torch.stack([torch.log1p(pairs.block_weight.float()), torch.log1p(pairs.block_size.float())], 1)


def _earlier_features(pairs: BlockPairs) -> torch.Tensor:
    """``(Q, 2)``, symmetric in the endpoints: ``[log1p e_a + log1p e_b, 1[e_a > 0] + 1[e_b > 0]]``."""
    if pairs.pair_earlier is None:
        raise ValueError("a bipartite net with rounds needs each pair's earlier cross edges (pair_earlier)")
    e = pairs.pair_earlier.float()
    return torch.stack([torch.log1p(e).sum(1), (e > 0).float().sum(1)], 1)


class BipartiteNet(nn.Module):
    """Pair scores ``(Q,)`` for :func:`block_log_likelihood` (see the module docstring)."""

    def __init__(self, config: BipartiteNetConfig | None = None, encoder: nn.Module | None = None):
        """``encoder``: optional node-encoder strategy replacing the GRAN layers, called as
        ``encoder(x, edge_index, edge_attr, batch=community)`` with ``x`` of width
        ``config.node_dim + position_dim``, ``config.edge_dim`` edge features, and returning ``(N, hidden)`` (e.g.
        :class:`graphgen.nn.GSMPlusPlus` with ``edge_dim=config.edge_dim``). HiGen builds it from
        ``HiGenConfig.bipartite_encoder``, so it travels in checkpoints by name."""
        super().__init__()
        self.config = config or BipartiteNetConfig()
        c = self.config
        self.encoder = encoder
        if encoder is None:
            self.embed = nn.Linear(c.node_dim + c.position_dim, c.hidden)
            self.layers = nn.ModuleList([_GranLayer(c.hidden, c.edge_dim) for _ in range(c.num_layers)])
        self.score = _mlp(2 * c.hidden + 2 + 2 * int(c.rounds), 2 * c.hidden, 1)
        if c.rounds:  # the earlier-rounds inputs start at zero: training starts from independent blocks
            nn.init.zeros_(self.score[0].weight.data[:, 2 * c.hidden + 2 :])
        # g of the coordinated leaf blocks: a logit offset from the edges already placed in the block
        self.coordination = coordination_net(ladder=c.ladder, contact=c.contact) if c.coordinated else None
        # the strip process and its mixture weight
        self.strips = StripModel(windows=c.strip_windows) if c.strips else None

    def node_embeddings(self, level_graph, parent: torch.Tensor) -> torch.Tensor:
        ei, w = level_graph.edge_index, level_graph.edge_weight.float()
        n = int(level_graph.num_nodes)
        loops = ei[0] == ei[1]
        inside = (parent[ei[0]] == parent[ei[1]]) & ~loops
        self_w = self_loop_weights(ei, w, n)
        degree = torch.zeros(n).index_add_(0, ei[0, inside], w[inside])
        counts = torch.bincount(parent)
        position = torch.arange(n) - (torch.cumsum(counts, 0) - counts)[parent]
        x = torch.cat(
            [
                torch.log1p(self_w)[:, None],
                torch.log1p(degree)[:, None],
                position_encoding(position, self.config.position_dim),
            ],
            1,
        )
        edge_index = ei[:, inside]
        edge_features = torch.log1p(w[inside])[:, None]
        if self.config.triangle_features:
            node_triangles, edge_triangles = triangle_inputs(edge_index, n)
            x = torch.cat([x, node_triangles], 1)
            edge_features = torch.cat([edge_features, edge_triangles[:, None]], 1)
        if self.encoder is not None:
            return self.encoder(x, edge_index, edge_features, batch=parent)
        h = self.embed(x)
        for layer in self.layers:
            h = layer(h, edge_index, edge_features)
        return h

    def forward(self, level_graph, parent: torch.Tensor, pairs: BlockPairs) -> torch.Tensor:
        return self.scores(self.node_embeddings(level_graph, parent), pairs)

    def scores(self, h: torch.Tensor, pairs: BlockPairs) -> torch.Tensor:
        """Pair scores ``(Q,)`` from node embeddings ``h`` (:meth:`node_embeddings`)."""
        block_features = _block_features(pairs)
        # without autograd (sampling) the pairs are scored in chunks written into one output: the same
        # scores, with peak memory bounded by the chunk instead of by all n_i n_j pairs of the level
        # score([a + b, a * b, extra]) with its first linear applied by parts: the a + b part as
        # (W_s h)_a + (W_s h)_b per node and the block part per block (equal up to float rounding)
        step = pairs.pair_block.numel() if torch.is_grad_enabled() else PAIR_CHUNK
        width = h.shape[1]
        first = self.score[0]
        per_node = h @ first.weight[:, :width].t()
        per_block = torch.addmm(first.bias, block_features, first.weight[:, 2 * width : 2 * width + 2].t())
        product_weight = first.weight[:, width : 2 * width].t()
        # the earlier-rounds part per pair, projected chunk by chunk like the rest
        earlier = _earlier_features(pairs) if self.config.rounds else None
        earlier_weight = first.weight[:, 2 * width + 2 :].t()
        out = h.new_empty(pairs.pair_block.numel())
        for start in range(0, pairs.pair_block.numel(), max(step, 1)):
            end = start + step
            left, right = pairs.pair_left[start:end], pairs.pair_right[start:end]
            pre = torch.addmm(
                per_block.index_select(0, pairs.pair_block[start:end]), h[left] * h[right], product_weight
            )
            pre = (per_node.index_select(0, left) + per_node.index_select(0, right)) + pre  # exactly symmetric
            if earlier is not None:
                pre = pre + earlier[start:end] @ earlier_weight
            out[start:end] = self.score[2](torch.relu(pre)).squeeze(1)
        return out

    def literal_scores(self, h: torch.Tensor, pairs: BlockPairs) -> torch.Tensor:
        """The pair scores with the score MLP applied to the concatenated input, as written (the
        reference for :meth:`forward`'s by-parts evaluation in the tests and in
        ``metrics/scripts/higen_by_parts_ab.py``), from node embeddings ``h``."""
        block_features = _block_features(pairs)
        a, b = h[pairs.pair_left], h[pairs.pair_right]
        extra = [_earlier_features(pairs)] if self.config.rounds else []
        return self.score(torch.cat([a + b, a * b, block_features[pairs.pair_block], *extra], 1)).squeeze(1)
