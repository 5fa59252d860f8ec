"""WL embeddings and the graph Wasserstein distance: oracles, metric properties, shift ranking."""

from __future__ import annotations

import networkx as nx
import numpy as np
import ot
import pytest
import torch
from hypothesis import given, settings

from graphgen.data import from_edge_array, permute_graph
from graphgen.datasets import barabasi_albert_graphs, erdos_renyi_graphs, sbm_graphs
from graphgen.errors import GraphgenError
from graphgen.valuation import (
    graph_wasserstein,
    node_descriptors,
    sliced_wasserstein,
    structural_disparity,
    wasserstein_between_atoms,
    wl_embeddings,
)
from tests.conftest import random_graph, simple_graphs


def _wl_reference(data, iterations):
    """Slow oracle: the WWL recursion node by node with networkx."""
    g = nx.Graph()
    g.add_nodes_from(range(data.num_nodes))
    g.add_edges_from(data.edge_index.t().tolist())
    x = {v: float(g.degree(v)) for v in g}
    rows = {v: [x[v]] for v in g}
    for _ in range(iterations):
        new = {}
        for v in g:
            nbrs = list(g.neighbors(v))
            mean = sum(x[u] for u in nbrs) / len(nbrs) if nbrs else x[v]
            new[v] = 0.5 * (x[v] + mean)
        x = new
        for v in g:
            rows[v].append(x[v])
    return np.array([rows[v] for v in range(data.num_nodes)]).reshape(data.num_nodes, iterations + 1)


@settings(max_examples=60, deadline=None)
@given(simple_graphs(min_nodes=1, max_nodes=16))
def test_wl_embeddings_equal_the_networkx_oracle(graph):
    for h in (0, 1, 3):
        np.testing.assert_allclose(wl_embeddings([graph], iterations=h)[0], _wl_reference(graph, h), atol=1e-12)


def test_wl_embeddings_of_a_batch_equal_one_at_a_time_and_use_weights():
    graphs = [random_graph(n, 0.3, seed=n) for n in (1, 5, 9, 12)]
    together = wl_embeddings(graphs, iterations=2)
    for g, e in zip(graphs, together):
        np.testing.assert_allclose(e, wl_embeddings([g], iterations=2)[0], atol=1e-12)
    weighted = from_edge_array(3, [[0, 1], [1, 2]], [3, 1])
    emb = wl_embeddings([weighted], iterations=1)[0]
    # weighted degree 3, 4, 1; node 1: (4 + (3*3 + 1*1)/4) / 2
    np.testing.assert_allclose(emb[:, 0], [3, 4, 1])
    assert emb[1, 1] == pytest.approx((4 + 10 / 4) / 2)


def test_node_features_and_descriptors():
    g = random_graph(10, 0.4, seed=0)
    g.x = torch.arange(20, dtype=torch.float32).reshape(10, 2)
    emb = wl_embeddings([g], iterations=2, features="x")[0]
    assert emb.shape == (10, 6)
    np.testing.assert_allclose(emb[:, :2], g.x.numpy())
    desc = node_descriptors([g], iterations=2)
    np.testing.assert_allclose(
        desc[:, -1], list(nx.clustering(nx.Graph(g.edge_index.t().tolist())).get(v, 0) for v in range(10))
    )
    with pytest.raises(GraphgenError, match="no node features"):
        wl_embeddings([random_graph(4, 0.5, 1)], features="x")


def _er(n, p, seed):
    return random_graph(n, p, seed)


def test_distance_axioms_on_graph_triples():
    graphs = [_er(n, p, s) for s, (n, p) in enumerate([(12, 0.3), (15, 0.2), (10, 0.5), (14, 0.25), (9, 0.4)])]
    d = np.array([[graph_wasserstein(a, b) for b in graphs] for a in graphs])
    np.testing.assert_allclose(np.diag(d), 0.0, atol=1e-12)
    np.testing.assert_allclose(d, d.T, atol=1e-12)
    for i in range(5):
        for j in range(5):
            for k in range(5):
                assert d[i, k] <= d[i, j] + d[j, k] + 1e-9


def test_gwd_equals_pot_on_the_embeddings():
    a, b = _er(12, 0.3, 0), _er(15, 0.2, 1)
    ea, eb = wl_embeddings([a, b], iterations=3)
    expected = ot.emd2(np.full(12, 1 / 12), np.full(15, 1 / 15), ot.dist(ea, eb, metric="euclidean"))
    assert graph_wasserstein(a, b) == pytest.approx(expected, rel=1e-9)


def test_relabelling_invariance_and_isomorphic_copies():
    graphs = [_er(20, 0.2, s) for s in range(4)]
    gen = torch.Generator().manual_seed(0)
    relabelled = [permute_graph(g, torch.randperm(g.num_nodes, generator=gen)) for g in graphs]
    assert structural_disparity(graphs, relabelled) == pytest.approx(0.0, abs=1e-12)
    others = [_er(20, 0.3, 10 + s) for s in range(4)]
    for method in ("emd", "sliced", "sinkhorn"):
        assert structural_disparity(graphs, others, method=method) == pytest.approx(
            structural_disparity(relabelled, others, method=method), abs=1e-12
        )
    assert structural_disparity(graphs, relabelled, level="hierarchical") == pytest.approx(0.0, abs=1e-12)


