"""HiGen's community network: GRAN-style message passing over every row's prefix graph, batched.

For row ``t`` of a community (see :mod:`graphgen.models.higen.rows`) the network sees the
**prefix graph**: the community's first ``t`` nodes with their weighted edges, plus the new node
``t`` joined to each earlier node by a *candidate* edge (Liao et al., GRAN, NeurIPS 2019; Karami,
HiGen, ICLR 2024 §3). All rows of all communities of a level form one batch of prefix graphs.

* Node input: ``[log1p(self-loop), log1p(weighted degree in the prefix), is_new]`` and a sinusoidal
  encoding of the node's position in its community (``position_dim`` features; GRAN feeds each
  node's adjacency row for the same purpose: without position, structurally identical earlier
  nodes cannot be told apart), projected to ``hidden``; edge input: ``[log1p(weight), is_candidate]``.
* **Triangle inputs** (``triangle_features``, our option): node input also
  ``[log1p T(v), clip(d(v) - T(v), -4, 4) / 4]`` and real edges' input also ``log1p T(u, v)``, with
  ``T(v)`` the triangles through ``v`` in the prefix graph, ``d(v)`` its (unweighted) degree there
  and ``T(u, v) = |N(u) ∩ N(v)|`` the triangles on the edge (candidate edges: 0); see
  :func:`triangle_inputs`. Why: message passing cannot count triangles (it is bounded by the 1-WL
  test), and the position encoding makes that possible only in principle. But where a new node may
  attach depends on exactly that: in a triangulated disc an interior node's neighbours close into a
  cycle, ``T(v) = d(v)``, a boundary node's form a path, ``T(v) = d(v) - 1``, and an edge lies on two
  triangles inside and one on the boundary. Measured on ``higen-planar``'s samples (session 15):
  ``T(v) = d(v)`` at 54 % of the nodes against 79 % in the test graphs, and ``T(v) <= d(v) - 2``
  (never in the data) at 8 %.
* ``num_layers`` GRAN layers: ``m_uv = f([h_u - h_v, e_uv]) ⊙ σ(g([h_u - h_v, e_uv]))``,
  ``h_v ← GRUCell(Σ_u m_uv, h_v)``.
* Row context: ``[log1p(W), log1p(r_t), log1p(t), log1p(parent degree)]`` (budget, remaining
  budget, position, the parent node's weight to other communities), and with ``size_context``
  also ``log1p(|V|)``, the node count of the row's graph (the reference code's root feature holds
  the raw counts ``(|V|, |E|)``; we give the size to every row of every level, log-scaled). It is a
  conditioning input, not a constraint: a sample's node count still emerges from its rows. With
  ``explicit_size`` (leaf level of ``community_size="explicit"`` models) the context ends with
  ``log1p(N - 1 - t)``, the nodes of the community still to come after this row; so does it with
  ``given_size`` (level 1 of ``community_count="explicit"`` models, whose count the root draws:
  no size head). With ``fair_share`` (given node counts only: ``given_size``, or ``explicit_size``
  whose leaf rows hold at most one edge per earlier node) the mass logit is an offset from the
  row's fair share of the budget left (:func:`~graphgen.models.higen.stick_breaking.fair_share_logit`).
* Heads (``K`` mixture components): from ``[h_new, mean of earlier h, context]`` the mixture
  logits, ``p_mass`` and ``q_self`` (sigmoids), and with ``row_stop`` also ``p_stop`` (a sigmoid:
  the probability that the row is its community's last), and with ``row_concentration`` the
  concentration ``ν = exp(3 tanh(z / 3))`` of the row mass (in ``[e^-3, e^3]``, about ``e^z`` near
  ``z = 0``; :func:`~graphgen.models.higen.stick_breaking.power_binomial_log_prob`), and with
  ``self_loop_concentration`` (coarse levels) the concentration ``ξ`` of the self-loop, in the same
  range (:func:`~graphgen.models.higen.stick_breaking.self_loop_log_prob`); from
  ``[h_new, h_j, context]`` the score of each earlier node ``j`` per component; with
  ``explicit_size`` a size head maps the context of a community's first row (without its last
  column) to the ``K`` weights and binomial probabilities of the community's node count
  (:func:`~graphgen.models.higen.stick_breaking.community_size_log_prob`), and with
  ``size_concentration`` also a concentration ``ν`` per component for it. With ``size_share`` (our
  option) the size head also sees ``log1p`` of the community's share of its graph's nodes,
  ``σ_c = |V| (W_c + 1) / Σ_{c' in the graph} (W_c' + 1)`` (:func:`community_node_share`): the node
  count the community would get if the graph's ``|V|`` nodes were split over its communities in
  proportion to ``W + 1`` (a tree on ``W`` edges has ``W + 1`` nodes). Without it the head sees
  ``W``, the parent degree and ``|V|``, but not how many other communities share the ``|V|``
  nodes. Measured on enzymes (``metrics/results/higen-size-head-enzymes*.json``): a size head fitted
  alone on the training hierarchies reaches a test NLL of 0.71 nats per community with the share
  against 0.85 without.

**Documented simplification:** the reference code also divides the binomial logits by
``log(max(1, min(r_t + c_t, W))) + 1`` and embeds the parent graph with a GraphGPS network; here
the context features above stand in for the parent encoder (to be revisited when training at
scale). Configuration travels in checkpoints as :class:`CommunityNetConfig`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from graphgen.data.ops import edge_triangle_counts, segment_arange, self_loop_weights
from graphgen.models.higen.row_runs import run_share_net
from graphgen.models.higen.row_sequence import row_coordination_net
from graphgen.models.higen.rows import CommunityRows
from graphgen.models.higen.stick_breaking import fair_share_logit

CONCENTRATION_LOG_RANGE = 3.0  # the row-mass concentration ν lies in [exp(-3), exp(3)]
TRIANGLE_GAP_RANGE = 4  # the node input d(v) - T(v) is clipped to [-4, 4] and scaled to [-1, 1]

__all__ = [
    "CommunityNetConfig",
    "CommunityNet",
    "RowOutputs",
    "PrefixBatch",
    "prefix_batch",
    "assemble_prefix_batch",
    "position_encoding",
    "row_context",
    "community_node_share",
    "size_head_context",
    "triangle_inputs",
    "adjacency_row_inputs",
]


class RowOutputs(NamedTuple):
    """What :class:`CommunityNet` gives for every row, in the order
    :func:`~graphgen.models.higen.rows.row_log_likelihood` takes them (``(R, K)`` unless noted;
    ``None`` where the network has no such output)."""

    log_alpha: torch.Tensor  # log mixture weights
    p_mass: torch.Tensor  # binomial probability of the row mass
    q_self: torch.Tensor  # binomial probability of a coarse row's self-loop part
    entry_logits: torch.Tensor  # (P, K) scores of the earlier nodes
    p_stop: torch.Tensor | None  # probability that the row is its community's last (row_stop)
    concentration: torch.Tensor | None  # ν of the row mass (row_concentration)
    self_concentration: torch.Tensor | None  # ξ of a coarse row's self-loop (self_loop_concentration)


@dataclass(frozen=True)
class CommunityNetConfig:
    hidden: int = 64
    num_layers: int = 3
    num_mixtures: int = 4
    position_dim: int = 16
    size_context: bool = False  # add log1p(|V| of the row's graph) to the row context
    row_stop: bool = False  # a per-row probability of being the community's last row (p_stop)
    explicit_size: bool = False  # a size head, and log1p(nodes still to come) in the row context
    row_concentration: bool = False  # a per-row concentration ν of the row mass (power binomial)
    given_size: bool = False  # node counts given from outside (explicit community count): nodes-to-come context only
    fair_share: bool = False  # given sizes: p_mass is an offset from the fair share (stick_breaking.fair_share_logit)
    size_concentration: bool = False  # explicit_size: the size head also outputs a concentration ν per component
    size_share: bool = False  # explicit_size: the size head also sees log1p of the community's node share σ_c
    self_loop_concentration: bool = False  # coarse rows: a per-row concentration ξ of the self-loop (power binomial)
    triangle_features: bool = False  # prefix nodes and edges also see their triangle counts (triangle_inputs)
    row_coordination: bool = False  # leaf rows: the MLP g of coordinated rows (row_sequence)
    adjacency_rows: int = 0  # prefix nodes also see their rows of the prefix adjacency, this many columns
    row_runs: bool = False  # leaf rows: the MLP g of the run share π (row_runs)
    row_faces: bool = False  # leaf rows: the MLP g of the face-run share π (face_runs)

    @property
    def node_dim(self) -> int:
        """Width of the prefix nodes' input features (without the position encoding)."""
        return 3 + 2 * int(self.triangle_features) + self.adjacency_rows

    @property
    def edge_dim(self) -> int:
        return 2 + int(self.triangle_features)

    @property
    def context_dim(self) -> int:
        return 4 + int(self.size_context) + int(self.explicit_size or self.given_size)


