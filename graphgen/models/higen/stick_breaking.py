"""Exact distributions of HiGen's community model: a multinomial over a community's integer edge
weights, factorised row by row into binomials ("stick-breaking").

**The identity** (Karami, ICLR 2024, Sec. 3.2). Let ``Â`` be the lower-triangular integer weight
matrix of a community (diagonal = self-loops on coarse levels) with total ``W``, drawn as
``Â ~ Mult(W, π)`` over the cells. Write ``v_t = Σ_{τ ≤ t} Â_tτ`` for the mass of row ``t`` and
``ρ_t = Σ_τ π_tτ``. Then

    p(Â) = Π_t Bin(v_t | W - Σ_{τ<t} v_τ, η_t) · Mult(Â_t· | v_t, π_t· / ρ_t),
    η_t  = ρ_t / (1 - Σ_{τ<t} ρ_τ),

so a row can be generated from the budget left by earlier rows alone -- which is what lets
HiGen generate all communities of a level in parallel, row by row. :func:`stick_breaking_log_prob`
computes the right-hand side; the tests check it against ``Mult(W, π)`` by enumeration.

**HiGen's row model** (the reference code's parametrisation, see ``specs/higen.md`` §1.4). Row
``t`` of a community with budget ``W``:

* reservation ``c_t = 1[t > 1]``: every new node joins at least one earlier node;
* remaining budget ``r_t = W - Σ_{τ<t} v_τ - c_t``; modelled mass ``u_t = v_t - c_t``;
* ``u_t ~ Bin(r_t, p_t)``; on coarse levels the self-loop ``s_t ~ Bin(u_t + c_t, q_t)`` (``s_t = 0``
  on the leaf level); the first row has no earlier node, so all of its mass is its self-loop (and
  on the leaf level it has no mass at all: nothing is drawn for it);
* the edges to earlier nodes ``Â_t,<t ~ Mult(u_t + c_t - s_t, π_t)``.

**Our choice: the reserved unit of a coarse row may become its self-loop** (``allow_disconnected``,
the default). A coarse node then need not join an earlier node of its community: the first node of
each further connected component of a disconnected graph (21 of enzymes' 470 training graphs,
1 of SBM's 128) has exactly such a row, which the stricter model -- ``s_t ~ Bin(u_t, q_t)``, the
reserved unit always on an edge, ``allow_disconnected=False`` -- gives probability 0 (training
NaN). Leaf rows are unchanged (no self-loops). Checkpoints written before this option hold the
stricter model and load with it.

The community ends after the row that spends the budget (``W - Σ_{τ≤t} v_τ = 0``), so its size is
emergent. Each factor is a proper distribution and every row after the first spends at least one
unit, so the probabilities of all complete communities sum to 1 (tested by enumeration). A
``K``-component mixture weights whole rows: ``p(row) = Σ_k α_k p_k(row)``, combined with
``logsumexp`` (GRAN's PR #11 fixed a bug exactly there).

**An explicit stop decision** (``row_stop``, our option, the default for new models). In the
paper's rows a community's last row is simply the one whose binomial happens to take all that is
left, ``u_t = r_t``. One binomial must then cover both the last rows (``p_t -> 1``) and the others,
and its upper tail leaves remainders of 1-2 units that become a last node of degree 1-2 (measured:
37 % of sampled community_small communities end so, none of the data's; see
``metrics/results/higen-last-rows-community-small.json``). With ``row_stop`` each row first
decides whether it is the last, with probability ``λ_t``:

    p(u_t) = λ_t · 1[u_t = r_t] + (1 - λ_t) · Bin(u_t | r_t - 1, p_t),

so a row that goes on leaves at least one unit (which the next row's reservation takes). The stop
can only be chosen when the row can hold the whole remainder (``1 <= r_t``, and ``r_t <= t - c_t``
for conditional-Bernoulli leaf rows, whose go-on part is truncated there as below); ``r_t = 0``
forces ``u_t = 0`` (the row is the last with probability 1). Each factor is still a proper
distribution and every row after the first spends at least one unit, so the enumeration argument
above holds unchanged (tested).

**Leaf rows without multi-edges** (``leaf_rows="conditional_bernoulli"``, our option). The paper's
multinomial can put two units on one leaf pair (the reference collapses them afterwards, so the
parent budget is not honoured). Instead the row's modelled mass is a binomial truncated to what
the row can hold, ``u_t ~ Bin(r_t, p_t | u_t <= t - 1 - c_t + 1)`` (at most one edge to each of the
``t - 1`` earlier nodes; 1-based ``t``), and the edges ``y_t ∈ {0, 1}^{t-1}`` with ``Σ y_t = u_t + c_t``
follow the conditional Bernoulli of :mod:`graphgen.models.higen.bipartite`. The leaf community
is then a simple graph and spends its budget exactly. ``"multinomial"`` keeps the paper's rows.

**Row masses over the row's capacity** (``mass_trials="capacity"``, our option; conditional-Bernoulli
leaf rows only, elsewhere a row has no capacity and nothing changes). The paper draws a row's mass
from the community's whole remaining budget, ``Bin(r_t, p_t)``, whose variance is about its mean
when ``r_t`` is large: a leaf row of an Erdős–Rényi-like community, ``Bin(t - 1, p)``, has
variance ``mean · (1 - p)``, and the SBM samples of the budget model have row masses 1.4-1.5x too
dispersed (``metrics/results/higen-structure-sbm*.json``). With ``capacity`` the go-on binomial has
``n_t = min(cap_t, r_t)`` trials (``min(cap_t, r_t - 1)`` with a stop decision), ``cap_t`` the number
of earlier nodes the row can still join, so ``p_t = p`` gives an Erdős–Rényi row exactly. The
factors stay proper distributions and every row after the first still spends its reserved unit,
so the enumeration argument holds unchanged (tested).

**Explicit community sizes** (``community_size="explicit"``, our option; conditional-Bernoulli leaf
rows, which then have no stop decision; coarse rows keep theirs if the model has one). In the paper
a community's node count emerges: it ends after the row that happens to spend the budget. Generated
communities then miss the data's sizes (SBM: 25 ± 12 nodes against 30 ± 7,
``metrics/results/higen-structure-sbm-v3.json``), and a graph generated for ``|V|`` nodes gets far
fewer, denser ones (``metrics/results/bench_higen.json``). With explicit sizes a leaf community of
budget ``W`` first draws its node count ``N`` from a ``K``-mixture of binomials over the sizes the
rows can realise,

    N - N_lo ~ Σ_k β_k Bin(N_hi - N_lo, s_k),   N_lo = min{n : n(n-1)/2 >= W},   N_hi = W + 1

(every row after the first joins at least one earlier node, so ``N - 1 <= W <= N(N-1)/2``; with
``size_concentration`` each component is a power binomial ``PowBin(N_hi - N_lo, s_k, ν_k)``, see
the row concentration below: the binomial's spread, ``(N_hi - N_lo) s (1 - s)``, grows with ``W``
while the data's node counts given ``W`` are narrower -- on enzymes the size head's predictive
standard deviation is 1.1 nodes where the true counts sit at z-scores of std 0.6-0.75), and
then its ``N - 1`` rows spread ``W`` exactly: with ``R_t = W - Σ_{τ<t} v_τ`` left before row ``t``
(0-based, ``1 <= t <= N - 1``) and ``C_t = Σ_{τ=t+1}^{N-1} τ`` the most the later rows can hold, the
row's mass ``v_t = u_t + 1`` must leave each later row at least one unit and no more than it holds:

    v_t ∈ [max(1, R_t - C_t), min(t, R_t - (N - 1 - t))],   u_t - (lo_t - 1) ~ Bin(hi_t - lo_t, p_t).

The interval is never empty when ``N`` is in its support (by induction: ``N - t <= R_t <= C_t + t``),
and the last row's interval is the single point ``R_t``. Each factor is a proper distribution, so
the probabilities of all ``(N, Â)`` of a budget sum to 1 (tested by enumeration); the community
stops after row ``N - 1`` by construction. :func:`community_size_support`,
:func:`community_size_log_prob` and :func:`row_mass_interval` hold the formulas for both the
likelihood and the sampler.

**An explicit community count** (``community_count="explicit"``, our option; the coarse graph of the
root, level 1, of models with two or more levels). The paper's root draws ``|E|`` and lets the
number of communities emerge from the coarse rows, which then have to guess from the remaining
budget alone how many communities are still to come; SBM's sampled graphs get 1-6 communities with
per-community budgets 145 ± 106 edges where the data have 2-5 and 136 ± 57
(``metrics/results/higen-coarse-split-sbm.json``). With an explicit count the root draws the number
``N`` of level-1 nodes together with ``|E|`` (and ``|V|``) from the same training graph, the model
conditions on it (``p(G^1 | |E|, |V|, N)``; each row also sees ``N - 1 - t``, the nodes still to
come), and the coarse rows spread ``W = |E|`` over exactly ``N`` nodes: with ``R_t`` left before
row ``t`` (0-based, ``0 <= t <= N - 1``) and ``c_t = 1[t > 0]`` the reservation, the row mass
``v_t = u_t + c_t`` must leave every later row its reserved unit, and the last row takes the rest:

    v_t ∈ [c_t, R_t - (N - 1 - t)] for t < N - 1,   v_{N-1} = R_{N-1},
    u_t - (lo_t - c_t) ~ Bin(hi_t - lo_t, p_t)   (PowBin with a concentration).

Coarse rows hold any number of units (multi-edges and self-loops), so there is no upper capacity;
the interval is never empty when ``1 <= N <= W + 1`` (``R_t >= N - 1 - t + c_t`` by induction),
the community has no stop decision (it ends after row ``N - 1``), and the probabilities of all
weight matrices of a given ``(W, N)`` sum to 1 (tested by enumeration). :func:`row_mass_interval`
with ``simple=False`` holds the formula.

**The fair-share prior** (``fair_share``, our option for an explicit count or explicit sizes: rows
of communities whose node count ``N`` is given). Given the count, the fair share of row ``t`` is
``R_t / (N - t)``: the budget left spread evenly over this node and the ``N - 1 - t`` to come (on
the leaf level of explicit sizes, rows ``1 <= t <= N - 1``, ``c_t = 1``, the same count of rows
left). With the prior the network's mass logit is an offset from it,

    p_t = σ(z_t + logit p⁰_t),   p⁰_t = clip((R_t / (N - t) - c_t - lo_t) / (hi_t - lo_t), 0.001, 0.999),

with ``[lo_t, hi_t]`` the interval of the level above in units of ``u_t`` (for coarse rows ``lo_t = 0``
before the last row; leaf rows' interval also respects each row's capacity, and the clip keeps
``p⁰_t`` inside it where the fair share is not), so ``z_t = 0`` centres the row on its fair share.
It changes only ``p_t``, so every probability above still sums to 1. Why: without it the SBM coarse
net learned shares of 0.39-0.44 at row 0 whatever the count (the data's share is 0.58 with 2
communities and 0.26 with 5), so the last rows absorbed the error; on the real coarse graphs of
training graphs the same model's leaf level alone reaches degree MMD 0.0018 against 0.012 for its
full samples (``leaf_level_on_real_coarse_graphs`` in
``metrics/results/higen-coarse-split-sbm-community-count.json``). With the prior, SBM's degree MMD
falls to 0.0023-0.0031 over three trained models (``metrics/results/higen-sbm`` and
``higen-sbm-fair-share-*``). On enzymes' leaf rows (explicit sizes, row concentration) it moved degree
MMD only from 0.0247 to 0.0228 (10 sampling seeds, ``metrics/results/higen-enzymes-explicit-sizes-*``):
there the sizes drawn for the budgets, not the rows, were off. :func:`fair_share_logit` holds the formula.

**Row masses with a concentration** (``row_concentration``, our option, any level). A binomial's
spread is tied to its mean: ``Bin(n, p)`` has variance ``n p (1 - p)``, and a mixture of binomials
is at least as spread as its least spread component. The data's rows are often *less* spread than
that -- community_small's leaf row masses have a z-score std of 0.53 against an Erdős–Rényi row of
the same density, SBM's 0.86 (``metrics/results/higen-structure-*.json``) -- which no binomial row
can reproduce, and its extra spread decides when emergent communities end and how unevenly they
spread their edges. With a concentration ``ν_t > 0`` per component every binomial of a row's mass
(the go-on part, truncated or not, and the interval binomial of explicit sizes) becomes

    PowBin(u | n, p, ν) = Bin(u | n, p)^ν / Σ_{j=0}^{k_max} Bin(j | n, p)^ν,

a Conway–Maxwell-type binomial: ``ν = 1`` is the binomial (the paper's rows exactly), ``ν > 1``
concentrates it around the same mode (variance about ``n p (1 - p) / ν`` for large ``n``), ``ν < 1``
spreads it. It is a proper distribution over the same support, so every enumeration argument above
holds unchanged (tested); its normaliser costs one term per support point (``k_max + 1``: at most
the row's position on simple leaf rows, the remaining budget on coarse rows).
:func:`power_binomial_log_prob` holds the formula.

**Coarse self-loops with a concentration** (``self_loop_concentration``, our option, coarse levels).
The split of a coarse row's mass between its self-loop (the community's own edges) and its edges
to earlier communities is the paper's ``s_t ~ Bin(u_t + c_t, q_t)``, and it has the same limit:
enzymes' coarse self-loops are less spread than any binomial mixture the network fits (teacher
forced on training graphs, the true ``s_t``'s z-score std under the model's mixture is 0.80, i.e.
its predictions are 1.25x too wide), so sampled coarse graphs give their communities too uneven a
number of cross edges. With a concentration ``ξ_t > 0`` per component,

    s_t ~ PowBin(u_t + c_t, q_t, ξ_t)   (ξ_t = 1: the paper's binomial),

over the same support ``0..u_t + c_t``, so the enumeration argument holds unchanged (tested).
:func:`self_loop_log_prob` holds the formula.

Everything is computed with exact log-probabilities (``lgamma``), in float64 for the tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from graphgen.models.higen.bipartite import conditional_bernoulli_log_prob

__all__ = [
    "binomial_log_prob",
    "multinomial_log_prob",
    "stick_breaking_log_prob",
    "row_budgets",
    "CommunityRowProbabilities",
    "community_log_prob",
    "truncated_binomial_log_prob",
    "row_mass_log_prob",
    "row_mass_trials",
    "MASS_TRIALS",
    "COMMUNITY_SIZES",
    "community_size_support",
    "community_size_log_prob",
    "row_mass_interval",
    "fair_share_logit",
    "interval_binomial_log_prob",
    "power_binomial_log_prob",
    "self_loop_log_prob",
    "self_loop_trials",
]


def binomial_log_prob(k: torch.Tensor, n: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """``log Bin(k | n, p)``, exact, elementwise; ``n = 0`` gives 0 for ``k = 0``.

    Safe at ``p ∈ {0, 1}`` (``0 · log 0 = 0``) and differentiable in ``p`` elsewhere.
    """
    k, n, p = (torch.as_tensor(a, dtype=torch.float64) if not torch.is_tensor(a) else a for a in (k, n, p))
    log_choose = torch.lgamma(n + 1) - torch.lgamma(k + 1) - torch.lgamma(n - k + 1)
    return log_choose + torch.xlogy(k, p) + torch.xlogy(n - k, 1 - p)


def multinomial_log_prob(counts: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
    """``log Mult(counts | Σ counts, probs)`` over the last dimension (``probs`` sums to 1 there)."""
    total = counts.sum(-1)
    return torch.lgamma(total + 1) - torch.lgamma(counts + 1).sum(-1) + torch.xlogy(counts, probs).sum(-1)


def stick_breaking_log_prob(a_lower: torch.Tensor, pi: torch.Tensor) -> torch.Tensor:
    """The right-hand side of the identity: ``Σ_t log Bin(v_t | ...) + log Mult(row_t | ...)``.

    Args:
        a_lower: ``(n, n)`` lower-triangular non-negative integer matrix (float64).
        pi: ``(n, n)`` cell probabilities, zero above the diagonal, summing to 1.
    """
    n = a_lower.shape[0]
    total = a_lower.sum()
    rho = pi.sum(1)
    spent = torch.zeros((), dtype=torch.float64)
    used = torch.zeros((), dtype=torch.float64)
    out = torch.zeros((), dtype=torch.float64)
    for t in range(n):
        v = a_lower[t, : t + 1].sum()
        eta = (rho[t] / (1 - used)).clamp(0, 1) if float(1 - used) > 0 else torch.zeros((), dtype=torch.float64)
        out = out + binomial_log_prob(v, total - spent, eta)
        if float(rho[t]) > 0:
            out = out + multinomial_log_prob(a_lower[t, : t + 1], pi[t, : t + 1] / rho[t])
        elif float(v) > 0:
            return torch.tensor(float("-inf"), dtype=torch.float64)
        spent = spent + v
        used = used + rho[t]
    return out


def row_budgets(masses: torch.Tensor, total: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Reservation ``c_t`` and remaining budget ``r_t`` of each row, given row masses ``v_t``."""
    n = masses.numel()
    reserved = (torch.arange(n) > 0).to(torch.float64)
    before = torch.cumsum(masses.to(torch.float64), 0) - masses.to(torch.float64)
    return reserved, total - before - reserved


