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

from dataclasses import dataclass, replace

import torch

from graphgen.data.hierarchy import Hierarchy
from graphgen.data.ops import segment_arange, segment_logsumexp, self_loop_weights
from graphgen.models.higen.bipartite import segment_conditional_bernoulli_log_prob
from graphgen.models.higen.face_runs import data_face_sets, face_log_prob, face_set_counts, pack_face_sets
from graphgen.models.higen.row_runs import (
    feasible_runs,
    prefix_border_places,
    run_log_prob,
    run_mixture_log_prob,
    run_share_logits,
)
from graphgen.models.higen.row_sequence import prefix_adjacency, row_sequence_log_prob, teacher_forced_prefix_edges
from graphgen.models.higen.stick_breaking import (
    interval_binomial_log_prob,
    row_mass_interval,
    row_mass_log_prob,
    self_loop_log_prob,
    self_loop_trials,
)

__all__ = ["CommunityRows", "community_rows", "row_log_likelihood", "row_mass_log_probs", "LEAF_ROWS"]

LEAF_ROWS = ("multinomial", "conditional_bernoulli")


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
    size: torch.Tensor | None = None  # (R,) node count of each row's community
    entry_place: torch.Tensor | None = None  # (P,) run-shaped rows: the entry's place on its prefix's border cycle
    border_length: torch.Tensor | None = None  # (R,) run-shaped rows: the length of the prefix's border cycle
    face_sets: torch.Tensor | None = None  # (R, S, W) face-run rows: each row's node sets that run along a face

    @property
    def num_rows(self) -> int:
        return int(self.position.numel())

    def select_rows(self, keep: torch.Tensor) -> CommunityRows:
        """The rows where ``keep`` (``(R,)`` bool) holds, with their entries (row ids renumbered)."""
        new_id = torch.cumsum(keep.long(), 0) - 1
        entries = keep[self.entry_row]
        return CommunityRows(
            community=self.community[keep],
            position=self.position[keep],
            budget=self.budget[keep],
            remaining=self.remaining[keep],
            reserved=self.reserved[keep],
            mass=self.mass[keep],
            self_loop=self.self_loop[keep],
            entry_row=new_id[self.entry_row[entries]],
            entry_node=self.entry_node[entries],
            entry_count=self.entry_count[entries],
            leaf=self.leaf,
            size=None if self.size is None else self.size[keep],
            entry_place=None if self.entry_place is None else self.entry_place[entries],
            border_length=None if self.border_length is None else self.border_length[keep],
            face_sets=None if self.face_sets is None else self.face_sets[keep],
        )

    def with_border_places(self) -> CommunityRows:
        """These rows with :attr:`entry_place` and :attr:`border_length` set from their prefix graphs
        (:mod:`~graphgen.models.higen.row_runs`; the rows must hold every row of their communities)."""
        place, length = prefix_border_places(self.position, *teacher_forced_prefix_edges(self))
        return replace(self, entry_place=place, border_length=length)

    def with_face_sets(self) -> CommunityRows:
        """These rows with :attr:`face_sets` set from their communities' planar embeddings
        (:func:`~graphgen.models.higen.face_runs.data_face_sets`; the rows must hold every row of their
        communities)."""
        return replace(self, face_sets=pack_face_sets(data_face_sets(self)))


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
    budget = self_loop_weights(pg.edge_index, pg.edge_weight, int(pg.num_nodes))[parent]
    ei, w = g.edge_index, g.edge_weight
    inside = parent[ei[0]] == parent[ei[1]]
    lower = inside & (ei[0] > ei[1])  # row = later node, column = earlier node
    self_loop = self_loop_weights(ei, w, n)
    row_mass = self_loop + torch.zeros(n, dtype=torch.long).index_add_(0, ei[0, lower], w[lower])
    before = torch.cumsum(row_mass, 0) - row_mass
    before = before - before[_segment_start(parent)]
    reserved = (position > 0).long()
    remaining = budget - before - reserved
    # entries: every (row t, earlier node j < t) of the same community
    entry_row = torch.repeat_interleave(torch.arange(n), position)
    entry_node = segment_arange(position)
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
        size=torch.bincount(parent, minlength=int(parent.max()) + 1 if n else 0)[parent],
    )


