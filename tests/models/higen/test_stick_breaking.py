import itertools
import math

import pytest
import torch

from graphgen.models.higen.stick_breaking import (
    CommunityRowProbabilities,
    binomial_log_prob,
    community_log_prob,
    community_size_log_prob,
    community_size_support,
    fair_share_logit,
    multinomial_log_prob,
    power_binomial_log_prob,
    row_mass_interval,
    row_mass_log_prob,
    stick_breaking_log_prob,
    truncated_binomial_log_prob,
)


def lower_cells(n, leaf):
    return [(i, j) for i in range(n) for j in range(i + (0 if leaf else 1))]


def matrices(n, total, leaf):
    """Every lower-triangular non-negative integer matrix of size n with entries summing to total."""
    cells = lower_cells(n, leaf)
    for combo in itertools.combinations_with_replacement(range(len(cells)), total):
        a = torch.zeros(n, n, dtype=torch.float64)
        for c in combo:
            a[cells[c]] += 1
        yield a


def max_size(total, largest=4):
    """The community sizes an enumeration of ``total`` units covers: every possible one (a community of
    ``total`` units has at most ``total + 1`` nodes), and below the largest total also the first
    impossible size, whose configurations must get probability 0. At the largest total the impossible
    size holds 85 % of the configurations and the run time; the smaller totals check it, and the sum
    over the possible sizes being exactly 1 leaves no mass for it anyway."""
    return total + 1 if total >= largest else total + 2


def test_binomial_and_multinomial_are_exact():
    assert math.exp(binomial_log_prob(2, 5, torch.tensor(0.3, dtype=torch.float64))) == pytest.approx(
        math.comb(5, 2) * 0.3**2 * 0.7**3, rel=1e-12
    )
    assert float(binomial_log_prob(0, 0, torch.tensor(0.0, dtype=torch.float64))) == 0.0
    counts = torch.tensor([2.0, 0.0, 1.0], dtype=torch.float64)
    probs = torch.tensor([0.5, 0.2, 0.3], dtype=torch.float64)
    assert math.exp(multinomial_log_prob(counts, probs)) == pytest.approx(3 * 0.25 * 0.3, rel=1e-12)


@pytest.mark.parametrize("n, total", [(1, 3), (2, 2), (2, 4), (3, 3), (3, 4)])
def test_stick_breaking_equals_the_multinomial(n, total):
    gen = torch.Generator().manual_seed(n * 10 + total)
    mask = torch.tril(torch.ones(n, n, dtype=torch.float64))
    pi = torch.rand(n, n, generator=gen, dtype=torch.float64) * mask
    pi = pi / pi.sum()
    cells = lower_cells(n, leaf=False)
    flat_pi = torch.stack([pi[c] for c in cells])
    seen = 0.0
    for a in matrices(n, total, leaf=False):
        flat = torch.stack([a[c] for c in cells])
        direct = multinomial_log_prob(flat, flat_pi)
        assert float(stick_breaking_log_prob(a, pi)) == pytest.approx(float(direct), abs=1e-12)
        seen += math.exp(direct)
    assert seen == pytest.approx(1.0, abs=1e-12)


def fake_network(num_components=2, row_stop=False, concentration=False, self_concentration=False):
    """Deterministic row probabilities depending on the row and the prefix, as a network's would
    (with ``row_stop`` also a stop probability, with ``concentration`` a row-mass concentration, with
    ``self_concentration`` a self-loop concentration)."""

    def row_probs(t, prefix):
        seed = int(1000 * t + 7 * float(prefix.sum()) + 3 * float(torch.diagonal(prefix).sum()) if t else 1)
        gen = torch.Generator().manual_seed(seed)
        log_alpha = torch.log_softmax(torch.randn(num_components, generator=gen, dtype=torch.float64), 0)
        out = []
        for k in range(num_components):
            p, q = torch.rand(2, generator=gen, dtype=torch.float64) * 0.9 + 0.05
            pi = torch.softmax(torch.randn(max(t, 1), generator=gen, dtype=torch.float64), 0)[:t]
            stop = torch.rand((), generator=gen, dtype=torch.float64) * 0.9 + 0.05 if row_stop else None
            nu = torch.exp(2 * torch.randn((), generator=gen, dtype=torch.float64)) if concentration else None
            xi = torch.exp(2 * torch.randn((), generator=gen, dtype=torch.float64)) if self_concentration else None
            out.append((log_alpha[k], CommunityRowProbabilities(p, q, pi, stop, nu, xi)))
        return out

    return row_probs


