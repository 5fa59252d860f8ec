import math

import pytest
import torch

from graphgen.data import build_hierarchy, to_dense
from graphgen.data.hierarchy_order import order_hierarchy
from graphgen.datasets import load_dataset
from graphgen.models.higen.rows import community_rows, row_log_likelihood
from graphgen.models.higen.stick_breaking import CommunityRowProbabilities, community_log_prob

K = 3


@pytest.fixture(scope="module")
def hierarchy():
    enzymes = load_dataset("enzymes", "train")
    graphs = load_dataset("community_small", "train")[:3] + enzymes[:2] + [enzymes[5]]  # enzymes[5]: 2 components
    return order_hierarchy(build_hierarchy(graphs, seed=0))


def random_outputs(rows, seed):
    gen = torch.Generator().manual_seed(seed)
    r, p = rows.num_rows, int(rows.entry_row.numel())
    log_alpha = torch.log_softmax(torch.randn(r, K, generator=gen, dtype=torch.float64), 1)
    p_mass = torch.rand(r, K, generator=gen, dtype=torch.float64) * 0.9 + 0.05
    q_self = torch.rand(r, K, generator=gen, dtype=torch.float64) * 0.9 + 0.05
    logits = torch.randn(p, K, generator=gen, dtype=torch.float64)
    p_stop = torch.rand(r, K, generator=gen, dtype=torch.float64) * 0.9 + 0.05
    concentration = torch.exp(torch.randn(r, K, generator=gen, dtype=torch.float64))
    self_concentration = torch.exp(torch.randn(r, K, generator=gen, dtype=torch.float64))
    return log_alpha, p_mass, q_self, logits, p_stop, concentration, self_concentration


@pytest.mark.parametrize("row_stop", [False, True])
@pytest.mark.parametrize(
    "with_concentration, with_self_concentration", [(False, False), (True, False), (False, True), (True, True)]
)
@pytest.mark.parametrize(
    "level, leaf_rows, allow_disconnected, mass_trials, given_count",
    [
        (1, "multinomial", True, "budget", False),
        (1, "multinomial", False, "budget", False),
        (1, "multinomial", True, "budget", True),  # explicit community count: the coarse rows' N is given
        (1, "multinomial", False, "budget", True),
        (2, "multinomial", True, "budget", False),
        (2, "conditional_bernoulli", True, "budget", False),
        (2, "conditional_bernoulli", True, "capacity", False),
    ],
)
def test_batched_rows_equal_the_per_community_reference(
    hierarchy,
    level,
    leaf_rows,
    allow_disconnected,
    mass_trials,
    given_count,
    row_stop,
    with_concentration,
    with_self_concentration,
):
    rows = community_rows(hierarchy, level)
    log_alpha, p_mass, q_self, logits, p_stop, nu, xi = random_outputs(rows, level)
    p_stop = p_stop if row_stop else None
    nu = nu if with_concentration else None
    xi = xi if with_self_concentration else None  # the leaf level has no self-loops: xi is unused there
    kw = dict(leaf_rows=leaf_rows, allow_disconnected=allow_disconnected, mass_trials=mass_trials)
    fast = row_log_likelihood(rows, log_alpha, p_mass, q_self, logits, p_stop, nu, xi, explicit_size=given_count, **kw)
    impossible = 0
    comm = hierarchy.communities(level)
    for c in range(comm.num_graphs):
        sub = comm.get_example(c)
        adj, _ = to_dense(sub)
        a = torch.tril(adj[0]).to(torch.float64)
        members = (rows.community == c).nonzero().flatten()  # rows of community c, in order

        def row_probs(t, prefix, members=members):
            i = int(members[t])
            entries = (rows.entry_row == i).nonzero().flatten()
            out = []
            for k in range(K):
                if leaf_rows == "conditional_bernoulli" and rows.leaf:
                    pi = torch.sigmoid(logits[entries, k])
                else:
                    pi = torch.softmax(logits[entries, k], 0)
                stop = None if p_stop is None else p_stop[i, k]
                conc = None if nu is None else nu[i, k]
                self_conc = None if xi is None else xi[i, k]
                probs = CommunityRowProbabilities(p_mass[i, k], q_self[i, k], pi, stop, conc, self_conc)
                out.append((log_alpha[i, k], probs))
            return out

        budget = int(rows.budget[members[0]])
        slow = community_log_prob(a, budget, row_probs, leaf=rows.leaf, given_count=given_count, **kw)
        if float(slow) == float("-inf"):
            impossible += 1
            assert float(fast[members].sum()) == float("-inf")
            continue
        assert float(fast[members].sum()) == pytest.approx(float(slow), rel=1e-10, abs=1e-10)
    # the two-component enzymes graph is impossible exactly when coarse rows must join an earlier node
    assert impossible == (1 if (level == 1 and not allow_disconnected) else 0)