def row_log_likelihood(
    rows: CommunityRows,
    log_alpha: torch.Tensor,
    p_mass: torch.Tensor,
    q_self: torch.Tensor,
    entry_logits: torch.Tensor,
    p_stop: torch.Tensor | None = None,
    concentration: torch.Tensor | None = None,
    self_concentration: torch.Tensor | None = None,
    *,
    leaf_rows: str = "multinomial",
    allow_disconnected: bool = True,
    mass_trials: str = "budget",
    explicit_size: bool = False,
    coordination: torch.nn.Module | None = None,
    adjacency: torch.Tensor | None = None,
    runs: torch.nn.Module | None = None,
    faces: torch.nn.Module | None = None,
) -> torch.Tensor:
    """Mixture log-likelihood of every row, ``(R,)``.

    Args:
        rows: from :func:`community_rows`.
        log_alpha: ``(R, K)`` log mixture weights (each row sums to 1 in probability).
        p_mass, q_self: ``(R, K)`` binomial probabilities of the row mass and of its self-loop part.
        entry_logits: ``(P, K)`` scores of the earlier nodes: a softmax within each row gives the
            multinomial ``π_t``; for conditional-Bernoulli leaf rows they are Bernoulli logits.
        p_stop: ``(R, K)`` probability that the row is its community's last (``row_stop`` models),
            or ``None`` for the paper's rows (see :func:`~graphgen.models.higen.stick_breaking.row_mass_log_prob`).
        concentration: ``(R, K)`` concentration ``ν`` of the row mass (``row_concentration`` models:
            :func:`~graphgen.models.higen.stick_breaking.power_binomial_log_prob`), or ``None`` (``ν = 1``).
        self_concentration: ``(R, K)`` concentration ``ξ`` of a coarse row's self-loop
            (``self_loop_concentration`` models:
            :func:`~graphgen.models.higen.stick_breaking.self_loop_log_prob`), or ``None`` (``ξ = 1``).
        leaf_rows: ``"multinomial"`` or ``"conditional_bernoulli"`` (leaf levels only).
        allow_disconnected: coarse rows draw their self-loop from ``u_t + c_t`` units, so the
            reserved unit may be the self-loop (see :mod:`~graphgen.models.higen.stick_breaking`).
        mass_trials: ``budget`` (the paper) or ``capacity`` (see
            :func:`~graphgen.models.higen.stick_breaking.row_mass_trials`).
        explicit_size: the community sizes ``rows.size`` are given -- explicit leaf sizes
            (conditional-Bernoulli leaf rows) or an explicit community count (coarse rows): each
            row's mass follows :func:`~graphgen.models.higen.stick_breaking.row_mass_interval`
            (``simple`` on the leaf level; ``p_stop`` and ``mass_trials`` unused); ``log p(N | W)``
            is not included here.
        coordination: the MLP ``g`` of coordinated leaf rows
            (:mod:`~graphgen.models.higen.row_sequence`; conditional-Bernoulli leaf rows only), or
            ``None`` (each component's row is a conditional Bernoulli).
        adjacency: with ``coordination``, each row's prefix graph
            (:func:`~graphgen.models.higen.row_sequence.prefix_adjacency`); ``None``: read from
            ``rows``, which must then hold every row of its communities.
        runs: the MLP ``g`` of run-shaped leaf rows' share ``π`` (:mod:`~graphgen.models.higen.row_runs`;
            conditional-Bernoulli leaf rows, ``rows`` from :meth:`CommunityRows.with_border_places`),
            or ``None``.
        faces: the MLP ``g`` of face-run leaf rows' share ``π`` (``row_faces``,
            :mod:`~graphgen.models.higen.face_runs`; conditional-Bernoulli leaf rows, ``rows`` from
            :meth:`CommunityRows.with_face_sets`), or ``None``. Not with ``runs``.

    The first row of a leaf community has nothing to choose and contributes 0.
    """
    if leaf_rows not in LEAF_ROWS:
        raise ValueError(f"unknown leaf row model {leaf_rows!r}; choose one of {', '.join(LEAF_ROWS)}")
    dtype = log_alpha.dtype
    r = rows.num_rows
    u = rows.mass.to(dtype).unsqueeze(1)
    later = (rows.position > 0).unsqueeze(1)
    simple = rows.leaf and leaf_rows == "conditional_bernoulli"
    mass_lp = row_mass_log_probs(
        u,
        rows.remaining.unsqueeze(1),
        rows.position.unsqueeze(1),
        None if rows.size is None else rows.size.unsqueeze(1),
        p_mass,
        p_stop,
        concentration,
        leaf=rows.leaf,
        simple=simple,
        mass_trials=mass_trials,
        given_size=explicit_size,
    )
    if (coordination is not None or runs is not None or faces is not None) and not simple:
        raise ValueError("coordinated, run-shaped or face-run rows need a leaf level with conditional-Bernoulli rows")
    if runs is not None and faces is not None:
        raise ValueError("rows are run-shaped or face runs, not both")
    if simple:
        take = rows.mass + rows.reserved
        entries = (entry_logits, rows.entry_count, rows.entry_row, rows.entry_node)
        if coordination is None:
            edge_lp = segment_conditional_bernoulli_log_prob(*entries, r, take)
        else:
            adjacency = prefix_adjacency(rows) if adjacency is None else adjacency
            edge_lp = row_sequence_log_prob(*entries, take, adjacency, coordination)
        if runs is not None or faces is not None:
            if runs is not None:
                if rows.entry_place is None or rows.border_length is None:
                    raise ValueError("run-shaped rows need their border places: CommunityRows.with_border_places()")
                place, length = rows.entry_place, rows.border_length
                run_lp = run_log_prob(entry_logits, rows.entry_count, rows.entry_row, place, length, take)
            else:
                if rows.face_sets is None:
                    raise ValueError("face-run rows need their face sets: CommunityRows.with_face_sets()")
                run_lp = face_log_prob(entry_logits, rows.entry_count, rows.entry_row, rows.face_sets)
            edge_lp = run_mixture_log_prob(edge_lp, run_lp, *run_share(rows, runs, faces))
    else:
        log_pi = entry_logits - segment_logsumexp(entry_logits, rows.entry_row, r)[rows.entry_row]
        counts = rows.entry_count.to(dtype).unsqueeze(1)
        total = (rows.mass + rows.reserved - rows.self_loop).to(dtype).unsqueeze(1)
        per_row = torch.zeros((r, log_alpha.shape[1]), dtype=dtype).index_add_(
            0, rows.entry_row, counts * log_pi - torch.lgamma(counts + 1)
        )
        edge_lp = torch.lgamma(total + 1) + per_row
        if not rows.leaf:
            trials = self_loop_trials(u, rows.reserved.to(dtype).unsqueeze(1), allow_disconnected)
            # a first row's mass is all self-loop (its term is dropped below): evaluate it at 0 of 0 trials
            self_loop = torch.where(later, rows.self_loop.to(dtype).unsqueeze(1), 0.0)
            trials = torch.where(later, trials, 0.0)
            edge_lp = edge_lp + self_loop_log_prob(self_loop, trials, q_self, self_concentration)
    lp = log_alpha + mass_lp + torch.where(later, edge_lp, torch.zeros_like(edge_lp))
    out = torch.logsumexp(lp, 1)
    if rows.leaf:
        out = torch.where(rows.position > 0, out, torch.zeros_like(out))
    return out


