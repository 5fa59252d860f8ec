"""Exact distributions of HiGen's cross-community (bipartite) edges.

Given communities ``C_i`` and ``C_j`` (``n_i`` and ``n_j`` nodes) joined by a parent edge of weight
``w_ij``, the block ``B_ij`` places exactly ``w_ij`` units on the ``M = n_i n_j`` node pairs.

* **Coarse levels** (integer weights): ``B ~ Mult(w_ij, softmax(θ))`` over the ``M`` pairs, as in
  the paper -- a pair may receive several units.
* **Leaf level** (at most one edge per pair). The paper's multinomial can put two units on one
  pair; the reference code then keeps the top ``w_ij`` pairs or clips counts, so the parent budget
  is not honoured exactly. **Our choice:** the *conditional Bernoulli* distribution -- independent
  ``y_e ~ Bern(σ(θ_e))`` conditioned on ``Σ_e y_e = w_ij``::

      p(y) = Π_e σ(θ_e)^{y_e} (1 - σ(θ_e))^{1 - y_e} / P(Σ_e y_e = w_ij).

  It spends the budget exactly, never repeats a pair, and its normaliser (a Poisson-binomial
  probability) is computed exactly in log space by dynamic programming in ``O(M · w)``; exact
  sampling is by tilted rejection (:func:`sample_conditional_bernoulli`). When ``w_ij = M`` every
  pair is an edge.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

# log of an impossible event inside the DP tables: finite, so that logaddexp keeps finite gradients
# (logaddexp(-inf, -inf) has a NaN gradient); exp(-1e30) is exactly 0 in float64
LOG_ZERO = -1e30

__all__ = [
    "LOG_ZERO",
    "segment_conditional_bernoulli_log_prob",
    "multinomial_block_log_prob",
    "log_poisson_binomial",
    "conditional_bernoulli_log_prob",
    "sample_conditional_bernoulli",
    "sample_multinomial_block",
    "sample_block",
]


def multinomial_block_log_prob(counts: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """``log Mult(counts | Σ counts, softmax(logits))`` over a flattened block of pairs."""
    counts = counts.reshape(-1).to(logits.dtype)
    log_probs = torch.log_softmax(logits.reshape(-1), 0)
    total = counts.sum()
    return torch.lgamma(total + 1) - torch.lgamma(counts + 1).sum() + (counts * log_probs).sum()


def log_poisson_binomial(logits: torch.Tensor, k: int) -> torch.Tensor:
    """``log P(Σ_e y_e = k)`` for independent ``y_e ~ Bern(σ(logits_e))`` (exact, log space)."""
    logits = logits.reshape(-1)
    if k < 0 or k > logits.numel():
        return torch.tensor(float("-inf"), dtype=logits.dtype)
    log_p, log_q = F.logsigmoid(logits), F.logsigmoid(-logits)
    table = torch.cat([torch.zeros(1, dtype=logits.dtype), torch.full((k,), LOG_ZERO, dtype=logits.dtype)])
    for e in range(logits.numel()):
        shifted = torch.cat([torch.full((1,), LOG_ZERO, dtype=logits.dtype), table[:-1] + log_p[e]])
        table = torch.logaddexp(table + log_q[e], shifted)
    return table[k]


def conditional_bernoulli_log_prob(edges: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """Log-probability of a 0/1 block ``edges`` under the conditional Bernoulli with ``Σ = edges.sum()``."""
    y = edges.reshape(-1).to(logits.dtype)
    logits = logits.reshape(-1)
    if bool(((y != 0) & (y != 1)).any()):
        return torch.tensor(float("-inf"), dtype=logits.dtype)
    k = int(y.sum())
    unnormalised = (y * F.logsigmoid(logits) + (1 - y) * F.logsigmoid(-logits)).sum()
    return unnormalised - log_poisson_binomial(logits, k)


def _tilt(logits: torch.Tensor, k: int) -> float:
    """A shift ``c`` with ``Σ_e σ(θ_e + c) ≈ k`` (0 < k < M), by 30 bisection steps in numpy.

    Any ``c`` leaves the sampled law exact; this one only makes acceptance likely.
    """
    theta = logits.numpy()
    hi = float(np.abs(theta).max()) + 40.0
    lo = -hi
    for _ in range(30):
        mid = (lo + hi) / 2
        if (0.5 * (1 + np.tanh(0.5 * (theta + mid)))).sum() < k:  # σ without overflow warnings
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def sample_conditional_bernoulli(
    logits: torch.Tensor, k: int, generator: torch.Generator | None = None, num_draws: int | None = None
) -> torch.Tensor:
    """Exact sample of ``k`` distinct pairs (a 0/1 vector) from the conditional Bernoulli.

    Tilted rejection: for any shift ``c``, independent ``y_e ~ Bern(σ(θ_e + c))`` conditioned on
    ``Σ y = k`` have exactly the conditional-Bernoulli law (``exp(c Σ y)`` is constant on that
    slice). With ``c`` chosen so that the expected sum is ``k``, a candidate is accepted with
    probability about ``1 / sqrt(2π Var)`` (``Var = Σ p_e (1 - p_e) <= k``), so candidates are
    drawn in vectorised rounds sized for a few acceptances each, and the first ones accepted are
    kept. With ``num_draws`` (``S``), ``S`` independent samples at once, ``(S, M)``.
    """
    logits = logits.reshape(-1).detach().to(torch.float64)
    m = logits.numel()
    if not 0 <= k <= m:
        raise ValueError(f"cannot place {k} edges on {m} pairs")
    draws = 1 if num_draws is None else num_draws
    if k in (0, m):
        y = torch.full((draws, m), int(k == m), dtype=torch.long)
        return y[0] if num_draws is None else y
    p = torch.sigmoid(logits + _tilt(logits, k))
    variance = float((p * (1 - p)).sum())
    # about 2 * draws acceptances per round; at most 16M candidate entries in memory
    per_round = max(16, math.ceil(2 * draws * math.sqrt(2 * math.pi * variance + 1)))
    per_round = max(1, min(per_round, (1 << 24) // m))
    accepted: list[torch.Tensor] = []
    have = 0
    while have < draws:
        candidates = torch.rand(per_round, m, generator=generator, dtype=torch.float64) < p
        ok = candidates[candidates.sum(1) == k]
        accepted.append(ok)
        have += ok.shape[0]
    y = torch.cat(accepted)[:draws].long()
    return y[0] if num_draws is None else y


def sample_multinomial_block(
    logits: torch.Tensor, total: int, generator: torch.Generator | None = None, num_draws: int | None = None
) -> torch.Tensor:
    """Counts of ``total`` units over the pairs, ``~ Mult(total, softmax(logits))``.

    With ``num_draws`` (``S``), ``S`` independent samples at once, ``(S, M)``.
    """
    probs = torch.softmax(logits.reshape(-1).detach().to(torch.float64), 0)
    m, draws = probs.numel(), 1 if num_draws is None else num_draws
    if total == 0:
        counts = torch.zeros(draws, m, dtype=torch.long)
    else:
        units = torch.multinomial(probs, total * draws, replacement=True, generator=generator)
        counts = torch.bincount(units + torch.arange(draws).repeat_interleave(total) * m, minlength=draws * m)
        counts = counts.reshape(draws, m)
    return counts[0] if num_draws is None else counts


def sample_block(
    logits: torch.Tensor,
    total: int,
    distinct: bool,
    generator: torch.Generator | None = None,
    best_of: int | None = None,
) -> torch.Tensor:
    """One allocation of ``total`` units: conditional Bernoulli when ``distinct``, else multinomial.

    ``best_of = S`` draws ``S`` samples and keeps the most likely one (the reference code's
    near-greedy decoding, with ``S = 50``); ties go to the first. ``None``: one exact sample.
    """
    sampler = sample_conditional_bernoulli if distinct else sample_multinomial_block
    if best_of is None:
        return sampler(logits, total, generator)
    draws = sampler(logits, total, generator, num_draws=best_of)  # (S, M)
    logits = logits.reshape(-1).detach().to(torch.float64)
    if distinct:  # at a fixed total, log p(y) = Σ y_e θ_e + a constant
        score = draws.double() @ logits
    else:
        score = draws.double() @ torch.log_softmax(logits, 0) - torch.lgamma(draws.double() + 1).sum(1)
    return draws[int(score.argmax())]


def segment_conditional_bernoulli_log_prob(
    logits: torch.Tensor,
    targets: torch.Tensor,
    segment: torch.Tensor,
    slot: torch.Tensor,
    num_segments: int,
    take: torch.Tensor,
) -> torch.Tensor:
    """Conditional-Bernoulli log-probabilities of many ragged segments at once, ``(S, K)``.

    Element ``e`` of segment ``segment[e]`` sits at position ``slot[e]`` and has 0/1 target
    ``targets[e]`` and logits ``logits[e]`` ``(P, K)`` (one column per mixture component); segment
    ``s`` conditions on ``Σ y = take[s]``. One log-space DP runs over the padded segments
    (padding can never be taken), so it equals :func:`conditional_bernoulli_log_prob` per segment.
    Segments are processed longest first and each leaves the DP once its own elements are done, so
    the cost is ``Σ_s M_s · max(take)`` rather than ``S · max_s M_s · max(take)`` (which made
    training on graphs of thousands of nodes, whose blocks differ widely in size, superlinear).
    """
    s, k = num_segments, logits.shape[1]
    length = int(slot.max()) + 1 if slot.numel() else 0
    sizes = torch.zeros(s, dtype=torch.long).scatter_reduce_(0, segment, slot + 1, "amax")
    order = torch.argsort(sizes, descending=True, stable=True)
    rank = torch.empty_like(order)
    rank[order] = torch.arange(s)
    active = (sizes[order].unsqueeze(0) > torch.arange(length).unsqueeze(1)).sum(1).tolist()  # per step
    dense_p = torch.full((s, length, k), LOG_ZERO, dtype=logits.dtype)
    dense_q = torch.zeros((s, length, k), dtype=logits.dtype)
    dense_p[rank[segment], slot] = F.logsigmoid(logits)
    dense_q[rank[segment], slot] = F.logsigmoid(-logits)
    k_max = int(take.max()) if s else 0
    table = torch.full((s, k_max + 1, k), LOG_ZERO, dtype=logits.dtype)
    table[:, 0] = 0.0
    finished = []  # tails of the sorted table whose segments are complete
    # one view per step: slicing dense_p[:, j] inside the loop would make autograd build a
    # full-size zero gradient for every step (quadratic in the segment length)
    steps_p, steps_q = dense_p.unbind(1), dense_q.unbind(1)
    for j in range(length):
        a = active[j]
        if a < table.shape[0]:
            finished.append(table[a:])
            table = table[:a]
        shifted = torch.cat(
            [torch.full((a, 1, k), LOG_ZERO, dtype=logits.dtype), table[:, :-1] + steps_p[j][:a, None]], 1
        )
        table = torch.logaddexp(table + steps_q[j][:a, None], shifted)
    table = torch.cat([table, *finished[::-1]])[rank]  # back to segment order
    log_z = table.gather(1, take.clamp(min=0).view(s, 1, 1).expand(s, 1, k)).squeeze(1)
    y = targets.to(logits.dtype).unsqueeze(1)
    unnormalised = torch.zeros((s, k), dtype=logits.dtype).index_add_(
        0, segment, y * F.logsigmoid(logits) + (1 - y) * F.logsigmoid(-logits)
    )
    return unnormalised - log_z