@pytest.mark.parametrize(
    "row_stop, concentration, self_concentration",
    [(False, False, False), (True, False, False), (False, True, False), (True, True, False), (True, True, True)],
)
@pytest.mark.parametrize("leaf, allow_disconnected", [(True, True), (False, True), (False, False)])
@pytest.mark.parametrize("total", [0, 1, 2, 3, 4])
def test_community_probabilities_sum_to_one_by_enumeration(
    leaf, allow_disconnected, total, row_stop, concentration, self_concentration
):
    row_probs = fake_network(row_stop=row_stop, concentration=concentration, self_concentration=self_concentration)
    mass, lonely_mass = 0.0, 0.0
    for n in range(1, max_size(total) + 1):
        for a in matrices(n, total, leaf):
            lp = community_log_prob(a, total, row_probs, leaf=leaf, allow_disconnected=allow_disconnected)
            mass += math.exp(float(lp))
            if any(float(a[t, :t].sum()) == 0 for t in range(1, n)):
                lonely_mass += math.exp(float(lp))
    assert mass == pytest.approx(1.0, abs=1e-12)
    # a row that joins no earlier node: only a coarse level with allow_disconnected can produce it
    if not leaf and allow_disconnected and total >= 1:
        assert lonely_mass > 1e-6
    else:
        assert lonely_mass == 0.0


def test_impossible_communities_have_probability_zero():
    row_probs = fake_network()
    lonely = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)  # row 2 joins no earlier node
    assert float(community_log_prob(lonely, 2, row_probs, leaf=False, allow_disconnected=False)) == float("-inf")
    assert float(community_log_prob(lonely, 2, row_probs, leaf=False)) > float("-inf")
    loops_on_leaf = torch.tensor([[1.0, 0.0], [1.0, 0.0]], dtype=torch.float64)
    assert float(community_log_prob(loops_on_leaf, 2, row_probs, leaf=True)) == float("-inf")
    wrong_budget = torch.tensor([[0.0, 0.0], [1.0, 0.0]], dtype=torch.float64)
    assert float(community_log_prob(wrong_budget, 2, row_probs, leaf=True)) == float("-inf")
    trailing = torch.tensor([[2.0, 0.0], [1.0, 0.0]], dtype=torch.float64)  # budget spent before row 2
    assert float(community_log_prob(trailing, 2, row_probs, leaf=False)) == float("-inf")


def test_log_prob_is_differentiable_in_the_probabilities():
    p = torch.tensor(0.4, dtype=torch.float64, requires_grad=True)
    probs = CommunityRowProbabilities(p, torch.tensor(0.5, dtype=torch.float64), torch.ones(1, dtype=torch.float64))
    a = torch.tensor([[0.0, 0.0], [1.0, 0.0]], dtype=torch.float64)
    lp = community_log_prob(a, 1, lambda t, prefix: [(torch.zeros((), dtype=torch.float64), probs)], leaf=True)
    lp.backward()
    assert torch.isfinite(p.grad) and float(lp.detach()) == pytest.approx(0.0)  # the only leaf community of W = 1