@dataclass
class CommunityRowProbabilities:
    """Probabilities of one mixture component for row ``t`` (given by the network in HiGen).

    Attributes:
        p_mass: ``p_t``, the share of the remaining budget the row takes.
        q_self: ``q_t``, the self-loop share of the row's mass (ignored on the leaf level).
        pi_edges: ``(t - 1,)`` distribution over the earlier nodes (multinomial rows), or for
            conditional-Bernoulli leaf rows the per-node edge probabilities ``σ(θ_j)``.
        p_stop: ``λ_t``, the probability that the row is the community's last (``row_stop``
            models), or ``None`` (the paper's rows).
        concentration: ``ν_t`` of the row mass (``row_concentration`` models,
            :func:`power_binomial_log_prob`), or ``None`` (binomial rows, ``ν = 1``).
        self_concentration: ``ξ_t`` of a coarse row's self-loop (``self_loop_concentration``
            models, :func:`self_loop_log_prob`), or ``None`` (the binomial, ``ξ = 1``).
    """

    p_mass: torch.Tensor
    q_self: torch.Tensor
    pi_edges: torch.Tensor
    p_stop: torch.Tensor | None = None
    concentration: torch.Tensor | None = None
    self_concentration: torch.Tensor | None = None


def truncated_binomial_log_prob(k: torch.Tensor, n: torch.Tensor, p: torch.Tensor, k_max: torch.Tensor) -> torch.Tensor:
    """``log Bin(k | n, p)`` conditioned on ``k <= k_max`` (``-inf`` above ``k_max``), elementwise.

    The normaliser is summed only where the truncation bites (``k_max < n``), over ``0..k_max``, so
    a huge ``n`` with ``k_max >= n`` (a coarse level's budget) costs what a plain binomial costs.
    """
    k, n, k_max = (torch.as_tensor(a, dtype=torch.float64) for a in (k, n, k_max))
    p = torch.as_tensor(p)
    k_max = torch.minimum(k_max, n)
    value = binomial_log_prob(k, n, p)
    shape = value.shape
    k, n, p, k_max = (a.expand(shape) for a in (k, n, p, k_max))
    cut = k_max < n
    if bool(cut.any()):
        support = torch.arange(int(k_max[cut].max()) + 1, dtype=torch.float64)
        terms = binomial_log_prob(support, n[cut].unsqueeze(-1), p[cut].unsqueeze(-1))
        terms = torch.where(support <= k_max[cut].unsqueeze(-1), terms, torch.full_like(terms, float("-inf")))
        value = value - torch.zeros_like(value).masked_scatter(cut, torch.logsumexp(terms, -1))
    return torch.where(k <= k_max, value, torch.full_like(value, float("-inf")))


