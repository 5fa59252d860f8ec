"""Run-shaped leaf rows: a new node joined to a run of consecutive border nodes of its prefix.

HiGen's leaf row ``t`` of a community (the new node's 0/1 edges to the earlier nodes ``0..t-1``)
is, in each mixture component ``k``, a conditional Bernoulli of ``w`` edges given the scores
``θ^k_j`` (:func:`~graphgen.models.higen.bipartite.segment_conditional_bernoulli_log_prob`). In a
planar triangulation grown node by node a new node closes triangles along the outer border of what
exists: its earlier neighbours are a **run** of consecutive nodes of the prefix's border cycle
(:func:`~graphgen.models.higen.boundary_walk.border_cycles` of the prefix graph, the community's
edges among ``0..t-1``). Counted on planar's test graphs in the hierarchy of ``higen-planar-strips``,
95 % of the leaf rows ``t >= 2`` are such runs (98 % of the rows of two edges, 93 % of three, 92 %
of four); adding a node next to a run of a disc's outer cycle keeps the disc planar, while a
conditional Bernoulli spreads part of its mass over rows that are not runs, and the rows that take
all the budget left broke planarity 8.3 % of the time on real prefixes (session 32).

**Our extension** (``HiGenConfig.row_runs``, conditional-Bernoulli leaf rows). Number the prefix's
border nodes along its border cycle, places ``0..L-1`` read modulo ``L``. In component ``k`` a row
of ``w`` edges is the mixture

    p_k(Y | w) = π p_run^k(Y | w) + (1 - π) p_cb^k(Y | w),

    p_run^k(Y | w) = [Y is a run] m(Y) exp(Σ_{j ∈ Y} θ^k_j) / Σ_{s=0}^{L-1} exp(Σ_{i<w} θ^k_{cyc(s+i)}),

the conditional Bernoulli restricted to the runs: a start place ``s`` drawn by the softmax of the
run scores, the row being the ``w`` border nodes from ``s`` in increasing place. Runs are read in one
direction, so a run of ``w < L`` nodes has exactly one start (``m = 1``) and the whole cycle
(``w = L``) has ``L`` (``m = L``). ``π = σ(g(log1p [w, L, t]))`` (``g``: a small MLP, zero at
initialisation, so ``π = ½``) is a function of what is known before the row's edges; it is 0 when
the row is **infeasible**: no edges to choose (``w = 0``) or more than the border holds
(``w > L``). Both terms are distributions over the ``w``-subsets of ``0..t-1``, so the mixture is one
too (tested by enumeration); ``π`` is shared by the components.

**Measured (session 35, the two seven-layer strip models of session 34, planar's validation split;
``metrics/scripts/higen_row_refit.py``).** The likelihood does not want runs: with the shipped
scores and ``π`` fixed for every feasible row, the validation term per edge is lowest at ``π ≈ 0.12``
(0.0006-0.0007 below the plain rows) and rises to +0.049 at ``π = 0.98``
(``higen-row-share-scan-planar-7-layers-strips-seed-*.json``): the trained conditional Bernoulli
already puts nearly all its mass on runs at real prefixes, so the mixture gains almost nothing on the
95 % of rows that are runs and pays ``log(1 - π)`` on the 5 % that are not. Retrained jointly
(warm start, 40 epochs, seed 1) it ends no better (0.5413 against 0.5411;
``higen-row-refit-planar-7-layers-strips-seed-1.json``). What the runs change is the tail the
sampler meets: under the **run-rows decoding** (``Draws.run_rows``: ``π = 1`` wherever a run fits,
the model's own row conditioned on being a run; any model with conditional-Bernoulli leaf rows)
97-99 % of the sampled communities are planar instead of 83-90 % (test split, τ = 0.7), and on the
validation split V.U.N. rises from 25-30 % to 43-52 % while the clustering MMD rises from 0.054-0.057
to 0.069-0.078 (``higen-temperature-planar-7-layers-strips-{5-seeds,run-rows}-seed-*.json``; the test
split: 45-50 % against 21-25 %, clustering 0.080-0.083 against 0.059-0.060): a trade, not a gain on
every count. Part of it: a run closes no separating triangle (1.1-1.2 % of the sampled community
nodes, a mean over samples, lie on more triangles than they have community neighbours, 1.8-2.9 % without, 3.8 % in the
data).

Choices written down: the border cycle is the border walk's (a heuristic of ``T(u, v) <= 1`` edges,
exact on triangulated discs; on other prefixes the cycle may jump between nodes no edge joins, and a
run may cross such a jump -- the model stays exact, the run is then not a path); the run's start
reads no features beyond the scores; a temperature ``τ`` draws ``π`` as a two-outcome categorical
and the start from ``softmax(S / τ)`` (:class:`~graphgen.models.higen.model.Draws`' convention: each
choice's distribution to the power ``1/τ``). Not combined with ``row_coordination``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from graphgen.models.higen.block_sequence import offset_net
from graphgen.models.higen.boundary_walk import border_cycles

__all__ = [
    "NUM_RUN_FEATURES",
    "run_share_net",
    "prefix_border_places",
    "feasible_runs",
    "run_logits",
    "run_log_prob",
    "run_share_logits",
    "run_mixture_log_prob",
    "sample_runs",
]

NUM_RUN_FEATURES = 3  # log1p [w, L, t]


def run_share_net(hidden: int = 16) -> nn.Module:
    """The MLP ``g`` of ``π`` (features -> logit), ``g ≡ 0`` at initialisation (``π = ½``)."""
    return offset_net(NUM_RUN_FEATURES, hidden)


def prefix_border_places(
    lengths: torch.Tensor, erows: torch.Tensor, esrc: torch.Tensor, edst: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The border cycles of many prefix graphs at once: row ``i`` has ``lengths[i]`` prefix nodes
    (its entries, laid out row by row) and the edges ``(esrc, edst)`` of rows ``erows`` (both
    directions, local node ids). Returns each entry's place on its row's border cycle ``(P,)`` (``-1``
    for an inner node) and each row's cycle length ``L`` ``(R,)``."""
    r = lengths.numel()
    entry_row = torch.repeat_interleave(torch.arange(r), lengths)
    if entry_row.numel() == 0:
        return torch.zeros(0, dtype=torch.long), torch.zeros(r, dtype=torch.long)
    offset = torch.cumsum(lengths, 0) - lengths
    edges = torch.stack([offset[erows] + esrc, offset[erows] + edst])
    # each row's prefix is a community of one graph; rows without nodes hold no entries
    present, group = torch.unique(entry_row, return_inverse=True)
    place, counted = border_cycles(edges, group)
    length = torch.zeros(r, dtype=torch.long)
    length[present] = counted
    return place, length