def simple_matrices(n, total):
    """Every strictly lower-triangular 0/1 matrix of size n with total ones."""
    cells = lower_cells(n, leaf=True)
    for combo in itertools.combinations(range(len(cells)), total):
        a = torch.zeros(n, n, dtype=torch.float64)
        for c in combo:
            a[cells[c]] = 1
        yield a


@pytest.mark.parametrize("concentration", [False, True])
@pytest.mark.parametrize("mass_trials", ["budget", "capacity"])
@pytest.mark.parametrize("row_stop", [False, True])
@pytest.mark.parametrize("total", [0, 1, 2, 3, 4, 5])
def test_simple_leaf_rows_sum_to_one_over_simple_graphs(total, row_stop, mass_trials, concentration):
    row_probs = fake_network(row_stop=row_stop, concentration=concentration)

    def bernoulli_probs(t, prefix):
        # reuse the fake network but read pi as independent edge probabilities in (0, 1)
        return [
            (
                la,
                CommunityRowProbabilities(pr.p_mass, pr.q_self, pr.pi_edges * 0.9 + 0.05, pr.p_stop, pr.concentration),
            )
            for la, pr in row_probs(t, prefix)
        ]

    mass = 0.0
    for n in range(1, max_size(total, largest=5) + 1):
        for a in simple_matrices(n, total):
            lp = community_log_prob(
                a, total, bernoulli_probs, leaf=True, leaf_rows="conditional_bernoulli", mass_trials=mass_trials
            )
            mass += math.exp(float(lp))
    assert mass == pytest.approx(1.0, abs=1e-12)
    multi = torch.tensor([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [2.0, 0.0, 0.0]], dtype=torch.float64)
    assert float(community_log_prob(multi, 3, bernoulli_probs, leaf=True, leaf_rows="conditional_bernoulli")) == float(
        "-inf"
    )


def test_row_mass_with_a_stop_decision_exact_values():
    p, stop = torch.tensor(0.4, dtype=torch.float64), torch.tensor(0.3, dtype=torch.float64)
    lp = row_mass_log_prob(torch.arange(5.0), torch.tensor(3.0), p, None, stop).exp()
    # the last row takes all 3 units with probability 0.3; otherwise Bin(u | 2, 0.4)
    expected = [0.7 * 0.36, 0.7 * 2 * 0.4 * 0.6, 0.7 * 0.16, 0.3, 0.0]
    assert lp.tolist() == pytest.approx(expected, abs=1e-15)
    # nothing left: the row spends nothing and is the last, whatever p_stop says
    assert row_mass_log_prob(torch.tensor(0.0), torch.tensor(0.0), p, None, stop).item() == 0.0
    # a row that cannot hold the remainder (cap 2 < 3) cannot stop: Bin(u | 2, 0.4) truncated to <= 2 (no cut)
    capped = row_mass_log_prob(torch.arange(4.0), torch.tensor(3.0), p, torch.tensor(2.0), stop).exp()
    assert capped.tolist() == pytest.approx([0.36, 0.48, 0.16, 0.0], abs=1e-15)


def test_row_mass_over_the_capacity_exact_values():
    p, stop = torch.tensor(0.4, dtype=torch.float64), torch.tensor(0.3, dtype=torch.float64)
    # 9 units left, 2 earlier nodes to join: Bin(u | 2, 0.4), not Bin(u | 9, 0.4) truncated to <= 2
    lp = row_mass_log_prob(torch.arange(4.0), torch.tensor(9.0), p, torch.tensor(2.0), mass_trials="capacity")
    assert lp.exp().tolist() == pytest.approx([0.36, 0.48, 0.16, 0.0], abs=1e-15)
    budget = row_mass_log_prob(torch.arange(3.0), torch.tensor(9.0), p, torch.tensor(2.0)).exp()
    assert budget[0] == pytest.approx(0.6**9 / sum(math.comb(9, j) * 0.4**j * 0.6 ** (9 - j) for j in range(3)))
    # with a stop decision and a remainder the row can hold (r = 3 <= cap 4): stop, else Bin(u | min(4, 2), 0.4)
    lp = row_mass_log_prob(torch.arange(5.0), torch.tensor(3.0), p, torch.tensor(4.0), stop, "capacity").exp()
    assert lp.tolist() == pytest.approx([0.7 * 0.36, 0.7 * 0.48, 0.7 * 0.16, 0.3, 0.0], abs=1e-15)
    # no capacity (coarse rows): the paper's rows whatever the option
    same = row_mass_log_prob(torch.arange(4.0), torch.tensor(3.0), p, None, stop, "capacity")
    assert torch.equal(same, row_mass_log_prob(torch.arange(4.0), torch.tensor(3.0), p, None, stop))
    with pytest.raises(ValueError, match="unknown row mass trials"):
        row_mass_log_prob(torch.tensor(1.0), torch.tensor(2.0), p, None, None, "edges")


