"""The HiGen model: hierarchy preparation, training loss and lock-step batched sampling.

``p(G) = p(|E|) · Π_l [ Π_i p(C_i^l | G^{l-1}) · Π_{(i,j) ∈ E(G^{l-1})} p(B_ij^l | G^{l-1}, {C^l}) ]``

* **Root/size model**: the budget ``|E|`` of a new graph is drawn from the empirical distribution
  of the training graphs' edge counts (the reference copies it from a random training graph);
  the number of nodes and communities then emerges from the community model. With
  ``size_context`` (the default for new models) every row of every level is also conditioned on
  the node count ``|V|`` of its graph (drawn jointly with ``|E|``: the same training graph's count,
  or the user's ``num_nodes``), as the reference code conditions its root on ``(|V|, |E|)``;
  ``|V|`` is a conditioning input, so the likelihood is ``p(G | |V|, |E|)`` and a sample's node
  count is steered, not forced. With ``community_count="explicit"`` (our option) the root also
  draws the number ``N`` of level-1 nodes (top-level communities) from the same training graph
  (its Louvain hierarchy at ``partition_seed``; scaled like ``|E|`` when ``num_nodes`` or
  ``num_edges`` is forced, and at most ``|E| + 1``), the likelihood becomes
  ``p(G | |V|, |E|, N)``, and the coarse rows spread ``|E|`` over exactly ``N`` nodes
  (:mod:`graphgen.models.higen.stick_breaking`: "An explicit community count").
* **Isolated nodes** (our choice): every row after a community's first spends at least one unit,
  so a degree-0 node has probability 0. They are set aside: the hierarchy and the loss see each
  graph without them, and a sample gets as many as the training graph its budget came from
  (scaled with ``num_nodes``; none when ``num_edges`` is forced), appended last.
* **Level 1** (the coarse graph) is one community of the root with budget ``|E|``; deeper levels
  generate all communities of all graphs **in parallel**, one row per network call, each
  community stopping when its parent self-loop budget is spent; then every bipartite block
  ``(i, j)`` places its parent weight ``w_ij`` (:mod:`graphgen.models.higen.bipartite_net`); with
  ``cross_edges="coordinated"`` (the default for new models) a leaf block places its edges one after
  another, each seeing those already placed (:mod:`graphgen.models.higen.block_sequence`; with
  ``cross_ladder``, our option, also placed edges between the pair's neighbours; with ``cross_contact``,
  our option, also each endpoint's neighbours already touching the other community; with
  ``cross_order="boundary"``, our option, in an order that walks each community's border first,
  :mod:`graphgen.models.higen.boundary_walk`; with ``cross_both_directions``, our option, each block
  a half-half mixture of the right community's order and its reverse; with ``cross_strips``, our
  option, each block a learned mixture of that model and a zipped strip between the two communities'
  border cycles, :mod:`graphgen.models.higen.strip_blocks`).
* **Rows** (:mod:`graphgen.models.higen.stick_breaking`): with ``row_stop`` (the default for new
  models) each row first decides whether it is its community's last. With
  ``community_size="explicit"`` (our option) each leaf community first draws its node count given
  its budget, then its rows spread the budget over exactly that many nodes; the loss adds
  ``-log p(N | W)`` of every leaf community (with ``size_share`` the size head also sees the
  community's share of its graph's ``|V|``, :func:`~graphgen.models.higen.community_net.community_node_share`;
  the share is a function of the coarse graph and ``|V|``, so the size distribution stays normalised
  over ``N``). The two combine: with both, coarse rows keep their stop
  decision and leaf rows, whose community size is drawn, have none (their network has no stop
  output). Checkpoints with explicit sizes written before session 10 have ``row_stop`` off. With
  ``row_concentration`` (our option, every level) each row mass's binomial is raised to a learned
  power ``ν`` and renormalised, so rows can be less (or more) spread than a binomial of their mean.
  With ``self_loop_concentration`` (our option, coarse levels) the same holds for the split of a
  coarse row's mass into its self-loop and its edges to earlier communities (a learned ``ξ``).
* **Triangle inputs** (``triangle_features``, our option, every level): the community networks see
  each prefix node's triangles and degree gap ``d(v) - T(v)`` and each prefix edge's triangles, the
  cross-edge networks the same on the generated communities
  (:func:`~graphgen.models.higen.community_net.triangle_inputs`): message passing cannot count them.
* **Adjacency rows** (``adjacency_rows = M``; the reference code's node input, off by default here):
  the community networks also see each prefix node's row of the prefix adjacency, its first ``M``
  columns (:func:`~graphgen.models.higen.community_net.adjacency_row_inputs`).
* **Coordinated leaf rows** (``row_coordination``, our option, conditional-Bernoulli leaf rows): each
  component's row chooses its edges one after another, each step seeing the nodes already chosen
  through a small MLP (:mod:`graphgen.models.higen.row_sequence`); without it a component's row is
  a conditional Bernoulli (independent edges given their count).
* **Run-shaped leaf rows** (``row_runs``, our option, conditional-Bernoulli leaf rows without
  coordination): each row is a learned mixture of a run of consecutive border nodes of its prefix
  and the conditional Bernoulli (:mod:`graphgen.models.higen.row_runs`).
* **Face-run leaf rows** (``row_faces``, our option, the same rows, not with ``row_runs``): each row
  is a learned mixture of a run along a face of its prefix's plane embedding and the conditional
  Bernoulli; training reads the faces from the data's planar embedding, sampling keeps the embedding
  its rows build (:mod:`graphgen.models.higen.face_runs`).
* **Loss**: the negative log-likelihood of the teacher-forced rows and blocks of every level, per
  edge of the batch (``Σ NLL / Σ |E|``), with the hierarchy built by seeded Louvain and ordered
  by ``within_order`` (:mod:`graphgen.data.hierarchy_order`).

Sampling is real sampling from the model by default (``decoding="sample"``: a mixture component, a
binomial mass, a self-loop binomial and an allocation are drawn for every row). ``decoding="mode"``
is the reference code's near-greedy decoding: the most likely component, the binomials' modes
``floor((n + 1) p)`` (the argmax for the truncated binomial) and, for every allocation (rows and
bipartite blocks), the most likely of :data:`MODE_DRAWS` = 50 exact draws; only the size draw and
those allocations stay random. Under ``mode``, a row's stop decision is taken when ``p_stop >= 1/2``
and a coordinated block or leaf row takes each step's most likely item (deterministic).
``run_rows=True`` (our option, a constrained decoding; :class:`Draws`) draws every leaf row that can
be a run of consecutive border nodes of its prefix conditioned on being one; ``face_rows=True``
(likewise) draws every leaf row as a run along any face of the planar embedding its community's rows
have built (:mod:`~graphgen.models.higen.face_runs`), and ``planar_strips=True`` (with it or on a
``row_faces`` model; models with strip-shaped cross edges) draws the leaf blocks as untwisted strips
that meet earlier strips only at an end (:class:`Draws`). A leaf block whose parent weight exceeds
its ``n_i n_j`` pairs is filled completely and counted in ``last_sample_report``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass, field, replace

import torch
from torch import nn
from torch_geometric.data import Data

from graphgen.data.convert import from_edge_array
from graphgen.data.hierarchy import Hierarchy, build_hierarchy
from graphgen.data.hierarchy_order import order_hierarchy
from graphgen.data.ops import edge_chunks, segment_arange, self_loop_weights
from graphgen.data.ordering import permute_graph
from graphgen.data.partition import LouvainPartitioner
from graphgen.models.higen.bipartite import sample_block
from graphgen.models.higen.bipartite_net import (
    BipartiteNet,
    BipartiteNetConfig,
    BlockPairs,
    block_pairs,
    block_rounds,
    blocks_log_likelihood,
    sample_coordinated_blocks,
)
from graphgen.models.higen.boundary_walk import CROSS_ORDERS, border_cycles
from graphgen.models.higen.community_net import (
    CommunityNet,
    CommunityNetConfig,
    PrefixBatch,
    RowOutputs,
    assemble_prefix_batch,
    community_node_share,
    prefix_batch,
    size_head_context,
)
from graphgen.models.higen.face_runs import outer_border, sample_face_rows
from graphgen.models.higen.row_runs import prefix_border_places, run_share_logits, sample_runs
from graphgen.models.higen.row_sequence import prefix_adjacency, sample_row_sequences
from graphgen.models.higen.rows import LEAF_ROWS, CommunityRows, community_rows, row_log_likelihood
from graphgen.models.higen.stick_breaking import (
    COMMUNITY_SIZES,
    MASS_TRIALS,
    binomial_log_prob,
    community_size_log_prob,
    community_size_support,
    row_mass_interval,
    row_mass_trials,
    self_loop_trials,
)

__all__ = [
    "HiGenConfig",
    "HiGen",
    "PreparedBatch",
    "Draws",
    "BIPARTITE_ENCODERS",
    "DECODINGS",
    "MODE_DRAWS",
    "bipartite_encoder",
]

DECODINGS = ("sample", "mode")
MODE_DRAWS = 50  # allocations under decoding="mode": the most likely of this many draws (as the reference)
# A row's mass is drawn among 0..|E| (the root's budget bounds every other), and torch.multinomial
# draws among at most 2^24 categories: larger budgets are refused before any draw.
MAX_EDGES_PER_GRAPH = 2**24 - 1
# Graphs drawn together in one batch; more are drawn in consecutive chunks of this many from the same
# generator (reproducible; a request of at most this many is one batch, as before chunks existed).
# Bounds the sampler's working memory (about 0.2 MB per community_small graph, 0.7 MB per planar
# graph) and its time per graph, which grows with the batch (a batch runs as many row steps as its
# largest community needs).
SAMPLE_CHUNK = 1024


@dataclass(frozen=True)
class HiGenConfig:
    """Constructor arguments of :class:`HiGen`; travels in checkpoints."""

    num_levels: int = 2
    within_order: str = "bfsdc"
    leaf_rows: str = "conditional_bernoulli"
    hidden: int = 64
    num_layers: int = 3
    num_mixtures: int = 4
    position_dim: int = 16
    resolution: float = 1.0
    partition_seed: int = 0
    allow_disconnected: bool = True  # coarse rows may spend their reserved unit on the self-loop
    bipartite_encoder: str = "gran"  # node encoder of the cross-edge model: gran, gmn or gsm++
    size_context: bool = True  # rows see log1p(|V|) of their graph (checkpoints without the key: False)
    row_stop: bool = True  # each row decides whether it is its community's last (checkpoints without the key: False)
    cross_edges: str = "coordinated"  # leaf blocks: coordinated or independent (checkpoints without the key)
    row_mass: str = "budget"  # leaf row mass trials: budget (the paper) or capacity (see stick_breaking)
    community_size: str = "emergent"  # leaf community node counts: emergent (the paper) or explicit
    row_concentration: bool = False  # row masses Bin^ν / Z with a learned ν (ν = 1: the paper's binomial)
    community_count: str = "emergent"  # level-1 node count: emergent (the paper) or explicit (drawn at the root)
    fair_share: bool = False  # given node counts (explicit count / sizes): row masses centred on their fair share
    size_concentration: bool = False  # explicit sizes: the node-count binomials Bin^ν / Z with a learned ν
    cross_rounds: bool = False  # cross blocks in rounds, each seeing the cross edges of earlier rounds
    size_share: bool = False  # explicit sizes: the size head also sees each community's share of |V|
    self_loop_concentration: bool = False  # coarse rows' self-loops Bin^ξ / Z with a learned ξ (ξ = 1: the paper)
    cross_ladder: bool = False  # coordinated leaf blocks also see placed edges between the pair's neighbours
    triangle_features: bool = False  # community and cross-edge networks see triangle counts (community_net)
    row_coordination: bool = False  # leaf rows choose their edges one after another (row_sequence)
    cross_order: str = "generation"  # coordinated leaf blocks: pairs in generation or border-walk order
    cross_both_directions: bool = False  # coordinated leaf blocks: mixture of the right order and its reverse
    cross_contact: bool = False  # coordinated leaf blocks also see each endpoint's neighbours already in contact
    cross_strips: bool = False  # coordinated leaf blocks: a mixture with zipped strips along the borders (strip_blocks)
    cross_strip_segments: bool = False  # strips: border cycles cut where consecutive places share no edge
    cross_strip_windows: bool = False  # strips: the start also reads the intra degrees along and before the strip
    adjacency_rows: int = 0  # community networks: each prefix node also sees its adjacency row (GRAN's input)
    row_runs: bool = False  # leaf rows: a mixture with runs of consecutive border nodes of the prefix (row_runs)
    row_faces: bool = False  # leaf rows: a mixture with runs along a face of the prefix's plane embedding (face_runs)

    def __post_init__(self):
        if self.num_levels < 1:
            raise ValueError("num_levels must be >= 1 (1: flat, the whole graph as one community, GRAN-style)")
        if not self.resolution > 0:
            raise ValueError(f"resolution must be > 0, got {self.resolution}")
        if self.num_levels < 2 and self.resolution != 1.0:
            raise ValueError("a resolution other than 1 needs num_levels >= 2 (a flat model has no Louvain partition)")
        if self.adjacency_rows < 0:
            raise ValueError(f"adjacency_rows must be >= 0, got {self.adjacency_rows}")
        if self.leaf_rows not in LEAF_ROWS:
            raise ValueError(f"leaf_rows must be one of {', '.join(LEAF_ROWS)}")
        if self.cross_edges not in CROSS_EDGES:
            raise ValueError(f"unknown cross_edges {self.cross_edges!r}; choose one of {', '.join(CROSS_EDGES)}")
        if self.row_mass not in MASS_TRIALS:
            raise ValueError(f"unknown row_mass {self.row_mass!r}; choose one of {', '.join(MASS_TRIALS)}")
        if self.community_size not in COMMUNITY_SIZES:
            raise ValueError(
                f"unknown community_size {self.community_size!r}; choose one of {', '.join(COMMUNITY_SIZES)}"
            )
        if self.explicit_size:
            if self.leaf_rows != "conditional_bernoulli" or self.row_mass != "budget":
                raise ValueError(
                    "community_size='explicit' needs leaf_rows='conditional_bernoulli' and sets each row's"
                    " mass range itself (row_mass must stay 'budget')"
                )
        if self.community_count not in COMMUNITY_COUNTS:
            raise ValueError(
                f"unknown community_count {self.community_count!r}; choose one of {', '.join(COMMUNITY_COUNTS)}"
            )
        if self.explicit_count and self.num_levels < 2:
            raise ValueError("community_count='explicit' needs num_levels >= 2 (a flat model has no communities)")
        if self.cross_rounds and self.num_levels < 2:
            raise ValueError("cross_rounds needs num_levels >= 2 (a flat model has no cross edges)")
        if self.self_loop_concentration and self.num_levels < 2:
            raise ValueError("self_loop_concentration needs num_levels >= 2 (a flat model has no coarse self-loops)")
        if self.cross_order not in CROSS_ORDERS:
            raise ValueError(f"unknown cross_order {self.cross_order!r}; choose one of {', '.join(CROSS_ORDERS)}")
        leaf_block_options = {  # options of the coordinated leaf blocks: set, they need such blocks
            "cross_ladder": self.cross_ladder,
            "cross_order": self.cross_order != "generation",
            "cross_contact": self.cross_contact,
            "cross_both_directions": self.cross_both_directions,
            "cross_strips": self.cross_strips,
        }
        if self.cross_strip_segments and not self.cross_strips:
            raise ValueError("cross_strip_segments needs cross_strips (it cuts the strips' border cycles)")
        if self.cross_strip_windows and not self.cross_strips:
            raise ValueError("cross_strip_windows needs cross_strips (it adds features to the strips' start)")
        for name, used in leaf_block_options.items():
            if used and (self.cross_edges != "coordinated" or self.num_levels < 2):
                raise ValueError(f"{name} needs cross_edges='coordinated' and num_levels >= 2 (leaf cross edges)")
        if self.row_coordination and self.leaf_rows != "conditional_bernoulli":
            raise ValueError("row_coordination needs leaf_rows='conditional_bernoulli' (rows of 0/1 edges)")
        for name in ("row_runs", "row_faces"):
            if getattr(self, name) and not self.rows_can_be_runs:
                raise ValueError(f"{name} needs leaf_rows='conditional_bernoulli' and no row_coordination")
        if self.row_runs and self.row_faces:
            raise ValueError("choose row_runs or row_faces, not both (two run components of the same rows)")
        if self.size_share and not (self.explicit_size and self.size_context):
            raise ValueError("size_share needs community_size='explicit' and size_context (the share splits |V|)")
        if self.size_concentration and not self.explicit_size:
            raise ValueError("size_concentration needs community_size='explicit' (only explicit sizes are drawn)")
        if self.fair_share and not (self.explicit_count or self.explicit_size):
            raise ValueError(
                "fair_share needs community_count='explicit' or community_size='explicit' (a fair share needs"
                " the node count)"
            )
        if self.bipartite_encoder not in BIPARTITE_ENCODERS:
            raise ValueError(
                f"unknown bipartite_encoder {self.bipartite_encoder!r}; choose one of {', '.join(BIPARTITE_ENCODERS)}"
            )

    @property
    def explicit_size(self) -> bool:
        return self.community_size == "explicit"

    @property
    def explicit_count(self) -> bool:
        return self.community_count == "explicit"

    @property
    def rows_can_be_runs(self) -> bool:
        """Whether leaf rows can be drawn as runs of the prefix border (``row_runs``, the ``run_rows``
        decoding): conditional-Bernoulli leaf rows (0/1 edges) without ``row_coordination``."""
        return self.leaf_rows == "conditional_bernoulli" and not self.row_coordination

    def given_size(self, level: int) -> bool:
        """Whether the communities of ``level`` have their node counts given before their rows:
        drawn by the leaf size head (explicit sizes) or at the root (explicit count, level 1)."""
        return (self.explicit_size and level == self.num_levels) or (self.explicit_count and level == 1)


BIPARTITE_ENCODERS = ("gran", "gmn", "gsm++")
CROSS_EDGES = ("coordinated", "independent")
COMMUNITY_COUNTS = ("emergent", "explicit")


def bipartite_encoder(config: HiGenConfig) -> nn.Module | None:
    """The node encoder of the cross-edge model named by ``config.bipartite_encoder``.

    ``gran``: the GRAN layers of :class:`BipartiteNet` (``None`` here). ``gmn`` / ``gsm++``: a
    :class:`graphgen.nn.GraphMamba` (GINE local layers, walk tokens m=2) or
    :class:`graphgen.nn.GSMPlusPlus` (GatedGCN + HAC tokens) of the same width and depth, reading
    the level's intra-community graph with each community as one sequence batch.
    """
    if config.bipartite_encoder == "gran":
        return None
    from graphgen.nn import GraphMamba, GraphMambaConfig, GSMPlusPlus, GSMPlusPlusConfig

    inputs = BipartiteNetConfig(triangle_features=config.triangle_features)  # the node and edge input widths
    width = dict(
        in_channels=inputs.node_dim + config.position_dim,
        hidden=config.hidden,
        num_layers=config.num_layers,
        edge_dim=inputs.edge_dim,
    )
    if config.bipartite_encoder == "gmn":
        return GraphMamba(GraphMambaConfig(**width))
    return GSMPlusPlus(GSMPlusPlusConfig(**width))


@dataclass(frozen=True)
class Draws:
    """How a sample makes its random choices: true draws from ``generator``, or (``greedy``) the
    reference code's near-greedy decoding (see the module docstring). Both make the same calls on
    ``generator`` for the choices that stay random, so one seed gives one stream.

    **Sampling temperature** (our option; ``temperature = τ``, 1 is the model itself): every random
    choice is drawn from its own distribution raised to the power ``1/τ`` and renormalised over the
    same support, ``q(x) ∝ p(x)^{1/τ}`` -- a categorical's probabilities, a binomial's (a power
    binomial, :func:`~graphgen.models.higen.stick_breaking.power_binomial_log_prob`, with its
    concentration multiplied by ``1/τ``), a stop decision's two outcomes, and a block's or row's set
    of distinct pairs under the conditional Bernoulli (``P(S) ∝ Π_{e∈S} exp(θ_e)``, so ``θ / τ`` is
    exactly ``P(S)^{1/τ}``). Our choice where that is not one step: a multinomial block with
    repeated units (coarse levels) scales its logits ``θ / τ``, a per-unit temperature. ``τ < 1``
    sharpens each step towards its mode (``τ → 0`` is a greedy decoding, close to ``greedy``), ``τ > 1``
    flattens it; the result is not the model's distribution, so a temperature is reported with the
    numbers it gives. Uniform choices (``index``) are unchanged. At ``τ = 1`` the draws are exactly
    those without the option (same calls on ``generator``).

    ``size_temperature`` (our option; ``None``: the same as ``temperature``) is the temperature of
    one choice alone: each leaf community's node count drawn from the size head of an explicit-size
    model (:meth:`sizes`).

    ``run_rows`` (our option, a constrained decoding; conditional-Bernoulli leaf rows without
    ``row_coordination``): every leaf row that can be a run of consecutive border nodes of its
    prefix (:mod:`~graphgen.models.higen.row_runs`: ``1 <= w <= L``) is drawn from its component's
    row distribution **conditioned on being such a run**, ``p_cb^k(Y | w, Y is a run) = p_run^k(Y |
    w)`` (for ``row_runs`` models: ``π = 1``); the others as the model draws them. Not the model's
    distribution either: reported with the numbers it gives.

    ``face_rows`` (our option, a constrained decoding; the same models as ``run_rows``, not with it):
    each leaf community keeps the planar embedding its rows build, as face walks, and every leaf row
    is drawn from its component's row distribution conditioned on being a run along one of the faces
    (:mod:`~graphgen.models.higen.face_runs`; each node set once); a row with no such run is drawn
    as the model draws it and its community's embedding is lost (``last_sample_report``).

    ``planar_strips`` (our option, a constrained decoding; with ``face_rows`` or on a ``row_faces``
    model, models with ``cross_strips``): the leaf blocks of a strip model are drawn along the outer
    faces that the leaf rows kept, which all communities walk in the same orientation, so that (1) every
    feasible block is a strip (``π = 1``), (2) its two sides run in opposite directions along their
    cycles (an untwisted strip, :data:`~graphgen.models.higen.strip_blocks.UNTWISTED`; the two
    direction pairs ½ each), and (3) it is redrawn while it meets the cross edges of earlier rounds
    in two nodes of a community or inside an earlier strip's side
    (:func:`~graphgen.models.higen.strip_blocks.strip_conflicts`; at most
    :data:`~graphgen.models.higen.bipartite_net.PLANAR_STRIP_TRIES` draws, a rejection sampler of the
    strip process conditioned on (3); blocks still in conflict are kept and counted in
    ``last_sample_report``). In planar's test graphs every community with two neighbouring
    communities meets them in exactly one common node. Not the model's distribution either."""

    generator: torch.Generator | None = None
    greedy: bool = False
    temperature: float = 1.0
    size_temperature: float | None = None
    run_rows: bool = False
    face_rows: bool = False
    planar_strips: bool = False

    def __post_init__(self) -> None:
        from graphgen.errors import InvalidArgumentError  # a ValueError

        for name, value in (("", self.temperature), ("size ", self.size_temperature)):
            if value is not None and not (math.isfinite(value) and value > 0):
                raise InvalidArgumentError(f"sampling {name}temperature must be a positive number, got {value}")

    def sizes(self) -> Draws:
        """The draws of the leaf size head: these, at ``size_temperature`` when one is set."""
        return self if self.size_temperature is None else replace(self, temperature=self.size_temperature)

    @property
    def _tempered(self) -> bool:
        return self.temperature != 1.0 and not self.greedy

    def categorical(self, probabilities: torch.Tensor) -> torch.Tensor:
        """One category per row of ``(R, C)`` weights, or each row's most likely one."""
        if self.greedy:
            return probabilities.argmax(1)
        if self._tempered:
            probabilities = torch.softmax(probabilities.double().clamp(min=0).log() / self.temperature, 1)
        return torch.multinomial(probabilities, 1, generator=self.generator).squeeze(1)

    def binomial(self, trials: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        """A binomial draw, or its mode ``floor((n + 1) p)``."""
        if self.greedy:
            return torch.minimum(torch.floor((trials.double() + 1) * p).long(), trials.long())
        if self._tempered:
            return self.truncated_binomial(trials, p, trials)
        return torch.binomial(trials.double(), p, generator=self.generator).long()

    def truncated_binomial(
        self, trials: torch.Tensor, p: torch.Tensor, cap: torch.Tensor, concentration: torch.Tensor | None = None
    ) -> torch.Tensor:
        """A binomial draw conditioned on ``<= cap`` (with ``concentration``, a draw of
        :func:`power_binomial_log_prob`), or its most likely value.

        The categorical over ``0..cap`` takes the binomial's unnormalised log-probabilities (the
        softmax normalises; :func:`truncated_binomial_log_prob` would compute them twice, once for
        its normaliser): one evaluation per support point, the row steps' main cost before."""
        support = torch.arange(int(cap.max()) + 1 if cap.numel() else 1, dtype=torch.float64)
        trials = trials.double().unsqueeze(1)
        top = torch.minimum(cap.double().unsqueeze(1), trials)
        lp = binomial_log_prob(torch.minimum(support, top), trials, p.unsqueeze(1))
        if concentration is not None:
            lp = concentration.unsqueeze(1) * lp
        inside = support <= top  # a temperature applies in categorical
        return self.categorical(torch.softmax(torch.where(inside, lp, torch.full_like(lp, float("-inf"))), 1))

    def interval_binomial(
        self, lo: torch.Tensor, hi: torch.Tensor, p: torch.Tensor, concentration: torch.Tensor | None = None
    ) -> torch.Tensor:
        """A draw of ``lo + Bin(hi - lo, p)`` (with ``concentration``: ``lo + PowBin(hi - lo, p, ν)``),
        the sampler of :func:`~graphgen.models.higen.stick_breaking.interval_binomial_log_prob`."""
        span = (hi - lo).long()
        if concentration is None:
            return lo.long() + self.binomial(span, p)
        return lo.long() + self.truncated_binomial(span, p, span, concentration)

    def row_mass(
        self,
        remaining: torch.Tensor,
        p: torch.Tensor,
        cap: torch.Tensor | None,
        p_stop: torch.Tensor | None,
        mass_trials: str = "budget",
        concentration: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """A row's modelled mass ``u_t`` under :func:`~graphgen.models.higen.stick_breaking.row_mass_log_prob`:
        first the stop decision (greedy: stop when ``p_stop >= 1/2``), then the go-on binomial
        (its trials and truncation from :func:`~graphgen.models.higen.stick_breaking.row_mass_trials`;
        with a ``concentration``, the power binomial over the same support)."""
        remaining = remaining.clamp(min=0)
        trials, k_max = row_mass_trials(remaining, cap, p_stop is not None, mass_trials)
        if concentration is not None:
            mass = self.truncated_binomial(trials, p, trials if k_max is None else k_max, concentration)
        elif k_max is None or mass_trials == "capacity":  # capacity: k_max = trials, nothing to truncate
            mass = self.binomial(trials, p)
        else:
            mass = self.truncated_binomial(trials, p, k_max)
        if p_stop is None:
            return mass
        can_stop = (remaining >= 1) if cap is None else (remaining >= 1) & (remaining <= cap)
        if self._tempered:  # p^{1/τ} / (p^{1/τ} + (1 - p)^{1/τ})
            p_stop = torch.sigmoid(torch.logit(p_stop.double()) / self.temperature)
        stop = p_stop >= 0.5 if self.greedy else torch.bernoulli(p_stop, generator=self.generator).bool()
        return torch.where(can_stop & stop, remaining, mass)

    def allocations(self, logits: torch.Tensor, lengths: torch.Tensor, totals: torch.Tensor, distinct: bool):
        """Units on every entry ``(P,)`` of consecutive runs (``lengths``, summing to ``P``): run ``i``
        places ``totals[i]`` units over its entries of ``logits`` (:func:`sample_block`); greedy: the
        most likely of :data:`MODE_DRAWS` exact draws. Runs are drawn in order; empty ones draw nothing."""
        counts = torch.zeros(logits.numel(), dtype=torch.long)
        best_of = MODE_DRAWS if self.greedy else None
        if self._tempered:
            logits = logits / self.temperature
        ends = torch.cumsum(lengths, 0).tolist()
        for end, length, total in zip(ends, lengths.tolist(), totals.tolist()):
            if length and total:
                counts[end - length : end] = sample_block(
                    logits[end - length : end], total, distinct, self.generator, best_of
                )
        return counts

    def index(self, n: int, size: int) -> torch.Tensor:
        """``size`` uniform indices below ``n`` (random under both decodings)."""
        return torch.randint(n, (size,), generator=self.generator)


@dataclass
class PreparedBatch:
    """Teacher-forcing tensors of a batch of training graphs (reusable across epochs)."""

    hierarchy: Hierarchy
    num_edges: int
    levels: list = field(default_factory=list)  # (rows, prefix, pairs | None) per level 1..L


@dataclass
class _LevelState:
    """What has been generated of one level so far (sampling only), kept as tensors per step.

    Nodes are numbered in generation order; ``edges`` rows are ``(community, later local, earlier
    local, weight)``. Everything is appended as tensors and concatenated when read, so a step costs
    tensor operations over what exists, never a Python loop over the generated edges.
    """

    budget: torch.Tensor  # (P,) budget of each community (its parent's self-loop)
    parent_degree: torch.Tensor  # (P,) the parent's weight to other communities
    graph_size: torch.Tensor | None  # (P,) node count |V| of the community's graph (size_context)
    size: torch.Tensor | None = None  # (P,) drawn node count of each community (explicit sizes)
    node_chunks: list = field(default_factory=list)  # (k, 3) tensors: community, local position, self-loop
    edge_chunks: list = field(default_factory=list)  # (k, 4) tensors: community, later, earlier, weight
    faces: dict | None = None  # community -> its face walks (face-row decoding; None: embedding lost)

    def add_nodes(self, comm: torch.Tensor, local: torch.Tensor, self_loop: torch.Tensor) -> None:
        if comm.numel():
            self.node_chunks.append(torch.stack([comm, local, self_loop], 1))

    def add_edges(self, comm: torch.Tensor, later: torch.Tensor, earlier: torch.Tensor, weight: torch.Tensor) -> None:
        if comm.numel():
            self.edge_chunks.append(torch.stack([comm, later, earlier, weight], 1))

    def nodes(self) -> torch.Tensor:
        if len(self.node_chunks) > 1:
            self.node_chunks = [torch.cat(self.node_chunks)]
        return self.node_chunks[0] if self.node_chunks else torch.zeros((0, 3), dtype=torch.long)

    def edges(self) -> torch.Tensor:
        if len(self.edge_chunks) > 1:
            self.edge_chunks = [torch.cat(self.edge_chunks)]
        return self.edge_chunks[0] if self.edge_chunks else torch.zeros((0, 4), dtype=torch.long)


def _cross_degree(edge_index: torch.Tensor, edge_weight: torch.Tensor, num_nodes: int) -> torch.Tensor:
    """Each node's total weight to other nodes (self-loops excluded): a parent's tie to other communities."""
    off = edge_index[0] != edge_index[1]
    return torch.zeros(num_nodes, dtype=torch.long).index_add_(0, edge_index[0, off], edge_weight[off])


def _nearest_graphs(counts: torch.Tensor, target: int) -> torch.Tensor:
    """The training graphs whose count is nearest ``target`` (indices)."""
    gap = (counts - target).abs()
    return (gap == gap.min()).nonzero().flatten()


def _scale_to(target: int, counts: torch.Tensor) -> torch.Tensor:
    """The factors ``target / count`` that scale training graphs to ``target`` (a count of 0 counts as 1)."""
    return target / counts.clamp(min=1).double()


def _nearest(counts: torch.Tensor, target: int, draws: Draws, num_graphs: int):
    """For each of ``num_graphs`` samples, a random training graph among those whose count is nearest
    ``target``, and the factor (:func:`_scale_to`) that scales it."""
    nearest = _nearest_graphs(counts, target)
    pick = nearest[draws.index(nearest.numel(), num_graphs)]
    return pick, _scale_to(target, counts[pick])


def _block_graphs(pairs: BlockPairs, node_graph: torch.Tensor) -> torch.Tensor:
    """The graph ``(B,)`` of every block of ``pairs``, read from its pairs' left nodes (``node_graph``:
    the graph of every node of the level)."""
    graph = torch.zeros(pairs.block_weight.numel(), dtype=torch.long)
    return graph.index_copy_(0, pairs.pair_block, node_graph[pairs.pair_left])


def _check_leaf_graphs(graphs: list, what: str) -> list[int]:
    """Check that every graph is simple and undirected as graphgen stores graphs
    (:func:`~graphgen.data.convert.check_simple_graph`: integer ids in range, both directions, no
    self-loop or repeat; one ``InvalidGraphError`` naming ``what k``); the indices of the edgeless ones."""
    from graphgen.data.convert import check_simple_graph

    for k, g in enumerate(graphs):
        check_simple_graph(g, what=f"{what} {k}")
    return [k for k, g in enumerate(graphs) if int(g.edge_index.shape[1]) == 0]


def _isolated_count(g) -> int:
    n = int(g.num_nodes)
    return int((torch.bincount(g.edge_index[0], minlength=n) == 0).sum()) if n else 0


def _without_isolated_nodes(g) -> Data:
    """The graph without its degree-0 nodes (HiGen's rows cannot produce them; see the module)."""
    if _isolated_count(g) == 0:
        return g
    from torch_geometric.utils import remove_isolated_nodes

    edge_index, _, keep = remove_isolated_nodes(g.edge_index, num_nodes=int(g.num_nodes))
    return Data(edge_index=edge_index, num_nodes=int(keep.sum()))


def _relabelling(g, variant: int) -> torch.Tensor:
    """A uniform random permutation of ``g``'s nodes for likelihood variant ``variant``
    (:meth:`HiGen.log_likelihood` with ``random_ties``), from a generator seeded by the variant and
    the graph's own node count and edge list: the same graph gets the same one whatever it is
    scored with."""
    import hashlib

    digest = hashlib.sha256(f"{variant}|{int(g.num_nodes)}|".encode())
    digest.update(g.edge_index.to(torch.int64).contiguous().numpy().tobytes())
    seed = int.from_bytes(digest.digest()[:8], "little") & (2**63 - 1)
    return torch.randperm(int(g.num_nodes), generator=torch.Generator().manual_seed(seed))


class HiGen(nn.Module):
    """Hierarchical graph generator (Karami, ICLR 2024); see the module docstring."""

    model_name = "higen"

    def __init__(self, config: HiGenConfig | None = None):
        super().__init__()
        self.config = c = config or HiGenConfig()
        self.community_nets = nn.ModuleList(
            [
                CommunityNet(
                    CommunityNetConfig(
                        c.hidden,
                        c.num_layers,
                        c.num_mixtures,
                        c.position_dim,
                        c.size_context,
                        c.row_stop and not c.given_size(lv),  # a given size decides where a community ends
                        c.explicit_size and lv == c.num_levels,
                        c.row_concentration,
                        c.explicit_count and lv == 1,
                        c.fair_share and c.given_size(lv),
                        c.size_concentration and lv == c.num_levels,
                        c.size_share and lv == c.num_levels,
                        c.self_loop_concentration and lv < c.num_levels,  # leaf rows have no self-loops
                        c.triangle_features,
                        c.row_coordination and lv == c.num_levels,
                        c.adjacency_rows,
                        row_runs=c.row_runs and lv == c.num_levels,
                        row_faces=c.row_faces and lv == c.num_levels,
                    )
                )
                for lv in range(1, c.num_levels + 1)
            ]
        )
        self.bipartite_nets = nn.ModuleList(
            [
                BipartiteNet(
                    # bipartite_nets[lv - 2] serves level lv; the leaf level's may place its edges coordinated
                    BipartiteNetConfig(
                        c.hidden,
                        c.num_layers,
                        c.position_dim,
                        c.cross_edges == "coordinated" and lv == c.num_levels,
                        c.cross_rounds,
                        c.cross_ladder and lv == c.num_levels,
                        c.triangle_features,
                        c.cross_order if lv == c.num_levels else "generation",
                        c.cross_both_directions and lv == c.num_levels,
                        c.cross_contact and lv == c.num_levels,
                        c.cross_strips and lv == c.num_levels,
                        c.cross_strip_segments and lv == c.num_levels,
                        c.cross_strip_windows and lv == c.num_levels,
                    ),
                    encoder=bipartite_encoder(c),
                )
                for lv in range(2, c.num_levels + 1)
            ]
        )
        self.register_buffer("edge_counts", torch.zeros(0, dtype=torch.long))
        self.register_buffer("node_counts", torch.zeros(0, dtype=torch.long))
        self.register_buffer("isolated_counts", torch.zeros(0, dtype=torch.long))
        self.register_buffer("community_counts", torch.zeros(0, dtype=torch.long))  # explicit count only
        self.last_sample_report: dict = {}
        self._last_parent = torch.zeros(0, dtype=torch.long)

    # ------------------------------------------------------------------------------ training
    def fit_size_model(self, graphs) -> HiGen:
        """Record the training graphs' node, edge and isolated-node counts (the root/size model), and
        with an explicit community count the number of level-1 nodes of each graph's hierarchy
        (Louvain with the configured resolution and ``partition_seed``). Every graph needs an edge:
        HiGen generates edges, and a graph's isolated nodes are counted apart."""
        from graphgen.errors import InvalidGraphError

        graphs = list(graphs)
        if not graphs:
            raise InvalidGraphError("HiGen needs at least one training graph")
        edgeless = _check_leaf_graphs(graphs, "training graph")
        if edgeless:
            raise InvalidGraphError(
                f"{len(edgeless)} training graph(s) have no edges (the first: graph {edgeless[0]}); HiGen "
                "generates a graph's edges and counts its isolated nodes apart, so every graph needs an edge"
            )
        self.edge_counts = torch.tensor([int(g.edge_index.shape[1]) // 2 for g in graphs], dtype=torch.long)
        self.node_counts = torch.tensor([int(g.num_nodes) for g in graphs], dtype=torch.long)
        self.isolated_counts = torch.tensor([_isolated_count(g) for g in graphs], dtype=torch.long)
        if self.config.explicit_count:
            h = self._hierarchy([_without_isolated_nodes(g) for g in graphs], self.config.partition_seed)
            self.community_counts = torch.bincount(h.assignments[0], minlength=len(graphs))
        return self

    def _hierarchy(self, graphs, seed: int) -> Hierarchy:
        """The ordered Louvain hierarchy of graphs without isolated nodes."""
        c = self.config
        h = build_hierarchy(graphs, num_levels=c.num_levels, partitioner=LouvainPartitioner(c.resolution), seed=seed)
        return order_hierarchy(h, c.within_order)

    def prepare(self, graphs, partition_seed: int | None = None, tie_seed: int | None = None) -> PreparedBatch:
        """Hierarchy, ordering, rows, prefix graphs and block pairs of a batch of graphs.

        ``partition_seed`` overrides the configuration's Louvain seed (hierarchy augmentation).
        ``tie_seed`` (random ties, :mod:`graphgen.models.higen.train`) first relabels each graph by a
        uniform permutation drawn from a generator seeded with it, so the within-community order
        breaks its ties by random ids; ``None`` keeps the graphs' own labels.
        """
        c = self.config
        seed = c.partition_seed if partition_seed is None else partition_seed
        graphs = [_without_isolated_nodes(g) for g in graphs]
        if tie_seed is not None:
            ties = torch.Generator().manual_seed(tie_seed)
            graphs = [permute_graph(g, torch.randperm(int(g.num_nodes), generator=ties)) for g in graphs]
        h = self._hierarchy(graphs, seed)
        prepared = PreparedBatch(hierarchy=h, num_edges=sum(int(g.edge_index.shape[1]) // 2 for g in graphs))
        sizes = torch.tensor([int(g.num_nodes) for g in graphs], dtype=torch.long)
        for lv in range(1, c.num_levels + 1):
            rows, pb = self.teacher_forced_rows(h, lv, sizes)
            pairs = block_pairs(h, lv, rounds=c.cross_rounds) if lv >= 2 else None
            prepared.levels.append((rows, pb, pairs))
        return prepared

    def teacher_forced_rows(self, h: Hierarchy, lv: int, sizes: torch.Tensor) -> tuple[CommunityRows, PrefixBatch]:
        """The rows of level ``lv`` of the ordered hierarchy ``h`` and their prefix graphs, as the
        community network reads them (``sizes``: the node count of each graph of ``h``)."""
        c = self.config
        rows = community_rows(h, lv)
        if c.row_runs and lv == c.num_levels:
            rows = rows.with_border_places()
        if c.row_faces and lv == c.num_levels:
            rows = rows.with_face_sets()
        parent_graph = h.levels[lv - 1]
        pdeg = _cross_degree(parent_graph.edge_index, parent_graph.edge_weight, int(parent_graph.num_nodes))
        pdeg = pdeg[h.assignments[lv - 1]]
        graph_size = sizes[h.levels[lv].batch] if c.size_context else None
        pb = prefix_batch(rows, h.levels[lv], pdeg, graph_size, c.given_size(lv), c.triangle_features, c.adjacency_rows)
        return rows, pb

    @property
    def part_names(self) -> list[str]:
        """The model's networks, each with parameters of its own and a likelihood term of its own:
        ``community_nets.{lv - 1}`` (the rows, and at the leaf level with explicit sizes the size
        head, of level ``lv``) and ``bipartite_nets.{lv - 2}`` (the cross edges of level ``lv >= 2``).
        No parameter appears in two terms, so each part can be selected on its own term
        (:func:`graphgen.models.higen.train.train_higen` keeps each part's lowest-validation state)."""
        return [f"community_nets.{i}" for i in range(len(self.community_nets))] + [
            f"bipartite_nets.{i}" for i in range(len(self.bipartite_nets))
        ]

    def loss(self, batch, row_fraction: float = 1.0, parts: Collection[str] | None = None) -> dict:
        """Negative log-likelihood per edge: ``{"loss", "community_nll", "bipartite_nll", "parts"}``,
        ``parts`` mapping each of :attr:`part_names` to its term (their sum is ``loss`` up to rounding).

        ``row_fraction = q < 1`` (training speed; the reference code samples prefixes likewise) keeps
        each community row independently with probability ``q`` (torch's global generator) and
        divides the kept rows' NLL by ``q``: an unbiased estimate of the community NLL whose cost,
        dominated by the rows' prefix graphs, shrinks by about ``q``. Bipartite blocks are always
        all evaluated. ``q = 1`` is the exact loss.

        ``parts`` (names among :attr:`part_names`) evaluates those terms only, the others counting 0:
        one network trained alone on its own term (its value is the same as in the full loss).
        """
        if not 0 < row_fraction <= 1:
            raise ValueError(f"row_fraction must be in (0, 1], got {row_fraction}")
        unknown = set(parts or ()) - set(self.part_names)
        if unknown:
            raise ValueError(f"unknown parts {sorted(unknown)}; the model's parts are {', '.join(self.part_names)}")
        wanted = set(self.part_names if parts is None else parts)
        prepared = batch if isinstance(batch, PreparedBatch) else self.prepare(batch)
        community, bipartite, terms = self._negative_log_likelihood(prepared, row_fraction, wanted, per_graph=False)
        edges = max(prepared.num_edges, 1)
        return {
            "loss": (community + bipartite) / edges,
            "community_nll": community / edges,
            "bipartite_nll": bipartite / edges,
            "parts": {name: nll / edges for name, nll in terms.items()},
        }

    def log_likelihood(
        self,
        graphs,
        *,
        hierarchies: int = 1,
        random_ties: bool = False,
        edges_per_call: int = 4096,
        progress: Callable[[int, int], None] | None = None,
    ) -> torch.Tensor:
        """Log-likelihood of each graph in nats, ``(len(graphs),)`` float64: the terms of
        :meth:`loss` summed per graph,

        ``log p(H, π | |V|, |E|[, N]) = Σ_l [ Σ_i log p(C_i^l | G^{l-1}) + Σ_(i,j) log p(B_ij^l | G^{l-1}, {C^l}) ]``

        (``i`` the graph's communities of level ``l``, ``(i, j)`` its blocks)

        of the graph's own hierarchy ``H`` (Louvain at the configuration's ``partition_seed``) and
        generation order ``π``, given its root: the same conditional likelihood the model is trained
        on (module docstring: the node and edge counts, and with an explicit count the number of
        communities, are conditioning inputs, drawn apart by the root/size model). It is a lower bound
        of ``log p(G | |V|, |E|)``, which sums over every hierarchy and order (intractable). Isolated
        nodes are set aside as in training (they add nothing). Batches change nothing (to float rounding): each graph's
        value is what it gets alone (tested), and ``-log_likelihood(graphs).sum() / |E|`` is
        :meth:`loss`'s ``"loss"``. Runs under ``torch.no_grad`` in evaluation mode, on consecutive
        graphs of at most ``edges_per_call`` edges at a time (memory grows with a call's edges: planar
        and SBM take some 50-80 KB per edge); ``progress(done, total)`` after each call.

        ``hierarchies = K > 1`` tightens the bound: the hierarchies of Louvain seeds
        ``partition_seed + 0 .. K-1`` (those training augmentation uses) are distinct generation
        sequences of the same graph wherever their ordered tensors differ
        (:meth:`~graphgen.data.hierarchy.Hierarchy.graph_signatures`), so their probabilities add:
        ``log Σ_{distinct k} p(H_k, π_k | |V|, |E|) <= log p(G | |V|, |E|)``, never below the single
        term. Not with an explicit community count, whose conditioning ``N`` changes with the
        hierarchy (refused).

        ``random_ties=True`` (as training's ``--random-ties``) makes the variants ``k >= 1`` also
        relabel each graph by a uniform permutation before partitioning and ordering, so that they
        add generation orders as well as partitions: the sum a model trained on random orders spreads
        its probability over (on community_small every Louvain seed gives the same partition, so
        without it ``K`` adds nothing). Variant 0 keeps the graph's own labels (``K = 1`` is the plain
        value). Each permutation is drawn from a generator seeded by ``k`` and the graph's own edge
        list (:func:`_relabelling`), so a graph's value still does not depend on the graphs scored
        with it; equal ordered tensors are still counted once, so the sum is over distinct sequences
        and stays a lower bound."""
        from graphgen.errors import InvalidArgumentError, InvalidGraphError

        graphs = list(graphs)
        if not graphs:
            return torch.zeros(0, dtype=torch.float64)
        edgeless = _check_leaf_graphs(graphs, "graph")
        if edgeless:
            raise InvalidGraphError(
                f"graph {edgeless[0]} has no edges ({len(edgeless)} such graph(s)); HiGen's likelihood is that of a "
                "graph's edges given their count, and an edgeless graph has none to generate"
            )
        from graphgen.models.sample_request import whole_number

        hierarchies = whole_number(hierarchies, "hierarchies", 1)
        if hierarchies > 1 and self.config.explicit_count:
            raise InvalidArgumentError(
                "hierarchies > 1 needs a model whose community count emerges: with an explicit count the "
                "likelihood is conditioned on each hierarchy's own count, so its terms do not add"
            )
        seeds = [self.config.partition_seed + k for k in range(hierarchies)]
        was_training = self.training
        self.eval()
        values = []
        try:
            with torch.no_grad():
                for start, stop in edge_chunks(graphs, edges_per_call):
                    terms, seen = [], [set() for _ in range(stop - start)]
                    for k, seed in enumerate(seeds):
                        chunk = graphs[start:stop]
                        if random_ties and k > 0:  # variant 0 keeps the graphs' own labels
                            chunk = [permute_graph(g, _relabelling(g, k)) for g in chunk]
                        prepared = self.prepare(chunk, partition_seed=seed)
                        community, bipartite, _ = self._negative_log_likelihood(
                            prepared, 1.0, set(self.part_names), per_graph=True
                        )
                        ll = -(community + bipartite)
                        if hierarchies > 1:  # a sequence already counted adds nothing
                            for i, signature in enumerate(prepared.hierarchy.graph_signatures()):
                                if signature in seen[i]:
                                    ll[i] = -math.inf
                                seen[i].add(signature)
                        terms.append(ll)
                    values.append(torch.logsumexp(torch.stack(terms), 0))
                    if progress is not None:
                        progress(stop, len(graphs))
        finally:
            self.train(was_training)
        return torch.cat(values)

    def _negative_log_likelihood(
        self, prepared: PreparedBatch, row_fraction: float, wanted: set, per_graph: bool
    ) -> tuple[torch.Tensor, torch.Tensor, dict]:
        """``(community, bipartite, terms)`` NLL of ``prepared``: summed over the batch, or with
        ``per_graph`` each a ``(B,)`` vector over its graphs (the same values, summed per graph)."""
        h = prepared.hierarchy
        num_graphs = h.num_graphs

        def total(values: torch.Tensor, graph: torch.Tensor | None) -> torch.Tensor:
            # the loss takes the plain sum (bit for bit as before); per graph, the same values by graph
            if not per_graph:
                return values.sum()
            return torch.zeros(num_graphs, dtype=torch.float64).index_add_(0, graph, values.to(torch.float64))

        community = torch.zeros((), dtype=torch.float64)
        bipartite = torch.zeros((), dtype=torch.float64)
        terms = {name: torch.zeros((), dtype=torch.float64) for name in self.part_names}
        for lv, (rows, pb, pairs) in enumerate(prepared.levels, start=1):
            before = community
            net = self.community_nets[lv - 1]
            coordination = net.row_coordination
            # coordinated rows read their prefix graphs from all rows of their communities
            adjacency = prefix_adjacency(rows) if coordination is not None else None
            if row_fraction < 1:
                keep = torch.rand(rows.num_rows) < row_fraction
                rows, pb = rows.select_rows(keep), pb.select_rows(keep)
                adjacency = None if adjacency is None else adjacency[keep]
            if rows.num_rows and f"community_nets.{lv - 1}" in wanted:
                outputs = net(pb)
                row_lp = row_log_likelihood(
                    rows,
                    *outputs,
                    leaf_rows=self.config.leaf_rows,
                    allow_disconnected=self.config.allow_disconnected,
                    mass_trials=self.config.row_mass,
                    explicit_size=self.config.given_size(lv),
                    coordination=coordination,
                    adjacency=adjacency,
                    runs=net.row_runs,
                    faces=net.row_faces,
                )
                row_graph = h.levels[lv - 1].batch[rows.community] if per_graph else None
                community = community - total(row_lp, row_graph) / row_fraction
                if self.config.explicit_size and rows.leaf:  # -log p(N | W) of every community, at its first row
                    first = rows.position == 0
                    size_probs = self.size_distribution_of_rows(h, lv, rows, pb)
                    size_lp = community_size_log_prob(rows.size[first], rows.budget[first], *size_probs)
                    community = (
                        community - total(size_lp, None if row_graph is None else row_graph[first]) / row_fraction
                    )
            terms[f"community_nets.{lv - 1}"] = community - before
            if pairs is not None and pairs.pair_block.numel() and f"bipartite_nets.{lv - 2}" in wanted:
                net, parent = self.bipartite_nets[lv - 2], h.assignments[lv - 1]
                logits = net(h.levels[lv], parent, pairs)
                block_lp = blocks_log_likelihood(net, pairs, logits, h.levels[lv], parent)
                block_nll = -total(block_lp, _block_graphs(pairs, h.levels[lv].batch) if per_graph else None)
                terms[f"bipartite_nets.{lv - 2}"] = block_nll
                bipartite = bipartite + block_nll
        return community, bipartite, terms

    def size_distribution_of_rows(self, h: Hierarchy, lv: int, rows, pb):
        """``(log β, s, ν)`` of the node count of every community whose first row is among ``rows``
        (teacher forcing; ``pb`` their prefix batch), from the leaf size head (explicit sizes)."""
        return self.community_nets[lv - 1].size_distribution(*self.size_head_inputs(h, lv, rows, pb))

    def size_head_inputs(self, h: Hierarchy, lv: int, rows, pb) -> tuple[torch.Tensor, torch.Tensor | None]:
        """What the size head reads for every community whose first row is among ``rows``: the first
        row's context without its last column and, with ``size_share``, the node share ``σ_c``."""
        first = rows.position == 0
        share = self._node_share(h, lv)[rows.community[first]] if self.config.size_share else None
        return pb.context[first, :-1], share

    @staticmethod
    def _node_share(h: Hierarchy, lv: int) -> torch.Tensor:
        """The node share ``σ_c`` (:func:`community_node_share`) of every community of level ``lv``
        (every node of level ``lv - 1``), ``|V|`` being the node count of the hierarchy's graph."""
        parent_level = h.levels[lv - 1]
        budget = self_loop_weights(parent_level.edge_index, parent_level.edge_weight, int(parent_level.num_nodes))
        graph_size = torch.bincount(h.levels[-1].batch, minlength=int(parent_level.batch.max()) + 1)
        return community_node_share(budget, parent_level.batch, graph_size[parent_level.batch])

    def forward(self, batch, row_fraction: float = 1.0) -> dict[str, torch.Tensor]:
        """The training loss (:meth:`loss`), so that ``DistributedDataParallel`` can wrap the model."""
        return self.loss(batch, row_fraction)

    # ------------------------------------------------------------------------------ sampling
    @torch.no_grad()
    def sample(
        self,
        num_graphs: int,
        *,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        num_edges: int | None = None,
        num_nodes: int | None = None,
        decoding: str = "sample",
        temperature: float = 1.0,
        size_temperature: float | None = None,
        run_rows: bool = False,
        face_rows: bool = False,
        planar_strips: bool = False,
        progress: Callable[[float, int], None] | None = None,
    ) -> list[Data]:
        """Draw ``num_graphs`` graphs (in one batch up to ``SAMPLE_CHUNK`` graphs, past that in
        consecutive chunks from the same generator; ``last_sample_report`` sums the chunks' counts).

        Args:
            num_edges: force the root budget ``|E|`` (every graph then has exactly this many edges,
                unless a leaf block overflows; see ``last_sample_report``). Alone, the rows are
                conditioned on the ``|V|`` of a training graph of the nearest edge count, scaled; with
                ``num_nodes``, on ``num_nodes`` (which may not hold more than ``num_nodes *
                (num_nodes - 1) / 2`` edges: ``InvalidArgumentError``).
            num_nodes: aim at about this many nodes: the budget (unless ``num_edges`` gives it) is
                the edge count of a random training graph among those of the nearest size, scaled by
                ``num_nodes / n``, and
                (``size_context``) the rows are conditioned on this size. The node count itself
                emerges from the model, so it is approximate: a model whose community sizes and
                count both emerge from its rows reaches about half of a request at 4-8 times its
                largest training graph, with the whole scaled edge budget on those nodes (far denser
                graphs, larger blocks, much more memory); explicit sizes or an explicit count follow
                it (``metrics/results/higen-num-nodes-reach.json``). Either way a graph's budget above
                ``MAX_EDGES_PER_GRAPH`` (2^24 - 1) raises ``InvalidArgumentError`` before any draw.
            decoding: ``"sample"`` (true samples from the model, the default) or ``"mode"`` (the
                reference code's near-greedy decoding; see the module docstring).
            temperature: sampling temperature ``τ > 0`` of every random choice (:class:`Draws`);
                1, the default, samples the model itself. Only with ``decoding="sample"``.
            size_temperature: the temperature of the leaf size head's draws alone (models with
                ``community_size="explicit"``); ``None``, the default: ``temperature``.
            run_rows: draw every leaf row that can be a run of consecutive border nodes of its
                community so far conditioned on being one (:class:`Draws`; a constrained decoding,
                off by default); models with conditional-Bernoulli leaf rows without
                ``row_coordination``.
            face_rows: draw every leaf row as a run along a face of the planar embedding that its
                community's rows have built (:class:`Draws`; a constrained decoding, off by default;
                the same models as ``run_rows``, not together with it; on a ``row_faces`` model:
                ``π = 1``). A ``row_faces`` model keeps the embedding without it and refuses
                ``run_rows``.
            planar_strips: with ``face_rows`` or on a ``row_faces`` model, draw the leaf blocks of a
                strip model as untwisted strips along the kept outer faces that meet earlier strips
                only at an end (:class:`Draws`; a constrained decoding, off by default).
            progress: called as ``progress(done, num_graphs)`` while the graphs are drawn (for a
                progress bar): ``done`` counts the graphs drawn, with a fraction for the chunk in
                progress, which goes through its levels in turn, each by the share of the level's
                edge budget its communities' rows have spent (its cross edges close it); so one
                large graph reports progress too. At the end of each chunk ``done`` is the whole
                number of graphs drawn so far.
        """
        from graphgen.errors import InvalidArgumentError
        from graphgen.models.sample_request import check_device, check_sample_request, real_number

        num_graphs, num_nodes, num_edges = check_sample_request(
            num_graphs, generator, num_nodes=num_nodes, num_edges=num_edges
        )
        device = check_device(device)
        temperature = real_number(temperature, "sampling temperature")
        size_temperature = None if size_temperature is None else real_number(size_temperature, "size temperature")
        if decoding not in DECODINGS:
            raise InvalidArgumentError(f"unknown decoding {decoding!r}; choose one of {', '.join(DECODINGS)}")
        if decoding == "mode" and (temperature != 1.0 or size_temperature is not None):
            raise InvalidArgumentError("a sampling temperature applies to decoding='sample' only")
        if size_temperature is not None and not self.config.explicit_size:
            raise InvalidArgumentError(
                f"a size temperature needs a leaf size head; this model's community sizes are "
                f"{self.config.community_size!r}"
            )
        for name, wanted in (("run rows", run_rows), ("face rows", face_rows)):
            if wanted and not self.config.rows_can_be_runs:
                raise InvalidArgumentError(
                    f"{name} need a model with conditional-Bernoulli leaf rows and no row coordination"
                )
        if run_rows and face_rows:
            raise InvalidArgumentError("choose run rows or face rows, not both")
        if run_rows and self.config.row_faces:
            raise InvalidArgumentError(
                "run rows: this model draws its leaf rows along faces (row_faces); use face rows"
            )
        if planar_strips and not ((face_rows or self.config.row_faces) and self.config.cross_strips):
            raise InvalidArgumentError(
                "planar strips need face rows (or a row_faces model) and a model with strip-shaped cross edges"
            )
        draws = Draws(
            generator,
            greedy=decoding == "mode",
            temperature=float(temperature),
            size_temperature=None if size_temperature is None else float(size_temperature),
            run_rows=bool(run_rows),
            face_rows=bool(face_rows),
            planar_strips=bool(planar_strips),
        )  # checks both temperatures
        if num_graphs == 0:
            return []
        self._check_budget(num_nodes, num_edges)
        previous_threads = torch.get_num_threads()
        torch.set_num_threads(1)  # deterministic, and faster for these small graphs (see train.py)
        try:
            graphs, reports = [], []
            for start in range(0, num_graphs, SAMPLE_CHUNK):  # one chunk up to SAMPLE_CHUNK graphs
                size = min(SAMPLE_CHUNK, num_graphs - start)
                within = None
                if progress is not None:

                    def within(fraction: float, start: int = start, size: int = size) -> None:
                        progress(start + size * fraction, num_graphs)

                graphs += self._sample(size, draws, device, num_edges, num_nodes, within)
                reports.append(self.last_sample_report)
                if progress is not None:
                    progress(len(graphs), num_graphs)
            keys = dict.fromkeys(key for report in reports for key in report)  # every chunk's counts, summed
            self.last_sample_report = {key: sum(report.get(key, 0) for report in reports) for key in keys}
            return graphs
        finally:
            torch.set_num_threads(previous_threads)

    def _check_budget(self, num_nodes: int | None, num_edges: int | None) -> None:
        """Refuse, before any draw, a request whose largest possible graph budget is above
        ``MAX_EDGES_PER_GRAPH``: ``num_edges`` itself, or for ``num_nodes`` the edge count of every
        training graph of the nearest size scaled as :meth:`_sample` scales it."""
        if num_edges is not None:
            largest = num_edges
        elif num_nodes is not None and self.node_counts.numel() == self.edge_counts.numel() > 0:
            nearest = _nearest_graphs(self.node_counts, num_nodes)
            scale = _scale_to(num_nodes, self.node_counts[nearest])
            largest = int((self.edge_counts[nearest].double() * scale).round().max())
        else:
            return  # the training graphs' own budgets
        if largest > MAX_EDGES_PER_GRAPH:
            from graphgen.errors import InvalidArgumentError

            asked = (
                f"a graph of {num_edges:,} edges is"
                if num_edges is not None
                else f"{num_nodes:,} nodes ask this model for graphs of up to {largest:,} edges,"
            )
            raise InvalidArgumentError(
                f"{asked} more than HiGen samples (at most {MAX_EDGES_PER_GRAPH:,} edges per graph)"
            )

    def _sample(self, num_graphs, draws: Draws, device, num_edges, num_nodes, progress=None) -> list[Data]:
        """One chunk of :meth:`sample`; ``progress(fraction)`` as the levels go (see ``sample``)."""
        if num_edges is None and self.edge_counts.numel() == 0:
            raise RuntimeError("HiGen has no size model: call fit_size_model(train_graphs) first")
        known = self.isolated_counts.numel() == self.edge_counts.numel()  # older checkpoints lack them
        isolated_counts = self.isolated_counts if known else torch.zeros_like(self.edge_counts)
        isolated = torch.zeros(num_graphs, dtype=torch.long)
        connected = self.node_counts - isolated_counts  # |V| the hierarchy of each training graph saw
        explicit_count = self.config.explicit_count
        if explicit_count and self.community_counts.numel() != self.edge_counts.numel():
            raise RuntimeError("HiGen has no community counts: call fit_size_model(train_graphs) first")
        pick, scale, sizes = None, None, None
        if num_nodes is not None:  # |V| given: a training graph of the nearest size, scaled to it
            pick, scale = _nearest(self.node_counts, num_nodes, draws, num_graphs)
            if num_edges is None:
                budgets = (self.edge_counts[pick].double() * scale).round().long().clamp(min=0)
            else:  # both given: |E| exact, the rows (and community count) conditioned on |V|
                budgets = torch.full((num_graphs,), int(num_edges), dtype=torch.long)
            isolated = (isolated_counts[pick].double() * scale).round().long()
            sizes = (num_nodes - isolated).clamp(min=1)
        elif num_edges is not None:
            budgets = torch.full((num_graphs,), int(num_edges), dtype=torch.long)
            if self.config.size_context or explicit_count:  # |V| (and N) of a graph of the nearest edge count
                if self.edge_counts.numel() == 0:
                    raise RuntimeError("HiGen has no size model: call fit_size_model(train_graphs) first")
                pick, scale = _nearest(self.edge_counts, int(num_edges), draws, num_graphs)
                sizes = (connected[pick].double() * scale).round().long().clamp(min=1)
        else:
            pick = draws.index(self.edge_counts.numel(), num_graphs)
            budgets, isolated, sizes = self.edge_counts[pick], isolated_counts[pick], connected[pick]
        sizes = sizes if self.config.size_context else None
        counts = None  # explicit count: the level-1 node count of each graph, drawn with its |E| and |V|
        if explicit_count:
            counts = self.community_counts[pick].double() * (1.0 if scale is None else scale)
            counts = torch.minimum(counts.round().long().clamp(min=1), budgets + 1)
        self.last_sample_report = {"blocks_overfull": 0}
        if draws.planar_strips:
            self.last_sample_report["planar_strips_exhausted"] = 0
        # the root level: one node per graph with self-loop |E|
        parent_ei = torch.stack([torch.arange(num_graphs), torch.arange(num_graphs)])
        parent_w = budgets.clone()
        keep = parent_w > 0
        parent = (num_graphs, parent_ei[:, keep], parent_w[keep], torch.arange(num_graphs))
        levels = self.config.num_levels
        for lv in range(1, levels + 1):
            level_progress = None
            if progress is not None:

                def level_progress(share: float, done_levels: int = lv - 1) -> None:
                    progress((done_levels + share) / levels)

            parent = self._sample_level(lv, parent, draws, sizes, counts if lv == 1 else None, level_progress)
        n, ei, w, graph_of_node = parent
        communities = self._last_parent
        # each graph's nodes (ascending) and upper edges (in level order), split once: stable sorts by graph
        node_counts = torch.bincount(graph_of_node, minlength=num_graphs).tolist()
        nodes_of = torch.split(torch.argsort(graph_of_node, stable=True), node_counts)
        upper = ei[:, ei[0] < ei[1]]
        edge_graph = graph_of_node[upper[0]]
        edge_counts = torch.bincount(edge_graph, minlength=num_graphs).tolist()
        edges_of = torch.split(upper[:, torch.argsort(edge_graph, stable=True)], edge_counts, dim=1)
        out = []
        for g in range(num_graphs):
            nodes = nodes_of[g]
            first = int(nodes[0]) if nodes.numel() else 0
            k = int(isolated[g])  # isolated nodes come last, each a community of its own
            data = from_edge_array(int(nodes.numel()) + k, (edges_of[g] - first).t())
            comm = communities[nodes]
            comm = comm - comm.min() if comm.numel() else comm  # the generated leaf communities
            data.community = torch.cat([comm, torch.arange(k) + (int(comm.max()) + 1 if comm.numel() else 0)])
            out.append(data.to(device or "cpu"))
        return out

    def _sample_level(
        self,
        lv: int,
        parent,
        draws: Draws,
        graph_size: torch.Tensor | None,
        counts: torch.Tensor | None = None,
        progress=None,
    ):
        """Generate level ``lv`` from its parent ``(n, edge_index, edge_weight, graph_of_node)``;
        ``graph_size`` is the conditioning ``|V|`` of each graph (``size_context``), else ``None``;
        ``counts`` the given node count of each parent's community (explicit count, level 1);
        ``progress(share)`` after each row step with the share of the level's edges placed (the
        communities' budgets spent, over those budgets and the cross edges' weight), and
        ``progress(1.0)`` once the cross edges are placed."""
        n_parent, p_ei, p_w, p_graph = parent
        leaf = lv == self.config.num_levels
        simple = leaf and self.config.leaf_rows == "conditional_bernoulli"
        net = self.community_nets[lv - 1]
        budget = self_loop_weights(p_ei, p_w, n_parent)
        parent_degree = _cross_degree(p_ei, p_w, n_parent)
        state = _LevelState(budget, parent_degree, None if graph_size is None else graph_size[p_graph])
        explicit = leaf and self.config.explicit_size
        if explicit:
            share = community_node_share(budget, p_graph, state.graph_size) if self.config.size_share else None
            state.size = self._community_sizes(net, state, draws, share)
        elif counts is not None:
            state.size = counts
        count = torch.zeros(n_parent, dtype=torch.long)
        spent = torch.zeros(n_parent, dtype=torch.long)
        active = torch.ones(n_parent, dtype=torch.bool)
        if leaf and (draws.face_rows or net.row_faces is not None):
            state.faces = {}
        # the level's edges: its communities' budgets (rows), then the cross edges (one per parent edge weight unit)
        total_budget = int(budget.sum()) + int(p_w[p_ei[0] < p_ei[1]].sum())
        while bool(active.any()):
            comms = active.nonzero().flatten()
            t = count[comms]
            reserved = (t > 0).long()
            remaining = budget[comms] - spent[comms] - reserved
            # leaf communities start with a node that has nothing to choose
            if leaf:
                starters = t == 0
                first = comms[starters]
                state.add_nodes(first, torch.zeros_like(first), torch.zeros_like(first))
                if state.faces is not None:
                    state.faces.update((c, [[0]]) for c in first.tolist())
                count[first] = 1
                active[first[budget[first] == 0]] = False
                comms, t, reserved, remaining = (
                    comms[~starters],
                    t[~starters],
                    reserved[~starters],
                    remaining[~starters],
                )
                if comms.numel() == 0:
                    continue
            mass, self_loop, edge_counts, entry_row, entry_node = self._sample_rows(
                net, state, comms, t, reserved, remaining, leaf, simple, draws
            )
            state.add_nodes(comms, t, self_loop)
            hit = edge_counts > 0
            state.add_edges(comms[entry_row[hit]], t[entry_row[hit]], entry_node[hit], edge_counts[hit])
            count[comms] += 1
            spent[comms] += mass + reserved
            active[comms] = spent[comms] < budget[comms]
            if progress is not None and total_budget > 0:
                progress(int(spent.sum()) / total_budget)
        if state.size is not None and not torch.equal(count, state.size):
            raise RuntimeError("given community sizes: a community ended off its size")  # cannot happen
        if state.faces is not None:  # the leaf level kept faces: how many communities lost theirs
            self.last_sample_report["face_rows_lost"] = sum(f is None for f in state.faces.values())
        level = self._assemble_level(lv, n_parent, p_ei, p_w, p_graph, state, draws)
        if progress is not None:
            progress(1.0)
        return level

    def _community_sizes(self, net, state: _LevelState, draws: Draws, node_share=None) -> torch.Tensor:
        """Each leaf community's node count ``N ~ p(N | W)`` from the size head (explicit sizes);
        ``node_share``: each community's ``σ_c`` (``size_share``)."""
        budget = state.budget
        context = size_head_context(budget, state.parent_degree, state.graph_size)
        log_beta, s, nu = net.size_distribution(context, node_share)
        draws = draws.sizes()
        k = draws.categorical(log_beta.exp())
        n_lo, n_hi = community_size_support(budget)
        rows = torch.arange(budget.numel())
        return draws.interval_binomial(n_lo, n_hi, s[rows, k], None if nu is None else nu[rows, k])

    def _sample_rows(self, net, state: _LevelState, comms, t, reserved, remaining, leaf, simple, draws: Draws):
        """One row for each community in ``comms``: network call, then the draws."""
        r = comms.numel()
        # a contiguous virtual layout of the generated nodes: community by community, in local order
        budget, parent_degree = state.budget, state.parent_degree
        nodes, edges = state.nodes(), state.edges()
        node_comm, node_local = nodes[:, 0], nodes[:, 1]
        sizes = torch.bincount(node_comm, minlength=budget.numel())
        starts = torch.cumsum(sizes, 0) - sizes
        self_loops = torch.zeros(node_comm.numel(), dtype=torch.float64)
        self_loops[starts[node_comm] + node_local] = nodes[:, 2].to(torch.float64)
        community_first = starts[comms]
        slot = torch.full((budget.numel(),), -1, dtype=torch.long)
        slot[comms] = torch.arange(r)
        mine = edges[slot[edges[:, 0]] >= 0]  # edges of the communities that get a row now
        row_of = slot[mine[:, 0]]
        erows = torch.cat([row_of, row_of])
        esrc = torch.cat([mine[:, 1], mine[:, 2]])
        edst = torch.cat([mine[:, 2], mine[:, 1]])
        ew = torch.cat([mine[:, 3], mine[:, 3]]).to(torch.float64)
        entry_row = torch.repeat_interleave(torch.arange(r), t)
        entry_node = segment_arange(t)
        pb = assemble_prefix_batch(
            t,
            community_first,
            erows,
            esrc,
            edst,
            ew,
            entry_row,
            entry_node,
            self_loops,
            budget[comms],
            remaining,
            parent_degree[comms],
            None if state.graph_size is None else state.graph_size[comms],
            None if state.size is None else state.size[comms] - 1 - t,
            net.config.triangle_features,
            net.config.adjacency_rows,
        )
        adjacency = None
        if net.row_coordination is not None:  # coordinated leaf rows: each row's prefix graph so far
            width = int(t.max())
            adjacency = torch.zeros((r, width, width), dtype=torch.float64)
            adjacency[erows, esrc, edst] = 1.0
        faces = None if state.faces is None else [state.faces[c] for c in comms.tolist()]
        border = None  # run-shaped rows: each prefix's border cycle (face rows draw from their faces instead)
        if faces is None and (net.row_runs is not None or (draws.run_rows and leaf)):
            border = prefix_border_places(t, erows, esrc, edst)
        size = None if state.size is None else state.size[comms]
        mass, self_loop, edge_counts = self._draw_rows(
            net(pb),
            t,
            reserved,
            remaining,
            leaf,
            simple,
            draws,
            size,
            net.row_coordination,
            adjacency,
            net.row_runs,
            border,
            faces,
            None if draws.face_rows else net.row_faces,
        )
        if faces is not None:  # replaced row by row by the face-run draws
            state.faces.update(zip(comms.tolist(), faces))
        return mass, self_loop, edge_counts, entry_row, entry_node

    def _draw_rows(
        self,
        outputs: RowOutputs,
        t,
        reserved,
        remaining,
        leaf: bool,
        simple: bool,
        draws: Draws,
        size=None,
        coordination=None,
        adjacency=None,
        runs=None,
        border=None,
        faces=None,
        face_share=None,
    ):
        """The draws of one row per prefix graph from the network's ``outputs`` (a
        :class:`~graphgen.models.higen.community_net.RowOutputs` over rows at positions ``t`` with
        their reservations and remaining budgets; ``size``: the given community sizes, or ``None``;
        ``coordination``/``adjacency``: coordinated leaf rows and their prefix graphs; ``runs``/``border``:
        run-shaped leaf rows' MLP of ``π`` and :func:`~graphgen.models.higen.row_runs.prefix_border_places`
        of their prefixes; ``faces``: each row's community faces (face-run decoding or ``row_faces``),
        replaced in place; ``face_share``: a ``row_faces`` model's MLP of ``π``, ``None`` under the
        face-run decoding): ``(mass,
        self_loop, edge_counts)``, ``edge_counts`` over each row's ``t`` earlier nodes in a row."""
        log_alpha, p_mass, q_self, logits, p_stop, concentration, self_concentration = outputs
        r = t.numel()
        k = draws.categorical(log_alpha.exp())
        rows = torch.arange(r)
        cap = (t - reserved).clamp(min=0) if simple else None  # simple rows: at most one edge per earlier node
        stop = None if p_stop is None else p_stop[rows, k]
        nu = None if concentration is None else concentration[rows, k]
        if size is not None:  # given sizes: the mass range that keeps the community's size feasible
            lo, hi = row_mass_interval(remaining, t, size, simple=leaf)
            mass = draws.interval_binomial(lo, hi, p_mass[rows, k], nu)
        else:
            mass = draws.row_mass(remaining, p_mass[rows, k], cap, stop, self.config.row_mass, nu)
        if leaf:
            self_loop = torch.zeros(r, dtype=torch.long)
        else:
            trials = self_loop_trials(mass, reserved, self.config.allow_disconnected)
            if self_concentration is None:
                drawn = draws.binomial(trials, q_self[rows, k])
            else:  # PowBin(trials, q, ξ) over 0..trials; first rows (all self-loop) draw over 0..0
                hi = torch.where(t == 0, 0, trials)
                drawn = draws.interval_binomial(torch.zeros_like(hi), hi, q_self[rows, k], self_concentration[rows, k])
            self_loop = torch.where(t == 0, mass, drawn)
        take = mass + reserved - self_loop
        # row i's t_i entries are a contiguous run, scored by its component k_i
        entry_row = torch.repeat_interleave(rows, t)
        chosen = logits[torch.arange(entry_row.numel()), k[entry_row]]
        if faces is not None:
            share = None if face_share is None else functools.partial(run_share_logits, face_share)
            edge_counts = sample_face_rows(chosen, t, take, faces, draws, share)
        elif border is not None:
            place, length = border
            if draws.run_rows:  # conditioned on a run wherever one fits: π = 1
                share = torch.full((r,), math.inf, dtype=torch.float64)
            else:
                share = run_share_logits(runs, take, length, t)
            edge_counts = sample_runs(chosen, t, take, place, length, share, draws)
        elif coordination is None:
            edge_counts = draws.allocations(chosen, t, take, simple)
        else:
            edge_counts = sample_row_sequences(chosen, t, take, adjacency, coordination, draws)
        return mass, self_loop, edge_counts

    def _assemble_level(self, lv, n_parent, p_ei, p_w, p_graph, state: _LevelState, draws: Draws):
        """Number the new level's nodes community by community, add self-loops and cross blocks."""
        nodes, edges = state.nodes(), state.edges()
        comm_of = nodes[:, 0]
        sizes = torch.bincount(comm_of, minlength=n_parent)
        starts = torch.cumsum(sizes, 0) - sizes
        n = int(sizes.sum())
        loops = nodes[nodes[:, 2] > 0]
        loop_id = starts[loops[:, 0]] + loops[:, 1]
        rows = torch.cat([loop_id, starts[edges[:, 0]] + edges[:, 1]])
        cols = torch.cat([loop_id, starts[edges[:, 0]] + edges[:, 2]])
        wts = torch.cat([loops[:, 2], edges[:, 3]])
        parent = torch.repeat_interleave(torch.arange(n_parent), sizes)
        intra = from_edge_array(
            n,
            torch.stack([rows, cols], 1),
            wts,
            allow_self_loops=True,
            allow_duplicates=True,
        )
        if intra.edge_weight is None:
            intra.edge_weight = torch.ones(intra.edge_index.shape[1], dtype=torch.long)
        cross_rows, cross_cols, cross_w = self._sample_cross_edges(
            lv,
            Data(edge_index=intra.edge_index, edge_weight=intra.edge_weight, num_nodes=n),
            parent,
            p_ei,
            p_w,
            draws,
            state.faces,
        )
        all_rows = torch.cat([intra.edge_index[0], cross_rows, cross_cols])
        all_cols = torch.cat([intra.edge_index[1], cross_cols, cross_rows])
        all_w = torch.cat([intra.edge_weight, cross_w, cross_w])
        order = torch.argsort(all_rows * max(n, 1) + all_cols)
        ei = torch.stack([all_rows, all_cols])[:, order]
        graph_of_node = p_graph[parent]
        self._last_parent = parent  # the community (parent node) of each node of this level
        return n, ei, all_w[order], graph_of_node

    def _sample_cross_edges(
        self, lv: int, level_graph: Data, parent: torch.Tensor, p_ei, p_w, draws: Draws, faces=None
    ):
        """The cross-community edges of level ``lv`` given its communities: ``level_graph`` holds the
        level's intra-community edges (nodes numbered community by community in generation order),
        ``parent`` each node's community and ``(p_ei, p_w)`` the parent level's edges; ``faces``: the
        leaf communities' faces under the face-run decoding (strips then run along their outer
        faces, :func:`~graphgen.models.higen.face_runs.outer_border`). Every parent
        edge ``i < j`` of weight ``w_ij`` becomes one bipartite block. Returns ``(rows, cols, weights)``
        of the edges with ``rows`` in the lower-numbered community, once per edge."""
        leaf = lv == self.config.num_levels
        sizes = torch.bincount(parent, minlength=int(p_ei.max()) + 1 if p_ei.numel() else 0)
        starts = torch.cumsum(sizes, 0) - sizes
        upper = p_ei[0] < p_ei[1]
        bi, bj, bw = p_ei[0, upper], p_ei[1, upper], p_w[upper]
        empty = torch.zeros(0, dtype=torch.long)
        if not bi.numel():
            return empty, empty, empty
        m = sizes[bi] * sizes[bj]
        pair_block = torch.repeat_interleave(torch.arange(bi.numel()), m)
        within = segment_arange(m)
        right = sizes[bj][pair_block]
        left_node = starts[bi][pair_block] + within // right
        right_node = starts[bj][pair_block] + within % right
        capped = torch.minimum(bw, m) if leaf else bw
        self.last_sample_report["blocks_overfull"] += int((capped < bw).sum())
        pairs = BlockPairs(pair_block, left_node, right_node, torch.zeros_like(pair_block), capped, m, leaf)
        net = self.bipartite_nets[lv - 2]
        h = net.node_embeddings(level_graph, parent)
        border = None
        if faces is not None and leaf and net.strips is not None:
            border = outer_border(faces, starts, *border_cycles(level_graph.edge_index, parent))

        def place(blocks: BlockPairs) -> torch.Tensor:
            logits = net.scores(h, blocks)
            if leaf and net.coordination is not None:
                return sample_coordinated_blocks(
                    net, logits, blocks, level_graph.edge_index, parent, draws, border, self.last_sample_report
                )
            return draws.allocations(logits, blocks.block_size, blocks.block_weight, leaf)  # a block: a contiguous run

        if not net.config.rounds:
            draw = place(pairs)
        else:  # round by round, each seeing the cross edges of the rounds before (bipartite_net docstring)
            rounds = block_rounds(bi, bj)
            draw = torch.zeros_like(pair_block)
            earlier = torch.zeros(int(level_graph.num_nodes), dtype=torch.float64)
            for r in range(int(rounds.max()) + 1):
                keep, blocks = pairs.select_blocks(rounds == r)
                blocks.pair_earlier = torch.stack([earlier[blocks.pair_left], earlier[blocks.pair_right]], 1)
                placed = place(blocks)
                draw[keep] = placed
                earlier.index_add_(0, blocks.pair_left, placed.double()).index_add_(
                    0, blocks.pair_right, placed.double()
                )
        hit = draw > 0
        return left_node[hit], right_node[hit], draw[hit]

    # ------------------------------------------------------------------------------ checkpoints
    def to_checkpoint(self, metadata: dict | None = None, data_fingerprint: str | None = None):
        from graphgen.io.checkpoint import Checkpoint

        return Checkpoint(
            model=self.model_name,
            config=asdict(self.config),
            state_dict=self.state_dict(),
            data_fingerprint=data_fingerprint,
            metadata=dict(metadata or {}),
        )

    @classmethod
    def from_pretrained(cls, name_or_path: str = "higen-community-small") -> HiGen:
        """A shipped HiGen model by name (see ``graphgen.models.PRETRAINED``) or a checkpoint file.

        Example:
            >>> import torch
            >>> model = HiGen.from_pretrained("higen-community-small")
            >>> graphs = model.sample(2, generator=torch.Generator().manual_seed(0))
            >>> len(graphs)
            2
        """
        from graphgen.errors import CheckpointError
        from graphgen.models.pretrained import load_model

        model, ckpt = load_model(name_or_path)
        if not isinstance(model, cls):
            raise CheckpointError(f"{name_or_path} holds a model of kind {ckpt.model!r}, not HiGen")
        return model

    @classmethod
    def from_checkpoint(cls, ckpt) -> HiGen:
        from graphgen.errors import CheckpointError

        if ckpt.model != cls.model_name:
            raise CheckpointError(f"checkpoint holds model {ckpt.model!r}, not {cls.model_name!r}")
        try:
            # checkpoints written before `allow_disconnected` existed hold the stricter row model
            # before `size_context` the rows had no size input, before `row_stop` no stop decision, and
            # before `cross_edges` the leaf blocks were independent, before `row_mass` rows drew from the budget
            defaults = {  # (`community_size` came later still; its default, emergent, is the old model)
                "allow_disconnected": False,
                "size_context": False,
                "row_stop": False,
                "cross_edges": "independent",
                "row_mass": "budget",
            }
            model = cls(HiGenConfig(**{**defaults, **ckpt.config}))
            model.edge_counts = ckpt.state_dict["edge_counts"].clone()
            model.node_counts = ckpt.state_dict["node_counts"].clone()
            state = dict(ckpt.state_dict)
            state.setdefault("isolated_counts", torch.zeros_like(model.node_counts))  # older checkpoints
            model.isolated_counts = state["isolated_counts"].clone()
            state.setdefault("community_counts", torch.zeros(0, dtype=torch.long))  # before community_count
            model.community_counts = state["community_counts"].clone()
            model.load_state_dict(state)
        except (KeyError, TypeError, RuntimeError, ValueError) as exc:
            raise CheckpointError(f"malformed higen checkpoint: {str(exc).splitlines()[0]}") from None
        model.eval()
        return model
