import networkx as nx
import pytest

from graphgen.data import check_simple_graph, to_networkx
from graphgen.datasets import GENERATORS, generate
from graphgen.errors import InvalidGraphError


@pytest.mark.parametrize("family", sorted(GENERATORS))
def test_seeded_reproducible_and_simple(family):
    a, b, c = (generate(family, 6, seed=s) for s in (7, 7, 8))
    assert [g.edge_index.tolist() for g in a] == [g.edge_index.tolist() for g in b]
    assert [g.edge_index.tolist() for g in a] != [g.edge_index.tolist() for g in c]
    for g in a:
        check_simple_graph(g)


def test_family_properties():
    assert all(nx.is_tree(to_networkx(g)) for g in generate("tree", 10, num_nodes=100))
    assert all(
        nx.check_planarity(to_networkx(g))[0] and g.num_nodes == 200 for g in generate("planar", 3, num_nodes=200)
    )
    for g in generate("grid", 5, min_side=3, max_side=6):
        nxg = to_networkx(g)
        degrees = sorted(d for _, d in nxg.degree())
        assert degrees[:4] == [2, 2, 2, 2] and max(degrees) <= 4 and nx.is_connected(nxg)
    for g in generate("lobster", 5):
        nxg = to_networkx(g)
        assert nx.is_tree(nxg)
        for _ in range(2):  # removing leaves twice leaves a path (the definition of a lobster)
            nxg.remove_nodes_from([v for v, d in list(nxg.degree()) if d <= 1])
        assert nxg.number_of_nodes() == 0 or max(d for _, d in nxg.degree()) <= 2
    for g in generate("sbm", 5):
        assert 40 <= g.num_nodes <= 200
    for g in generate("community", 10):
        assert g.num_nodes % 2 == 0 and 12 <= g.num_nodes <= 20
    for g in generate("ego", 10):
        nxg = to_networkx(g)
        assert 4 <= g.num_nodes <= 18 and nxg.degree(0) == g.num_nodes - 1  # node 0 is the centre


def test_community_graphs_have_a_bridge_and_dense_blocks():
    for g in generate("community", 20, p_out=0.0):
        n = int(g.num_nodes)
        ei = g.edge_index
        cross = ((ei[0] < n // 2) != (ei[1] < n // 2)).sum() // 2
        assert int(cross) == 1  # exactly the forced bridge when p_out = 0


def test_large_sbm_has_exact_size_sparse_block_graph_and_no_isolated_nodes():
    import torch

    for n in (250, 1000, 3000):
        for g in generate("large_sbm", 2, num_nodes=n, seed=n):
            assert g.num_nodes == n
            degree = torch.bincount(g.edge_index[0], minlength=n)
            assert int((degree == 0).sum()) == 0
    # cross-block edges grow linearly with the size (a sparse block graph), unlike sbm's all pairs
    communities = {}
    for n in (600, 6000):
        g = generate("large_sbm", 1, num_nodes=n, seed=0, min_size=30, max_size=30, p_in=1.0)[0]
        block = torch.arange(n) // 30  # p_in = 1: blocks are cliques of 30 consecutive nodes
        ei = g.edge_index
        within = int((block[ei[0]] == block[ei[1]]).sum()) // 2
        assert within == (n // 30) * 30 * 29 // 2
        communities[n] = int((block[ei[0]] != block[ei[1]]).sum()) // 2 / (n // 30)
    assert 1.5 < communities[600] < 8 and 1.5 < communities[6000] < 8  # cross edges per block


@pytest.mark.parametrize(
    "family, params, message",
    [
        ("sbm", {"min_size": 10, "max_size": 5}, "impossible"),
        ("tree", {"num_nodes": 0}, "impossible"),
        ("community", {"p_in": 1.5}, "probability"),
        ("planar", {"num_nodes": 2}, "impossible"),
        ("lobster", {"min_nodes": 500, "max_nodes": 501, "max_tries": 20}, "found only 0 of 3 lobsters"),
        ("grid", {"bogus": 1}, r"family grid takes no bogus \(its parameters: min_side, max_side\)"),
        ("sbm", {"num_nodes": 5}, "family sbm takes no num_nodes"),
        ("large_sbm", {"num_nodes": 10}, "impossible"),
        ("hexagon", {}, "unknown graph family"),
    ],
)
def test_impossible_requests_raise(family, params, message):
    with pytest.raises(InvalidGraphError, match=message):
        generate(family, 3, **params)
    with pytest.raises(InvalidGraphError, match=">= 0"):
        generate("tree", -1)
