import itertools
import math

import pytest
import torch

from graphgen.models.higen.bipartite import (
    conditional_bernoulli_log_prob,
    log_poisson_binomial,
    multinomial_block_log_prob,
    sample_conditional_bernoulli,
    sample_multinomial_block,
)


def logits_for(m, seed=0):
    return torch.randn(m, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * 1.5


@pytest.mark.parametrize("m, k", [(1, 0), (1, 1), (4, 2), (6, 3), (6, 6), (5, 0)])
def test_conditional_bernoulli_sums_to_one_and_matches_brute_force(m, k):
    logits = logits_for(m, m * 7 + k)
    p = torch.sigmoid(logits)
    weights = {}
    for subset in itertools.combinations(range(m), k):
        y = torch.zeros(m, dtype=torch.float64)
        y[list(subset)] = 1
        weights[subset] = float(torch.prod(torch.where(y > 0, p, 1 - p)))
    z = sum(weights.values())
    total = 0.0
    for subset, w in weights.items():
        y = torch.zeros(m, dtype=torch.float64)
        y[list(subset)] = 1
        lp = float(conditional_bernoulli_log_prob(y, logits))
        assert math.exp(lp) == pytest.approx(w / z, rel=1e-10)
        total += math.exp(lp)
    assert total == pytest.approx(1.0, abs=1e-12)
    assert math.exp(float(log_poisson_binomial(logits, k))) == pytest.approx(z, rel=1e-10)


def test_sampling_frequencies_match_the_probabilities():
    logits = logits_for(5, 3)
    gen = torch.Generator().manual_seed(0)
    counts = {}
    draws = 6000
    for _ in range(draws):
        y = sample_conditional_bernoulli(logits, 2, gen)
        assert int(y.sum()) == 2  # the budget is spent exactly, never on a repeated pair
        key = tuple(y.nonzero().flatten().tolist())
        counts[key] = counts.get(key, 0) + 1
    for subset, c in counts.items():
        y = torch.zeros(5, dtype=torch.float64)
        y[list(subset)] = 1
        p = math.exp(float(conditional_bernoulli_log_prob(y, logits)))
        assert abs(c / draws - p) < 4 * math.sqrt(p * (1 - p) / draws) + 1e-3


def test_large_blocks_are_stable_and_differentiable():
    logits = logits_for(2000, 1).requires_grad_(True)
    y = torch.zeros(2000, dtype=torch.float64)
    y[:40] = 1
    lp = conditional_bernoulli_log_prob(y, logits)
    lp.backward()
    assert torch.isfinite(lp) and torch.isfinite(logits.grad).all()
    assert int(sample_conditional_bernoulli(logits, 40, torch.Generator().manual_seed(1)).sum()) == 40


def test_multinomial_block():
    logits = logits_for(4, 2)
    probs = torch.softmax(logits, 0)
    total = sum(
        math.exp(float(multinomial_block_log_prob(torch.tensor(c, dtype=torch.float64), logits)))
        for c in itertools.product(range(4), repeat=4)
        if sum(c) == 3
    )
    assert total == pytest.approx(1.0, abs=1e-12)
    counts = sample_multinomial_block(logits, 7, torch.Generator().manual_seed(0))
    assert int(counts.sum()) == 7 and counts.numel() == 4
    assert float(
        multinomial_block_log_prob(torch.tensor([3.0, 0, 0, 0], dtype=torch.float64), logits)
    ) == pytest.approx(3 * math.log(float(probs[0])), rel=1e-12)
    with pytest.raises(ValueError, match="cannot place"):
        sample_conditional_bernoulli(logits, 5)
