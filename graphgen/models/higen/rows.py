"""Teacher-forcing targets of HiGen's community model and their batched log-likelihood.

:func:`community_rows` turns one level of an **ordered** hierarchy (see
:func:`graphgen.data.hierarchy_order.order_hierarchy`) into one row per node of the level, over
all communities of all graphs at once: its position ``t`` in its community, the community budget
``W`` (the parent's self-loop weight, ``|E|`` for the first level), the remaining budget ``r_t``,
the reservation ``c_t``, the modelled mass ``u_t``, the self-loop ``s_t``, and one *entry* per
earlier node ``j < t`` holding ``Â_tj`` (zeros included, since every earlier node is a candidate).

:func:`row_log_likelihood` evaluates the mixture likelihood of every row in one vectorised pass
from the network's outputs; summed per community it equals
:func:`~graphgen.models.higen.stick_breaking.community_log_prob` (tested), which is its slow
reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from graphgen.data.hierarchy import Hierarchy
from graphgen.models.higen.stick_breaking import binomial_log_prob

__all__ = ["CommunityRows", "community_rows", "row_log_likelihood", "LEAF_ROWS"]

LEAF_ROWS = ("multinomial", "conditional_bernoulli")
_LOG_ZERO = -1e30


@dataclass
class CommunityRows:
    """Rows ``(R,)`` and earlier-node entries ``(P,)`` of all communities of one level (see module)."""

    community: torch.Tensor
    position: torch.Tensor
    budget: torch.Tensor
    remaining: torch.Tensor
    reserved: torch.Tensor
    mass: torch.Tensor
    self_loop: torch.Tensor
    entry_row: torch.Tensor
    entry_node: torch.Tensor
    entry_count: torch.Tensor
    leaf: bool

    @property
    def num_rows(self) -> int:
        return int(self.position.numel())


def _segment_start(group: torch.Tensor) -> torch.Tensor:
    """For sorted group ids, the index where each element's group starts."""
    counts = torch.bincount(group)
    starts = torch.cumsum(counts, 0) - counts
    return starts[group]


def community_rows(h: Hierarchy, level: int) -> CommunityRows:
    """Teacher-forcing rows of ``h.levels[level]`` (``h`` must be in generation order)."""
    if not torch.equal(h.community_order(level), torch.arange(int(h.levels[level].num_nodes))):
        raise ValueError("community_rows needs an ordered hierarchy: use order_hierarchy(h) first")
    g = h.levels[level]
    parent = h.assignments[level - 1]
    n = int(g.num_nodes)
    position = torch.arange(n) - _segment_start(parent)
    # budget of each community: the parent's self-loop weight
    pg = h.levels[level - 1]
    loops = pg.edge_index[0] == pg.edge_index[1]
    parent_loop = torch.zeros(int(pg.num_nodes), dtype=torch.long).index_put_(
        (pg.edge_index[0, loops],), pg.edge_weight[loops]
    )
    budget = parent_loop[parent]
    ei, w = g.edge_index, g.edge_weight
    inside = parent[ei[0]] == parent[ei[1]]
    lower = inside & (ei[0] > ei[1])  # row = later node, column = earlier node
    diag = ei[0] == ei[1]
    self_loop = torch.zeros(n, dtype=torch.long).index_put_((ei[0, diag],), w[diag])
    row_mass = self_loop + torch.zeros(n, dtype=torch.long).index_add_(0, ei[0, lower], w[lower])
    before = torch.cumsum(row_mass, 0) - row_mass
    before = before - before[_segment_start(parent)]
    reserved = (position > 0).long()
    remaining = budget - before - reserved
    # entries: every (row t, earlier node j < t) of the same community
    entry_row = torch.repeat_interleave(torch.arange(n), position)
    entry_node = torch.arange(int(position.sum())) - torch.repeat_interleave(
        torch.cumsum(position, 0) - position, position
    )
    first = _segment_start(parent)
    key = entry_row * n + (first[entry_row] + entry_node)
    edge_key = ei[0, lower] * n + ei[1, lower]
    order = torch.argsort(edge_key)
    edge_key, edge_w = edge_key[order], w[lower][order]
    pos = torch.searchsorted(edge_key, key).clamp(max=max(edge_key.numel() - 1, 0))
    hit = (edge_key[pos] == key) if edge_key.numel() else torch.zeros_like(key, dtype=torch.bool)
    entry_count = torch.where(hit, edge_w[pos] if edge_key.numel() else torch.zeros_like(key), torch.zeros_like(key))
    return CommunityRows(
        community=parent,
        position=position,
        budget=budget,
        remaining=remaining,
        reserved=reserved,
        mass=row_mass - reserved,
        self_loop=self_loop,
        entry_row=entry_row,
        entry_node=entry_node,
        entry_count=entry_count,
        leaf=level == len(h.levels) - 1,
    )


