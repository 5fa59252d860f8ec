import networkx as nx
import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_geometric.data import Batch

from graphgen.data import (
    clustering_coefficients,
    degree,
    edge_triangle_counts,
    from_dense,
    from_edge_array,
    graph_triangle_counts,
    nodes_per_graph,
    normalized_laplacian,
    to_dense,
    to_networkx,
    triangle_counts,
    upper_edges,
)
from tests.conftest import random_graph, simple_graphs


@settings(max_examples=40, deadline=None)
@given(st.lists(simple_graphs(max_nodes=16), min_size=1, max_size=5))
def test_batched_ops_equal_networkx_graph_by_graph(graphs):
    batch = Batch.from_data_list(graphs)
    tri, clus, deg = triangle_counts(batch), clustering_coefficients(batch), degree(batch)
    lap = normalized_laplacian(batch).to_dense().numpy()
    offset = 0
    for g in graphs:
        n = int(g.num_nodes)
        nxg = to_networkx(g)
        sl = slice(offset, offset + n)
        assert tri[sl].tolist() == [nx.triangles(nxg)[v] for v in range(n)]
        assert np.allclose(clus[sl].numpy(), [nx.clustering(nxg)[v] for v in range(n)])
        assert deg[sl].tolist() == [nxg.degree(v) for v in range(n)]
        if n:
            ref = nx.normalized_laplacian_matrix(nxg, nodelist=range(n)).toarray()
            assert np.allclose(lap[sl, sl], ref)
            assert np.allclose(lap[sl, :][:, np.r_[0:offset, offset + n : lap.shape[1]]], 0)
        offset += n
    expected = [sum(nx.triangles(to_networkx(g)).values()) // 3 for g in graphs]
    assert graph_triangle_counts(batch).tolist() == expected
    # per edge: the common neighbours of its endpoints (networkx), per node the same as triangle_counts
    per_node, per_entry = edge_triangle_counts(batch.edge_index, int(batch.num_nodes))
    assert torch.equal(per_node, tri)
    nxb = to_networkx(batch)
    assert per_entry.tolist() == [len(list(nx.common_neighbors(nxb, int(u), int(v)))) for u, v in batch.edge_index.t()]


def test_edge_triangle_counts_ignore_self_loop_entries():
    # a triangle 0-1-2 with a pendant 3 on node 2, a self-loop on 0, listed in both directions
    ei = torch.tensor([[0, 1, 1, 2, 0, 2, 2, 3, 0], [1, 0, 2, 1, 2, 0, 3, 2, 0]])
    per_node, per_entry = edge_triangle_counts(ei, 5)
    assert per_node.tolist() == [1, 1, 1, 0, 0]
    assert per_entry.tolist() == [1, 1, 1, 1, 1, 1, 0, 0, 0]
    empty = edge_triangle_counts(torch.zeros((2, 0), dtype=torch.long), 3)
    assert empty[0].tolist() == [0, 0, 0] and empty[1].numel() == 0


def test_weighted_laplacian_with_self_loops_matches_networkx():
    g = from_edge_array(3, [[0, 0], [0, 1], [1, 2]], [2, 3, 1], allow_self_loops=True)
    ref = nx.normalized_laplacian_matrix(to_networkx(g, weight="weight"), nodelist=range(3), weight="weight")
    assert np.allclose(normalized_laplacian(g).to_dense().numpy(), ref.toarray())
    assert degree(g, weighted=True).tolist() == [5, 4, 1]
    assert degree(g).tolist() == [1, 2, 1]  # structure only: loops and weights ignored


def test_known_values_on_a_tiny_graph():
    # a triangle 0-1-2 with a pendant 3 on node 2, and an isolated node 4
    g = from_edge_array(5, [[0, 1], [1, 2], [0, 2], [2, 3]])
    assert triangle_counts(g).tolist() == [1, 1, 1, 0, 0]
    assert clustering_coefficients(g).tolist() == [1.0, 1.0, 1 / 3, 0.0, 0.0]
    lap = normalized_laplacian(g).to_dense()
    assert lap[4, 4] == 0 and lap[3, 3] == 1
    assert torch.isclose(lap[2, 3], torch.tensor(-1 / np.sqrt(3), dtype=torch.float64))


def test_dense_round_trip_with_masks():
    graphs = [random_graph(n, 0.4, seed=n) for n in (1, 5, 9, 3)]
    batch = Batch.from_data_list(graphs)
    adj, mask = to_dense(batch)
    assert adj.shape == (4, 9, 9) and mask.sum(1).tolist() == [1, 5, 9, 3]
    assert torch.equal(adj, adj.transpose(1, 2))
    for a, b in zip(from_dense(adj, mask), graphs):
        assert a.num_nodes == b.num_nodes and torch.equal(upper_edges(a), upper_edges(b))
    adj12, mask12 = to_dense(batch, max_num_nodes=12)
    assert adj12.shape == (4, 12, 12) and not mask12[:, 9:].any()
    assert nodes_per_graph(batch).tolist() == [1, 5, 9, 3]
