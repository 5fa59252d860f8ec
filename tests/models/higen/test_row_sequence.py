import itertools
import math

import networkx as nx
import pytest
import torch

from graphgen.models.higen.bipartite import segment_conditional_bernoulli_log_prob
from graphgen.models.higen.model import Draws
from graphgen.models.higen.row_sequence import (
    prefix_adjacency,
    row_coordination_net,
    row_features,
    row_sequence_log_prob,
    sample_row_sequences,
)


def random_g(seed):
    torch.manual_seed(seed)
    g = row_coordination_net(8).double()
    for p in g.parameters():
        torch.nn.init.normal_(p, std=0.8)
    return g


def random_prefix(t, seed, p=0.6):
    gen = torch.Generator().manual_seed(seed)
    upper = torch.triu((torch.rand(t, t, generator=gen) < p).double(), 1)
    return upper + upper.T


def one_row_batch(adjacency, subsets, logits):
    """Every subset in ``subsets`` as a row over the same ``t`` earlier nodes and scores."""
    t, k = logits.shape
    r = len(subsets)
    entry_row = torch.repeat_interleave(torch.arange(r), t)
    entry_node = torch.arange(t).repeat(r)
    count = torch.zeros(r * t, dtype=torch.long)
    for i, chosen in enumerate(subsets):
        for j in chosen:
            count[i * t + j] = 1
    take = torch.tensor([len(s) for s in subsets])
    return logits.repeat(r, 1), count, entry_row, entry_node, take, adjacency.expand(r, t, t)


