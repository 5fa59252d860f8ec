"""Coordinated leaf cross edges: a block's edges placed one after another, each seeing the others.

The paper's bipartite model scores every pair ``(a, c) ∈ C_i × C_j`` once and places the block's
``w_ij`` edges independently given those scores (:mod:`graphgen.models.higen.bipartite`: a
multinomial, or our conditional Bernoulli on the leaf level). Real cross edges are not
independent: in a planar triangulation every cross edge lies on a triangle, the cut between two
communities being a strip of triangles whose consecutive cross edges share an endpoint. Measured on
samples of the shipped ``higen-planar`` model, 49 % of the cross edges lie on a triangle against
100 % in the data (``metrics/scripts/higen_structure.py``).

**Our extension** (``HiGenConfig.cross_edges = "coordinated"``). Number the ``M = n_i n_j`` pairs
row-major, ``e = a n_j + c``, and write the block's edge set as an increasing sequence
``e_1 < ... < e_w``. Then

    p(e_1, ..., e_w) = Π_k exp(ℓ_k(e_k)) / Σ_{e > e_{k-1}} exp(ℓ_k(e)),
    ℓ_k(e) = θ_e + g(φ_k(e)) + log E_{w-k}(e + 1),
    E_r(e) = Σ_{T ⊆ {e, ..., M-1}, |T| = r} exp(Σ_{f ∈ T} θ_f)   (suffix elementary symmetric sums).

* ``θ_e`` are the bipartite network's pair scores, as before.
* ``E_{w-k}(e + 1) = 0`` (``log = -∞``) when fewer than ``w - k`` pairs follow ``e``: every
  sequence the steps can produce is complete, and each ``w``-subset has exactly one increasing
  sequence, so the probabilities of all ``w``-subsets sum to 1 (tested by enumeration).
* With ``g ≡ 0`` the steps telescope to ``exp(Σ_k θ_{e_k}) / E_w(0)``: exactly the conditional
  Bernoulli of the independent model (tested). ``g``'s last layer starts at zero, so training
  starts from the independent model and learns only the coordination.
* ``g`` is evaluated as ``g(φ) - g(0)``, which shifts each step's logits by a constant and so
  leaves the distribution unchanged; ``φ = 0`` off the rows and columns that already hold a placed
  pair, so ``g`` only runs there.
* ``φ_k(e)`` for ``e = (a, c)``, from the pairs ``P_{<k}`` already placed:
  ``[log1p t_1, log1p t_2, log1p d_a, log1p d_c]`` with ``t_1 = Σ_{c'} P[a, c'] A_j[c', c]``
  (a placed edge from ``a`` to a neighbour of ``c``: the new edge closes a triangle),
  ``t_2 = Σ_{a'} A_i[a, a'] P[a', c]`` (the same from ``c``'s side), and ``d_a``, ``d_c`` the cross
  edges ``a`` and ``c`` already have in the block; ``A_i``, ``A_j`` are the generated communities'
  adjacency. ``g`` is a small MLP (one per level, in :class:`~graphgen.models.higen.bipartite_net.BipartiteNet`).
* **Ladder feature** (``HiGenConfig.cross_ladder``, our option): ``φ`` gains ``log1p t_3`` with
  ``t_3 = (A_i P A_j)[a, c] = Σ_{a', c'} A_i[a, a'] P[a', c'] A_j[c', c]``, a placed edge between a
  neighbour of ``a`` and a neighbour of ``c`` (the new edge is the next rung of a ladder: with it
  and the two community edges they close a 4-cycle, which a zipped strip of triangles fills with
  one diagonal). Why: the pairs are placed row-major in the communities' generation order, which
  is not the order along the boundary, so in a zipped strip the next edge often shares no
  endpoint with a placed one. Counted on the true cross edges of 64 planar training graphs (2
  hierarchies, 2,693 edges; ``metrics/results/higen-ladder-signal-planar.json``): 9.2 % are a
  block's first edge, 15.8 % come later with ``t_1 = t_2 = 0`` (no signal), 6.9 % with
  ``t_1 = t_2 = t_3 = 0``. ``g``'s input width says whether it has the feature (4 or 5), so
  older checkpoints keep their features. Measured (session 19, the shipped ``higen-planar`` and
  ``metrics/results/higen-planar-cross-ladder/``): on planar it lowers the cross edges' validation
  NLL by 15 % (two training seeds), sampled edges land beside placed ones far more often, and the
  clustering MMD of the cross edges placed on real communities falls from 0.105 to 0.081; but a rung
  beside a rung closes a 4-cycle, not two triangles, so the strips are still far from zipped
  (cross edges on two triangles 61 % against 58 % before and 88 % in the data).

* **Contact features** (``HiGenConfig.cross_contact``, our option): ``φ`` gains ``log1p u_a`` and
  ``log1p u_c``, with ``u_a = Σ_{a'} A_i[a, a'] 1[d_{a'} > 0]`` the neighbours of ``a`` in ``C_i`` that
  already hold a placed pair of the block, and ``u_c`` likewise in ``C_j``. Why: in the data the nodes
  of a community that touch another community form a connected run of its border (a path in 90 % of
  block sides, connected in 100 % on the planar test graphs), while on the shipped planar model's
  cross edges sampled on the real communities only 54 % are connected (43 % a path;
  ``metrics/results/higen-ladder-signal-planar.json``): a new row, or a new column, often starts a
  contact run of its own. Under the generation order a run's nodes are not visited one after
  another along the border, so a run can grow disconnected for a while; with ``cross_order="boundary"``
  they are (except where the walk wraps round). ``t_1``, ``t_2`` and ``t_3`` only see a candidate next to a
  placed *pair*; ``u`` sees a candidate whose endpoint is next to a contact node of the same side,
  which also holds when a strip runs against the places' order. ``g``'s input width says which
  features it has (4, 5 with ``t_3``, 6 with ``u``, 7 with both).

**Order** (``HiGenConfig.cross_order``, our option): the pairs are numbered ``e = a n_j + c`` with
``a``, ``c`` each community's nodes in its generation order (the default) or along its border first
(``"boundary"``, :mod:`graphgen.models.higen.boundary_walk`), so that consecutive rows of a block are
border neighbours, as consecutive fans of a strip of triangles are; any order fixed by the two
communities keeps the model exact.

**Both directions** (``HiGenConfig.cross_both_directions``, our option): a strip of triangles
between ``C_i`` and ``C_j`` runs along ``C_j``'s border in one direction or the other, and which one
is not known before the block's edges are. When ``C_j``'s order runs against the strip, a new row's
first pair (the lowest place of its fan) is the far end of the fan, which shares no endpoint
neighbourhood with the row before (``t_1 = t_2 = 0``); counted on 64 planar training graphs (the
shipped model's hierarchy settings) 16 % of the cross edges are such later edges without signal in
either order, and 6.4 % (boundary order; 7.9 % generation order) if each block took the better of the
two directions. So each block's edge set is drawn from an equal mixture of the sequence model in
``C_j``'s order and in its reverse (places ``c -> n_j - 1 - c``):

    p(Y) = ½ p_→(Y) + ½ p_←(Y),

each term an exact distribution over the ``w``-subsets, so the mixture is one too (tested by
enumeration); with ``g ≡ 0`` both terms are the conditional Bernoulli, so the mixture is too.
Training evaluates both terms (twice the blocks' cost); sampling draws the direction of each block
with probability ½ (mode decoding: the forward direction), then its sequence. The weights stay ½:
the direction is a nuisance of the numbering, with no meaning to learn.

Blocks are handled as one padded batch ``(B, n_i max, n_j max)``; padded pairs have weight 0. A
step costs ``O(B · M)``; training evaluates all ``w`` steps of all blocks at once
(``O(B · w · M)`` memory), sampling runs ``max w`` steps over all blocks in parallel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from graphgen.models.higen.bipartite import LOG_ZERO
from graphgen.models.higen.boundary_walk import community_positions
from graphgen.system_memory import available_bytes

__all__ = [
    "PaddedBlocks",
    "padded_blocks",
    "block_targets",
    "suffix_log_esp",
    "coordination_features",
    "sequence_log_likelihood",
    "sample_sequences",
    "step_logits",
    "increasing_sequences",
    "ordered_subset_log_prob",
    "sample_ordered_subsets",
    "sample_blocks",
    "reverse_right",
    "direction_log_likelihoods",
    "mixed_sequence_log_likelihood",
    "sample_mixed_sequences",
    "block_groups",
    "blocks_sequence_log_likelihood",
    "coordination_net",
    "offset_net",
    "uses_ladder",
    "uses_contact",
]

NUM_FEATURES = 4  # [t_1, t_2, d_a, d_c]; with the ladder feature t_3 a fifth; with the contact features u_a, u_c
MAX_ENTRIES = 1 << 22  # suffix-table entries per group of blocks sampled at once (32 MB in float64)


def offset_net(inputs: int, hidden: int = 16) -> nn.Module:
    """An MLP ``g`` (``inputs`` features -> logit offset) whose last layer is zero: ``g ≡ 0`` at
    initialisation, so a coordinated model starts as its independent counterpart."""
    net = nn.Sequential(nn.Linear(inputs, hidden), nn.ReLU(), nn.Linear(hidden, 1))
    nn.init.zeros_(net[2].weight)
    nn.init.zeros_(net[2].bias)
    return net


def coordination_net(hidden: int = 16, ladder: bool = False, contact: bool = False) -> nn.Module:
    """The blocks' MLP ``g`` (:func:`offset_net`); ``ladder``: ``g`` also reads ``t_3``; ``contact``:
    also ``u_a`` and ``u_c`` (module docstring)."""
    return offset_net(NUM_FEATURES + int(ladder) + 2 * int(contact), hidden)


def uses_ladder(g: nn.Module) -> bool:
    """Whether the coordination net ``g`` reads the ladder feature ``t_3`` (its input width: 5 or 7)."""
    return g[0].in_features in (NUM_FEATURES + 1, NUM_FEATURES + 3)


def uses_contact(g: nn.Module) -> bool:
    """Whether ``g`` reads the contact features ``u_a``, ``u_c`` (its input width: 6 or 7)."""
    return g[0].in_features in (NUM_FEATURES + 2, NUM_FEATURES + 3)


@dataclass
class PaddedBlocks:
    """The leaf blocks of a level as padded dense tensors (``B`` blocks, ``I x J`` pairs each)."""

    theta: torch.Tensor  # (B, I, J) pair scores; anything on padding (masked)
    valid: torch.Tensor  # (B, I, J) bool: a real pair of the block
    left_adjacency: torch.Tensor  # (B, I, I) 0/1, community C_i (in its generation order)
    right_adjacency: torch.Tensor  # (B, J, J)
    weight: torch.Tensor  # (B,) edges to place, w_ij <= n_i n_j
    pair_slot: torch.Tensor  # (Q,) flat index a * J + c of each pair of the flattened BlockPairs layout

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.theta.shape)


def padded_blocks(
    logits: torch.Tensor,
    pairs,
    level_edge_index: torch.Tensor,
    parent: torch.Tensor,
    position: torch.Tensor | None = None,
) -> PaddedBlocks:
    """Pad the blocks of a :class:`~graphgen.models.higen.bipartite_net.BlockPairs` layout (block
    ``b``'s pairs contiguous) into :class:`PaddedBlocks`, pair ``(a, c)`` at ``position[a] * J +
    position[c]``.

    ``level_edge_index``: the level's edges (both directions; only intra-community ones are read);
    ``parent``: each level node's community; ``position``: each node's place in its community in the
    order the pairs are placed (:func:`~graphgen.models.higen.boundary_walk.community_positions`;
    default its generation order: nodes are numbered community by community in generation order, an
    ordered hierarchy or a sampled level, so a node's place is its id minus the community's first id).
    """
    b = int(pairs.block_weight.numel())
    n = int(parent.numel())
    sizes = torch.bincount(parent, minlength=int(parent.max()) + 1 if n else 0)
    if position is None:
        position = community_positions(level_edge_index, parent)
    first_pair = torch.cumsum(pairs.block_size, 0) - pairs.block_size
    left_comm = parent[pairs.pair_left[first_pair]] if b else torch.zeros(0, dtype=torch.long)
    right_comm = parent[pairs.pair_right[first_pair]] if b else torch.zeros(0, dtype=torch.long)
    left_size, right_size = sizes[left_comm], sizes[right_comm]
    size_i = int(left_size.max()) if b else 0
    size_j = int(right_size.max()) if b else 0
    flat = position[pairs.pair_left] * size_j + position[pairs.pair_right]
    theta = logits.new_zeros((b, size_i * size_j)).index_put((pairs.pair_block, flat), logits)
    valid = torch.zeros((b, size_i * size_j), dtype=torch.bool)
    valid[pairs.pair_block, flat] = True
    # every community's adjacency, dense, in its generation order
    u, v = level_edge_index
    inside = (parent[u] == parent[v]) & (u != v)
    width = max(size_i, size_j)
    community = torch.zeros((int(sizes.numel()), width, width), dtype=logits.dtype)
    if b:
        keep = inside & (position[u] < width) & (position[v] < width)
        community[parent[u[keep]], position[u[keep]], position[v[keep]]] = 1.0
    return PaddedBlocks(
        theta=theta.view(b, size_i, size_j),
        valid=valid.view(b, size_i, size_j),
        left_adjacency=community[left_comm][:, :size_i, :size_i],
        right_adjacency=community[right_comm][:, :size_j, :size_j],
        weight=pairs.block_weight,
        pair_slot=flat,
    )


def block_targets(blocks: PaddedBlocks, pairs) -> torch.Tensor:
    """The 0/1 targets ``(B, I, J)`` of :class:`BlockPairs` in the padded layout."""
    b, size_i, size_j = blocks.shape
    out = blocks.theta.new_zeros((b, size_i * size_j))
    out[pairs.pair_block, blocks.pair_slot] = pairs.pair_target.to(out.dtype)
    return out.view(b, size_i, size_j)


ESP_METHODS = ("auto", "kernel", "torch")


def suffix_log_esp(theta: torch.Tensor, valid: torch.Tensor, r_max: int, method: str = "auto") -> torch.Tensor:
    """``log E_r(e)`` for ``e = 0..M`` and ``r = 0..r_max``, ``(B, M + 1, r_max + 1)``, over the
    flattened pairs ``theta``/``valid`` ``(B, M)`` (invalid pairs have weight 0). ``log 0`` is
    :data:`LOG_ZERO` (finite, so gradients stay finite).

    ``method``: ``auto`` takes the C++ loop of :mod:`graphgen.models.higen.esp_kernel` when it
    builds (equal to round-off; with autograd its C++ backward too), else the PyTorch loop; ``torch``
    always the PyTorch loop; ``kernel`` the C++ loop or an error.
    """
    if method not in ESP_METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(ESP_METHODS)}")
    b, m = theta.shape
    grad = torch.is_grad_enabled() and theta.requires_grad
    if method != "torch":
        from graphgen.models.higen.esp_kernel import differentiable_suffix_log_esp, kernel_suffix_log_esp

        weights = torch.where(valid, theta, torch.full_like(theta, LOG_ZERO))
        table = (differentiable_suffix_log_esp if grad else kernel_suffix_log_esp)(weights, r_max, LOG_ZERO)
        if table is not None:
            return table
        if method == "kernel":
            raise RuntimeError("the C++ suffix-table kernel is not available here (see higen.esp_kernel)")
    if not grad:
        return _suffix_log_esp_no_grad(theta, valid, r_max)
    table = torch.full((b, r_max + 1), LOG_ZERO, dtype=theta.dtype)
    table[:, 0] = 0.0
    out = [table]
    weights = torch.where(valid, theta, torch.full_like(theta, LOG_ZERO)).unbind(1)
    for e in range(m - 1, -1, -1):
        take = torch.cat([torch.full((b, 1), LOG_ZERO, dtype=theta.dtype), table[:, :-1] + weights[e][:, None]], 1)
        table = torch.logaddexp(table, take)
        out.append(table)
    return torch.stack(out[::-1], 1)


def _suffix_log_esp_no_grad(theta: torch.Tensor, valid: torch.Tensor, r_max: int) -> torch.Tensor:
    """:func:`suffix_log_esp` without autograd (sampling): the same operations on the same values,
    written in place into the output (two tensor operations per pair instead of six, no final
    stack); equal to the autograd version bit for bit (tested)."""
    b, m = theta.shape
    out = torch.empty((b, m + 1, r_max + 1), dtype=theta.dtype)
    out[:, :, 0] = 0.0  # log E_0 = 0; the autograd version gets logaddexp(0, LOG_ZERO) = 0 exactly
    out[:, m, 1:] = LOG_ZERO
    weights = torch.where(valid, theta, torch.full_like(theta, LOG_ZERO)).unsqueeze(2)  # (B, M, 1)
    take = torch.empty((b, r_max), dtype=theta.dtype)
    for e in range(m - 1, -1, -1):
        torch.add(out[:, e + 1, :-1], weights[:, e], out=take)
        torch.logaddexp(out[:, e + 1, 1:], take, out=out[:, e, 1:])
    return out


def coordination_features(
    placed: torch.Tensor,
    left_adjacency: torch.Tensor,
    right_adjacency: torch.Tensor,
    ladder: bool = False,
    contact: bool = False,
) -> torch.Tensor:
    """``φ(e)`` for every pair given the placed pairs ``placed`` ``(..., B, I, J)`` (0/1), with the
    adjacencies ``(B, I, I)``, ``(B, J, J)``: ``(..., B, I, J, F)``, ``F = 4``, plus 1 with
    ``ladder`` and 2 with ``contact`` (see the module docstring)."""
    t1 = placed @ right_adjacency  # Σ_c' P[a, c'] A_j[c', c]
    t2 = left_adjacency @ placed  # Σ_a' A_i[a, a'] P[a', c]
    t3 = t2 @ right_adjacency if ladder else None  # Σ_a',c' A_i[a, a'] P[a', c'] A_j[c', c]
    d_a, d_c = placed.sum(-1, keepdim=True), placed.sum(-2, keepdim=True)
    u_a = u_c = None
    if contact:  # neighbours of a (of c) that already hold a placed pair of the block
        u_a = left_adjacency @ (d_a > 0).to(placed.dtype)
        u_c = (d_c > 0).to(placed.dtype) @ right_adjacency
    return _features(t1, t2, d_a, d_c, t3, u_a, u_c)


def _features(
    t1: torch.Tensor,
    t2: torch.Tensor,
    d_a: torch.Tensor,
    d_c: torch.Tensor,
    t3: torch.Tensor | None = None,
    u_a: torch.Tensor | None = None,
    u_c: torch.Tensor | None = None,
) -> torch.Tensor:
    """``φ = [log1p t_1, log1p t_2, log1p d_a, log1p d_c(, log1p t_3)(, log1p u_a, log1p u_c)]``
    stacked last, the counts broadcast to ``t1``'s shape."""
    extra = [] if t3 is None else [t3]
    if u_a is not None:
        extra += [u_a.expand_as(t1), u_c.expand_as(t1)]
    return torch.log1p(torch.stack([t1, t2, d_a.expand_as(t1), d_c.expand_as(t1), *extra], -1))


def step_logits(
    theta: torch.Tensor, offset: torch.Tensor, esp_next: torch.Tensor, valid: torch.Tensor, previous: torch.Tensor
) -> torch.Tensor:
    """``ℓ_k(e) = θ_e + offset(e) + log E_{w-k}(e + 1)`` of one step over flattened items
    (``theta``, ``offset``, ``esp_next``, ``valid`` broadcast to ``(..., B, M)``; ``previous``:
    ``e_{k-1}`` ``(..., B)``), ``-inf`` off the candidates: valid items after ``e_{k-1}`` that leave
    enough items for the steps still to come. The step shared by the coordinated blocks here and the
    coordinated leaf rows of :mod:`graphgen.models.higen.row_sequence`."""
    logits = theta + offset + esp_next
    index = torch.arange(logits.shape[-1])
    candidate = valid & (index > previous.unsqueeze(-1)) & (esp_next > LOG_ZERO / 2)
    return torch.where(candidate, logits, torch.full_like(logits, float("-inf")))


def increasing_sequences(targets: torch.Tensor, w_max: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The chosen items of ``targets`` ``(B, M)`` (bool) as increasing sequences ``(B, W)``, padded
    with ``M``, and the items placed before each step, ``P_{<k}`` ``(W, B, M)`` (0/1)."""
    b, m = targets.shape
    index = torch.where(targets, torch.arange(m), torch.full((b, m), m))
    sequence = index.sort(1).values[:, :w_max]
    onehot = torch.zeros((b, w_max, m + 1), dtype=torch.float64).scatter_(2, sequence.unsqueeze(2), 1.0)[..., :m]
    return sequence, (torch.cumsum(onehot, 1) - onehot).transpose(0, 1)


def ordered_subset_log_prob(
    theta: torch.Tensor, valid: torch.Tensor, weight: torch.Tensor, sequence: torch.Tensor, offset: torch.Tensor
) -> torch.Tensor:
    """``log p(e_1, ..., e_w)`` ``(B,)`` of the increasing sequences ``sequence`` ``(B, W)`` (padded
    past ``weight``) under the step logits :func:`step_logits`, with the items' scores ``theta``
    ``(B, M)`` and each step's offsets ``offset`` (``g(φ_k) - g(0)``, ``(W, B, M)``)."""
    b, m = theta.shape
    w_max = sequence.shape[1]
    step = torch.arange(w_max)
    live = step.unsqueeze(0) < weight.unsqueeze(1)  # (B, W)
    esp = suffix_log_esp(theta, valid, w_max)  # (B, M+1, W+1)
    need = (weight.unsqueeze(0) - 1 - step.unsqueeze(1)).clamp(min=0)  # (W, B): w - k - 1 (0-based k)
    esp_next = esp[:, 1:, :].permute(2, 0, 1)[need, torch.arange(b).unsqueeze(0)]  # (W, B, M)
    previous = torch.cat([torch.full((b, 1), -1), sequence[:, :-1]], 1).T  # (W, B)
    logits = step_logits(theta, offset, esp_next, valid, previous)  # (W, B, M)
    logits = torch.where(live.T.unsqueeze(2), logits, torch.zeros_like(logits))  # steps past w_b: no -inf rows
    chosen = logits.gather(2, sequence.T.clamp(max=m - 1).unsqueeze(2)).squeeze(2)
    step_lp = chosen - torch.logsumexp(logits, 2)
    step_lp = torch.where(live.T, step_lp, torch.zeros_like(step_lp))
    return step_lp.sum(0)


def sample_ordered_subsets(theta: torch.Tensor, valid: torch.Tensor, weight: torch.Tensor, draws, offset_of, on_pick):
    """Sample ``weight[b]`` items of each row of ``theta`` ``(B, M)``, step by step from
    :func:`step_logits`; returns the chosen items ``(B, M)`` 0/1. ``offset_of(live, placed)`` gives
    the offsets ``(L, M)`` of the rows ``live`` still drawing, from their placed items ``(L, M)``;
    ``on_pick(live, pick)`` hears each step's picks (samplers that keep their features up to date)."""
    b, m = theta.shape
    w_max = int(weight.max()) if b else 0
    placed = theta.new_zeros((b, m))
    if w_max == 0:
        return placed
    _check_table_memory(b, m, w_max, theta.element_size())
    # (B, W + 1, M): row r holds log E_r(e + 1) for every item e, so a step gathers L rows, not the table
    esp = suffix_log_esp(theta, valid, w_max)[:, 1:, :].transpose(1, 2).contiguous()
    previous = torch.full((b,), -1)
    for k in range(w_max):
        live = (k < weight).nonzero().flatten()
        need = (weight[live] - 1 - k).clamp(min=0)
        logits = step_logits(theta[live], offset_of(live, placed[live]), esp[live, need], valid[live], previous[live])
        pick = draws.categorical(torch.softmax(logits, 1))
        placed[live, pick] = 1.0
        previous[live] = pick
        on_pick(live, pick)
    return placed


def _check_table_memory(b: int, m: int, w_max: int, itemsize: int) -> None:
    """Raise ``MemoryError`` before making the suffix tables (the table and its step-major copy,
    ``2 · B (M + 1) (w + 1)`` entries) of a group larger than the memory available now, instead of
    letting the process be killed: one block of an ``n_i x n_j`` pair grid is ``O(n_i n_j w)``, so
    a graph far beyond the model's training sizes (``num_nodes``) can ask for tens of GB."""
    needed = 2 * b * (m + 1) * (w_max + 1) * itemsize
    available = available_bytes()
    if available is not None and needed > available:
        raise MemoryError(
            f"the coordinated cross edges of {b:,} block(s) of up to {m:,} node pairs and {w_max:,} edges need "
            f"{needed / 2**30:,.2f} GiB of suffix tables, more than the {available / 2**30:,.2f} GiB available: "
            "blocks this large come from graphs far beyond the model's training sizes (num_nodes)"
        )


def _block_offsets(blocks: PaddedBlocks, g: nn.Module, placed: torch.Tensor) -> torch.Tensor:
    """``g(φ(e)) - g(0)`` ``(..., B, M)`` for every pair given the placed pairs ``placed`` ``(..., B, I, J)``."""
    ladder, contact = uses_ladder(g), uses_contact(g)
    feats = coordination_features(placed, blocks.left_adjacency, blocks.right_adjacency, ladder, contact)
    # φ = 0 off the rows and columns that already hold a placed pair (and, with the ladder feature, off
    # t_3 > 0; with the contact features, off u_a > 0 and u_c > 0), and g(0) is the same for every
    # candidate of a step (it cancels in the softmax): g runs only where φ can be non-zero
    touched = (placed.sum(-1, keepdim=True) > 0) | (placed.sum(-2, keepdim=True) > 0)
    if ladder:
        touched = touched | (feats[..., NUM_FEATURES] > 0)
    if contact:
        touched = touched | (feats[..., -2:] > 0).any(-1)
    dtype = next(g.parameters()).dtype
    shift = g(feats[touched].to(dtype)).squeeze(-1) - g(feats.new_zeros((1, feats.shape[-1]), dtype=dtype)).squeeze(-1)
    offset = torch.zeros(touched.shape, dtype=blocks.theta.dtype).masked_scatter(touched, shift.to(blocks.theta.dtype))
    return offset.flatten(-2)


def sequence_log_likelihood(blocks: PaddedBlocks, targets: torch.Tensor, g: nn.Module) -> torch.Tensor:
    """Log-probability ``(B,)`` of each block's edge set ``targets`` ``(B, I, J)`` (0/1, ``w_b`` ones)."""
    b, size_i, size_j = blocks.shape
    m = size_i * size_j
    w_max = int(blocks.weight.max()) if b else 0
    if w_max == 0:
        return blocks.theta.new_zeros(b)
    flat_targets = (targets.reshape(b, m) > 0) & blocks.valid.reshape(b, m)
    sequence, placed = increasing_sequences(flat_targets, w_max)  # e_1 < ... < e_w per block; P_{<k}
    placed = placed.to(blocks.theta.dtype).reshape(w_max, b, size_i, size_j)
    theta, valid = blocks.theta.reshape(b, m), blocks.valid.reshape(b, m)
    return ordered_subset_log_prob(theta, valid, blocks.weight, sequence, _block_offsets(blocks, g, placed))


def reverse_right(blocks: PaddedBlocks, reverse: torch.Tensor) -> tuple[PaddedBlocks, torch.Tensor]:
    """``blocks`` with the right community's places reversed (``c -> n_j - 1 - c`` over its ``n_j`` real
    places) in the blocks where ``reverse`` ``(B,)`` holds, and the column index ``(B, J)`` that does it
    (an involution: :func:`take_columns` with it maps either layout to the other)."""
    b, _, size_j = blocks.shape
    n_j = blocks.valid.any(1).sum(1, keepdim=True)  # (B, 1) real right places
    c = torch.arange(size_j).unsqueeze(0)
    index = torch.where(reverse.unsqueeze(1) & (c < n_j), n_j - 1 - c, c)
    rows = torch.arange(b)[:, None, None]
    flipped = PaddedBlocks(
        theta=take_columns(blocks.theta, index),
        valid=take_columns(blocks.valid, index),
        left_adjacency=blocks.left_adjacency,
        right_adjacency=blocks.right_adjacency[rows, index.unsqueeze(2), index.unsqueeze(1)],
        weight=blocks.weight,
        pair_slot=blocks.pair_slot,  # still the unreversed layout: map results back with take_columns
    )
    return flipped, index


def take_columns(values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``values[b, :, index[b]]`` of a ``(B, I, J)`` tensor."""
    return values.gather(2, index.unsqueeze(1).expand(-1, values.shape[1], -1))


def direction_log_likelihoods(
    blocks: PaddedBlocks, targets: torch.Tensor, g: nn.Module
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(log p_→(Y), log p_←(Y))``, each ``(B,)``: :func:`sequence_log_likelihood` with the right
    community's places as they are and reversed (module docstring, "Both directions")."""
    flipped, index = reverse_right(blocks, torch.ones(blocks.shape[0], dtype=torch.bool))
    return sequence_log_likelihood(blocks, targets, g), sequence_log_likelihood(
        flipped, take_columns(targets, index), g
    )


def mixed_sequence_log_likelihood(blocks: PaddedBlocks, targets: torch.Tensor, g: nn.Module) -> torch.Tensor:
    """``log(½ p_→(Y) + ½ p_←(Y))`` ``(B,)`` of :func:`direction_log_likelihoods`."""
    forward, backward = direction_log_likelihoods(blocks, targets, g)
    return torch.logaddexp(forward, backward) - math.log(2.0)


def sample_mixed_sequences(blocks: PaddedBlocks, g: nn.Module, draws) -> torch.Tensor:
    """:func:`sample_sequences` of the direction mixture: each block's direction drawn with probability
    ½ (mode decoding: forward), then its edges; ``(B, I, J)`` in the unreversed layout."""
    b = blocks.shape[0]
    reverse = draws.categorical(torch.full((b, 2), 0.5, dtype=torch.float64)) == 1 if b else torch.zeros(0, dtype=bool)
    flipped, index = reverse_right(blocks, reverse)
    return take_columns(sample_sequences(flipped, g, draws), index)


def sample_sequences(blocks: PaddedBlocks, g: nn.Module, draws) -> torch.Tensor:
    """Sample every block's edge set, ``(B, I, J)`` 0/1, ``w_b`` ones each; ``draws`` is the
    sampler's :class:`~graphgen.models.higen.model.Draws` (greedy: each step's most likely pair).

    The steps' logits are those of :func:`sequence_log_likelihood`, kept up to date incrementally:
    placing the pair ``(a, c)`` changes ``φ`` only on row ``a`` (``t_1`` gains ``A_j[c, :]``, ``d_a``
    one) and on column ``c`` (``t_2`` gains ``A_i[:, a]``, ``d_c`` one), so a step re-evaluates ``g``
    on ``I + J`` pairs and costs ``O(I J)`` for the softmax, instead of recomputing every feature with
    two ``(I x J)`` matrix products (tested equal to the step-by-step recomputation). With the ladder
    feature, ``t_3`` gains ``A_i[:, a] A_j[c, :]`` and ``g`` is also re-evaluated on those pairs. With
    the contact features, when ``a`` (``c``) holds its first pair, ``u`` gains one on its neighbours'
    rows (columns), and ``g`` is re-evaluated on those rows (columns)."""
    b, size_i, size_j = blocks.shape
    m = size_i * size_j
    dtype = next(g.parameters()).dtype
    ladder, contact = uses_ladder(g), uses_contact(g)
    g0 = g(torch.zeros((1, g[0].in_features), dtype=dtype)).squeeze(-1)
    shape = (b, size_i, size_j)
    t1 = blocks.theta.new_zeros(shape)  # Σ_c' P[a, c'] A_j[c', c]
    t2 = blocks.theta.new_zeros(shape)  # Σ_a' A_i[a, a'] P[a', c]
    t3 = blocks.theta.new_zeros(shape) if ladder else None  # Σ_a',c' A_i[a, a'] P[a', c'] A_j[c', c]
    d_left = blocks.theta.new_zeros((b, size_i))
    d_right = blocks.theta.new_zeros((b, size_j))
    u_left = blocks.theta.new_zeros((b, size_i)) if contact else None  # neighbours of a holding a pair
    u_right = blocks.theta.new_zeros((b, size_j)) if contact else None
    offset = blocks.theta.new_zeros(shape)  # g(φ) - g(0), zero off the touched rows and columns

    def refresh(live, hit):
        """g(φ) - g(0) again on the pairs ``hit`` ``(L, I, J)`` of the live blocks."""
        if not bool(hit.any()):
            return
        blk, ii, jj = hit.nonzero(as_tuple=True)
        at = live[blk]
        feats = _features(
            t1[at, ii, jj],
            t2[at, ii, jj],
            d_left[at, ii],
            d_right[at, jj],
            t3[at, ii, jj] if ladder else None,
            *((u_left[at, ii], u_right[at, jj]) if contact else ()),
        )
        offset[at, ii, jj] = (g(feats.to(dtype)).squeeze(-1) - g0).to(offset.dtype)

    def on_pick(live, pick):
        a, c = pick // size_j, pick % size_j
        t1[live, a, :] += blocks.right_adjacency[live, c, :]
        t2[live, :, c] += blocks.left_adjacency[live, :, a]
        if contact:  # a (c) holds its first pair: its neighbours' u gain one
            new_rows = blocks.left_adjacency[live, :, a] * (d_left[live, a] == 0).unsqueeze(1)  # (L, I)
            new_cols = blocks.right_adjacency[live, c, :] * (d_right[live, c] == 0).unsqueeze(1)  # (L, J)
            u_left[live] += new_rows
            u_right[live] += new_cols
        d_left[live, a] += 1.0
        d_right[live, c] += 1.0
        if ladder:  # t_3 gains the rungs N(a) x N(c); their g is re-evaluated below
            rungs = blocks.left_adjacency[live, :, a].unsqueeze(2) * blocks.right_adjacency[live, c, :].unsqueeze(1)
            t3[live] += rungs
        # g(φ) - g(0) again on row a and column c, the only pairs whose t_1, t_2, d_a, d_c changed
        row = _features(
            t1[live, a, :],
            t2[live, a, :],
            d_left[live, a].unsqueeze(1),
            d_right[live],
            t3[live, a, :] if ladder else None,
            *((u_left[live, a].unsqueeze(1), u_right[live]) if contact else ()),
        )
        col = _features(
            t1[live, :, c],
            t2[live, :, c],
            d_left[live],
            d_right[live, c].unsqueeze(1),
            t3[live, :, c] if ladder else None,
            *((u_left[live], u_right[live, c].unsqueeze(1)) if contact else ()),
        )
        offset[live, a, :] = (g(row.to(dtype)).squeeze(-1) - g0).to(offset.dtype)
        offset[live, :, c] = (g(col.to(dtype)).squeeze(-1) - g0).to(offset.dtype)
        if ladder:
            refresh(live, rungs > 0)  # never on row a or column c (communities have no self-loops)
        if contact:
            refresh(live, (new_rows > 0).unsqueeze(2) | (new_cols > 0).unsqueeze(1))  # whole rows and columns

    placed = sample_ordered_subsets(
        blocks.theta.reshape(b, m),
        blocks.valid.reshape(b, m),
        blocks.weight,
        draws,
        lambda live, _: offset[live].reshape(live.numel(), m),
        on_pick,
    )
    return placed.view(b, size_i, size_j)


def block_groups(pairs, max_entries: int = MAX_ENTRIES):
    """Split a :class:`~graphgen.models.higen.bipartite_net.BlockPairs` layout into groups of blocks
    of similar cost (``n_i n_j (w + 1)``, the suffix table of a block), each holding at most about
    ``max_entries`` table entries once padded to its own largest block. Yields ``(members, keep,
    sub)``: the group's blocks ``(B,)`` and pairs ``(Q,)`` as masks, and its own ``BlockPairs``.
    Blocks are independent given the communities, so groups can be evaluated or sampled one by one."""
    b = int(pairs.block_weight.numel())
    cost = pairs.block_size * (pairs.block_weight + 1)
    group = torch.empty(b, dtype=torch.long)
    current, used, widest = 0, 0, 0
    for block in torch.argsort(cost, stable=True).tolist():
        widest = max(widest, int(cost[block]))
        if used and (used + 1) * widest > max_entries:
            current, used, widest = current + 1, 0, int(cost[block])
        group[block] = current
        used += 1
    for k in range(current + 1 if b else 0):
        members = group == k
        keep, sub = pairs.select_blocks(members)
        yield members, keep, sub


def blocks_sequence_log_likelihood(
    logits: torch.Tensor,
    pairs,
    level_edge_index: torch.Tensor,
    parent: torch.Tensor,
    g: nn.Module,
    max_entries: int = MAX_ENTRIES,
    order: str = "generation",
    both_directions: bool = False,
) -> torch.Tensor:
    """:func:`sequence_log_likelihood` ``(B,)`` of the blocks of a ``BlockPairs`` layout (targets
    from ``pairs.pair_target``), evaluated group by group (:func:`block_groups`), pairs placed in
    the communities' ``order`` (:mod:`graphgen.models.higen.boundary_walk`); ``both_directions``:
    :func:`mixed_sequence_log_likelihood`."""
    out = logits.new_zeros(int(pairs.block_weight.numel()))
    position = community_positions(level_edge_index, parent, order)
    log_likelihood = mixed_sequence_log_likelihood if both_directions else sequence_log_likelihood
    for members, keep, sub in block_groups(pairs, max_entries):
        blocks = padded_blocks(logits[keep], sub, level_edge_index, parent, position)
        out = out.masked_scatter(members, log_likelihood(blocks, block_targets(blocks, sub), g))
    return out


def sample_blocks(
    logits: torch.Tensor,
    pairs,
    level_edge_index: torch.Tensor,
    parent: torch.Tensor,
    g: nn.Module,
    draws,
    max_entries: int = MAX_ENTRIES,
    order: str = "generation",
    both_directions: bool = False,
) -> torch.Tensor:
    """Units ``(Q,)`` on every pair of a :class:`~graphgen.models.higen.bipartite_net.BlockPairs`
    layout, sampled from the coordinated model group by group (:func:`block_groups`: memory stays
    bounded on graphs of thousands of nodes); see :func:`padded_blocks` for the arguments and
    :func:`blocks_sequence_log_likelihood` for ``order`` and ``both_directions``."""
    out = torch.zeros(pairs.pair_block.numel(), dtype=torch.long)
    position = community_positions(level_edge_index, parent, order)
    sample = sample_mixed_sequences if both_directions else sample_sequences
    for members, keep, sub in block_groups(pairs, max_entries):
        blocks = padded_blocks(logits[keep], sub, level_edge_index, parent, position)
        placed = sample(blocks, g, draws)
        out[keep] = placed.view(int(members.sum()), -1)[sub.pair_block, blocks.pair_slot].long()
    return out