def run_logits(
    entry_logits: torch.Tensor,
    entry_row: torch.Tensor,
    place: torch.Tensor,
    length: torch.Tensor,
    take: torch.Tensor,
) -> torch.Tensor:
    """The run scores ``S[i, s] = Σ_{q<w_i} θ_{cyc_i(s+q)}`` ``(R, Lmax, K)`` of every start ``s`` of
    every row (``entry_logits`` ``(P, K)``; ``-inf`` where ``s >= L_i`` or the row is infeasible)."""
    r, k = length.numel(), entry_logits.shape[1]
    width = int(length.max()) if r else 0
    out = entry_logits.new_full((r, max(width, 1), k), float("-inf"))
    if width == 0:
        return out[:, :0]
    cyc = entry_logits.new_zeros((r, width, k))
    border = place >= 0
    cyc[entry_row[border], place[border]] = entry_logits[border]
    w_max = int(torch.minimum(take, length).max())
    if w_max == 0:
        return out
    s = torch.arange(width)
    q = torch.arange(w_max)
    size = length.clamp(min=1).view(r, 1, 1)
    index = (s.view(1, -1, 1) + q.view(1, 1, -1)) % size  # (R, Lmax, Wmax)
    gathered = torch.gather(cyc, 1, index.reshape(r, -1, 1).expand(-1, -1, k)).view(r, width, w_max, k)
    counted = (q.view(1, 1, -1) < take.view(r, 1, 1)).to(entry_logits.dtype)
    scores = (gathered * counted.unsqueeze(-1)).sum(2)
    valid = (s.view(1, -1) < length.view(r, 1)) & feasible_runs(take, length).view(r, 1)
    return torch.where(valid.unsqueeze(-1), scores, out)


def feasible_runs(take: torch.Tensor, length: torch.Tensor) -> torch.Tensor:
    """Rows ``(R,)`` whose ``take`` edges can be a run: ``1 <= w <= L``."""
    return (take >= 1) & (take <= length)