def test_sliced_matches_pot_and_exact_1d():
    rng = np.random.default_rng(0)
    xa, xb = rng.normal(size=(40, 3)), rng.normal(size=(70, 3)) + 0.5
    wa, wb = rng.random(40), rng.random(70)
    theta = rng.normal(size=(3, 20))
    theta /= np.linalg.norm(theta, axis=0)
    expected = ot.sliced_wasserstein_distance(xa, xb, wa / wa.sum(), wb / wb.sum(), projections=theta)
    assert sliced_wasserstein(xa, xb, wa, wb, projections=theta) == pytest.approx(expected, rel=1e-10)
    axis = np.array([[1.0], [0.0], [0.0]])
    exact = ot.emd2(wa / wa.sum(), wb / wb.sum(), ot.dist(xa[:, :1], xb[:, :1]))
    assert sliced_wasserstein(xa, xb, wa, wb, projections=axis) ** 2 == pytest.approx(exact, rel=1e-10)
    assert sliced_wasserstein(xa, xa, wa, wa) == 0.0


def test_sinkhorn_is_an_upper_estimate_close_to_exact():
    rng = np.random.default_rng(1)
    xa, xb = rng.normal(size=(300, 4)) * 3, rng.normal(size=(250, 4)) * 3 + 1
    exact = wasserstein_between_atoms(xa, xb)
    entropic = wasserstein_between_atoms(xa, xb, method="sinkhorn")
    assert exact - 1e-9 <= entropic <= 1.3 * exact


def test_pooled_and_hierarchical_levels():
    a, b = [_er(10, 0.3, 0)], [_er(12, 0.3, 1)]
    assert structural_disparity(a, b, level="hierarchical") == pytest.approx(structural_disparity(a, b), rel=1e-9)
    # pooled weights: every graph weighs the same whatever its size
    small, big = _er(5, 0.5, 2), _er(40, 0.1, 3)
    pooled = structural_disparity([small, big], [small, big])
    assert pooled == pytest.approx(0.0, abs=1e-12)


def test_features_x_are_standardised_jointly_so_the_disparity_is_symmetric():
    def with_x(g, scale, seed):
        g.x = torch.from_numpy(np.random.default_rng(seed).normal(size=(g.num_nodes, 3)) * scale).float()
        return g

    a = [with_x(_er(10, 0.3, s), 1.0, s) for s in range(3)]
    b = [with_x(_er(10, 0.3, 10 + s), 4.0, 10 + s) for s in range(3)]
    ab, ba = structural_disparity(a, b, features="x"), structural_disparity(b, a, features="x")
    assert ab == pytest.approx(ba, rel=1e-12) and ab > 0.1


@pytest.mark.parametrize("method", ["emd", "sliced"])
def test_shifted_families_are_more_disparate_than_the_buyers_own(method):
    """Buyer ER(60, .08); sellers from the same family vs ER(60, .15), BA(3) and a 3-block SBM."""
    wins = {"er 0.15": 0, "ba 3": 0, "sbm": 0}
    gaps = {k: [] for k in wins}
    seeds = range(5)
    for seed in seeds:
        buyer = erdos_renyi_graphs(10, seed=seed, num_nodes=60, p=0.08)
        same = structural_disparity(buyer, erdos_renyi_graphs(10, seed=100 + seed, num_nodes=60, p=0.08), method=method)
        shifted = {
            "er 0.15": erdos_renyi_graphs(10, seed=200 + seed, num_nodes=60, p=0.15),
            "ba 3": barabasi_albert_graphs(10, seed=300 + seed, num_nodes=60, m=3),
            "sbm": sbm_graphs(
                10,
                seed=400 + seed,
                min_communities=3,
                max_communities=3,
                min_size=20,
                max_size=20,
                p_in=0.3,
                p_out=0.02,
            ),
        }
        for name, graphs in shifted.items():
            s = structural_disparity(buyer, graphs, method=method)
            wins[name] += s > same
            gaps[name].append(s - same)
    for name in wins:
        assert wins[name] >= 0.8 * len(seeds) and np.mean(gaps[name]) > 0, (name, wins, gaps)


def test_bad_inputs_raise_one_line_errors():
    g = _er(8, 0.3, 0)
    empty = from_edge_array(0, np.zeros((0, 2), dtype=np.int64))
    with pytest.raises(GraphgenError, match="no nodes"):
        structural_disparity([g], [empty])
    with pytest.raises(GraphgenError, match="at least one graph"):
        structural_disparity([g], [])
    with pytest.raises(GraphgenError, match="unknown OT method"):
        structural_disparity([g], [g], method="exact")
    with pytest.raises(GraphgenError, match="unknown level"):
        structural_disparity([g], [g], level="graph")
    with pytest.raises(GraphgenError, match="too large"):
        wasserstein_between_atoms(np.zeros((20, 2)), np.zeros((30, 2)), max_exact_atoms=25)
    with pytest.raises(GraphgenError, match="iterations"):
        wl_embeddings([g], iterations=-1)
