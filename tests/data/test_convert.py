import networkx as nx
import pytest
import torch
from torch_geometric.data import Data

from graphgen.data import (
    check_simple_graph,
    from_edge_array,
    from_networkx,
    graph_from_dense,
    num_undirected_edges,
    to_networkx,
    upper_edges,
)
from graphgen.errors import InvalidGraphError


def test_edges_are_symmetric_sorted_and_loops_stored_once():
    g = from_edge_array(3, [[2, 1], [0, 0], [0, 2]], [1, 4, 2], allow_self_loops=True)
    assert g.edge_index.tolist() == [[0, 0, 1, 2, 2], [0, 2, 2, 0, 1]]
    assert g.edge_weight.tolist() == [4, 2, 1, 2, 1]
    assert num_undirected_edges(g) == 7


def test_duplicates_sum_when_allowed():
    g = from_edge_array(2, [[0, 1], [1, 0]], allow_duplicates=True)
    assert g.edge_weight.tolist() == [2, 2]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(num_nodes=2, edges=[[0, 2]]), "has an edge at node 2, outside its 2 nodes"),
        (dict(num_nodes=2, edges=[[1, 1]]), "self-loop on node 1"),
        (dict(num_nodes=3, edges=[[0, 1], [1, 0]]), r"duplicate edge \(0, 1\)"),
        (dict(num_nodes=2, edges=[[0, 1]], edge_weight=[0]), "positive"),
        (dict(num_nodes=2, edges=[[0, 1]], edge_weight=[1.5]), "integers"),
        (dict(num_nodes=-1, edges=[]), ">= 0"),
    ],
)
def test_invalid_inputs(kwargs, message):
    with pytest.raises(InvalidGraphError, match=message):
        from_edge_array(**kwargs)


def test_networkx_round_trip_keeps_isolated_nodes_and_weights():
    g = nx.Graph()
    g.add_nodes_from(range(5))
    g.add_edge(0, 3, weight=2)
    g.add_edge(3, 3, weight=1)
    d = from_networkx(g, weight="weight")
    assert d.num_nodes == 5
    back = to_networkx(d, weight="weight")
    assert sorted(back.edges(data="weight")) == [(0, 3, 2), (3, 3, 1)]
    with pytest.raises(InvalidGraphError, match="directed"):
        from_networkx(nx.DiGraph([(0, 1)]))


@pytest.mark.parametrize(
    "edge_index, weight, message",
    [
        ([[0, 5], [5, 0]], None, r"has an edge at node 5, outside its 3 nodes"),  # was: a 4th node, 5
        ([[0, 1]], None, r"edge_index must have shape \(2, E\), got \(1, 2\)"),  # was: an IndexError
        ([[2], [0]], None, "not undirected"),  # stored one way only: was silently dropped (u > v)
        ([[0, 1, 0], [1, 0, 1]], None, "duplicate edges"),
        ([[0, 1], [1, 0]], [2, 3], "weight differs from its reverse"),
    ],
)
def test_to_networkx_refuses_what_is_not_an_undirected_graph_instead_of_reading_another(edge_index, weight, message):
    data = Data(edge_index=torch.tensor(edge_index), num_nodes=3)
    if weight is not None:
        data.edge_weight = torch.tensor(weight)
    with pytest.raises(InvalidGraphError, match=message):
        to_networkx(data, weight="weight")


def test_to_networkx_keeps_self_loops_of_coarse_levels_and_equal_weights():
    data = Data(edge_index=torch.tensor([[0, 1, 1], [1, 0, 1]]), edge_weight=torch.tensor([2, 2, 5]), num_nodes=2)
    assert sorted(to_networkx(data, weight="w").edges(data="w")) == [(0, 1, 2), (1, 1, 5)]


def test_check_simple_graph():
    check_simple_graph(from_edge_array(3, [[0, 1]]))
    with pytest.raises(InvalidGraphError, match="self-loop"):
        check_simple_graph(Data(edge_index=torch.tensor([[0], [0]]), num_nodes=1))
    with pytest.raises(InvalidGraphError, match="not undirected"):
        check_simple_graph(Data(edge_index=torch.tensor([[0], [1]]), num_nodes=2))
    with pytest.raises(InvalidGraphError, match="duplicate"):
        check_simple_graph(Data(edge_index=torch.tensor([[0, 0, 1], [1, 1, 0]]), num_nodes=2))


def test_graph_from_dense():
    adj = torch.tensor([[0, 2, 0], [2, 0, 1], [0, 1, 0]])
    g = graph_from_dense(adj)
    assert upper_edges(g).tolist() == [[0, 1], [1, 2]] and g.edge_weight.tolist() == [2, 2, 1, 1]
    with pytest.raises(InvalidGraphError, match="symmetric"):
        graph_from_dense(torch.tensor([[0, 1], [0, 0]]))