@pytest.mark.parametrize("concentration", [None, 0.3, 4.0])
@pytest.mark.parametrize("mass_trials", ["budget", "capacity"])
@pytest.mark.parametrize("with_stop", [False, True])
def test_row_mass_sums_to_one_over_its_support(with_stop, mass_trials, concentration):
    gen = torch.Generator().manual_seed(0)
    nu = None if concentration is None else torch.tensor(concentration, dtype=torch.float64)
    for remaining in range(0, 9):
        for cap in (None, 0, 1, 3, 12):
            p = torch.rand((), generator=gen, dtype=torch.float64)
            stop = torch.rand((), generator=gen, dtype=torch.float64) if with_stop else None
            cap_t = None if cap is None else torch.tensor(float(cap))
            lp = row_mass_log_prob(
                torch.arange(remaining + 2.0), torch.tensor(float(remaining)), p, cap_t, stop, mass_trials, nu
            )
            if cap is not None and cap < remaining and not with_stop:
                assert float(lp.exp()[cap + 1 :].sum()) == 0.0
            assert float(lp.exp().sum()) == pytest.approx(1.0, abs=1e-12), (remaining, cap)


def test_truncation_only_normalises_where_it_bites():
    p = torch.tensor([0.3, 0.6], dtype=torch.float64)
    n = torch.tensor([50000.0, 4.0], dtype=torch.float64)
    k = torch.tensor([15000.0, 1.0], dtype=torch.float64)
    out = truncated_binomial_log_prob(k, n, p, torch.tensor([60000.0, 2.0]))
    assert float(out[0]) == float(binomial_log_prob(k[0], n[0], p[0]))  # no cut: the plain binomial
    kept = sum(math.comb(4, j) * 0.6**j * 0.4 ** (4 - j) for j in range(3))
    assert math.exp(float(out[1])) == pytest.approx(4 * 0.6 * 0.4**3 / kept, rel=1e-12)


def test_power_binomial_exact_values_and_the_binomial_at_concentration_one():
    p = torch.tensor(0.3, dtype=torch.float64)
    k = torch.arange(5.0, dtype=torch.float64)
    # nu = 1: the binomial, and the truncated binomial under a cut
    one = torch.tensor(1.0, dtype=torch.float64)
    assert torch.allclose(power_binomial_log_prob(k, 4.0, p, one), binomial_log_prob(k, 4.0, p), atol=1e-14)
    cut = truncated_binomial_log_prob(k, 4.0, p, torch.tensor(2.0))
    assert torch.allclose(power_binomial_log_prob(k, 4.0, p, one, torch.tensor(2.0)).exp(), cut.exp(), atol=1e-15)
    # nu = 2 over 0..3 with n = 3, by hand: C(3,k)^2 p^2k (1-p)^2(3-k), normalised
    weights = [math.comb(3, j) ** 2 * 0.3 ** (2 * j) * 0.7 ** (2 * (3 - j)) for j in range(4)]
    got = power_binomial_log_prob(torch.arange(5.0), 3.0, p, torch.tensor(2.0)).exp()
    assert got.tolist() == pytest.approx([w / sum(weights) for w in weights] + [0.0], abs=1e-15)
    # truncated to k <= 1 and negative k: -inf
    got = power_binomial_log_prob(torch.tensor([-1.0, 0.0, 1.0, 2.0]), 3.0, p, torch.tensor(2.0), torch.tensor(1.0))
    assert got.exp().tolist() == pytest.approx([0.0, weights[0] / sum(weights[:2]), weights[1] / sum(weights[:2]), 0.0])
    # n = 0: all mass at 0
    assert float(power_binomial_log_prob(torch.tensor(0.0), 0.0, p, torch.tensor(5.0))) == 0.0