def run_share(
    rows: CommunityRows, runs: torch.nn.Module | None = None, faces: torch.nn.Module | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(logit π, feasible)`` ``(R,)`` of the run component of ``rows``' leaf rows: with ``runs``
    (``row_runs``' MLP) from the border cycle's length (:mod:`~graphgen.models.higen.row_runs`), with
    ``faces`` (``row_faces``' MLP) from the number of face sets (:mod:`~graphgen.models.higen.face_runs`)."""
    take = rows.mass + rows.reserved
    if runs is not None:
        return run_share_logits(runs, take, rows.border_length, rows.position), feasible_runs(take, rows.border_length)
    count = face_set_counts(rows.face_sets)
    return run_share_logits(faces, take, count, rows.position), count > 0


def row_mass_log_probs(
    u: torch.Tensor,
    remaining: torch.Tensor,
    position: torch.Tensor,
    size: torch.Tensor | None,
    p_mass: torch.Tensor,
    p_stop: torch.Tensor | None = None,
    concentration: torch.Tensor | None = None,
    *,
    leaf: bool,
    simple: bool,
    mass_trials: str = "budget",
    given_size: bool = False,
) -> torch.Tensor:
    """``log p(u_t)`` of row masses, elementwise: every argument broadcasts against the others (rows'
    ``remaining``, ``position``, ``size`` as ``(R, 1)`` against ``(R, K)`` network outputs in
    :func:`row_log_likelihood`; a grid of masses against one row's outputs in the diagnostics).

    ``given_size``: the interval binomial of a given node count
    (:func:`~graphgen.models.higen.stick_breaking.row_mass_interval`, ``simple`` on the leaf level;
    a leaf community's first row has nothing to choose); otherwise
    :func:`~graphgen.models.higen.stick_breaking.row_mass_log_prob` with the capacity ``t - c_t`` of
    ``simple`` (conditional-Bernoulli leaf) rows.
    """
    dtype = p_mass.dtype
    if given_size:
        if size is None or (leaf and not simple):
            raise ValueError("given community sizes need their sizes, and on the leaf level conditional-Bernoulli rows")
        lo, hi = row_mass_interval(remaining, position.clamp(min=1) if leaf else position, size, simple=leaf)
        if leaf:
            first = position == 0  # nothing to choose; a finite value keeps the masked gradient finite
            lo, hi = torch.where(first, 0.0, lo), torch.where(first, 0.0, hi)
        return interval_binomial_log_prob(u, lo.to(dtype), hi.to(dtype), p_mass, concentration)
    cap = (position - (position > 0).long()).to(dtype) if simple else None
    return row_mass_log_prob(u, remaining.to(dtype), p_mass, cap, p_stop, mass_trials, concentration)
