"""Strip-shaped leaf blocks: a block's cross edges as a zipped strip between two community borders.

In a planar triangulation the cross edges between two communities ``C_i`` and ``C_j`` are mostly a
**zipped strip**: two runs of consecutive border nodes, one per community, joined by a staircase of
edges in which each edge shares one endpoint with the one before and advances the other endpoint one
step along its border. Counted on planar's test graphs (the shipped model's hierarchy), 81 % of the
leaf blocks are strips along paths of their communities and 74 % along runs of the border cycles
below; the coordinated model (:mod:`graphgen.models.higen.block_sequence`) puts only 14-20 % of its
blocks in that shape (``metrics/scripts/higen_strip_blocks.py``). A strip of ``w`` edges is fixed by a
start pair, a direction along each border and ``w - 1`` steps, so a distribution over those is a
distribution whose whole support is strips.

**Our extension** (``HiGenConfig.cross_strips``, leaf blocks of a coordinated model). Number each
community's border nodes along its border cycle (:func:`~graphgen.models.higen.boundary_walk.border_cycles`,
``L_i`` nodes, places read modulo ``L_i``). The **strip process** of a block with ``w`` edges:

1. directions ``d_i, d_j ∈ {+1, -1}``, each with probability ½ (a nuisance of the numbering);
2. a start pair ``(a_0, c_0)`` of border nodes,
   ``p(a_0, c_0 | d) = softmax over the block's border pairs of θ_{a_0 c_0} + g_s(φ_s)``, with
   ``φ_s = [θ_{a_0^- c_0}, θ_{a_0 c_0^-}, θ_{a_0^- c_0^-}]`` the scores of the pairs one step *before* the
   start in the chosen directions (``a^-``: the border node at place ``p(a) - d_i``), so a start can
   learn to sit at the end of a contact run;
3. ``w - 1`` steps from ``(x, y) = (0, 0)``: the pair at ``(x, y)`` is
   ``(a, c) = (cycle_i[p(a_0) + d_i x], cycle_j[p(c_0) + d_j y])``; a step advances ``x`` (an
   ``A``-step, new pair ``(a', c)``) or ``y`` (a ``C``-step, new pair ``(a, c')``) with
   ``p(A) = σ(θ_{a' c} - θ_{a c'} + g_m(φ_m))``,
   ``φ_m = [log1p [f_a, f_c, δ_a, δ_c, w - 1 - k, L_i - 1 - x, L_j - 1 - y, e_{a'}, e_{c'}],
   1[a ~ a'], 1[c ~ c']]`` (``f``: the strip's edges at ``a`` and at ``c`` so far, ``δ``:
   intra-community degrees, ``k``: steps taken, ``e``: cross edges of the node in earlier rounds of
   blocks, 0 without ``cross_rounds``; ``a ~ a'``: the step follows a community edge, which it does
   not where the border walk restarted or on a generated community's ragged border). A side at its
   last place (``x = L_i - 1``) cannot advance (the other step has probability 1).

Every outcome is a set of ``w`` distinct pairs (``x < L_i`` and ``y < L_j`` keep the places apart),
so the process is a distribution over ``w``-subsets; a block is **feasible** when both communities
have border nodes and ``w <= L_i + L_j - 1`` (the steps never run out). An edge set ``Y`` has
probability ``p_s(Y) = Σ_r p(r)`` over its **representations** ``r = (d, a_0, c_0, steps)``, the
outcomes that produce it: for each direction pair, the start must be the first node of each contact
run in that direction and the edges sorted by ``x + y`` must form a unit staircase from ``(0, 0)``;
a strip has two (read from either end), more when a side is a single node (its direction is free) or
covers its whole cycle. ``p_s(Y) = 0`` when ``Y`` is not a strip. Tested by enumeration: ``p_s``
sums to 1 over all ``w``-subsets, and sampled frequencies match it.

**Segments** (``HiGenConfig.cross_strip_segments``, our option): a border cycle can have *jumps*,
consecutive places no community edge joins (where the border walk restarted; 3.6 % of cycle steps in
planar's test communities, 5.6 % in generated ones), and a strip that steps across one leaves a fan
broken (a node's cross neighbours in one community not a path; never in the data, 6.1 % of the
plain strips' fans; ``metrics/scripts/higen_strip_components.py``). With segments a side may take
from its start at most ``room`` steps in its direction, up to the first jump (``L - 1`` without
one); the directions and the start are drawn together, ``p(d, a_0, c_0) = softmax`` of the same
logits over the triples whose two sides have ``room_i + room_j >= w - 1`` (so the steps never run
out), a side stops at its room, and a block is feasible when its communities' widest rooms add up to
``w - 1``. A representation counts only if both sides stay within their rooms. Tested by enumeration
like the whole-cycle process. Without segments (checkpoints without the key) nothing changes.
Measured (session 33): it removes the broken fans (0.14 % of the strips' fans) but not the excess
claws, and samples worse (orbit 0.015-0.016 against 0.010 at τ = 0.6, two seeds), so no shipped
model uses it.

**Windows** (``HiGenConfig.cross_strip_windows``, our option): where a strip lands on the two borders
is left to the start, and the plain start reads only pair scores next to it: on planar's test graphs'
real communities the strips of the two strip models shipped so far share 7-10 % of their edges with
the data's block between the same communities, no more than with a start drawn uniformly (7.5 %;
``metrics/scripts/higen_strip_placement.py``). In the data a border node that takes cross edges has a
lower community degree than one that stays on the outer face (mean 4.24 against 4.98 on planar's test
communities): its cross edges complete its wheel. With windows ``g_s`` also reads
``φ_win = [mean_{k < m_i} log1p δ(cycle_i[p(a_0) + d_i k]), mean_{k < m_j} log1p δ(cycle_j[p(c_0) + d_j k]),
log1p δ(a_0^-), log1p δ(c_0^-)]``, ``m = min(⌈(w + 1) / 2⌉, L)`` (the side length of a balanced strip of
``w`` edges, clipped to the cycle): the degrees along the strip-to-be and just before it. It is a
function of the start, the directions and the communities only, so the process stays exact (the
enumeration tests run with it). Without windows (checkpoints without the key) nothing changes.
Measured (session 34, seven-layer community networks, two seeds): the validation NLL does not move
(0.1219 / 0.1219 against 0.1224 / 0.1210), the strips still land at chance, and the samples are within
the seed-to-seed noise; no shipped model uses it.

**Planar strips** (``Draws.planar_strips``, our constrained decoding; with the face-run decoding of
:mod:`~graphgen.models.higen.face_runs` or a ``row_faces`` model, whose communities walk their outer
faces in one orientation).
Two strips glued to consistently oriented discs make a plane drawing only if each is untwisted (its
sides run in opposite directions along the two cycles: :data:`UNTWISTED`) and strips on one border do
not overlap; in planar's test graphs a community with two neighbouring communities meets them in
exactly one common node (51 of 51; ``neighbour_pairs`` in
``metrics/results/higen-border-structure-planar-strips*.json``), while the model's strips met them
in 0 to 3 or more (9-13 of 42-60 in exactly one). Under the decoding every feasible block is a strip
(``π = 1``), drawn untwisted (the two untwisted direction pairs ½ each, then the process as above),
and redrawn while :func:`strip_conflicts` holds against the cross edges of earlier rounds: a
rejection sampler of the untwisted process conditioned on not meeting earlier strips in two nodes of
a community or inside an earlier side (at most
:data:`~graphgen.models.higen.bipartite_net.PLANAR_STRIP_TRIES` draws; what is still in conflict is
kept and counted). Measured (session 36, test split, 10 seeds, τ = 0.7; both training seeds of
``higen-planar-strips``): V.U.N. 82 / 85 % against 47 / 58 % with face rows alone and 25 / 21 %
plain; 17-34 of 42-60 neighbour pairs meet in exactly one node; degree, orbit and spectral MMD as
good within the sampling noise, clustering 0.061 / 0.073 against 0.060 / 0.059 plain
(``higen-planar-strips-planar-strips/``, ``higen-planar-7-layers-strips-planar-strips-seed-0/``).

The block distribution is the **mixture** ``p(Y) = π p_s(Y) + (1 - π) p_c(Y)`` with ``p_c`` the
coordinated model (the fallback for blocks that are not strips: ~20-25 % in planar's data, most of
SBM's) and ``π_b = σ(λ + g_π(log1p [w, L_i, L_j, n_i n_j]))`` per block, 0 for an infeasible one
(``g_π`` can learn to send blocks long against their borders to the fallback). ``π_b`` is a function
of what is known before the block's edges, so the mixture is exact too. ``g_s``, ``g_m``, ``g_π``
start at zero and ``λ`` at 0. Training evaluates both terms; sampling draws the component of each
block, then its edges; a temperature ``τ`` tempers each choice (component, start, step) as in
:class:`~graphgen.models.higen.model.Draws`; mode decoding takes each most likely choice.

**Measured** (session 33; ``metrics/higen-experiments.md``): ``higen-planar``'s cross-edge network
retrained alone as a strip mixture (two seeds) lowers the cross edges' validation NLL by 27 % and, on
the test graphs' real communities, their clustering MMD from 0.057 to 0.025-0.028; whole samples are
valid planar graphs 16-24 % of the time against 2.5 %, but on generated communities strips give
some border nodes too many cross neighbours, and the orbit or degree MMD gets worse. On the
seven-layer community networks of session 31 (session 34, two training seeds, each at its validation
temperature) degree and orbit meet the published values, clustering is 0.059-0.060 (``higen-planar``
0.074) and V.U.N. 21-25 %: shipped as ``higen-planar-strips``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch
from torch import nn
from torch.nn import functional as F

from graphgen.data.ops import segment_arange, segment_logsumexp
from graphgen.models.higen.bipartite import LOG_ZERO
from graphgen.models.higen.block_sequence import offset_net
from graphgen.models.higen.boundary_walk import border_cycles

__all__ = ["StripTables", "strip_tables", "strip_representations", "StripModel", "strip_conflicts", "UNTWISTED"]

START_FEATURES = 3
WINDOW_FEATURES = 4  # with windows: the start also reads the intra degrees along and before the strip
MIX_FEATURES = 4
MOVE_FEATURES = 11
DIRECTIONS = ((1, 1), (1, -1), (-1, 1), (-1, -1))
UNTWISTED = (1, 2)  # indices into DIRECTIONS of the pairs whose sides run in opposite directions


@dataclass
class StripTables:
    """The border cycles of a level's communities and the pair numbering of a ``BlockPairs`` layout."""

    place: torch.Tensor  # (N,) place of each node on its community's border cycle, -1 off it
    length: torch.Tensor  # (C,) border nodes per community
    cycle_first: torch.Tensor  # (C,) where each community's cycle starts in cycle_nodes
    cycle_nodes: torch.Tensor  # (sum L,) border nodes, community by community, in cycle order
    local: torch.Tensor  # (N,) each node's index within its community in the pair numbering
    degree: torch.Tensor  # (N,) intra-community degree
    edge_keys: torch.Tensor  # (E,) sorted u * N + v of the intra-community edges (both directions)
    earlier: torch.Tensor  # (Q, 2) each pair's endpoints' cross edges in earlier rounds of blocks (0 without rounds)
    left: torch.Tensor  # (B,) community C_i of each block
    right: torch.Tensor  # (B,) community C_j
    right_size: torch.Tensor  # (B,) n_j
    block_size: torch.Tensor  # (B,) n_i n_j
    first_pair: torch.Tensor  # (B,) index of each block's first pair in the layout
    weight: torch.Tensor  # (B,) w_ij
    feasible: torch.Tensor  # (B,) bool
    room: torch.Tensor  # (N, 2) steps a side may take from each border node, direction +1 / -1
    segments: bool  # sides stay within runs of the cycle joined by community edges

    def room_from(self, node: torch.Tensor, direction: torch.Tensor) -> torch.Tensor:
        """Steps a side may take from its start ``node`` in ``direction`` (+1 / -1): ``L - 1`` on the
        whole cycle; with ``segments`` up to the first consecutive pair not joined by an edge."""
        return self.room[node, (1 - direction) // 2]

    def node(self, community: torch.Tensor, place: torch.Tensor) -> torch.Tensor:
        """The border node at ``place`` (read modulo the cycle's length) of each ``community``."""
        length = self.length[community].clamp(min=1)
        return self.cycle_nodes[
            (self.cycle_first[community] + torch.remainder(place, length)).clamp(max=self.cycle_nodes.numel() - 1)
        ]

    def adjacent(self, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """Whether ``u`` and ``v`` are joined by an intra-community edge."""
        return _joined(self.edge_keys, u, v, self.place.numel())

    def select(self, members: torch.Tensor, keep: torch.Tensor, sub) -> StripTables:
        """The tables of the blocks ``members`` ``(B,)``, whose pairs ``keep`` ``(Q,)`` make the layout
        ``sub`` (``BlockPairs.select_blocks``): the communities' cycles and numbering stay as they are."""
        return replace(
            self,
            earlier=self.earlier[keep],
            left=self.left[members],
            right=self.right[members],
            right_size=self.right_size[members],
            block_size=sub.block_size,
            first_pair=torch.cumsum(sub.block_size, 0) - sub.block_size,
            weight=self.weight[members],
            feasible=self.feasible[members],
        )

    def pair(self, block: torch.Tensor, a: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """Index in the layout of the pair ``(a, c)`` of each ``block``."""
        return self.first_pair[block] + self.local[a] * self.right_size[block] + self.local[c]


def _joined(edge_keys: torch.Tensor, u: torch.Tensor, v: torch.Tensor, n: int) -> torch.Tensor:
    """Whether each ``(u, v)`` is among the edges whose sorted keys ``u * n + v`` are ``edge_keys``."""
    key = u * n + v
    if not edge_keys.numel():
        return torch.zeros_like(key, dtype=torch.bool)
    at = torch.searchsorted(edge_keys, key).clamp(max=edge_keys.numel() - 1)
    return edge_keys[at] == key


def _segment_room(cycle_nodes: list[int], first: list[int], length: list[int], joined: list[bool], n: int):
    """``(N, 2)``: from each border node, the steps along its cycle (direction +1, -1) before the
    first consecutive pair not joined by a community edge (``joined[i]``: cycle entry ``i`` and the
    next place of its cycle), at most ``L - 1``."""
    room = torch.zeros((n, 2), dtype=torch.long)
    for start, size in zip(first, length):
        nodes = cycle_nodes[start : start + size]
        joined_here = [size > 1 and joined[start + p] for p in range(size)]
        for p, v in enumerate(nodes):
            forward = backward = 0
            while forward < size - 1 and joined_here[(p + forward) % size]:
                forward += 1
            while backward < size - 1 and joined_here[(p - backward - 1) % size]:
                backward += 1
            room[v, 0], room[v, 1] = forward, backward
    return room


def strip_tables(
    pairs, level_edge_index: torch.Tensor, parent: torch.Tensor, segments: bool = False, border=None
) -> StripTables:
    """:class:`StripTables` of a ``BlockPairs`` layout (block ``b``'s pairs contiguous, row-major
    over its two communities) on a level with intra-community edges ``level_edge_index`` (both
    directions) and communities ``parent``; ``segments``: a side may not step between consecutive
    cycle places that no community edge joins (module docstring); ``border``: the communities'
    ``(place, length)`` when known otherwise than by their border walk (the face-run decoding's
    outer faces), else :func:`~graphgen.models.higen.boundary_walk.border_cycles`."""
    n = int(parent.numel())
    place, length = border_cycles(level_edge_index, parent) if border is None else border
    cycle_first = torch.cumsum(length, 0) - length
    on = place >= 0
    cycle_nodes = torch.empty(int(length.sum()), dtype=torch.long)
    cycle_nodes[cycle_first[parent[on]] + place[on]] = on.nonzero().flatten()
    b = int(pairs.block_weight.numel())
    first_pair = torch.cumsum(pairs.block_size, 0) - pairs.block_size
    left = parent[pairs.pair_left[first_pair]] if b else torch.zeros(0, dtype=torch.long)
    right = parent[pairs.pair_right[first_pair]] if b else torch.zeros(0, dtype=torch.long)
    sizes = torch.bincount(parent, minlength=int(length.numel()))
    right_size = sizes[right]
    within = torch.arange(pairs.pair_block.numel()) - first_pair[pairs.pair_block]
    local = torch.zeros(n, dtype=torch.long)
    local[pairs.pair_left] = within // right_size[pairs.pair_block]
    local[pairs.pair_right] = within % right_size[pairs.pair_block]
    u, v = level_edge_index
    inside = (parent[u] == parent[v]) & (u != v)
    degree = torch.bincount(u[inside], minlength=n)
    edge_keys = torch.sort(u[inside] * n + v[inside]).values
    earlier = pairs.pair_earlier
    if earlier is None:
        earlier = torch.zeros((pairs.pair_block.numel(), 2), dtype=torch.float64)
    li, lj, w = length[left], length[right], pairs.block_weight
    if segments:
        cycle_of = torch.repeat_interleave(torch.arange(int(length.numel())), length)
        following = cycle_first[cycle_of] + torch.remainder(place[cycle_nodes] + 1, length[cycle_of])
        joined = _joined(edge_keys, cycle_nodes, cycle_nodes[following], n)
        room = _segment_room(cycle_nodes.tolist(), cycle_first.tolist(), length.tolist(), joined.tolist(), n)
    else:
        room = (length[parent] - 1).clamp(min=0)[:, None].expand(n, 2).contiguous()
    widest = torch.zeros(int(length.numel()), dtype=torch.long)
    widest = widest.scatter_reduce(0, parent[on], room[on].max(1).values, reduce="amax")
    # without segments widest = L - 1, so w <= L_i + L_j - 1
    feasible = (li > 0) & (lj > 0) & (w >= 1) & (w <= widest[left] + widest[right] + 1)
    return StripTables(
        place,
        length,
        cycle_first,
        cycle_nodes,
        local,
        degree,
        edge_keys,
        earlier,
        left,
        right,
        right_size,
        pairs.block_size,
        first_pair,
        w,
        feasible,
        room,
        segments,
    )


def strip_conflicts(units: torch.Tensor, pairs, tables: StripTables, earlier: torch.Tensor) -> torch.Tensor:
    """Which blocks ``(B,)`` of a layout meet the cross edges of earlier rounds in a way no plane
    drawing of untwisted strips allows (the planar-strips decoding, :mod:`~graphgen.models.higen.model`'s
    ``Draws.planar_strips``): a side of the block's edges (``units > 0``; its nodes in one community)
    holds two or more nodes that already have cross edges (``earlier`` ``(Q, 2)``, as
    ``BlockPairs.pair_earlier``), or is a single such node whose two border-cycle neighbours both have
    them (it lies inside an earlier strip's side, not at its end). In planar's test graphs a community
    with two neighbouring communities meets them in exactly one common node, the corner (session 36)."""
    b = int(pairs.block_weight.numel())
    bad = torch.zeros(b, dtype=torch.bool)
    if b == 0:
        return bad
    used = torch.zeros(int(tables.place.numel()), dtype=torch.bool)
    used[pairs.pair_left] = earlier[:, 0] > 0
    used[pairs.pair_right] = earlier[:, 1] > 0
    hit = units > 0
    block = pairs.pair_block[hit]
    for nodes, community in ((pairs.pair_left[hit], tables.left), (pairs.pair_right[hit], tables.right)):
        key = torch.unique(block * used.numel() + nodes)  # each block's side, each node once
        side_block, side_node = key // used.numel(), key % used.numel()
        size = torch.bincount(side_block, minlength=b)
        touched = torch.bincount(side_block, weights=used[side_node].double(), minlength=b)
        c = community[side_block]
        around = torch.stack([tables.node(c, tables.place[side_node] + step) for step in (1, -1)], 1)
        inside = used[side_node] & used[around].all(1) & (size[side_block] == 1)
        bad |= (touched >= 2) | (torch.bincount(side_block, weights=inside.double(), minlength=b) > 0)
    return bad


@dataclass
class Representations:
    """Every representation (module docstring) of the strips among a layout's target blocks."""

    block: torch.Tensor  # (R,)
    start_a: torch.Tensor  # (R,) place of a_0 on C_i's cycle
    start_c: torch.Tensor  # (R,)
    direction: torch.Tensor  # (R,) index into DIRECTIONS
    step_rep: torch.Tensor  # (S,) representation of each step
    step_state: torch.Tensor  # (S, 5) [x, y, f_a, f_c, k] before the step
    step_move: torch.Tensor  # (S,) 1: an A-step, 0: a C-step


def _run_start(places: list[int], length: int, d: int) -> list[int]:
    """The places from which ``places`` (distinct places of one cycle) is a run read in direction ``d``."""
    size = len(places)
    return [p for p in places if all(((q - p) * d) % length < size for q in places)]


def strip_representations(pairs, tables: StripTables) -> Representations:
    """The representations of every feasible block's target edge set (``pairs.pair_target``)."""
    hit = (pairs.pair_target > 0).nonzero().flatten()
    edges: dict[int, list[tuple[int, int]]] = {}
    for blk, a, c in zip(pairs.pair_block[hit].tolist(), pairs.pair_left[hit].tolist(), pairs.pair_right[hit].tolist()):
        edges.setdefault(blk, []).append((a, c))
    place = tables.place.tolist()
    cycle_nodes, cycle_first = tables.cycle_nodes.tolist(), tables.cycle_first.tolist()
    room = tables.room.tolist() if tables.segments else None
    reps, steps = [], []
    feasible = tables.feasible.tolist()
    for blk, block_edges in edges.items():
        if not feasible[blk] or len(block_edges) != int(tables.weight[blk]):
            continue
        if any(place[a] < 0 or place[c] < 0 for a, c in block_edges):
            continue
        ci, cj = int(tables.left[blk]), int(tables.right[blk])
        li, lj = int(tables.length[ci]), int(tables.length[cj])
        pa = sorted({place[a] for a, _ in block_edges})
        pc = sorted({place[c] for _, c in block_edges})
        at = {(place[a], place[c]) for a, c in block_edges}
        for direction, (di, dj) in enumerate(DIRECTIONS):
            for sa in _run_start(pa, li, di):
                for sc in _run_start(pc, lj, dj):
                    if (sa, sc) not in at:
                        continue
                    points = sorted((((p - sa) * di) % li, ((r - sc) * dj) % lj) for p, r in at)
                    if any(
                        x1 + y1 != x0 + y0 + 1 or x1 < x0 or y1 < y0 for (x0, y0), (x1, y1) in zip(points, points[1:])
                    ):
                        continue
                    if room is not None:  # each side within its segment: no step between unjoined places
                        a0, c0 = cycle_nodes[cycle_first[ci] + sa], cycle_nodes[cycle_first[cj] + sc]
                        if points[-1][0] > room[a0][(1 - di) // 2] or points[-1][1] > room[c0][(1 - dj) // 2]:
                            continue
                    rep = len(reps)
                    reps.append((blk, sa, sc, direction))
                    fa = fc = 1
                    for k, ((x0, y0), (x1, _)) in enumerate(zip(points, points[1:])):
                        move = int(x1 > x0)
                        steps.append((rep, x0, y0, fa, fc, k, move))
                        fa, fc = (1, fc + 1) if move else (fa + 1, 1)
    r = torch.tensor(reps, dtype=torch.long).view(-1, 4)
    s = torch.tensor(steps, dtype=torch.long).view(-1, 7)
    return Representations(r[:, 0], r[:, 1], r[:, 2], r[:, 3], s[:, 0], s[:, 1:6], s[:, 6])


class StripModel(nn.Module):
    """The strip process and its mixture weight (module docstring): ``g_s``, ``g_m`` and ``λ``."""

    def __init__(self, hidden: int = 16, windows: bool = False):
        super().__init__()
        self.windows = windows
        self.start_net = offset_net(START_FEATURES + WINDOW_FEATURES * int(windows), hidden)
        self.move_net = offset_net(MOVE_FEATURES, hidden)
        self.mix_net = offset_net(MIX_FEATURES, hidden)
        self.mix_logit = nn.Parameter(torch.zeros(()))

    # -------------------------------------------------------------------------------- pieces
    def start_logits(self, theta, tables: StripTables, block, a, c, direction) -> torch.Tensor:
        """``θ_{a c} + g_s(φ_s)`` of start pairs ``(a, c)`` of ``block`` under ``direction`` indices."""
        d = torch.tensor(DIRECTIONS, dtype=torch.long)[direction]
        left, right = tables.left[block], tables.right[block]
        a_before = tables.node(left, tables.place[a] - d[:, 0])
        c_before = tables.node(right, tables.place[c] - d[:, 1])
        features = torch.stack(
            [
                theta[tables.pair(block, a_before, c)],
                theta[tables.pair(block, a, c_before)],
                theta[tables.pair(block, a_before, c_before)],
            ],
            1,
        ).to(self.mix_logit.dtype)
        if self.windows:
            features = torch.cat([features, self.window_features(tables, block, a, c, d, a_before, c_before)], 1)
        return theta[tables.pair(block, a, c)] + self.start_net(features).squeeze(1).to(theta.dtype)

    def window_features(self, tables: StripTables, block, a, c, d, a_before, c_before) -> torch.Tensor:
        """``φ_win`` ``(P, 4)`` of start pairs (module docstring, *Windows*): the mean ``log1p δ`` over the
        ``m_i = min(⌈(w + 1) / 2⌉, L_i)`` border nodes from ``a`` in direction ``d_i`` (and ``m_j`` from
        ``c``), then ``log1p δ`` of ``a^-`` and ``c^-``."""
        weight = tables.weight[block]
        log_degree = torch.log1p(tables.degree.to(self.mix_logit.dtype))
        means = []
        for side, start, direction in ((tables.left, a, d[:, 0]), (tables.right, c, d[:, 1])):
            community = side[block]
            m = torch.minimum(torch.div(weight + 2, 2, rounding_mode="floor"), tables.length[community])
            steps = torch.arange(int(m.max()) if m.numel() else 0)
            nodes = tables.node(community[:, None], tables.place[start][:, None] + direction[:, None] * steps)
            inside = steps < m[:, None]
            means.append((log_degree[nodes] * inside).sum(1) / m.clamp(min=1))
        return torch.stack([*means, log_degree[a_before], log_degree[c_before]], 1)

    def start_log_probs(self, theta, pairs, tables: StripTables) -> tuple[torch.Tensor, torch.Tensor]:
        """``(candidates, log p)``: the border pairs of the feasible blocks ``(P,)`` (layout indices) and
        their start log-probabilities ``(P, 4)`` under each direction pair: given the directions (each
        pair of directions then has probability ¼), or with ``segments`` jointly with them, over the
        ``(directions, start)`` whose two sides have room for the ``w - 1`` steps (:data:`LOG_ZERO`
        elsewhere)."""
        on = (tables.place[pairs.pair_left] >= 0) & (tables.place[pairs.pair_right] >= 0)
        candidates = (on & tables.feasible[pairs.pair_block]).nonzero().flatten()
        block = pairs.pair_block[candidates]
        logits = torch.stack(
            [
                self.start_logits(
                    theta,
                    tables,
                    block,
                    pairs.pair_left[candidates],
                    pairs.pair_right[candidates],
                    torch.full_like(block, d),
                )
                for d in range(len(DIRECTIONS))
            ],
            1,
        )
        b = int(tables.weight.numel())
        if not tables.segments:
            return candidates, logits - segment_logsumexp(logits, block, b)[block]
        left, right = pairs.pair_left[candidates], pairs.pair_right[candidates]
        room = torch.stack(
            [
                tables.room_from(left, torch.full_like(left, di)) + tables.room_from(right, torch.full_like(right, dj))
                for di, dj in DIRECTIONS
            ],
            1,
        )
        logits = torch.where(room >= (tables.weight[block] - 1)[:, None], logits, LOG_ZERO)
        log_z = torch.logsumexp(segment_logsumexp(logits, block, b), 1)
        return candidates, logits - log_z[block][:, None]

    def move_logits(self, theta, tables: StripTables, block, start_a, start_c, direction, state) -> tuple:
        """``(ℓ, can_a, can_c)`` of steps from ``state = [x, y, f_a, f_c, k]`` ``(S, 5)``: the logit of an
        ``A``-step and whether each side can still advance."""
        d = torch.tensor(DIRECTIONS, dtype=torch.long)[direction]
        x, y, fa, fc, k = state.unbind(1)
        left, right = tables.left[block], tables.right[block]
        a, a_next = (tables.node(left, start_a + d[:, 0] * s) for s in (x, x + 1))
        c, c_next = (tables.node(right, start_c + d[:, 1] * s) for s in (y, y + 1))
        room_a = tables.room_from(tables.node(left, start_a), d[:, 0])  # L_i - 1 without segments
        room_c = tables.room_from(tables.node(right, start_c), d[:, 1])
        counts = torch.stack(
            [fa, fc, tables.degree[a], tables.degree[c], tables.weight[block] - 1 - k, room_a - x, room_c - y], 1
        ).to(self.mix_logit.dtype)
        step_a, step_c = tables.pair(block, a_next, c), tables.pair(block, a, c_next)
        earlier = torch.stack([tables.earlier[step_a, 0], tables.earlier[step_c, 1]], 1).to(self.mix_logit.dtype)
        along = torch.stack([tables.adjacent(a, a_next), tables.adjacent(c, c_next)], 1).to(self.mix_logit.dtype)
        features = torch.cat([torch.log1p(counts), torch.log1p(earlier), along], 1)
        offset = self.move_net(features).squeeze(1).to(theta.dtype)
        logit = theta[step_a] - theta[step_c] + offset
        return logit, x < room_a, y < room_c

    # -------------------------------------------------------------------------------- likelihood
    def representation_log_probs(self, theta, pairs, tables: StripTables) -> tuple[Representations, torch.Tensor]:
        """The representations of the blocks' targets (:func:`strip_representations`) and the log-probability
        ``(R,)`` of each under the strip process."""
        reps = strip_representations(pairs, tables)
        if not reps.block.numel():
            return reps, theta.new_zeros(0)
        candidates, start_lp = self.start_log_probs(theta, pairs, tables)
        left, right = tables.left[reps.block], tables.right[reps.block]
        start_pair = tables.pair(reps.block, tables.node(left, reps.start_a), tables.node(right, reps.start_c))
        row = torch.full((pairs.pair_block.numel(),), -1, dtype=torch.long)
        row[candidates] = torch.arange(candidates.numel())
        directions = 0.0 if tables.segments else 2 * math.log(0.5)  # drawn with the start, or ½ each
        rep_lp = start_lp[row[start_pair], reps.direction] + directions
        if reps.step_rep.numel():
            s = reps.step_rep
            logit, can_a, can_c = self.move_logits(
                theta, tables, reps.block[s], reps.start_a[s], reps.start_c[s], reps.direction[s], reps.step_state
            )
            move = reps.step_move.bool()
            step_lp = torch.where(can_a & can_c, F.logsigmoid(torch.where(move, logit, -logit)), 0.0)
            rep_lp = rep_lp.index_add(0, s, step_lp)
        return reps, rep_lp

    def strip_log_likelihood(self, theta, pairs, tables: StripTables) -> torch.Tensor:
        """``log p_s(Y)`` ``(B,)`` of every block's targets, :data:`LOG_ZERO` where ``Y`` is no strip."""
        b = int(tables.weight.numel())
        reps, rep_lp = self.representation_log_probs(theta, pairs, tables)
        if not reps.block.numel():
            return theta.new_full((b,), LOG_ZERO)
        out = segment_logsumexp(rep_lp.unsqueeze(1), reps.block, b).squeeze(1)
        return torch.where(torch.isfinite(out), out, theta.new_full((b,), LOG_ZERO))

    def mix_logits(self, tables: StripTables) -> torch.Tensor:
        """``λ + g_π(φ_π)`` ``(B,)``: the logit of each block's strip component."""
        li, lj = tables.length[tables.left], tables.length[tables.right]
        features = torch.stack([tables.weight, li, lj, tables.block_size], 1).to(self.mix_logit.dtype)
        return self.mix_logit + self.mix_net(torch.log1p(features)).squeeze(1)

    def mixture_log_likelihood(self, theta, pairs, tables: StripTables, fallback: torch.Tensor) -> torch.Tensor:
        """``log(π p_s(Y) + (1 - π) p_c(Y))`` ``(B,)``, ``fallback`` the coordinated ``log p_c(Y)``;
        ``π = 0`` on infeasible blocks."""
        strip = self.strip_log_likelihood(theta, pairs, tables)
        lam = self.mix_logits(tables).to(theta.dtype)
        mixed = torch.logaddexp(F.logsigmoid(lam) + strip, F.logsigmoid(-lam) + fallback)
        return torch.where(tables.feasible, mixed, fallback)

    # -------------------------------------------------------------------------------- sampling
    def choose_strips(self, tables: StripTables, draws) -> torch.Tensor:
        """Which blocks ``(B,)`` draw a strip: feasible ones with probability ``π``."""
        b = int(tables.weight.numel())
        if not b:
            return torch.zeros(0, dtype=torch.bool)
        pi = torch.sigmoid(self.mix_logits(tables).detach().double())
        probabilities = torch.stack([1 - pi, pi], 1)
        return (draws.categorical(probabilities) == 1) & tables.feasible

    def sample(self, theta, pairs, tables: StripTables, draws, untwisted: bool = False) -> torch.Tensor:
        """Units ``(Q,)`` of a strip drawn for every block of the layout (all must be feasible);
        ``untwisted``: the two sides run in opposite directions along their cycles (:data:`UNTWISTED`)."""
        return self.sample_paths(theta, pairs, tables, draws, untwisted)[0]

    def sample_paths(
        self, theta, pairs, tables: StripTables, draws, untwisted: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """:meth:`sample`, with the log-probability ``(B,)`` under the strip process (untempered) of
        each drawn outcome (directions, start, steps): one of its edge set's representations (with
        ``untwisted``, under the process whose direction pair is one of :data:`UNTWISTED`, ½ each)."""
        b = int(tables.weight.numel())
        out = torch.zeros(pairs.pair_block.numel(), dtype=torch.long)
        path_lp = torch.full((b,), math.log(0.5) * (1 if untwisted else 2), dtype=torch.float64)
        if not b:
            return out, path_lp
        if not bool(tables.feasible.all()):
            raise ValueError("every block sampled as a strip must be feasible")
        candidates, start_lp = self.start_log_probs(theta, pairs, tables)
        cand_block = pairs.pair_block[candidates]
        slot = segment_arange(torch.bincount(cand_block, minlength=b))  # candidates come block by block
        index = torch.full((b, int(slot.max()) + 1), -1, dtype=torch.long)
        index[cand_block, slot] = candidates
        if tables.segments:  # directions and start drawn together: slot-major, then the 4 direction pairs
            path_lp = torch.zeros(b, dtype=torch.float64)
            table = torch.zeros((b, index.shape[1] * 4), dtype=torch.float64)
            for d in UNTWISTED if untwisted else range(len(DIRECTIONS)):
                table[cand_block, slot * 4 + d] = start_lp[:, d].double().exp()
            if untwisted:  # the process restricted to the untwisted pairs
                table = table / table.sum(1, keepdim=True).clamp(min=1e-300)
            pick = draws.categorical(table)
            direction, start = pick % 4, index[torch.arange(b), pick // 4]
        else:  # the directions first, ½ each (untwisted: one of the two untwisted pairs), then the start
            half = torch.full((b, 2), 0.5, dtype=torch.float64)
            if untwisted:
                direction = torch.tensor(UNTWISTED)[draws.categorical(half)]
            else:
                direction = 2 * draws.categorical(half) + draws.categorical(half)
            table = torch.zeros((b, index.shape[1]), dtype=torch.float64)
            table[cand_block, slot] = start_lp[torch.arange(candidates.numel()), direction[cand_block]].double().exp()
            pick = draws.categorical(table)
            start = index[torch.arange(b), pick]
        path_lp = path_lp + table[torch.arange(b), pick].log()
        start_a, start_c = tables.place[pairs.pair_left[start]], tables.place[pairs.pair_right[start]]
        out[start] = 1
        blocks = torch.arange(b)
        state = torch.zeros((b, 5), dtype=torch.long)
        state[:, 2:4] = 1
        d = torch.tensor(DIRECTIONS, dtype=torch.long)[direction]
        for k in range(int(tables.weight.max()) - 1):
            live = (k < tables.weight - 1).nonzero().flatten()
            st = state[live]
            st[:, 4] = k
            logit, can_a, can_c = self.move_logits(
                theta, tables, blocks[live], start_a[live], start_c[live], direction[live], st
            )
            p_a = torch.where(can_a & can_c, torch.sigmoid(logit.double()), can_a.double())
            move = draws.categorical(torch.stack([1 - p_a, p_a], 1)) == 1
            path_lp[live] += torch.where(move, p_a, 1 - p_a).log()
            x = st[:, 0] + move.long()
            y = st[:, 1] + (~move).long()
            fa = torch.where(move, 1, st[:, 2] + 1)
            fc = torch.where(move, st[:, 3] + 1, 1)
            state[live] = torch.stack([x, y, fa, fc, st[:, 4]], 1)
            bl = blocks[live]
            a = tables.node(tables.left[bl], start_a[live] + d[live, 0] * x)
            c = tables.node(tables.right[bl], start_c[live] + d[live, 1] * y)
            out[tables.pair(bl, a, c)] = 1
        return out, path_lp