def test_concentration_shrinks_or_widens_the_spread_around_the_same_mode():
    n, p = 40.0, torch.tensor(0.35, dtype=torch.float64)
    k = torch.arange(41.0)

    def moments(nu):
        probs = power_binomial_log_prob(k, n, p, torch.tensor(nu, dtype=torch.float64)).exp()
        mean = float((probs * k).sum())
        return float(probs.sum()), int(probs.argmax()), float((probs * (k - mean) ** 2).sum())

    total, mode, var = moments(1.0)
    assert total == pytest.approx(1.0, abs=1e-12) and var == pytest.approx(n * 0.35 * 0.65, rel=1e-9)
    for nu in (0.5, 3.0, 10.0):
        total_nu, mode_nu, var_nu = moments(nu)
        assert total_nu == pytest.approx(1.0, abs=1e-12) and mode_nu == mode
        # about n p (1 - p) / nu (the Gaussian limit), within 15 %
        assert var_nu == pytest.approx(var / nu, rel=0.15)


def test_power_binomial_gradients_are_finite_at_the_edges_of_the_support():
    p = torch.tensor([0.2, 0.9], dtype=torch.float64, requires_grad=True)
    nu = torch.tensor([0.4, 6.0], dtype=torch.float64, requires_grad=True)
    k = torch.tensor([0.0, 3.0])
    lp = power_binomial_log_prob(k, torch.tensor([5.0, 5.0]), p, nu, torch.tensor([2.0, 3.0]))
    lp.sum().backward()
    assert torch.isfinite(lp).all() and torch.isfinite(p.grad).all() and torch.isfinite(nu.grad).all()
    assert bool(nu.grad.ne(0).all())


def test_power_binomial_normaliser_by_support_groups_equals_one_sum_over_the_longest_support():
    """The normaliser groups elements by support length; against the direct sum over the longest
    support (every element padded), in value and gradient, on supports of lengths 1 to 41."""
    gen = torch.Generator().manual_seed(0)
    n = torch.randint(0, 41, (300,), generator=gen).double()
    top = torch.minimum(torch.randint(0, 41, (300,), generator=gen).double(), n)
    p = torch.rand(300, generator=gen, dtype=torch.float64).requires_grad_()
    nu = (0.2 + 5 * torch.rand(300, generator=gen, dtype=torch.float64)).requires_grad_()
    support = torch.arange(41.0, dtype=torch.float64)
    dense = nu[:, None] * binomial_log_prob(torch.minimum(support, top[:, None]), n[:, None], p[:, None])
    dense = torch.logsumexp(torch.where(support <= top[:, None], dense, torch.tensor(float("-inf"))), -1)
    k = torch.minimum(torch.randint(0, 41, (300,), generator=gen).double(), top)
    direct = nu * binomial_log_prob(k, n, p) - dense
    grouped = power_binomial_log_prob(
        k.reshape(20, 15), n.reshape(20, 15), p.reshape(20, 15), nu.reshape(20, 15), top.reshape(20, 15)
    ).reshape(-1)
    assert torch.allclose(grouped, direct, rtol=0, atol=1e-12)
    g_direct = torch.autograd.grad(direct.sum(), (p, nu))
    g_grouped = torch.autograd.grad(grouped.sum(), (p, nu))
    for a, b in zip(g_direct, g_grouped):
        assert torch.allclose(a, b, rtol=0, atol=1e-10)


