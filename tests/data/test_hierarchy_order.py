import networkx as nx
import pytest
import torch

from graphgen.data import build_hierarchy, coarsen, from_edge_array, from_networkx, to_networkx
from graphgen.data.hierarchy_order import WITHIN_COMMUNITY_ORDERS, bfsdc_order, order_hierarchy  # noqa: F401
from graphgen.datasets import load_dataset


def test_bfsdc_on_a_hand_built_weighted_graph():
    # self-loops 0:1, 2:5; edges 0-1 (1), 1-2 (3), 2-3 (1), 1-3 (2), 3-4 (1)
    g = from_edge_array(
        5, [[0, 0], [2, 2], [0, 1], [1, 2], [2, 3], [1, 3], [3, 4]], [1, 5, 1, 3, 1, 2, 1], allow_self_loops=True
    )
    # start: largest self-loop (2); frontier {1: cut 3, 3: cut 1} -> 1; then {0: 1, 3: 1+2=3} -> 3; then 0 vs 4
    # (both cut 1): 0 has the larger self-loop -> 0, then 4
    assert bfsdc_order(g).tolist() == [2, 1, 3, 0, 4]
    leaf = from_edge_array(4, [[0, 1], [1, 2], [2, 3], [1, 3]])
    assert bfsdc_order(leaf)[0] == 0  # no self-loops: the lowest degree starts


@pytest.mark.parametrize("name", ["bfsdc", "dfs", "bfs"])
def test_prefixes_of_connected_communities_stay_connected(name):
    for seed in range(10):
        g = nx.connected_watts_strogatz_graph(20, 4, 0.3, seed=seed)
        order = WITHIN_COMMUNITY_ORDERS[name](from_networkx(g)).tolist()
        for k in range(1, 21):
            assert nx.is_connected(g.subgraph(order[:k])), (name, seed, k)


def test_ordered_hierarchy_is_a_relabelling_of_the_original():
    graphs = load_dataset("enzymes", "train")[:6]
    h = build_hierarchy(graphs, num_levels=3, seed=0)
    for within in ("bfsdc", "dfs"):
        o = order_hierarchy(h, within)
        for lv in range(1, 4):
            parent = o.assignments[lv - 1]
            assert bool((parent[1:] >= parent[:-1]).all())  # communities contiguous, in parent order
            assert torch.equal(o.community_order(lv), torch.arange(int(o.levels[lv].num_nodes)))
            ei, w = coarsen(o.levels[lv], parent, int(o.levels[lv - 1].num_nodes))
            assert torch.equal(ei, o.levels[lv - 1].edge_index) and torch.equal(w, o.levels[lv - 1].edge_weight)
            for k in range(len(graphs)):
                a = to_networkx(h.levels[lv].get_example(k), weight="w")
                b = to_networkx(o.levels[lv].get_example(k), weight="w")
                assert nx.is_isomorphic(a, b, edge_match=lambda x, y: x["w"] == y["w"])
        leaf = o.levels[3]
        for k, g in enumerate(graphs):  # the leaf graphs are the inputs, relabelled
            assert nx.is_isomorphic(to_networkx(leaf.get_example(k)), to_networkx(g))
