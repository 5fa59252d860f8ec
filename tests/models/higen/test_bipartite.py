import itertools
import math

import pytest
import torch

from graphgen.models.higen.bipartite import (
    conditional_bernoulli_log_prob,
    log_poisson_binomial,
    multinomial_block_log_prob,
    sample_block,
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


def test_many_draws_at_once_follow_the_same_distribution():
    logits = logits_for(5, 3)
    draws = 6000
    y = sample_conditional_bernoulli(logits, 2, torch.Generator().manual_seed(0), num_draws=draws)
    assert y.shape == (draws, 5) and bool((y.sum(1) == 2).all()) and bool(((y == 0) | (y == 1)).all())
    keys, counts = torch.unique(y, dim=0, return_counts=True)
    for key, c in zip(keys, counts.tolist()):
        p = math.exp(float(conditional_bernoulli_log_prob(key.double(), logits)))
        assert abs(c / draws - p) < 4 * math.sqrt(p * (1 - p) / draws) + 1e-3
    # one draw of the batched sampler is the plain sampler (same random stream)
    one = sample_conditional_bernoulli(logits, 2, torch.Generator().manual_seed(5), num_draws=1)[0]
    assert torch.equal(one, sample_conditional_bernoulli(logits, 2, torch.Generator().manual_seed(5)))
    counts = sample_multinomial_block(logits, 7, torch.Generator().manual_seed(0), num_draws=300)
    assert counts.shape == (300, 5) and bool((counts.sum(1) == 7).all())
    freq = counts.double().mean(0) / 7
    assert torch.allclose(freq, torch.softmax(logits, 0), atol=0.03)


@pytest.mark.parametrize("seed", range(4))
def test_best_of_draws_finds_the_mode_of_small_blocks(seed):
    """``best_of`` (the reference's near-greedy decoding) keeps the most likely draw: on blocks this
    small, 50 draws contain the mode, found here by enumeration."""
    logits = logits_for(5, 10 + seed) * 2
    subsets = list(itertools.combinations(range(5), 2))
    scores = [float(logits[list(sub)].sum()) for sub in subsets]
    mode = subsets[max(range(len(subsets)), key=scores.__getitem__)]
    got = sample_block(logits, 2, True, torch.Generator().manual_seed(seed), best_of=50)
    assert tuple(got.nonzero().flatten().tolist()) == mode
    configs = [c for c in itertools.product(range(4), repeat=5) if sum(c) == 3]
    mode = max(configs, key=lambda c: float(multinomial_block_log_prob(torch.tensor(c, dtype=torch.float64), logits)))
    got = sample_block(logits, 3, False, torch.Generator().manual_seed(seed), best_of=50)
    assert tuple(got.tolist()) == mode


def test_tilted_rejection_handles_extreme_and_trivial_blocks():
    logits = torch.tensor([30.0, 30.0, -30.0, -30.0, 0.0], dtype=torch.float64)
    y = sample_conditional_bernoulli(logits, 3, torch.Generator().manual_seed(0), num_draws=200)
    assert bool((y.sum(1) == 3).all()) and bool((y[:, :2] == 1).all())  # the near-certain pairs always
    assert float(y[:, 4].double().mean()) > 0.99  # the third is the 0-logit pair, not a -30 one
    assert sample_conditional_bernoulli(logits, 0).sum() == 0 and sample_conditional_bernoulli(logits, 5).sum() == 5
    with pytest.raises(ValueError, match="cannot place 6 edges on 5 pairs"):
        sample_conditional_bernoulli(logits, 6)


def test_ragged_segments_in_any_order_equal_the_per_segment_likelihood():
    """Segments of very different lengths, listed in no particular order, with an empty one: the
    batched DP (longest first, each segment leaving when done) equals each segment on its own, in
    value and gradient."""
    from graphgen.models.higen.bipartite import segment_conditional_bernoulli_log_prob

    gen = torch.Generator().manual_seed(3)
    lengths, takes = [5, 1, 12, 0, 7, 3], [2, 1, 4, 0, 7, 0]
    segment = torch.cat([torch.full((n,), i) for i, n in enumerate(lengths)])
    slot = torch.cat([torch.arange(n) for n in lengths])
    shuffle = torch.randperm(segment.numel(), generator=gen)
    segment, slot = segment[shuffle], slot[shuffle]
    logits = torch.randn(segment.numel(), 2, generator=gen, dtype=torch.float64, requires_grad=True)
    targets = torch.zeros(segment.numel(), dtype=torch.long)
    for i, t in enumerate(takes):
        targets[((segment == i) & (slot < t)).nonzero().flatten()] = 1
    batched = segment_conditional_bernoulli_log_prob(logits, targets, segment, slot, len(lengths), torch.tensor(takes))
    (grad,) = torch.autograd.grad(batched.sum(), logits)
    for i in range(len(lengths)):
        sel = (segment == i).nonzero().flatten()
        sel = sel[torch.argsort(slot[sel])]
        for c in range(2):
            one = conditional_bernoulli_log_prob(targets[sel], logits[sel, c])
            assert batched[i, c].item() == pytest.approx(one.item(), abs=1e-10)
            (g,) = torch.autograd.grad(one, logits)
            assert torch.allclose(grad[sel, c], g[sel, c], atol=1e-10)