def power_binomial_log_prob(
    k: torch.Tensor,
    n: torch.Tensor,
    p: torch.Tensor,
    concentration: torch.Tensor,
    k_max: torch.Tensor | None = None,
) -> torch.Tensor:
    """``log PowBin(k | n, p, ν)``: ``Bin(k | n, p)^ν`` normalised over ``0..min(k_max, n)``
    (``k_max=None``: over ``0..n``), ``-inf`` outside; elementwise with broadcasting.

    ``ν = 1`` gives :func:`truncated_binomial_log_prob` (the plain binomial when nothing is cut).
    The normaliser sums one term per support point (:func:`_power_binomial_log_normaliser`); every
    term is evaluated at a point of the support, so gradients in ``p`` and ``ν`` stay finite
    wherever the value is.
    """
    k, n = torch.as_tensor(k, dtype=torch.float64), torch.as_tensor(n, dtype=torch.float64)
    top = n if k_max is None else torch.minimum(torch.as_tensor(k_max, dtype=torch.float64), n)
    p, nu = torch.as_tensor(p), torch.as_tensor(concentration)
    shape = torch.broadcast_shapes(k.shape, n.shape, top.shape, p.shape, nu.shape)
    k, n, top, p, nu = (a.expand(shape) for a in (k, n, top, p, nu))
    top = top.clamp(min=0)
    inside = (k >= 0) & (k <= top)
    value = nu * binomial_log_prob(torch.minimum(k.clamp(min=0), top), n, p)
    value = value - _power_binomial_log_normaliser(n, p, nu, top)
    return torch.where(inside, value, torch.full_like(value, float("-inf")))