def size_mixture():
    log_beta = torch.log(torch.tensor([0.3, 0.7], dtype=torch.float64))
    return log_beta, torch.tensor([0.35, 0.8], dtype=torch.float64)


@pytest.mark.parametrize("concentration", [False, True])
@pytest.mark.parametrize("total", [0, 1, 2, 3, 4])
def test_explicit_community_sizes_sum_to_one_over_sizes_and_simple_graphs(total, concentration):
    row_probs = fake_network(concentration=concentration)

    def bernoulli_probs(t, prefix):
        return [
            (la, CommunityRowProbabilities(pr.p_mass, pr.q_self, pr.pi_edges * 0.9 + 0.05, None, pr.concentration))
            for la, pr in row_probs(t, prefix)
        ]

    mass, by_size = 0.0, {}
    for n in range(1, total + 3):  # n = total + 2 is outside the support: probability 0
        for a in simple_matrices(n, total):
            lp = community_log_prob(
                a, total, bernoulli_probs, leaf=True, leaf_rows="conditional_bernoulli", size_probs=size_mixture()
            )
            mass += math.exp(float(lp))
            by_size[n] = by_size.get(n, 0.0) + math.exp(float(lp))
    assert mass == pytest.approx(1.0, abs=1e-12)
    # the rows fill the drawn size: the marginal of N is the size model itself
    for n, p in by_size.items():
        expected = math.exp(
            float(
                community_size_log_prob(
                    torch.tensor([float(n)]), torch.tensor([float(total)]), *(x.unsqueeze(0) for x in size_mixture())
                )[0]
            )
        )
        assert p == pytest.approx(expected, abs=1e-12)


def test_community_size_support_and_exact_values():
    lo, hi = community_size_support(torch.tensor([0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 7.0, 10.0, 45.0, 46.0]))
    assert lo.tolist() == [1, 2, 3, 3, 4, 4, 5, 5, 10, 11]
    assert hi.tolist() == [1, 2, 3, 4, 5, 7, 8, 11, 46, 47]
    # W = 3: N in {3, 4}; N - 3 ~ 0.3 Bin(1, 0.35) + 0.7 Bin(1, 0.8)
    log_beta, s = size_mixture()
    lp = community_size_log_prob(
        torch.tensor([2.0, 3.0, 4.0, 5.0]), torch.full((4,), 3.0), log_beta.expand(4, 2), s.expand(4, 2)
    )
    p4 = 0.3 * 0.35 + 0.7 * 0.8
    assert lp.exp().tolist() == pytest.approx([0.0, 1 - p4, p4, 0.0], abs=1e-15)
    # with a concentration: PowBin(N - N_lo | N_hi - N_lo, s, ν) per component; ν = 1 is the binomial
    ones = torch.ones(4, 2, dtype=torch.float64)
    same = community_size_log_prob(
        torch.tensor([2.0, 3.0, 4.0, 5.0]), torch.full((4,), 3.0), log_beta.expand(4, 2), s.expand(4, 2), ones
    )
    assert torch.allclose(same, lp)
    nu = torch.tensor([2.0, 0.5], dtype=torch.float64)
    sharp = community_size_log_prob(
        torch.tensor([3.0, 4.0]), torch.full((2,), 3.0), log_beta.expand(2, 2), s.expand(2, 2), nu.expand(2, 2)
    )
    q4 = 0.3 * 0.35**2 / (0.35**2 + 0.65**2) + 0.7 * 0.8**0.5 / (0.8**0.5 + 0.2**0.5)
    assert sharp.exp().tolist() == pytest.approx([1 - q4, q4], abs=1e-15)
    # every budget: the sizes' probabilities sum to 1
    budgets = torch.arange(0.0, 30.0)
    n_lo, n_hi = community_size_support(budgets)
    for w, a, b in zip(budgets.tolist(), n_lo.tolist(), n_hi.tolist()):
        n = torch.arange(a - 1, b + 2, dtype=torch.float64)  # one size below and above the support: 0
        total = community_size_log_prob(
            n, torch.full_like(n, w), log_beta.expand(len(n), 2), s.expand(len(n), 2), torch.full((len(n), 2), 4.0)
        ).exp()
        assert float(total.sum()) == pytest.approx(1.0, abs=1e-12) and float(total[0] + total[-1]) == 0.0


