import itertools
import math

import pytest
import torch

from graphgen.datasets import load_dataset
from graphgen.models.higen import HiGen, HiGenConfig
from graphgen.models.higen.bipartite import segment_conditional_bernoulli_log_prob
from graphgen.models.higen.model import Draws
from graphgen.models.higen.row_runs import (
    feasible_runs,
    prefix_border_places,
    run_log_prob,
    run_mixture_log_prob,
    sample_runs,
)
from graphgen.models.higen.row_sequence import teacher_forced_prefix_edges
from graphgen.models.higen.rows import community_rows

# a triangulated disc of 6 nodes (a fan 0-1-2-3-4 around node 5's future neighbours): triangles
# 012, 023, 034, 045; the outer cycle is 0-1-2-3-4-5 (6 nodes), node 0 on every triangle
DISC = [(0, 1), (1, 2), (0, 2), (2, 3), (0, 3), (3, 4), (0, 4), (4, 5), (0, 5)]


def prefix(edges, t):
    """One row of ``t`` prefix nodes: ``(lengths, erows, esrc, edst)`` with both edge directions."""
    a = torch.tensor([e[0] for e in edges])
    b = torch.tensor([e[1] for e in edges])
    return torch.tensor([t]), torch.zeros(2 * len(edges), dtype=torch.long), torch.cat([a, b]), torch.cat([b, a])


def rows_of_subsets(t, subsets, place, length, logits):
    """Every subset as a row over the same ``t`` prefix nodes (same border cycle and scores)."""
    r = len(subsets)
    entry_row = torch.repeat_interleave(torch.arange(r), t)
    count = torch.zeros(r * t, dtype=torch.long)
    for i, chosen in enumerate(subsets):
        for j in chosen:
            count[i * t + j] = 1
    take = torch.tensor([len(s) for s in subsets])
    return logits.repeat(r, 1), count, entry_row, place.repeat(r), length.expand(r).clone(), take


def test_border_places_of_a_disc_follow_its_outer_cycle():
    place, length = prefix_border_places(*prefix(DISC, 6))
    assert length.tolist() == [6]
    assert sorted(place.tolist()) == list(range(6))
    # consecutive places are joined by an outer edge (the cycle closes too)
    node_at = {p: j for j, p in enumerate(place.tolist())}
    outer = {frozenset(e) for e in [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (0, 5)]}
    assert all(frozenset((node_at[p], node_at[(p + 1) % 6])) in outer for p in range(6))
    # an inner node is off the cycle: a wheel's hub
    wheel = [(0, 1), (1, 2), (2, 3), (3, 0)] + [(4, j) for j in range(4)]
    place, length = prefix_border_places(*prefix(wheel, 5))
    assert length.tolist() == [4] and place[4] == -1


def test_border_places_of_many_rows_are_each_rows_own():
    """Rows laid out one after another (one of them empty) get the places of their own prefix."""
    one = prefix(DISC, 6)
    two = prefix([(0, 1)], 2)
    lengths = torch.tensor([6, 0, 2])
    erows = torch.cat([one[1], torch.full_like(two[1], 2)])
    place, length = prefix_border_places(lengths, erows, torch.cat([one[2], two[2]]), torch.cat([one[3], two[3]]))
    alone = prefix_border_places(*one)[0]
    assert length.tolist() == [6, 0, 2]
    assert place[:6].tolist() == alone.tolist() and sorted(place[6:].tolist()) == [0, 1]


@pytest.mark.parametrize("edges,t", [(DISC, 6), ([(0, 1), (1, 2), (0, 2), (2, 3)], 4), ([(0, 1)], 2)])
def test_run_rows_and_their_mixture_sum_to_one_by_enumeration(edges, t):
    """For every w: p_run sums to 1 over the w-subsets when the row is feasible (0 otherwise), its
    support is the runs of the border cycle, and the mixture with the conditional Bernoulli sums to 1."""
    place, length = prefix_border_places(*prefix(edges, t))
    logits = torch.randn(t, 3, generator=torch.Generator().manual_seed(t), dtype=torch.float64)
    big_l = int(length)
    for w in range(t + 1):
        subsets = list(itertools.combinations(range(t), w))
        args = rows_of_subsets(t, subsets, place, length, logits)
        run = run_log_prob(*args)
        feasible = bool(feasible_runs(torch.tensor([w]), length))
        total = run.exp().sum(0)
        assert total.tolist() == pytest.approx([1.0 if feasible else 0.0] * 3, abs=1e-12), w
        # the runs: w consecutive places modulo L (all border nodes when w = L)
        places = place.tolist()
        runs = set()
        if feasible:
            for s in range(big_l):
                runs.add(frozenset(j for j in range(t) if places[j] >= 0 and (places[j] - s) % big_l < w))
        support = {frozenset(s) for s, lp in zip(subsets, run[:, 0].tolist()) if lp > -math.inf}
        assert support == runs
        cb = segment_conditional_bernoulli_log_prob(
            args[0], args[1], args[2], torch.arange(t).repeat(len(subsets)), len(subsets), args[5]
        )
        share = torch.full((len(subsets),), 0.3)
        mixed = run_mixture_log_prob(cb, run, share, feasible_runs(args[5], args[4]))
        assert mixed.exp().sum(0).tolist() == pytest.approx([1.0] * 3, abs=1e-12), w
        if not feasible:
            assert torch.equal(mixed, cb)