def triangle_inputs(edge_index: torch.Tensor, num_nodes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The triangle inputs of a graph listed with both directions of each edge (see the module):
    ``(N, 2)`` per node, ``[log1p T(v), clip(d(v) - T(v), -4, 4) / 4]``, and ``(E,)`` per listed
    entry, ``log1p T(u, v)`` (float32; weights and self-loops are ignored)."""
    per_node, per_entry = edge_triangle_counts(edge_index, num_nodes)
    simple = edge_index[0] != edge_index[1]
    d = torch.bincount(edge_index[0, simple], minlength=num_nodes)
    gap = (d - per_node).clamp(-TRIANGLE_GAP_RANGE, TRIANGLE_GAP_RANGE).float() / TRIANGLE_GAP_RANGE
    return torch.stack([torch.log1p(per_node.float()), gap], 1), torch.log1p(per_entry.float())


def _concentration(z: torch.Tensor) -> torch.Tensor:
    """``ν = exp(3 tanh(z / 3))``: a concentration in ``[e^-3, e^3]``, about ``e^z`` near ``z = 0``."""
    return torch.exp(CONCENTRATION_LOG_RANGE * torch.tanh(z / CONCENTRATION_LOG_RANGE))


def position_encoding(position: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal encoding ``(N, dim)`` of integer positions (Vaswani et al. 2017)."""
    half = dim // 2
    freq = torch.exp(-torch.arange(half, dtype=torch.float32) * (torch.log(torch.tensor(1000.0)) / max(half, 1)))
    angle = position.float().unsqueeze(1) * freq
    return torch.cat([torch.sin(angle), torch.cos(angle)], 1)


@dataclass
class PrefixBatch:
    """All prefix graphs of a set of rows: ``N`` prefix nodes, ``E`` directed prefix edges."""

    node_row: torch.Tensor  # (N,) row of each prefix node
    node_position: torch.Tensor  # (N,) position of the node in its community
    node_features: torch.Tensor  # (N, 3), or (N, 5) with triangle inputs
    is_new: torch.Tensor  # (N,) bool
    edge_index: torch.Tensor  # (2, E) over prefix nodes
    edge_features: torch.Tensor  # (E, 2), or (E, 3) with triangle inputs
    entry_prefix_node: torch.Tensor  # (P,) prefix node of each earlier-node entry
    new_node: torch.Tensor  # (R,) prefix node of each row's new node
    context: torch.Tensor  # (R, 4) or (R, 5) with the graph size
    remaining: torch.Tensor | None = None  # (R,) remaining budget r_t of each row, when nodes_left is given
    nodes_left: torch.Tensor | None = None  # (R,) nodes still to come after each row (given node counts)

    def select_rows(self, keep: torch.Tensor) -> PrefixBatch:
        """The prefix graphs of the rows where ``keep`` (``(R,)`` bool) holds, renumbered.

        Each row's prefix graph is disjoint from the others', so a row's network outputs are the
        same in the selection as in the full batch.
        """
        nodes = keep[self.node_row]
        node_id = torch.cumsum(nodes.long(), 0) - 1
        row_id = torch.cumsum(keep.long(), 0) - 1
        edges = nodes[self.edge_index[0]]
        entries = nodes[self.entry_prefix_node]
        return PrefixBatch(
            node_row=row_id[self.node_row[nodes]],
            node_position=self.node_position[nodes],
            node_features=self.node_features[nodes],
            is_new=self.is_new[nodes],
            edge_index=node_id[self.edge_index[:, edges]],
            edge_features=self.edge_features[edges],
            entry_prefix_node=node_id[self.entry_prefix_node[entries]],
            new_node=node_id[self.new_node[keep]],
            context=self.context[keep],
            remaining=None if self.remaining is None else self.remaining[keep],
            nodes_left=None if self.nodes_left is None else self.nodes_left[keep],
        )


def prefix_batch(
    rows: CommunityRows,
    level_graph,
    parent_degree: torch.Tensor | None = None,
    graph_size: torch.Tensor | None = None,
    explicit_size: bool = False,
    triangles: bool = False,
    adjacency_rows: int = 0,
) -> PrefixBatch:
    """Build the prefix graphs of every row of ``rows`` (``level_graph`` is the ordered level; row
    ``i`` is level node ``i``; ``graph_size``, per row, enters the context when given, and with
    ``explicit_size`` the nodes still to come in each row's community, ``rows.size - 1 - t``;
    ``triangles``: add the triangle inputs, :func:`triangle_inputs`)."""
    t = rows.position
    community_first = torch.arange(rows.num_rows) - t  # level index of each row's community's first node
    ei, w = level_graph.edge_index, level_graph.edge_weight.to(torch.float64)
    off = (rows.community[ei[0]] == rows.community[ei[1]]) & (ei[0] != ei[1])
    u, v, wu = ei[0, off], ei[1, off], w[off]
    lu, lv = t[u], t[v]
    last = torch.maximum(lu, lv)
    copies = torch.bincount(rows.community)[rows.community[u]] - 1 - last  # rows t' > max(lu, lv) see it
    rep = torch.repeat_interleave(torch.arange(u.numel()), copies)
    offset = segment_arange(copies)
    edge_row = (community_first[u] + last + 1)[rep] + offset
    self_loops = self_loop_weights(ei, w, int(level_graph.num_nodes))
    return assemble_prefix_batch(
        t,
        community_first,
        edge_row,
        lu[rep],
        lv[rep],
        wu[rep],
        rows.entry_row,
        rows.entry_node,
        self_loops,
        rows.budget,
        rows.remaining,
        parent_degree,
        graph_size,
        rows.size - 1 - t if explicit_size else None,
        triangles,
        adjacency_rows,
    )


def row_context(
    budget: torch.Tensor,
    remaining: torch.Tensor,
    position: torch.Tensor,
    parent_degree: torch.Tensor | None = None,
    graph_size: torch.Tensor | None = None,
    nodes_left: torch.Tensor | None = None,
) -> torch.Tensor:
    """The ``(R, 4..6)`` row context: ``log1p`` of the budget, the remaining budget, the position,
    the parent degree, and when given the graph size and the nodes still to come."""
    pdeg = parent_degree if parent_degree is not None else torch.zeros(position.numel())
    columns = [budget, remaining.clamp(min=0), position, pdeg]
    columns += [c for c in (graph_size, nodes_left) if c is not None]
    return torch.log1p(torch.stack([c.float() for c in columns], 1))


def size_head_context(
    budget: torch.Tensor, parent_degree: torch.Tensor, graph_size: torch.Tensor | None = None
) -> torch.Tensor:
    """The size head's input context of communities with budgets ``budget``: the :func:`row_context`
    of their first row (remaining budget ``W``, position 0) without the nodes-to-come column, which
    the size being drawn decides."""
    return row_context(budget, budget, torch.zeros_like(budget), parent_degree, graph_size)


def community_node_share(budget: torch.Tensor, graph_of: torch.Tensor, graph_size: torch.Tensor) -> torch.Tensor:
    """``σ_c = |V_g| (W_c + 1) / Σ_{c' in g} (W_c' + 1)`` of every community ``c`` (``(C,)`` float64):
    ``budget`` ``W_c``, ``graph_of`` the graph ``g`` of each community, ``graph_size`` ``|V_g|`` of
    each **community** (the node count of its graph). The shares of a graph sum to its ``|V|``."""
    weight = budget.double() + 1
    total = torch.zeros(int(graph_of.max()) + 1 if graph_of.numel() else 0, dtype=torch.float64)
    total.index_add_(0, graph_of, weight)
    return graph_size.double() * weight / total[graph_of]


def assemble_prefix_batch(
    position: torch.Tensor,
    community_first: torch.Tensor,
    edge_row: torch.Tensor,
    edge_src_local: torch.Tensor,
    edge_dst_local: torch.Tensor,
    edge_weight: torch.Tensor,
    entry_row: torch.Tensor,
    entry_node: torch.Tensor,
    self_loops: torch.Tensor,
    budget: torch.Tensor,
    remaining: torch.Tensor,
    parent_degree: torch.Tensor | None = None,
    graph_size: torch.Tensor | None = None,
    nodes_left: torch.Tensor | None = None,
    triangles: bool = False,
    adjacency_rows: int = 0,
) -> PrefixBatch:
    """Features of the prefix graphs of rows given as positions and their real prefix edges.

    Row ``i`` has ``position[i]`` earlier nodes, the level nodes ``community_first[i] + 0..t-1``;
    its real prefix edges are ``(edge_src_local, edge_dst_local)`` of ``edge_row == i`` (both
    directions listed) with ``edge_weight``; ``entry_row``/``entry_node`` list its candidates;
    ``self_loops`` holds the self-loop weight of every level node; ``graph_size`` (per row, optional)
    adds ``log1p(|V|)`` as a context column, and ``nodes_left`` (per row, optional) ``log1p`` of
    the nodes still to come in the row's community as the last one (:func:`row_context`);
    ``triangles`` adds the triangle inputs of the prefix graphs (:func:`triangle_inputs`),
    ``adjacency_rows`` the first columns of each node's adjacency row (:func:`adjacency_row_inputs`).
    """
    r = position.numel()
    sizes = position + 1  # earlier nodes + the new node
    node_row = torch.repeat_interleave(torch.arange(r), sizes)
    first_prefix = torch.cumsum(sizes, 0) - sizes
    local = torch.arange(int(sizes.sum())) - first_prefix[node_row]
    is_new = local == position[node_row]
    level_node = community_first[node_row] + local  # the level node a prefix node stands for
    src = first_prefix[edge_row] + edge_src_local
    dst = first_prefix[edge_row] + edge_dst_local
    real_w = edge_weight.to(torch.float64)
    entry_prefix = first_prefix[entry_row] + entry_node
    new_node = first_prefix + position
    cand_src = torch.cat([new_node[entry_row], entry_prefix])
    cand_dst = torch.cat([entry_prefix, new_node[entry_row]])
    edge_index = torch.cat([torch.stack([src, dst]), torch.stack([cand_src, cand_dst])], 1)
    ones = torch.ones(cand_src.numel(), dtype=torch.float64)
    real_features = [torch.log1p(real_w), torch.zeros_like(real_w)]
    candidate_features = [torch.zeros_like(ones), ones]
    if triangles:
        node_triangles, edge_triangles = triangle_inputs(torch.stack([src, dst]), int(sizes.sum()))
        real_features.append(edge_triangles.double())
        candidate_features.append(torch.zeros_like(ones))
    edge_features = torch.cat([torch.stack(real_features, 1), torch.stack(candidate_features, 1)]).float()
    padded = torch.cat([self_loops.to(torch.float64), torch.zeros(1, dtype=torch.float64)])  # new nodes: 0
    node_self = torch.where(
        is_new, torch.zeros((), dtype=torch.float64), padded[level_node.clamp(max=padded.numel() - 1)]
    )
    prefix_degree = torch.zeros(int(sizes.sum()), dtype=torch.float64).index_add_(0, src, real_w)
    node_features = torch.stack([torch.log1p(node_self), torch.log1p(prefix_degree), is_new.double()], 1).float()
    if triangles:
        node_features = torch.cat([node_features, node_triangles], 1)
    if adjacency_rows:
        rows_in = adjacency_row_inputs(src, dst, real_w, local, adjacency_rows)
        node_features = torch.cat([node_features, rows_in], 1)
    context = row_context(budget, remaining, position, parent_degree, graph_size, nodes_left)
    return PrefixBatch(
        node_row,
        local,
        node_features,
        is_new,
        edge_index,
        edge_features,
        entry_prefix,
        new_node,
        context,
        None if nodes_left is None else remaining,
        nodes_left,
    )


def adjacency_row_inputs(
    src: torch.Tensor, dst: torch.Tensor, weight: torch.Tensor, local: torch.Tensor, columns: int
) -> torch.Tensor:
    """``(V, columns)`` float32: row ``v`` holds ``log1p(w_vu)`` at column ``local[u]`` for every
    earlier neighbour ``u`` (``local[u] < local[v]``) with ``local[u] < columns``, else 0.

    GRAN's node input (Liao et al. 2019; the HiGen reference feeds it too, ``specs/higen.md`` §1.6):
    each node's strictly-lower-triangular row of the prefix adjacency, padded, so that the network
    sees exactly which earlier nodes it is joined to; with position encodings alone, message passing
    is bounded by 1-WL. ``src``/``dst`` list the prefix graphs' edges in both directions; ``local`` is
    each prefix node's place in its community. Choice: a fixed width ``columns`` (the reference pads to
    the largest level size seen); neighbours at places ``>= columns`` are left out of the row.
    """
    out = torch.zeros(local.numel(), columns, dtype=torch.float32)
    lu, lv = local[src], local[dst]
    keep = (lv < lu) & (lv < columns)
    out[src[keep], lv[keep]] = torch.log1p(weight[keep]).float()
    return out


def _mlp(inp: int, hidden: int, out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(inp, hidden), nn.ReLU(), nn.Linear(hidden, out))


class _GranLayer(nn.Module):
    """One GRAN message-passing layer (Liao et al., 2019):

        z_uv = [h_u - h_v, e_uv],   m_uv = MLP_m(z_uv) · σ(MLP_g(z_uv)),
        h_v' = GRU(Σ_u m_uv, h_v),

    each MLP ``Linear -> ReLU -> Linear``. The first linear of both MLPs is applied by parts:
    ``W [h_u - h_v; e] + b = (W_h h)_u - (W_h h)_v + W_e e + b``, so ``W_h h`` is computed once per
    node rather than once per edge, and message and gate share that one product. The value is the
    same up to float rounding (tested against the literal formula, :meth:`literal`); the
    parameters are the two ``nn.Sequential`` MLPs, as before, so checkpoints are unchanged.
    """

    def __init__(self, hidden: int, edge_dim: int):
        super().__init__()
        self.message = _mlp(hidden + edge_dim, hidden, hidden)
        self.gate = _mlp(hidden + edge_dim, hidden, hidden)
        self.update = nn.GRUCell(hidden, hidden)

    def forward(self, h: torch.Tensor, edge_index: torch.Tensor, edge_features: torch.Tensor) -> torch.Tensor:
        src, dst = edge_index
        width = h.shape[1]
        first_m, first_g = self.message[0], self.gate[0]
        weight = torch.cat([first_m.weight, first_g.weight])  # (2 hidden, hidden + edge_dim)
        bias = torch.cat([first_m.bias, first_g.bias])
        per_node = h @ weight[:, :width].t()  # (V, 2 hidden)
        pre = torch.addmm(bias, edge_features, weight[:, width:].t())  # (E, 2 hidden)
        pre = pre + per_node.index_select(0, src) - per_node.index_select(0, dst)
        act = torch.relu(pre)
        m = self.message[2](act[:, :width]) * torch.sigmoid(self.gate[2](act[:, width:]))
        agg = torch.zeros_like(h).index_add_(0, dst, m)
        return self.update(agg, h)

    def literal(self, h: torch.Tensor, edge_index: torch.Tensor, edge_features: torch.Tensor) -> torch.Tensor:
        """The layer's formula computed edge by edge as written (the reference for :meth:`forward` in
        the tests and in ``metrics/scripts/higen_by_parts_ab.py``)."""
        src, dst = edge_index
        z = torch.cat([h[src] - h[dst], edge_features], 1)
        m = self.message(z) * torch.sigmoid(self.gate(z))
        return self.update(torch.zeros_like(h).index_add_(0, dst, m), h)


class CommunityNet(nn.Module):
    """Outputs ``(log_alpha, p_mass, q_self, entry_logits, p_stop, concentration, self_concentration)``
    for :func:`row_log_likelihood` (``p_stop`` is ``None`` unless ``config.row_stop``, ``concentration``
    unless ``config.row_concentration``, ``self_concentration`` unless ``config.self_loop_concentration``)."""

    def __init__(self, config: CommunityNetConfig | None = None):
        super().__init__()
        self.config = config or CommunityNetConfig()
        c = self.config
        self.embed = nn.Linear(c.node_dim + c.position_dim, c.hidden)
        self.layers = nn.ModuleList([_GranLayer(c.hidden, c.edge_dim) for _ in range(c.num_layers)])
        self.row_head = _mlp(
            2 * c.hidden + c.context_dim,
            2 * c.hidden,
            (3 + c.row_stop + c.row_concentration + c.self_loop_concentration) * c.num_mixtures,
        )
        self.entry_head = _mlp(2 * c.hidden + c.context_dim, 2 * c.hidden, c.num_mixtures)
        size_outputs = (3 if c.size_concentration else 2) * c.num_mixtures
        size_inputs = c.context_dim - 1 + int(c.size_share)
        self.size_head = _mlp(size_inputs, c.hidden, size_outputs) if c.explicit_size else None
        self.row_coordination = row_coordination_net() if c.row_coordination else None
        self.row_runs = run_share_net() if c.row_runs else None
        self.row_faces = run_share_net() if c.row_faces else None

    def _entry_logits(self, h_new, h, context, entry_row, entry_node) -> torch.Tensor:
        """``entry_head([h_new[row], h[node], context[row]])``, ``(P, K)`` float64, with its first linear
        applied by parts: the row part once per row and the node part once per prefix node, then
        gathered per candidate (the same value up to float rounding as the concatenated input)."""
        width = h.shape[1]
        first = self.entry_head[0]
        w = first.weight
        per_row = torch.addmm(
            first.bias, torch.cat([h_new, context], 1), torch.cat([w[:, :width], w[:, 2 * width :]], 1).t()
        )
        per_node = h @ w[:, width : 2 * width].t()
        act = torch.relu(per_row.index_select(0, entry_row) + per_node.index_select(0, entry_node))
        return self.entry_head[2](act).double()

    def literal_entry_logits(self, h_new, h, context, entry_row, entry_node) -> torch.Tensor:
        """:meth:`_entry_logits` with the head applied to the concatenated input, as written (its
        reference in the tests and in ``metrics/scripts/higen_by_parts_ab.py``)."""
        return self.entry_head(torch.cat([h_new[entry_row], h[entry_node], context[entry_row]], 1)).double()

    def size_distribution(
        self, first_row_context: torch.Tensor, node_share: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """``(log β, s, ν)``, each ``(C, K)`` float64, of the node counts of ``C`` communities from the
        context of their first rows without its last column (the node count is not known yet) and,
        with ``size_share``, each community's node share ``σ_c`` (:func:`community_node_share`);
        ``ν`` (the same range as the rows' concentration) is ``None`` without ``size_concentration``."""
        if self.size_head is None:
            raise ValueError("this community network has no size head (explicit_size=False)")
        if self.config.size_share:
            if node_share is None:
                raise ValueError("a size head with size_share needs each community's node share")
            first_row_context = torch.cat([first_row_context, torch.log1p(node_share.float())[:, None]], 1)
        k = self.config.num_mixtures
        out = self.size_head(first_row_context).double()
        nu = _concentration(out[:, 2 * k :]) if self.config.size_concentration else None
        return torch.log_softmax(out[:, :k], 1), torch.sigmoid(out[:, k : 2 * k]), nu

    def forward(self, batch: PrefixBatch) -> RowOutputs:
        k = self.config.num_mixtures
        if batch.context.shape[1] != self.config.context_dim:
            raise ValueError(
                f"row context has {batch.context.shape[1]} columns, the network expects {self.config.context_dim}"
                " (size_context needs graph_size in the prefix batch)"
            )
        if batch.node_features.shape[1] != self.config.node_dim:
            raise ValueError(
                f"prefix nodes have {batch.node_features.shape[1]} features, the network expects"
                f" {self.config.node_dim} (triangle_features and adjacency_rows need a prefix batch built with"
                " the same options)"
            )
        pos = position_encoding(batch.node_position, self.config.position_dim)
        h = self.embed(torch.cat([batch.node_features, pos], 1))
        for layer in self.layers:
            h = layer(h, batch.edge_index, batch.edge_features)
        r = batch.new_node.numel()
        h_new = h[batch.new_node]  # (R, hidden)
        earlier = ~batch.is_new
        sums = torch.zeros(r, h.shape[1]).index_add_(0, batch.node_row[earlier], h[earlier])
        counts = torch.bincount(batch.node_row[earlier], minlength=r).clamp(min=1).unsqueeze(1)
        row_in = torch.cat([h_new, sums / counts, batch.context], 1)
        out = self.row_head(row_in).double()  # (R, (3 + row_stop + row_concentration + self_loop_concentration) K)
        log_alpha = torch.log_softmax(out[:, :k], 1)
        mass_logit = out[:, k : 2 * k]
        if self.config.fair_share:
            if batch.nodes_left is None:
                raise ValueError("a fair-share network needs the nodes still to come (given node counts)")
            position = batch.node_position[batch.new_node]
            prior = fair_share_logit(batch.remaining, position, batch.nodes_left, simple=self.config.explicit_size)
            mass_logit = mass_logit + prior.unsqueeze(1)
        p_mass, q_self = torch.sigmoid(mass_logit), torch.sigmoid(out[:, 2 * k : 3 * k])
        extra = list(out[:, 3 * k :].split(k, 1))  # in order: stop, concentration, self-loop concentration
        p_stop = torch.sigmoid(extra.pop(0)) if self.config.row_stop else None
        concentration = _concentration(extra.pop(0)) if self.config.row_concentration else None
        self_concentration = _concentration(extra.pop(0)) if self.config.self_loop_concentration else None
        entry_row = batch.node_row[batch.entry_prefix_node]
        entry_logits = self._entry_logits(h_new, h, batch.context, entry_row, batch.entry_prefix_node)
        return RowOutputs(log_alpha, p_mass, q_self, entry_logits, p_stop, concentration, self_concentration)