def test_without_coordination_each_component_is_the_conditional_bernoulli():
    g = row_coordination_net()  # zero at initialisation
    gen = torch.Generator().manual_seed(0)
    t, k = 6, 3
    adjacency = random_prefix(t, 1)
    logits = torch.randn(t, k, generator=gen, dtype=torch.float64)
    subsets = [(0, 2, 3), (1,), (), (0, 1, 2, 3, 4, 5), (4, 5)]
    args = one_row_batch(adjacency, subsets, logits)
    with torch.no_grad():
        lp = row_sequence_log_prob(*args, g)
    expected = segment_conditional_bernoulli_log_prob(args[0], args[1], args[2], args[3], len(subsets), args[4])
    assert lp.shape == (len(subsets), k)
    assert torch.allclose(lp, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("t", [4, 6])
def test_coordinated_rows_sum_to_one_by_enumeration(t):
    g = random_g(0)
    gen = torch.Generator().manual_seed(t)
    adjacency = random_prefix(t, t)
    logits = torch.randn(t, 2, generator=gen, dtype=torch.float64)
    for w in range(t + 1):
        subsets = list(itertools.combinations(range(t), w))
        with torch.no_grad():
            lp = row_sequence_log_prob(*one_row_batch(adjacency, subsets, logits), g)
        assert lp.exp().sum(0).tolist() == pytest.approx([1.0, 1.0], abs=1e-12), w
    # g changes the distribution: it is no longer the conditional Bernoulli
    subsets = [(0, 1, 2)]
    args = one_row_batch(adjacency, subsets, logits)
    with torch.no_grad():
        coordinated = row_sequence_log_prob(*args, g)
    independent = segment_conditional_bernoulli_log_prob(args[0], args[1], args[2], args[3], 1, args[4])
    assert float((coordinated - independent).abs().max()) > 1e-3


def test_features_on_a_fan_against_hand_counts():
    # prefix graph: path 0-1-2-3 with hub 4 joined to all of them (a fan): T(1,4) = T(2,4) = 2, T(0,4) = 1
    fan = nx.Graph([(0, 1), (1, 2), (2, 3), (4, 0), (4, 1), (4, 2), (4, 3)])
    adjacency = torch.tensor(nx.to_numpy_array(fan, nodelist=range(5)), dtype=torch.float64).unsqueeze(0)
    placed = torch.tensor([[0.0, 0.0, 0.0, 0.0, 1.0]], dtype=torch.float64)  # the hub chosen
    a, s, q, d = row_features(placed, adjacency).expm1().round()[0].unbind(-1)
    assert a.tolist() == [1.0, 1.0, 1.0, 1.0, 0.0]
    # joining the hub and node 1 puts the edge (1, 4), already on triangles 0-1-4 and 1-2-4, on a third
    assert s.tolist() == [0.0, 1.0, 1.0, 0.0, 0.0]
    two_paths = torch.tensor(nx.to_numpy_array(fan, nodelist=range(5)))
    assert q.tolist() == (two_paths @ two_paths)[4].tolist()  # A²[hub, j]
    assert d.tolist() == [1.0] * 5
    # two chosen nodes: counts add up
    placed = torch.tensor([[1.0, 0.0, 0.0, 1.0, 0.0]], dtype=torch.float64)
    a, s, _, d = row_features(placed, adjacency).expm1().round()[0].unbind(-1)
    assert a.tolist() == [0.0, 1.0, 1.0, 0.0, 2.0]
    assert s.tolist() == [0.0] * 5  # (0, 4) and (3, 4) lie on one triangle each
    assert d.tolist() == [2.0] * 5


def test_prefix_adjacency_reads_each_rows_earlier_nodes_from_its_community():
    from graphgen.data import build_hierarchy
    from graphgen.data.hierarchy_order import order_hierarchy
    from graphgen.datasets import load_dataset
    from graphgen.models.higen.rows import community_rows

    graphs = load_dataset("planar", split="train")[:3]
    h = order_hierarchy(build_hierarchy(graphs, num_levels=2, seed=0))
    rows = community_rows(h, 2)
    adjacency = prefix_adjacency(rows)
    level, parent = h.levels[2], h.assignments[1]
    g = nx.Graph()
    g.add_nodes_from(range(int(level.num_nodes)))
    g.add_edges_from(level.edge_index.t().tolist())
    first = {}
    for node in range(int(level.num_nodes)):
        first.setdefault(int(parent[node]), node)
    for r in range(rows.num_rows):
        t = int(rows.position[r])
        start = first[int(rows.community[r])]
        expected = nx.to_numpy_array(g.subgraph(range(start, start + t)), nodelist=range(start, start + t))
        assert adjacency[r, :t, :t].tolist() == expected.tolist()
        assert float(adjacency[r, t:].abs().sum() + adjacency[r, :, t:].abs().sum()) == 0.0


def test_samples_follow_the_likelihood():
    g = random_g(2)
    t, w, n = 5, 2, 8000
    adjacency = random_prefix(t, 3)
    logits = torch.randn(t, 1, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    with torch.no_grad():
        edges = sample_row_sequences(
            logits[:, 0].repeat(n),
            torch.full((n,), t),
            torch.full((n,), w),
            adjacency.expand(n, t, t),
            g,
            Draws(torch.Generator().manual_seed(0)),
        ).view(n, t)
    assert bool((edges.sum(1) == w).all())
    keys = (edges * (2 ** torch.arange(t))).sum(1)
    seen = torch.bincount(keys, minlength=2**t).double() / n
    subsets = list(itertools.combinations(range(t), w))
    with torch.no_grad():
        exact = row_sequence_log_prob(*one_row_batch(adjacency, subsets, logits), g)[:, 0].exp()
    for chosen, pk in zip(subsets, exact.tolist()):
        key = sum(2**j for j in chosen)
        assert abs(float(seen[key]) - pk) <= 4.5 * math.sqrt(pk * (1 - pk) / n) + 1e-9


def test_rows_of_different_lengths_sample_their_own_counts_and_gradients_reach_g():
    g = random_g(5)
    lengths = torch.tensor([0, 3, 6, 4])
    take = torch.tensor([0, 1, 4, 0])
    m = 6
    adjacency = torch.zeros(4, m, m, dtype=torch.float64)
    for i, t in enumerate(lengths.tolist()):
        adjacency[i, :t, :t] = random_prefix(t, i)
    logits = torch.randn(int(lengths.sum()), dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        edges = sample_row_sequences(logits, lengths, take, adjacency, g, Draws(torch.Generator().manual_seed(2)))
    per_row = torch.zeros(4, dtype=torch.long).index_add_(0, torch.repeat_interleave(torch.arange(4), lengths), edges)
    assert per_row.tolist() == take.tolist()
    # the likelihood of those rows: finite, and g receives gradient
    entry_row = torch.repeat_interleave(torch.arange(4), lengths)
    from graphgen.data.ops import segment_arange

    scores = logits.unsqueeze(1).repeat(1, 2).requires_grad_(True)
    lp = row_sequence_log_prob(scores, edges, entry_row, segment_arange(lengths), take, adjacency, g)
    (-lp.sum()).backward()
    assert torch.isfinite(scores.grad).all()
    assert float(g[2].weight.grad.abs().sum()) > 0