def test_a_run_is_the_conditional_bernoulli_restricted_to_the_runs():
    """p_run(Y) = p_cb(Y) / p_cb(Y is a run) for every run Y (the scores are the same)."""
    t, w = 6, 3
    place, length = prefix_border_places(*prefix(DISC, t))
    logits = torch.randn(t, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    subsets = list(itertools.combinations(range(t), w))
    args = rows_of_subsets(t, subsets, place, length, logits)
    run = run_log_prob(*args)
    cb = segment_conditional_bernoulli_log_prob(
        args[0], args[1], args[2], torch.arange(t).repeat(len(subsets)), len(subsets), args[5]
    )
    is_run = torch.isfinite(run[:, 0])
    assert int(is_run.sum()) == 6  # six starts on a cycle of six
    mass = cb[is_run].exp().sum(0)
    assert torch.allclose(run[is_run], cb[is_run] - mass.log(), rtol=1e-12)


def test_sampled_rows_follow_the_mixture():
    """Rows drawn by sample_runs (π from the share logit) match the mixture's probabilities."""
    t, w, draws_n = 6, 3, 6000
    place, length = prefix_border_places(*prefix(DISC, t))
    logits = torch.randn(t, 1, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    lengths = torch.full((draws_n,), t)
    out = sample_runs(
        logits[:, 0].repeat(draws_n),
        lengths,
        torch.full((draws_n,), w),
        place.repeat(draws_n),
        length.expand(draws_n).clone(),
        torch.full((draws_n,), 0.4, dtype=torch.float64),
        Draws(torch.Generator().manual_seed(0)),
    ).view(draws_n, t)
    assert torch.equal(out.sum(1), torch.full((draws_n,), w))
    subsets = list(itertools.combinations(range(t), w))
    args = rows_of_subsets(t, subsets, place, length, logits)
    cb = segment_conditional_bernoulli_log_prob(
        args[0], args[1], args[2], torch.arange(t).repeat(len(subsets)), len(subsets), args[5]
    )
    expected = run_mixture_log_prob(
        cb, run_log_prob(*args), torch.full((len(subsets),), 0.4), feasible_runs(args[5], args[4])
    ).exp()[:, 0]
    seen = {tuple(row.nonzero().flatten().tolist()) for row in out}
    assert seen <= set(subsets)
    freq = torch.tensor([float((out[:, list(s)].sum(1) == w).float().mean()) for s in subsets], dtype=torch.float64)
    assert float((freq - expected).abs().max()) < 0.02
    # the runs come more often than the conditional Bernoulli alone would give them
    runs = torch.isfinite(run_log_prob(*args)[:, 0])
    assert float(freq[runs].sum()) > float(cb[runs, 0].exp().sum()) + 0.2


def test_an_infeasible_row_is_drawn_from_the_conditional_bernoulli():
    """w > L: never a run, whatever π; w = 0: nothing drawn."""
    place, length = prefix_border_places(*prefix([(0, 1), (1, 2), (2, 3), (3, 0), (4, 0), (4, 1), (4, 2), (4, 3)], 5))
    assert int(length) == 4
    out = sample_runs(
        torch.zeros(10),
        torch.tensor([5, 5]),
        torch.tensor([5, 0]),
        place.repeat(2),
        length.expand(2).clone(),
        torch.full((2,), 50.0, dtype=torch.float64),
        Draws(torch.Generator().manual_seed(0)),
    )
    assert out[:5].tolist() == [1] * 5 and out[5:].tolist() == [0] * 5


def test_teacher_forced_prefix_edges_are_each_rows_earlier_edges():
    """On real communities, every row's prefix edges are its community's edges among nodes < t."""
    graphs = load_dataset("planar", "test")[:3]
    model = HiGen(HiGenConfig(hidden=8, num_layers=1, num_mixtures=2, position_dim=4, resolution=0.3))
    h = model._hierarchy(graphs, 0)  # ordered, as the model trains on it
    rows = community_rows(h, 2)
    erows, esrc, edst = teacher_forced_prefix_edges(rows)
    leaf, parent = h.levels[2], h.assignments[1]
    sizes = torch.bincount(parent)
    first = torch.cumsum(sizes, 0) - sizes
    u, v = leaf.edge_index
    inside = (parent[u] == parent[v]) & (u != v)
    local_u, local_v = u[inside] - first[parent[u[inside]]], v[inside] - first[parent[v[inside]]]
    for i in torch.randperm(rows.num_rows, generator=torch.Generator().manual_seed(0))[:60].tolist():
        c, t = int(rows.community[i]), int(rows.position[i])
        mine = parent[u[inside]] == c
        expected = {(a, b) for a, b in zip(local_u[mine].tolist(), local_v[mine].tolist()) if a < t and b < t}
        got = {(a, b) for a, b in zip(esrc[erows == i].tolist(), edst[erows == i].tolist())}
        assert got == expected
