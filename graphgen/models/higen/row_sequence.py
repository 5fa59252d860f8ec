"""Coordinated leaf rows: a new node's edges to earlier nodes chosen one after another, each seeing the others.

HiGen's leaf row ``t`` of a community (the new node's edges to the earlier nodes ``0..t-1``) is, in
each mixture component ``k``, a conditional Bernoulli of ``w`` edges given the scores ``θ^k_j``
(:func:`~graphgen.models.higen.bipartite.segment_conditional_bernoulli_log_prob`): given the
component, the edges are independent apart from their count. Measured on samples of the shipped
``higen-planar`` (``metrics/results/higen-row-attachment-planar.json``): rows are right on average,
but 50 of 97 sampled communities are not planar (none in the data), and the row that first breaks
planarity joins both ends of an edge that already lies on two triangles in 28 of 50 -- a relation
between two chosen nodes, which independent choices cannot see.

**Our extension** (``HiGenConfig.row_coordination``). Order the earlier nodes ``j = 0..t-1`` and
write the row as an increasing sequence ``j_1 < ... < j_w``. In component ``k``

    p_k(j_1, ..., j_w) = Π_i exp(ℓ_i(j_i)) / Σ_{j > j_{i-1}} exp(ℓ_i(j)),
    ℓ_i(j) = θ^k_j + g(φ_i(j)) - g(0) + log E^k_{w-i}(j + 1),

the ordered-subset model of :mod:`graphgen.models.higen.block_sequence` (``E^k_r`` the suffix
elementary symmetric sums of ``exp θ^k``, so every ``w``-subset of the earlier nodes gets exactly
one sequence and their probabilities sum to 1, tested by enumeration; with ``g ≡ 0`` it is the
conditional Bernoulli, tested). The row's likelihood stays the mixture ``Σ_k α_k p(u | k) p_k(row |
w)``; ``g`` (a small MLP, one per model, last layer zero at initialisation) is shared by the
components. ``φ_i(j) = log1p [a, s, q, d]`` from the nodes ``P = {j_1, ..., j_{i-1}}`` already
chosen and the row's prefix graph ``G_t`` (the community's edges among ``0..t-1``, adjacency ``A``):

* ``a = Σ_{p ∈ P} A[p, j]``: chosen neighbours of ``j`` (the new node closes ``a`` triangles);
* ``s = Σ_{p ∈ P} A[p, j] [T(p, j) >= 2]``: of those, the edges ``(p, j)`` already on two triangles
  of ``G_t`` (the new node puts them on a third; in a triangulation an edge borders two faces);
* ``q = Σ_{p ∈ P} (A²)[p, j]``: paths of length two from the chosen nodes to ``j``;
* ``d = |P|``.

Choices written down: ``T`` counts triangles of the prefix graph ``G_t`` only (the row's own node is
not yet there); the order is the nodes' generation order (exact for any order, but ``g`` sees only
the nodes before each candidate); ``g`` runs on every candidate once ``d > 0`` (``d`` alone shifts
every candidate of a step alike, but through ``g``'s non-linearity not relative to the others).
Only leaf levels with conditional-Bernoulli rows (0/1 edges) are coordinated. Under
``decoding="mode"`` each step takes its most likely node (the blocks' convention), not the best of
:data:`~graphgen.models.higen.model.MODE_DRAWS` draws.

Rows are handled as one padded batch ``(R, M)`` with ``M`` the largest prefix; the training
likelihood evaluates every step of every row and component at once (``O(W R K M)`` memory, ``W`` the
largest row), sampling runs ``max w`` steps over the rows drawn together.
"""

from __future__ import annotations

import torch
from torch import nn

from graphgen.data.ops import segment_arange
from graphgen.models.higen.block_sequence import (
    increasing_sequences,
    offset_net,
    ordered_subset_log_prob,
    sample_ordered_subsets,
)

__all__ = [
    "NUM_ROW_FEATURES",
    "row_coordination_net",
    "prefix_adjacency",
    "teacher_forced_prefix_edges",
    "padded_row_scores",
    "row_features",
    "row_sequence_log_prob",
    "sample_row_sequences",
]

NUM_ROW_FEATURES = 4  # [a, s, q, d]


def row_coordination_net(hidden: int = 16) -> nn.Module:
    """The MLP ``g`` of coordinated rows (features -> logit offset), ``g ≡ 0`` at initialisation."""
    return offset_net(NUM_ROW_FEATURES, hidden)