def _power_binomial_log_normaliser(n, p, nu, top) -> torch.Tensor:
    """``log Σ_{j=0}^{top} Bin(j | n, p)^ν``, elementwise over tensors of one shape.

    The elements are grouped by the length of their support in powers of two, and each group sums
    over its own longest support (shorter ones padded with ``-inf`` terms), so that the work is at
    most twice the sum of the supports instead of the longest support times the element count. The
    size head's refit (:func:`~graphgen.models.higen.train.refit_size_head`) spends most of its time
    here: over enzymes' 24 hierarchies (52,674 communities, supports of mean length 8, longest 33
    or more) it took 24 minutes with one padded sum; a refit step on 4,333 enzymes communities went
    from 0.053 s to 0.025 s with the groups (session 25, ad hoc, a loaded machine).
    """
    shape = top.shape
    n, p, nu, top = (a.reshape(-1) for a in (n, p, nu, top))
    if top.numel() == 0:
        return torch.zeros(shape, dtype=torch.float64)
    group = torch.ceil(torch.log2(top + 1)).long()  # support length top + 1 <= 2**group
    order, parts = [], []
    for g in torch.unique(group).tolist():
        idx = (group == g).nonzero().flatten()
        t = top[idx].unsqueeze(-1)
        support = torch.arange(int(t.max()) + 1, dtype=torch.float64)
        point = torch.minimum(support, t)  # past the top: repeat it, then mask
        terms = nu[idx].unsqueeze(-1) * binomial_log_prob(point, n[idx].unsqueeze(-1), p[idx].unsqueeze(-1))
        terms = torch.where(support <= t, terms, torch.full_like(terms, float("-inf")))
        order.append(idx)
        parts.append(torch.logsumexp(terms, -1))
    return torch.cat(parts)[torch.argsort(torch.cat(order))].reshape(shape)