def test_row_mass_interval_exact_values():
    # N = 4, W = 4: row 1 (R = 4, later rows hold 2 + 3 = 5, need >= 2) takes v in [1, min(1, 2)] = {1}
    lo, hi = row_mass_interval(torch.tensor(3.0), torch.tensor(1.0), torch.tensor(4.0))
    assert (float(lo), float(hi)) == (0.0, 0.0)
    # N = 4, W = 6 (a 4-clique): every row is full: row 2 with R = 5 takes v = 2
    lo, hi = row_mass_interval(torch.tensor(4.0), torch.tensor(2.0), torch.tensor(4.0))
    assert (float(lo), float(hi)) == (1.0, 1.0)
    # N = 5, W = 6, row 2 with R = 5: later rows 3, 4 hold 7 and need 2: v in [1, min(2, 3)]
    lo, hi = row_mass_interval(torch.tensor(4.0), torch.tensor(2.0), torch.tensor(5.0))
    assert (float(lo), float(hi)) == (0.0, 1.0)
    # the last row takes all that is left
    lo, hi = row_mass_interval(torch.tensor(2.0), torch.tensor(4.0), torch.tensor(5.0))
    assert (float(lo), float(hi)) == (2.0, 2.0)


@pytest.mark.parametrize("concentration", [False, True])
@pytest.mark.parametrize("allow_disconnected", [True, False])
@pytest.mark.parametrize("total", [0, 1, 2, 3, 4])
def test_explicit_community_count_sums_to_one_for_every_given_count(total, allow_disconnected, concentration):
    """Coarse rows with a given node count N (explicit community count): for every N in 1..W + 1 the
    probabilities of all N-node integer weight matrices of total W sum to 1 (the stop decision of the
    network, present here, is not used; with ``concentration`` both the row masses and the
    self-loops are concentrated)."""
    # p_stop must be ignored
    row_probs = fake_network(row_stop=True, concentration=concentration, self_concentration=concentration)
    for count in range(1, total + 2):
        mass = 0.0
        for a in matrices(count, total, leaf=False):
            lp = community_log_prob(
                a, total, row_probs, leaf=False, allow_disconnected=allow_disconnected, given_count=True
            )
            mass += math.exp(float(lp))
        assert mass == pytest.approx(1.0, abs=1e-12), count
    with pytest.raises(ValueError, match="coarse"):
        community_log_prob(torch.zeros(1, 1), 0, row_probs, leaf=True, given_count=True)


def test_coarse_row_mass_interval_exact_values():
    """v_t in [c_t, R_t - (N - 1 - t)], the last row takes the rest; u = v - c_t."""
    interval = lambda r, t, n: tuple(  # noqa: E731
        float(x) for x in row_mass_interval(torch.tensor(r), torch.tensor(t), torch.tensor(n), simple=False)
    )
    assert interval(10.0, 0.0, 3.0) == (0.0, 8.0)  # first row: v_0 = self-loop in [0, 10 - 2]
    assert interval(10.0, 0.0, 1.0) == (10.0, 10.0)  # a single node takes the whole budget
    assert interval(6.0, 1.0, 3.0) == (0.0, 5.0)  # R_1 = 7: v_1 in [1, 7 - 1]
    assert interval(3.0, 2.0, 3.0) == (3.0, 3.0)  # last row: v = R = 4, u = 3
    assert interval(0.0, 0.0, 1.0) == (0.0, 0.0)  # W = 0, N = 1


