import networkx as nx
import pytest
import torch
from hypothesis import given, settings

from graphgen.data import (
    bfs_order,
    degree_order,
    dfs_order,
    from_edge_array,
    inverse_permutation,
    permute_graph,
    random_order,
    to_networkx,
)
from tests.conftest import simple_graphs

ORDERS = [bfs_order, dfs_order, degree_order, random_order]


@settings(max_examples=40, deadline=None)
@given(simple_graphs(max_nodes=20))
def test_every_order_is_a_permutation_and_permuting_preserves_the_graph(g):
    for order in ORDERS:
        perm = order(g, generator=torch.Generator().manual_seed(3))
        assert sorted(perm.tolist()) == list(range(int(g.num_nodes)))
        h = permute_graph(g, perm)
        mapping = {int(old): new for new, old in enumerate(perm)}
        expected = nx.relabel_nodes(to_networkx(g), mapping)
        assert sorted(map(sorted, to_networkx(h).edges())) == sorted(map(sorted, expected.edges()))


def test_bfs_and_dfs_on_a_hand_built_graph():
    # 0-1, 0-2, 1-3, 2-4, 3-5 ; node 0 has the top degree (2, tie with 1, 2, 3 -> lowest id)
    g = from_edge_array(7, [[0, 1], [0, 2], [1, 3], [2, 4], [3, 5]])
    assert bfs_order(g).tolist() == [0, 1, 2, 3, 4, 5, 6]
    assert dfs_order(g).tolist() == [0, 1, 3, 5, 2, 4, 6]
    star = from_edge_array(5, [[4, 0], [4, 1], [4, 2], [1, 3]])
    assert bfs_order(star).tolist() == [4, 0, 1, 2, 3]
    assert degree_order(star).tolist() == [4, 1, 0, 2, 3]
    assert degree_order(star, descending=False).tolist() == [0, 2, 3, 1, 4]


def test_bfs_order_is_breadth_first():
    g = nx.random_labeled_tree(40, seed=1)
    data = from_edge_array(40, list(g.edges()))
    perm = bfs_order(data, generator=torch.Generator().manual_seed(0))
    dist = nx.single_source_shortest_path_length(g, int(perm[0]))
    levels = [dist[int(v)] for v in perm]
    assert levels == sorted(levels)


def test_seeded_orders_repeat_and_differ_across_seeds():
    g = from_edge_array(30, [[i, (i * 7 + 3) % 30] for i in range(30) if i != (i * 7 + 3) % 30], allow_duplicates=True)
    g.edge_weight = None
    runs = [bfs_order(g, generator=torch.Generator().manual_seed(s)).tolist() for s in (1, 1, 2)]
    assert runs[0] == runs[1] and runs[0] != runs[2]


def test_permute_moves_node_features_and_rejects_non_permutations():
    g = from_edge_array(3, [[0, 1]])
    g.x = torch.tensor([[10.0], [11.0], [12.0]])
    h = permute_graph(g, torch.tensor([2, 0, 1]))
    assert h.x.flatten().tolist() == [12.0, 10.0, 11.0]
    assert h.edge_index.tolist() == [[1, 2], [2, 1]]
    assert inverse_permutation(torch.tensor([2, 0, 1])).tolist() == [1, 2, 0]
    with pytest.raises(ValueError, match="permutation"):
        permute_graph(g, torch.tensor([0, 0, 1]))