def self_loop_trials(mass, reserved, allow_disconnected: bool):
    """Trials of a coarse row's self-loop: its modelled mass ``u_t`` plus, when the reserved unit may
    become the self-loop (``allow_disconnected``, module docstring), its reservation ``c_t``. Tensors
    or numbers, elementwise."""
    return mass + reserved if allow_disconnected else mass


def self_loop_log_prob(
    self_loop: torch.Tensor, trials: torch.Tensor, q: torch.Tensor, concentration: torch.Tensor | None = None
) -> torch.Tensor:
    """``log p(s_t | trials, q_t)`` of a coarse row's self-loop: ``Bin(s_t | trials, q_t)``, or with a
    concentration ``ξ_t`` (``self_loop_concentration``) ``PowBin(s_t | trials, q_t, ξ_t)`` over
    ``0..trials``; elementwise with broadcasting."""
    if concentration is None:
        return binomial_log_prob(self_loop, trials, q)
    return power_binomial_log_prob(self_loop, trials, q, concentration)


MASS_TRIALS = ("budget", "capacity")


def row_mass_trials(
    remaining: torch.Tensor, cap: torch.Tensor | None, stop: bool, mass_trials: str = "budget"
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Trials ``n_t`` of a row's go-on binomial and its truncation ``k_max`` (``None``: none).

    ``budget`` (the paper): ``n_t = r_t`` (``r_t - 1`` with a stop decision), truncated to the
    row's capacity ``cap`` when it has one. ``capacity`` (our option, :mod:`module docstring
    <graphgen.models.higen.stick_breaking>`): ``n_t = min(cap, r_t)`` (resp. ``r_t - 1``), a plain
    binomial over what the row can hold. Without a capacity both are the paper's ``Bin(r_t, p_t)``.
    """
    if mass_trials not in MASS_TRIALS:
        raise ValueError(f"unknown row mass trials {mass_trials!r}; choose one of {', '.join(MASS_TRIALS)}")
    trials = (remaining - 1).clamp(min=0) if stop else remaining
    if cap is None:
        return trials, None
    cap = torch.as_tensor(cap, dtype=trials.dtype)
    if mass_trials == "capacity":
        trials = torch.minimum(cap, trials)
        return trials, trials
    return trials, torch.minimum(cap, trials) if stop else cap


COMMUNITY_SIZES = ("emergent", "explicit")


def community_size_support(budget: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(N_lo, N_hi)``: the node counts a simple leaf community of ``budget`` edges can have when
    every row after the first joins an earlier node, ``N - 1 <= W <= N(N-1)/2`` (elementwise)."""
    w = torch.as_tensor(budget, dtype=torch.float64)
    n_lo = torch.ceil((1 + torch.sqrt(1 + 8 * w)) / 2)
    n_lo = n_lo - ((n_lo - 1) * (n_lo - 2) / 2 >= w).double()  # guard the square root's round-off
    n_lo = n_lo + ((n_lo * (n_lo - 1) / 2) < w).double()
    return n_lo.clamp(min=1), w + 1


def community_size_log_prob(
    size: torch.Tensor,
    budget: torch.Tensor,
    log_beta: torch.Tensor,
    s: torch.Tensor,
    concentration: torch.Tensor | None = None,
) -> torch.Tensor:
    """``log p(N | W)`` of the explicit size model: ``log Σ_k β_k Bin(N - N_lo | N_hi - N_lo, s_k)``
    (with ``concentration`` ``ν``: ``PowBin(N - N_lo | N_hi - N_lo, s_k, ν_k)``).

    ``size``, ``budget``: ``(R,)``; ``log_beta``, ``s``, ``concentration``: ``(R, K)``. ``-inf``
    outside the support.
    """
    n_lo, n_hi = community_size_support(budget)
    size = torch.as_tensor(size, dtype=torch.float64).unsqueeze(-1)
    lp = interval_binomial_log_prob(size, n_lo.unsqueeze(-1), n_hi.unsqueeze(-1), s, concentration)
    return torch.logsumexp(log_beta + lp, -1)


def row_mass_interval(
    remaining: torch.Tensor, position: torch.Tensor, size: torch.Tensor, simple: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(lo, hi)`` of a row's modelled mass ``u_t`` in a community of given node count (elementwise).

    ``remaining`` is ``r_t = R_t - c_t`` (after the reservation), ``position`` the 0-based ``t``,
    ``size`` the community's ``N``. ``simple`` (explicit sizes of conditional-Bernoulli leaf rows,
    ``t >= 1``): at most one edge per earlier node, ``v_t = u_t + 1``; otherwise (an explicit count
    of coarse rows, ``t >= 0``): no capacity, the last row takes the rest. Both intervals are in the
    module docstring.
    """
    r, t, n = (torch.as_tensor(a, dtype=torch.float64) for a in (remaining, position, size))
    if not simple:
        reserved = (t > 0).double()
        left = r + reserved  # R_t
        hi = left - (n - 1 - t)
        lo = torch.where(t >= n - 1, hi, reserved)
        return lo - reserved, hi - reserved
    left = r + 1  # R_t: the budget before this row's reserved unit
    later_capacity = (n - 1) * n / 2 - t * (t + 1) / 2  # C_t
    lo = torch.maximum(torch.ones_like(left), left - later_capacity)
    hi = torch.minimum(t, left - (n - 1 - t))
    return lo - 1, hi - 1


def fair_share_logit(
    remaining: torch.Tensor, position: torch.Tensor, nodes_left: torch.Tensor, simple: bool = False
) -> torch.Tensor:
    """``logit p⁰_t`` of rows of a community with a given node count (elementwise, float64; module
    docstring): coarse rows of an explicit count, or with ``simple`` the leaf rows of explicit sizes.

    ``remaining`` is ``r_t = R_t - c_t`` (after the reservation), ``position`` the 0-based ``t`` and
    ``nodes_left`` the ``N - 1 - t`` nodes still to come; ``[lo_t, hi_t]`` is
    :func:`row_mass_interval` with the same ``simple``. The last row (``hi_t = lo_t``: its mass is
    forced) gets 0.
    """
    r, t, k = (torch.as_tensor(a, dtype=torch.float64) for a in (remaining, position, nodes_left))
    lo, hi = row_mass_interval(r, t, t + 1 + k, simple=simple)
    reserved = (t > 0).double()
    fair = (r + reserved) / (k + 1) - reserved
    span = hi - lo
    p0 = ((fair - lo) / span.clamp(min=1)).clamp(0.001, 0.999)
    return torch.where(span > 0, torch.logit(p0), torch.zeros_like(p0))


def interval_binomial_log_prob(
    u: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor, p: torch.Tensor, concentration: torch.Tensor | None = None
) -> torch.Tensor:
    """``log Bin(u - lo | hi - lo, p)`` (with ``concentration``: ``PowBin(u - lo | hi - lo, p, ν)``),
    ``-inf`` outside ``[lo, hi]`` (elementwise, broadcast)."""
    u = torch.as_tensor(u, dtype=torch.float64)
    inside = (u >= lo) & (u <= hi)
    trials = (hi - lo).clamp(min=0)
    k = torch.minimum((u - lo).clamp(min=0), trials)
    if concentration is None:
        lp = binomial_log_prob(k, trials, p)
    else:
        lp = power_binomial_log_prob(k, trials, p, concentration)
    return torch.where(inside, lp, torch.full_like(lp, float("-inf")))


def row_mass_log_prob(
    u: torch.Tensor,
    remaining: torch.Tensor,
    p_mass: torch.Tensor,
    cap: torch.Tensor | None = None,
    p_stop: torch.Tensor | None = None,
    mass_trials: str = "budget",
    concentration: torch.Tensor | None = None,
) -> torch.Tensor:
    """``log p(u_t)`` of a row's modelled mass, elementwise (see the module docstring).

    Without a stop decision (``p_stop=None``, the paper): ``Bin(u | r, p)``, truncated to
    ``u <= cap`` when ``cap`` is given (conditional-Bernoulli leaf rows). With one (``p_stop = λ``,
    our ``row_stop``): ``λ · 1[u = r] + (1 - λ) · Bin(u | r - 1, p)`` (the second part truncated to
    ``u <= cap``); the stop is possible only when ``1 <= r <= cap``, and ``r = 0`` gives ``u = 0``
    with probability 1. ``mass_trials="capacity"`` replaces each ``Bin(n | ...)`` by the untruncated
    ``Bin(min(cap, n) | ...)`` (:func:`row_mass_trials`). A ``concentration`` ``ν`` turns the go-on
    binomial into :func:`power_binomial_log_prob` over the same support.
    """
    u, remaining = torch.as_tensor(u, dtype=torch.float64), torch.as_tensor(remaining, dtype=torch.float64)
    trials, k_max = row_mass_trials(remaining, cap, p_stop is not None, mass_trials)
    if concentration is not None:
        go_on = power_binomial_log_prob(u, trials, p_mass, concentration, k_max)
    elif k_max is None:
        go_on = binomial_log_prob(u, trials, p_mass)
    else:
        go_on = truncated_binomial_log_prob(u, trials, p_mass, k_max)
    if p_stop is None:
        return go_on
    room = remaining if cap is None else torch.minimum(torch.as_tensor(cap, dtype=torch.float64), remaining)
    can_stop = (remaining >= 1) & (remaining <= room)
    minus_inf = torch.full_like(go_on, float("-inf"))
    stop_lp = torch.where(can_stop, torch.log(p_stop), minus_inf)
    go_on = go_on + torch.where(can_stop, torch.log1p(-p_stop), torch.zeros_like(go_on))
    out = torch.where(u == remaining, stop_lp, go_on)
    return torch.where(remaining == 0, torch.where(u == 0, torch.zeros_like(out), minus_inf), out)


def community_log_prob(
    a_lower: torch.Tensor,
    total: int,
    row_probs: Callable[[int, torch.Tensor], list[tuple[torch.Tensor, CommunityRowProbabilities]]],
    *,
    leaf: bool,
    leaf_rows: str = "multinomial",
    allow_disconnected: bool = True,
    mass_trials: str = "budget",
    size_probs: tuple[torch.Tensor, torch.Tensor] | None = None,
    given_count: bool = False,
) -> torch.Tensor:
    """Exact log-probability of a community's lower-triangular weight matrix under HiGen's rows.

    Args:
        a_lower: ``(n, n)`` lower-triangular weights (diagonal = self-loops; zero on the leaf level).
        total: the community's budget ``W`` (the parent's self-loop weight).
        row_probs: ``(t, prefix) -> [(log α_k, probabilities of component k)]`` for row ``t``
            (0-based), where ``prefix = a_lower[:t, :t]`` is what has been generated so far; this
            is where HiGen's network plugs in.
        leaf: leaf level (no self-loops) or coarse level.
        leaf_rows: on the leaf level, ``"multinomial"`` (the paper) or ``"conditional_bernoulli"``
            (simple graphs; see the module docstring).
        allow_disconnected: on coarse levels the reserved unit may be the self-loop (module docstring).
        mass_trials: ``budget`` or ``capacity`` (:func:`row_mass_trials`).
        size_probs: ``(log β, s)``, each ``(K,)``: explicit community sizes (conditional-Bernoulli
            leaf rows only): ``log p(N | W)`` is added and each row's mass follows
            :func:`row_mass_interval` (``mass_trials`` and the rows' ``p_stop`` are then unused).
        given_count: an explicit community count on a coarse level: the node count ``n`` of
            ``a_lower`` is given (no size term), each row's mass follows
            :func:`row_mass_interval` with ``simple=False`` (``mass_trials``, ``p_stop`` unused).

    Returns ``-inf`` for a matrix the model cannot produce (budget not spent exactly, a leaf row
    after the first without an edge to an earlier node -- or any such row when
    ``allow_disconnected=False`` -- self-loops on the leaf level).
    """
    a = a_lower.to(torch.float64)
    n = a.shape[0]
    minus_inf = torch.tensor(float("-inf"), dtype=torch.float64)
    masses = torch.stack([a[t, : t + 1].sum() for t in range(n)])
    if int(masses.sum()) != total or (leaf and bool(torch.diagonal(a).ne(0).any())):
        return minus_inf
    reserved, remaining = row_budgets(masses, total)
    spent_before = torch.cumsum(masses, 0) - masses
    # the community stops right after the row that spends the budget: no earlier row may spend it
    if n > 1 and bool((spent_before[1:] >= total).any()):
        return minus_inf
    out = torch.zeros((), dtype=torch.float64)
    if size_probs is not None:
        if not (leaf and leaf_rows == "conditional_bernoulli"):
            raise ValueError("explicit community sizes need conditional-Bernoulli leaf rows")
        size = torch.tensor([float(n)], dtype=torch.float64)
        out = (
            out + community_size_log_prob(size, torch.tensor([float(total)]), *(x.unsqueeze(0) for x in size_probs))[0]
        )
    if given_count and leaf:
        raise ValueError("an explicit community count is a coarse-level option")
    for t in range(n):
        self_loop = a[t, t]
        edges = a[t, :t]
        u = masses[t] - reserved[t]
        if u < 0 or u > remaining[t]:
            return minus_inf
        if t == 0 and leaf:
            continue  # a leaf community's first node has no possible edge: nothing to choose
        simple = leaf and leaf_rows == "conditional_bernoulli"
        if simple and bool((edges > 1).any()):
            return minus_inf
        components = []
        for log_alpha, probs in row_probs(t, a[:t, :t]):
            cap = t - reserved[t] if simple else None  # simple rows: at most one edge to each earlier node
            if size_probs is not None or given_count:
                lo, hi = row_mass_interval(
                    remaining[t], torch.tensor(float(t)), torch.tensor(float(n)), simple=size_probs is not None
                )
                lp = log_alpha + interval_binomial_log_prob(u, lo, hi, probs.p_mass, probs.concentration)
            else:
                lp = log_alpha + row_mass_log_prob(
                    u, remaining[t], probs.p_mass, cap, probs.p_stop, mass_trials, probs.concentration
                )
            if simple:
                logits = torch.log(probs.pi_edges) - torch.log1p(-probs.pi_edges)
                lp = lp + conditional_bernoulli_log_prob(edges, logits)
            elif t > 0:  # the first row's mass is all self-loop: no further choice
                if not leaf:
                    trials = self_loop_trials(u, reserved[t], allow_disconnected)
                    lp = lp + self_loop_log_prob(self_loop, trials, probs.q_self, probs.self_concentration)
                lp = lp + multinomial_log_prob(edges, probs.pi_edges)
            components.append(lp)
        out = out + torch.logsumexp(torch.stack(components), 0)
    return out