def test_fair_share_logit_exact_values():
    """p0 = (R_t / (N - t) - c_t - lo_t) / (hi_t - lo_t): the interval binomial's mean is the fair share."""
    logit = lambda r, t, k: float(fair_share_logit(torch.tensor(r), torch.tensor(t), torch.tensor(k)))  # noqa: E731
    assert logit(10.0, 0.0, 2.0) == pytest.approx(math.log((10 / 3 / 8) / (1 - 10 / 3 / 8)))  # u in [0, 8]
    assert logit(6.0, 1.0, 1.0) == pytest.approx(0.0)  # R = 7 over 2 rows: v = 3.5, u = 2.5 in [0, 5]
    assert logit(9.0, 1.0, 2.0) == pytest.approx(-math.log(2.0))  # R = 10 over 3: u = 7/3 in [0, 7], p0 = 1/3
    assert logit(3.0, 2.0, 0.0) == 0.0  # the last row's mass is forced
    assert logit(100.0, 0.0, 99.0) == pytest.approx(math.log(0.999 / 0.001))  # u in [0, 1], fair 1: clipped
    # leaf rows of explicit sizes (simple): v_t in [max(1, R_t - C_t), min(t, R_t - (N - 1 - t))]
    leaf = lambda r, t, k: float(  # noqa: E731
        fair_share_logit(torch.tensor(r), torch.tensor(t), torch.tensor(k), simple=True)
    )
    assert leaf(4.0, 3.0, 1.0) == pytest.approx(math.log(3.0))  # N = 5, R = 5: v in [1, 3], fair 2.5, p0 = 3/4
    assert leaf(2.0, 2.0, 1.0) == pytest.approx(0.0)  # N = 4, R = 3: v in [1, 2], fair 1.5
    assert leaf(3.0, 1.0, 2.0) == 0.0  # row 1 holds one edge: forced
    assert leaf(5.0, 2.0, 2.0) == pytest.approx(math.log(0.999 / 0.001))  # N = 5, R = 6: v in [1, 2], fair 2
    assert logit(4.0, 3.0, 1.0) != leaf(4.0, 3.0, 1.0)  # a coarse row of the same numbers has no capacity
    batch = fair_share_logit(torch.tensor([10.0, 6.0]), torch.tensor([0, 1]), torch.tensor([2, 1]))
    assert batch.dtype == torch.float64 and batch.shape == (2,)


def test_explicit_count_rows_are_the_interval_binomial():
    """Exact value: a 2-node coarse community of W = 3 with N given: row 0 keeps a self-loop
    s_0 ~ Bin(2, p_0) on [0, 2]; row 1 takes the rest (3 - s_0, reserved unit included), its
    self-loop s_1 ~ Bin(3 - s_0, q_1) and the rest on its single earlier node."""
    p0, p1, q1 = 0.3, 0.6, 0.25

    def probs(t, prefix):
        pi = torch.ones(t, dtype=torch.float64)
        p = torch.tensor(p0 if t == 0 else p1, dtype=torch.float64)
        return [(torch.zeros((), dtype=torch.float64), CommunityRowProbabilities(p, torch.tensor(q1), pi))]

    a = torch.tensor([[1.0, 0.0], [2.0, 0.0]], dtype=torch.float64)  # s_0 = 1, row 1: 2 units on node 0, s_1 = 0
    expected = math.comb(2, 1) * p0 * (1 - p0) * (1 - q1) ** 2
    assert math.exp(float(community_log_prob(a, 3, probs, leaf=False, given_count=True))) == pytest.approx(
        expected, rel=1e-12
    )
