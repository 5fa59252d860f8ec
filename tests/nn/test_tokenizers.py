"""Tokenizers: degree order, GMN random-walk tokens, HAC trees and their readings."""

from __future__ import annotations

import math

import networkx as nx
import torch
from torch_geometric.data import Batch

from graphgen.data import from_edge_array
from graphgen.datasets import sbm_graphs
from graphgen.nn import HACTokenizer, NodeTokenizer, RandomWalkTokenizer, degree_order, hac_tree
from tests.conftest import random_graph


def _batch(graphs):
    b = Batch.from_data_list(graphs)
    return b.edge_index, b.batch, b.num_nodes


def test_degree_order_is_stable_sorted_and_reproducible():
    ei, batch, n = _batch([random_graph(12, 0.3, 0), random_graph(9, 0.4, 1)])
    deg = torch.bincount(ei[0], minlength=n)
    plain = degree_order(ei, batch, n)
    assert batch[plain].tolist() == sorted(batch.tolist())  # graph by graph
    key = list(zip(batch[plain].tolist(), deg[plain].tolist()))
    assert key == sorted(key)
    for g in range(2):  # ties keep node order without a generator (stable)
        nodes = plain[batch[plain] == g].tolist()
        for a, b in zip(nodes, nodes[1:]):
            assert deg[a] < deg[b] or (deg[a] == deg[b] and a < b)
    r1 = degree_order(ei, batch, n, torch.Generator().manual_seed(5))
    r2 = degree_order(ei, batch, n, torch.Generator().manual_seed(5))
    assert torch.equal(r1, r2)
    assert list(zip(batch[r1].tolist(), deg[r1].tolist())) == key


def test_random_walk_tokens_are_connected_sets_around_the_node():
    graph = random_graph(30, 0.12, 3)
    ei, batch, n = _batch([graph])
    tok = RandomWalkTokenizer(m=3, s=2, M=4)
    tokens = tok.tokenize(ei, batch, n, torch.Generator().manual_seed(0))
    assert tokens.lengths.tolist() == [tok.sequence_length] * n == [7] * n
    dense = tokens.pool.to_dense()
    nxg = nx.Graph(ei.t().tolist())
    nxg.add_nodes_from(range(n))
    order = tokens.order.view(n, 7)
    for v in range(n):
        assert order[v, -1].item() >= 0 and (dense[order[v, -1]] > 0).nonzero().view(-1).tolist() == [v]
        for slot in range(6):
            m_hat = 3 - slot // 2  # widest first
            members = (dense[order[v, slot]] > 0).nonzero().view(-1).tolist()
            assert v in members and len(members) <= 4 * m_hat + 1
            assert nx.is_connected(nxg.subgraph(members))
            torch.testing.assert_close(dense[order[v, slot]].sum(), torch.tensor(1.0))  # a mean
            extras = tokens.extras[order[v, slot]]
            assert math.isclose(extras[0].item(), math.log(len(members)), rel_tol=1e-6)
            assert math.isclose(extras[1].item(), math.log1p(nxg.subgraph(members).number_of_edges()), rel_tol=1e-6)
            assert math.isclose(extras[2].item(), m_hat / 3, rel_tol=1e-6)
    again = tok.tokenize(ei, batch, n, torch.Generator().manual_seed(0))
    assert torch.equal(again.pool.to_dense(), dense)
    single = RandomWalkTokenizer(m=0).tokenize(ei, batch, n)
    assert single.lengths.tolist() == [1] * n


def test_hac_tree_halves_clusters_and_ends_in_one_root_per_graph():
    graphs = sbm_graphs(3, seed=0)
    ei, batch, n = _batch(graphs)
    tree = hac_tree(ei, batch, None, n)
    assert tree.num_clusters[0] == n and tree.num_clusters[-1] == 3
    assert tree.num_levels - 1 <= math.ceil(math.log2(n))
    for level in range(1, tree.num_levels):
        assert tree.num_clusters[level] <= math.ceil(tree.num_clusters[level - 1] / 2) or tree.num_clusters[level] == 3
        # nested: nodes sharing a cluster at level l share one at level l + 1
        lo, hi = tree.assignment[level - 1], tree.assignment[level]
        for c in lo.unique():
            assert hi[lo == c].unique().numel() == 1
    # disconnected graph: components first, then the root joins them
    two = from_edge_array(6, [[0, 1], [1, 2], [3, 4]])
    t2 = hac_tree(two.edge_index, torch.zeros(6, dtype=torch.long), None, 6)
    assert t2.num_clusters[-1] == 1 and t2.num_clusters[-2] == 3


def test_hac_readings():
    ei, batch, n = _batch(sbm_graphs(2, seed=1))
    bfs = HACTokenizer("bfs").tokenize(ei, batch, n)
    assert sorted(bfs.order.tolist()) == list(range(n)) and bfs.lengths.sum() == n
    tree = hac_tree(ei, batch, None, n)
    for level in tree.assignment:  # every cluster of every level is contiguous in the reading
        seq = level[bfs.order]
        assert (seq[1:] != seq[:-1]).sum().item() == seq.unique().numel() - 1
    dfs = HACTokenizer("dfs").tokenize(ei, batch, n)
    dense = dfs.pool.to_dense()
    path = dfs.order.view(n, tree.num_levels)
    for v in range(0, n, 7):
        sizes = [(dense[t] > 0).sum().item() for t in path[v]]
        assert sizes == sorted(sizes, reverse=True) and sizes[-1] == 1  # root to leaf, the node last
        assert all(dense[t, v] > 0 for t in path[v])


def test_node_tokenizer_covers_each_graph_once():
    ei, batch, n = _batch([random_graph(5, 0.5, 0), random_graph(7, 0.5, 1)])
    tokens = NodeTokenizer().tokenize(ei, batch, n)
    assert tokens.lengths.tolist() == [5, 7] and sorted(tokens.order.tolist()) == list(range(12))