def _segment_logsumexp(values: torch.Tensor, segment: torch.Tensor, num_segments: int) -> torch.Tensor:
    """logsumexp of ``values`` (P, K) within segments -> (S, K); empty segments give ``-inf``."""
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


def _conditional_bernoulli_rows(rows: CommunityRows, logits: torch.Tensor, take: torch.Tensor) -> torch.Tensor:
    """Per row and component: log CB(entries | logits) with Σ = ``take`` (R,), vectorised DP."""
    r, k = rows.num_rows, logits.shape[1]
    t_max = int(rows.position.max()) if r else 0
    dense_p = torch.full((r, t_max, k), _LOG_ZERO, dtype=logits.dtype)
    dense_q = torch.zeros((r, t_max, k), dtype=logits.dtype)
    dense_p[rows.entry_row, rows.entry_node] = F.logsigmoid(logits)
    dense_q[rows.entry_row, rows.entry_node] = F.logsigmoid(-logits)
    k_max = int(take.max()) if r else 0
    table = torch.full((r, k_max + 1, k), _LOG_ZERO, dtype=logits.dtype)
    table[:, 0] = 0.0
    for j in range(t_max):
        shifted = torch.cat(
            [torch.full((r, 1, k), _LOG_ZERO, dtype=logits.dtype), table[:, :-1] + dense_p[:, j : j + 1]], 1
        )
        table = torch.logaddexp(table + dense_q[:, j : j + 1], shifted)
    log_z = table.gather(1, take.clamp(min=0).view(r, 1, 1).expand(r, 1, k)).squeeze(1)
    y = rows.entry_count.to(logits.dtype).unsqueeze(1)
    unnormalised = torch.zeros((r, k), dtype=logits.dtype).index_add_(
        0, rows.entry_row, y * F.logsigmoid(logits) + (1 - y) * F.logsigmoid(-logits)
    )
    return unnormalised - log_z


def row_log_likelihood(
    rows: CommunityRows,
    log_alpha: torch.Tensor,
    p_mass: torch.Tensor,
    q_self: torch.Tensor,
    entry_logits: torch.Tensor,
    *,
    leaf_rows: str = "multinomial",
) -> torch.Tensor:
    """Mixture log-likelihood of every row, ``(R,)``.

    Args:
        rows: from :func:`community_rows`.
        log_alpha: ``(R, K)`` log mixture weights (each row sums to 1 in probability).
        p_mass, q_self: ``(R, K)`` binomial probabilities of the row mass and of its self-loop part.
        entry_logits: ``(P, K)`` scores of the earlier nodes: a softmax within each row gives the
            multinomial ``π_t``; for conditional-Bernoulli leaf rows they are Bernoulli logits.
        leaf_rows: ``"multinomial"`` or ``"conditional_bernoulli"`` (leaf levels only).

    The first row of a leaf community has nothing to choose and contributes 0.
    """
    if leaf_rows not in LEAF_ROWS:
        raise ValueError(f"unknown leaf row model {leaf_rows!r}; choose one of {', '.join(LEAF_ROWS)}")
    dtype = log_alpha.dtype
    r = rows.num_rows
    u = rows.mass.to(dtype).unsqueeze(1)
    rem = rows.remaining.to(dtype).unsqueeze(1)
    later = (rows.position > 0).unsqueeze(1)
    simple = rows.leaf and leaf_rows == "conditional_bernoulli"
    if simple:
        from graphgen.models.higen.stick_breaking import truncated_binomial_log_prob

        cap = (rows.position - rows.reserved).to(dtype).unsqueeze(1).expand_as(p_mass)
        mass_lp = truncated_binomial_log_prob(u.expand_as(p_mass), rem.expand_as(p_mass), p_mass, cap)
        take = rows.mass + rows.reserved
        edge_lp = _conditional_bernoulli_rows(rows, entry_logits, take)
    else:
        mass_lp = binomial_log_prob(u, rem, p_mass)
        log_pi = entry_logits - _segment_logsumexp(entry_logits, rows.entry_row, r)[rows.entry_row]
        counts = rows.entry_count.to(dtype).unsqueeze(1)
        total = (rows.mass + rows.reserved - rows.self_loop).to(dtype).unsqueeze(1)
        per_row = torch.zeros((r, log_alpha.shape[1]), dtype=dtype).index_add_(
            0, rows.entry_row, counts * log_pi - torch.lgamma(counts + 1)
        )
        edge_lp = torch.lgamma(total + 1) + per_row
        if not rows.leaf:
            edge_lp = edge_lp + binomial_log_prob(rows.self_loop.to(dtype).unsqueeze(1), u, q_self)
    lp = log_alpha + mass_lp + torch.where(later, edge_lp, torch.zeros_like(edge_lp))
    out = torch.logsumexp(lp, 1)
    if rows.leaf:
        out = torch.where(rows.position > 0, out, torch.zeros_like(out))
    return out