def test_rows_spend_the_budgets(hierarchy):
    for level in (1, 2):
        rows = community_rows(hierarchy, level)
        spent = torch.zeros(int(rows.community.max()) + 1, dtype=torch.long).index_add_(
            0, rows.community, rows.mass + rows.reserved
        )
        budget = torch.zeros_like(spent).index_put_((rows.community,), rows.budget)
        assert torch.equal(spent, budget)
        assert bool((rows.remaining >= rows.mass).all()) and bool((rows.mass >= 0).all())


def test_likelihood_is_differentiable(hierarchy):
    rows = community_rows(hierarchy, 2)
    log_alpha, p_mass, q_self, logits, p_stop, nu, _ = random_outputs(rows, 0)
    for tensor in (logits, p_mass, p_stop, nu):
        tensor.requires_grad_(True)
    for leaf_rows in ("multinomial", "conditional_bernoulli"):
        for stop in (None, p_stop):
            for conc in (None, nu):
                loss = -row_log_likelihood(
                    rows, log_alpha, p_mass, q_self, logits, stop, conc, leaf_rows=leaf_rows
                ).sum()
                loss.backward()
                assert torch.isfinite(logits.grad).all() and torch.isfinite(p_mass.grad).all()
                assert stop is None or (torch.isfinite(p_stop.grad).all() and bool(p_stop.grad.ne(0).any()))
                assert conc is None or (torch.isfinite(nu.grad).all() and bool(nu.grad.ne(0).any()))
                logits.grad = p_mass.grad = p_stop.grad = nu.grad = None
    with pytest.raises(ValueError, match="ordered hierarchy"):
        community_rows(build_hierarchy(load_dataset("enzymes", "train")[:1], seed=0), 2)


def test_self_loop_concentration_is_differentiable_and_one_is_the_binomial(hierarchy):
    """Coarse rows: ξ gets a finite, non-zero gradient; ξ = 1 gives the paper's binomial self-loops
    exactly; first rows (all self-loop) do not depend on ξ."""
    rows = community_rows(hierarchy, 1)
    log_alpha, p_mass, q_self, logits, _, _, xi = random_outputs(rows, 3)
    xi.requires_grad_(True)
    lp = row_log_likelihood(rows, log_alpha, p_mass, q_self, logits, None, None, xi)
    (-lp.sum()).backward()
    assert torch.isfinite(xi.grad).all() and bool(xi.grad[rows.position > 0].ne(0).any())
    assert bool(xi.grad[rows.position == 0].eq(0).all())
    binomial = row_log_likelihood(rows, log_alpha, p_mass, q_self, logits, None, None, None)
    at_one = row_log_likelihood(rows, log_alpha, p_mass, q_self, logits, None, None, torch.ones_like(xi))
    assert torch.allclose(at_one, binomial, rtol=1e-12, atol=1e-12)
    assert not torch.allclose(lp.detach(), binomial)


@pytest.mark.parametrize("with_concentration", [False, True])
def test_explicit_size_rows_equal_the_per_community_reference(hierarchy, with_concentration):
    from graphgen.models.higen.stick_breaking import community_size_log_prob

    rows = community_rows(hierarchy, 2)
    log_alpha, p_mass, q_self, logits, _, nu, _ = random_outputs(rows, 7)
    nu = nu if with_concentration else None
    fast = row_log_likelihood(
        rows, log_alpha, p_mass, q_self, logits, None, nu, leaf_rows="conditional_bernoulli", explicit_size=True
    )
    size_probs = (
        torch.log(torch.tensor([0.4, 0.6], dtype=torch.float64)),
        torch.tensor([0.2, 0.7], dtype=torch.float64),
    )
    comm = hierarchy.communities(2)
    for c in range(comm.num_graphs):
        adj, _ = to_dense(comm.get_example(c))
        a = torch.tril(adj[0]).to(torch.float64)
        members = (rows.community == c).nonzero().flatten()
        assert int(rows.size[members[0]]) == a.shape[0] == members.numel()

        def row_probs(t, prefix, members=members):
            i = int(members[t])
            entries = (rows.entry_row == i).nonzero().flatten()
            return [
                (
                    log_alpha[i, k],
                    CommunityRowProbabilities(
                        p_mass[i, k],
                        q_self[i, k],
                        torch.sigmoid(logits[entries, k]),
                        concentration=None if nu is None else nu[i, k],
                    ),
                )
                for k in range(K)
            ]

        budget = int(rows.budget[members[0]])
        slow = community_log_prob(
            a, budget, row_probs, leaf=True, leaf_rows="conditional_bernoulli", size_probs=size_probs
        )
        size_lp = community_size_log_prob(
            torch.tensor([float(a.shape[0])]), torch.tensor([float(budget)]), *(x.unsqueeze(0) for x in size_probs)
        )[0]
        assert math.isfinite(float(slow))
        assert float(fast[members].sum()) == pytest.approx(float(slow - size_lp), rel=1e-10, abs=1e-10)