def teacher_forced_prefix_edges(rows) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Every row's prefix graph as ``(row, node, node)`` triples, both directions of each edge, read
    from the rows' entries (a :class:`~graphgen.models.higen.rows.CommunityRows` holding **all**
    rows of its communities, in order): the edge between a community's node ``a`` and an earlier
    node ``b`` is in the prefix of each later row ``t > a`` of that community."""
    hit = (rows.entry_count > 0).nonzero().flatten()
    later_row, earlier = rows.entry_row[hit], rows.entry_node[hit]
    later = rows.position[later_row]
    size = torch.bincount(rows.community)[rows.community]
    repeat = (size[later_row] - 1 - later).clamp(min=0)  # rows after the edge's later node
    row = torch.repeat_interleave(later_row, repeat) + 1 + segment_arange(repeat)
    a, b = torch.repeat_interleave(later, repeat), torch.repeat_interleave(earlier, repeat)
    return torch.cat([row, row]), torch.cat([a, b]), torch.cat([b, a])


def prefix_adjacency(rows) -> torch.Tensor:
    """Each row's prefix graph ``(R, M, M)`` (0/1, ``M`` the largest position): the edges of its
    community among the nodes before it (:func:`teacher_forced_prefix_edges`; a
    :class:`~graphgen.models.higen.rows.CommunityRows` holding **all** rows of its communities)."""
    r = rows.num_rows
    m = int(rows.position.max()) if r else 0
    dense = torch.zeros((r, m, m), dtype=torch.float64)
    if r and m:
        erows, esrc, edst = teacher_forced_prefix_edges(rows)
        dense[erows, esrc, edst] = 1.0
    return dense


def padded_row_scores(entry_scores: torch.Tensor, entry_row: torch.Tensor, entry_node: torch.Tensor, r: int, m: int):
    """Entry values ``(P, ...)`` of rows ``(R,)`` laid out ``(R, M, ...)`` by node, and the mask of
    real entries ``(R, M)``."""
    out = entry_scores.new_zeros((r, m, *entry_scores.shape[1:]))
    out[entry_row, entry_node] = entry_scores
    valid = torch.zeros((r, m), dtype=torch.bool)
    valid[entry_row, entry_node] = True
    return out, valid


def _row_context(adjacency: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The prefix graphs' saturated edges ``A ⊙ [T >= 2]`` and two-paths ``A²``, each ``(R, M, M)``."""
    two_paths = adjacency @ adjacency
    saturated = adjacency * ((adjacency * two_paths) >= 2).to(adjacency.dtype)
    return saturated, two_paths


def row_features(placed: torch.Tensor, adjacency: torch.Tensor, context=None) -> torch.Tensor:
    """``φ(j)`` ``(..., R, M, 4)`` for every earlier node given the chosen nodes ``placed``
    ``(..., R, M)`` (0/1) and the prefix graphs ``adjacency`` ``(R, M, M)`` (module docstring)."""
    saturated, two_paths = _row_context(adjacency) if context is None else context
    chosen = placed.unsqueeze(-2)  # (..., R, 1, M)
    a = (chosen @ adjacency).squeeze(-2)
    s = (chosen @ saturated).squeeze(-2)
    q = (chosen @ two_paths).squeeze(-2)
    d = placed.sum(-1, keepdim=True).expand_as(a)
    return torch.log1p(torch.stack([a, s, q, d], -1))


def _offsets(g: nn.Module, placed: torch.Tensor, adjacency: torch.Tensor, context, dtype) -> torch.Tensor:
    """``g(φ) - g(0)`` ``(..., R, M)`` in ``dtype``."""
    net_dtype = next(g.parameters()).dtype
    feats = row_features(placed, adjacency, context).to(net_dtype)
    zero = g(feats.new_zeros((1, NUM_ROW_FEATURES))).squeeze(-1)
    return (g(feats).squeeze(-1) - zero).to(dtype)


def row_sequence_log_prob(
    entry_logits: torch.Tensor,
    entry_count: torch.Tensor,
    entry_row: torch.Tensor,
    entry_node: torch.Tensor,
    take: torch.Tensor,
    adjacency: torch.Tensor,
    g: nn.Module,
) -> torch.Tensor:
    """``log p_k(row | w)`` ``(R, K)`` of every row under every component: rows ``(R,)`` with
    ``take`` edges, entries ``(P,)`` of row ``entry_row`` at earlier node ``entry_node`` with 0/1
    target ``entry_count`` and scores ``entry_logits`` ``(P, K)``; ``adjacency`` from
    :func:`prefix_adjacency`. The coordinated counterpart of
    :func:`~graphgen.models.higen.bipartite.segment_conditional_bernoulli_log_prob`."""
    r, k = take.numel(), entry_logits.shape[1]
    m = adjacency.shape[1]
    w_max = int(take.max()) if r else 0
    if w_max == 0 or m == 0:
        return entry_logits.new_zeros((r, k))
    theta, valid = padded_row_scores(entry_logits, entry_row, entry_node, r, m)  # (R, M, K), (R, M)
    targets, _ = padded_row_scores(entry_count > 0, entry_row, entry_node, r, m)
    sequence, placed = increasing_sequences(targets & valid, w_max)  # (R, W), (W, R, M)
    offset = _offsets(g, placed.to(adjacency.dtype), adjacency, None, entry_logits.dtype)  # (W, R, M)
    lp = ordered_subset_log_prob(
        theta.permute(0, 2, 1).reshape(r * k, m),
        valid.repeat_interleave(k, 0),
        take.repeat_interleave(k),
        sequence.repeat_interleave(k, 0),
        offset.repeat_interleave(k, 1),
    )
    return lp.view(r, k)


def sample_row_sequences(
    logits: torch.Tensor, lengths: torch.Tensor, take: torch.Tensor, adjacency: torch.Tensor, g: nn.Module, draws
) -> torch.Tensor:
    """Edges ``(P,)`` 0/1 of rows drawn together: row ``i`` has ``lengths[i]`` consecutive entries
    of ``logits`` ``(P,)`` (its component's scores, earlier nodes in order) and chooses ``take[i]`` of
    them; ``adjacency`` ``(R, M, M)`` its prefix graph; ``draws`` the sampler's
    :class:`~graphgen.models.higen.model.Draws`. Every step recomputes the live rows' features."""
    r = lengths.numel()
    m = adjacency.shape[1]
    entry_row = torch.repeat_interleave(torch.arange(r), lengths)
    entry_node = segment_arange(lengths)
    theta, valid = padded_row_scores(logits, entry_row, entry_node, r, m)
    context = _row_context(adjacency)

    def offset_of(live, placed):
        sub = (context[0][live], context[1][live])
        return _offsets(g, placed, adjacency[live], sub, theta.dtype)

    placed = sample_ordered_subsets(theta, valid, take, draws, offset_of, lambda live, pick: None)
    return placed[entry_row, entry_node].long()