def run_log_prob(
    entry_logits: torch.Tensor,
    entry_count: torch.Tensor,
    entry_row: torch.Tensor,
    place: torch.Tensor,
    length: torch.Tensor,
    take: torch.Tensor,
) -> torch.Tensor:
    """``log p_run^k(Y | w)`` ``(R, K)`` of every row's edge set ``Y`` (entries with
    ``entry_count > 0``) under every component; ``-inf`` where ``Y`` is not a run or the row is
    infeasible (module docstring)."""
    r, k = length.numel(), entry_logits.shape[1]
    chosen = entry_count > 0
    dtype = entry_logits.dtype
    numerator = entry_logits.new_zeros((r, k)).index_add_(0, entry_row[chosen], entry_logits[chosen])
    # Y is a run when all its nodes lie on the border and w - 1 of them (w when Y is the whole cycle)
    # have their successor place in Y
    on_border = torch.zeros(r, dtype=torch.long).index_add_(0, entry_row, (chosen & (place >= 0)).long())
    width = int(length.max()) if r else 0
    in_y = torch.zeros((r, width + 1), dtype=torch.bool)
    picked = chosen & (place >= 0)
    in_y[entry_row[picked], place[picked]] = True
    rows_of = entry_row[picked]
    successor = (place[picked] + 1) % length[rows_of].clamp(min=1)
    linked = torch.zeros(r, dtype=torch.long).index_add_(0, rows_of, in_y[rows_of, successor].long())
    whole = take == length
    is_run = (on_border == take) & (linked == torch.where(whole, take, take - 1)) & feasible_runs(take, length)
    scores = run_logits(entry_logits, entry_row, place, length, take)
    denominator = torch.logsumexp(scores, 1) if scores.shape[1] else entry_logits.new_full((r, k), float("-inf"))
    multiplicity = torch.where(whole, length, 1).clamp(min=1).to(dtype).log().unsqueeze(1)
    lp = multiplicity + numerator - denominator
    return torch.where(is_run.unsqueeze(1), lp, torch.full_like(lp, float("-inf")))


def run_share_logits(g: nn.Module, take: torch.Tensor, length: torch.Tensor, position: torch.Tensor) -> torch.Tensor:
    """``logit π`` ``(R,)`` float64 from the MLP ``g`` (module docstring)."""
    dtype = next(g.parameters()).dtype
    features = torch.log1p(torch.stack([take, length, position], 1).to(dtype))
    return g(features).squeeze(1).double()


def run_mixture_log_prob(
    fallback: torch.Tensor, run_lp: torch.Tensor, share_logit: torch.Tensor, feasible: torch.Tensor
) -> torch.Tensor:
    """``log(π p_run + (1 - π) p_cb)`` ``(R, K)`` from the conditional Bernoulli's ``fallback`` and
    :func:`run_log_prob`'s ``run_lp``; ``π = 0`` (the fallback alone) on infeasible rows."""
    lam = share_logit.to(fallback.dtype).unsqueeze(1)
    mixed = torch.logaddexp(F.logsigmoid(lam) + run_lp, F.logsigmoid(-lam) + fallback)
    return torch.where(feasible.unsqueeze(1), mixed, fallback)


def sample_runs(
    chosen_logits: torch.Tensor,
    lengths: torch.Tensor,
    take: torch.Tensor,
    place: torch.Tensor,
    length: torch.Tensor,
    share_logit: torch.Tensor,
    draws,
) -> torch.Tensor:
    """Edges ``(P,)`` 0/1 of rows drawn together: row ``i`` has ``lengths[i]`` consecutive entries of
    ``chosen_logits`` ``(P,)`` (its component's scores) and takes ``take[i]`` of them, a run with
    probability ``π`` (``share_logit``; infeasible rows never) and otherwise a conditional Bernoulli
    (``draws.allocations``). ``draws``: the sampler's :class:`~graphgen.models.higen.model.Draws`."""
    r = lengths.numel()
    entry_row = torch.repeat_interleave(torch.arange(r), lengths)
    pi = torch.sigmoid(share_logit.double())
    as_run = (draws.categorical(torch.stack([1 - pi, pi], 1)) == 1) & feasible_runs(take, length)
    counts = torch.zeros(entry_row.numel(), dtype=torch.long)
    runs = as_run.nonzero().flatten()
    if runs.numel():
        keep = as_run[entry_row]
        sub_row = torch.cumsum(as_run.long(), 0)[entry_row[keep]] - 1
        scores = run_logits(chosen_logits[keep].unsqueeze(1), sub_row, place[keep], length[runs], take[runs])
        probabilities = torch.softmax(scores.squeeze(2), 1)
        start = draws.categorical(probabilities)
        offset = (place[keep] - start[sub_row]) % length[runs][sub_row]
        picked = (place[keep] >= 0) & (offset < take[runs][sub_row])
        counts[keep.nonzero().flatten()] = picked.long()
    rest = torch.where(as_run, 0, take)
    counts += draws.allocations(chosen_logits, lengths, rest, True)
    return counts
