import networkx as nx
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_geometric.data import Batch, Data

from graphgen.data import (
    FixedPartitioner,
    LouvainPartitioner,
    build_hierarchy,
    canonical_assignment,
    from_edge_array,
    from_networkx,
    permute_graph,
    to_dense,
    upper_edge_weights,
)
from graphgen.data.partition import split_disconnected
from graphgen.errors import InvalidGraphError
from tests.conftest import random_graph, simple_graphs


def per_graph_weight_sums(level: Batch) -> list[int]:
    ei = level.edge_index
    upper = ei[0] <= ei[1]
    graph = level.batch[ei[0, upper]]
    return torch.zeros(level.num_graphs, dtype=torch.long).index_add_(0, graph, level.edge_weight[upper]).tolist()


def dense_coarse(adj: torch.Tensor, assignment: torch.Tensor, k: int) -> torch.Tensor:
    """Reference W = S A S^T with the diagonal halved (A has self-loop weights on its diagonal)."""
    s = torch.zeros(k, adj.shape[0], dtype=adj.dtype)
    s[assignment, torch.arange(adj.shape[0])] = 1
    loops = torch.diagonal(adj).clone()
    off = adj - torch.diag(loops)
    w = s @ off @ s.T
    w = w - torch.diag(torch.diagonal(w)) / 2
    w = w + torch.diag(s @ loops)
    return w


def test_hand_built_weights():
    # two triangles joined by one edge, plus a fixed partition {0,1,2} {3,4,5}
    g = from_edge_array(6, [[0, 1], [1, 2], [0, 2], [3, 4], [4, 5], [3, 5], [2, 3]])
    h = build_hierarchy(g, partitioner=FixedPartitioner((torch.tensor([0, 0, 0, 1, 1, 1]),)))
    root, coarse = h.levels[0], h.levels[1]
    assert root.edge_index.tolist() == [[0], [0]] and root.edge_weight.tolist() == [7]
    assert coarse.edge_index.tolist() == [[0, 0, 1, 1], [0, 1, 0, 1]]
    assert coarse.edge_weight.tolist() == [3, 1, 1, 3]
    blocks = h.bipartites(2)
    assert blocks.weight.tolist() == [1] and blocks.left_local.tolist() == [2] and blocks.right_local.tolist() == [0]
    comm = h.communities(2)
    assert comm.num_graphs == 2 and comm.level_node.tolist() == [0, 1, 2, 3, 4, 5]


@settings(max_examples=30, deadline=None)
@given(st.lists(simple_graphs(min_nodes=1, max_nodes=30), min_size=1, max_size=4), st.integers(1, 3))
def test_invariants_on_random_graphs(graphs, num_levels):
    h = build_hierarchy(graphs, num_levels=num_levels, seed=0)
    num_edges = [int(g.edge_index.shape[1]) // 2 for g in graphs]
    assert len(h.levels) == num_levels + 1
    for level in h.levels:
        assert per_graph_weight_sums(level) == num_edges  # weights at every level sum to |E|
    assert torch.equal(h.levels[-1].edge_index, Batch.from_data_list(graphs).edge_index)
    for lv in range(1, num_levels + 1):
        rebuilt = h.reassemble(lv)
        assert torch.equal(rebuilt.edge_index, h.levels[lv].edge_index)
        assert torch.equal(rebuilt.edge_weight, h.levels[lv].edge_weight)
        blocks = h.bipartites(lv)
        # cross edges lie in C_i x C_j, with local positions inside the communities
        parent = h.assignments[lv - 1]
        assert torch.equal(parent[blocks.edge_left], blocks.left_parent[blocks.edge_block])
        assert torch.equal(parent[blocks.edge_right], blocks.right_parent[blocks.edge_block])
        assert bool((blocks.left_local < blocks.left_size[blocks.edge_block]).all())
        assert bool((blocks.right_local < blocks.right_size[blocks.edge_block]).all())


@settings(max_examples=25, deadline=None)
@given(simple_graphs(min_nodes=1, max_nodes=20), st.integers(0, 10**6))
def test_coarse_weights_equal_dense_reference(g, seed):
    h = build_hierarchy(g, num_levels=3, seed=seed % 7)
    for lv in (1, 2):
        fine = h.levels[lv + 1]
        adj, _ = to_dense(fine)
        k = int(h.levels[lv].num_nodes)
        expected = dense_coarse(adj[0], h.assignments[lv], k)
        got, _ = to_dense(h.levels[lv])
        assert torch.equal(got[0], expected.to(got.dtype))


def test_fixed_partition_is_permutation_equivariant():
    g = random_graph(25, 0.25, seed=4)
    assignment = torch.arange(25) % 4
    perm = torch.randperm(25, generator=torch.Generator().manual_seed(1))
    h1 = build_hierarchy(g, partitioner=FixedPartitioner((assignment,)))
    h2 = build_hierarchy(permute_graph(g, perm), partitioner=FixedPartitioner((assignment[perm],)))
    assert torch.equal(h1.levels[1].edge_index, h2.levels[1].edge_index)
    assert torch.equal(h1.levels[1].edge_weight, h2.levels[1].edge_weight)
    # communities are the same sets of (relabelled) nodes
    c1, c2 = h1.communities(2), h2.communities(2)
    assert torch.equal(c1.batch, c2.batch)
    assert torch.equal(torch.sort(perm[c2.level_node]).values, torch.sort(c1.level_node).values)


def cliques_chain(num_cliques: int, size: int):
    g = nx.Graph()
    for c in range(num_cliques):
        nodes = range(c * size, (c + 1) * size)
        g.add_edges_from((u, v) for u in nodes for v in nodes if u < v)
        if c:
            g.add_edge(c * size - 1, c * size)
    return g


def test_louvain_partition_is_invariant_to_node_relabelling():
    g = from_networkx(cliques_chain(5, 6))
    perm = torch.randperm(30, generator=torch.Generator().manual_seed(2))
    a = LouvainPartitioner().partition_levels(g, 1, seed=0)[0]
    b = LouvainPartitioner().partition_levels(permute_graph(g, perm), 1, seed=5)[0]
    assert torch.equal(canonical_assignment(a[perm]), b)
    assert torch.equal(a, torch.arange(30) // 6)  # the cliques are the communities


def test_batch_equals_one_at_a_time():
    graphs = [random_graph(n, 0.15, seed=n) for n in (12, 30, 1, 45, 7)]
    batched = build_hierarchy(graphs, num_levels=3, seed=3)
    for k, g in enumerate(graphs):
        single = build_hierarchy(g, num_levels=3, seed=3)
        for lv in range(4):
            got = batched.levels[lv].get_example(k)
            want = single.levels[lv].get_example(0)
            assert torch.equal(got.edge_index, want.edge_index) and torch.equal(got.edge_weight, want.edge_weight)
    comm = batched.communities(3)
    assert comm.num_graphs == int(batched.levels[2].num_nodes)
    assert torch.equal(comm.graph_id, batched.levels[2].batch)


def test_three_levels_on_nested_communities():
    sizes = [12] * 9
    probs = [[0.9 if i == j else (0.08 if i // 3 == j // 3 else 0.002) for j in range(9)] for i in range(9)]
    g = from_networkx(nx.stochastic_block_model(sizes, probs, seed=0))
    h = build_hierarchy(g, num_levels=3, seed=0)
    sizes = [int(level.num_nodes) for level in h.levels]
    assert sizes[0] == 1 and sizes[1] < sizes[2] < sizes[3] == 108
    assert h.trivial_levels == [0, 0, 0]


def test_identity_steps_when_louvain_cannot_coarsen():
    g = from_edge_array(4, [[0, 1], [2, 3]])  # two components, one Louvain level
    h = build_hierarchy(g, num_levels=4, seed=0)
    assert [int(level.num_nodes) for level in h.levels] == [1, 2, 2, 2, 4]
    assert sum(h.trivial_levels) >= 1


def test_split_disconnected_keeps_connected_communities_and_splits_the_others():
    g = nx.path_graph(6)  # 0-1-2-3-4-5
    communities = [{0, 1}, {2, 4, 5}, {3}]
    assert split_disconnected(g, communities) == [{0, 1}, {2}, {4, 5}, {3}]
    assert split_disconnected(g, [{0, 1, 2}, {3, 4, 5}]) == [{0, 1, 2}, {3, 4, 5}]


def test_louvain_communities_are_split_into_connected_components(monkeypatch):
    """Louvain may return a disconnected community (here forced: {0, 1, 4, 5} on a path of 6 nodes,
    two levels); every level's communities come back connected and still nested."""
    g = from_edge_array(6, [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5]])
    levels = [[{0, 1, 4, 5}, {2}, {3}], [{0, 1, 2, 3, 4, 5}]]
    monkeypatch.setattr(nx.community, "louvain_partitions", lambda *a, **k: iter(levels))
    fine, coarse = LouvainPartitioner().partition_levels(g, 2, seed=0)
    assert fine.tolist() == [0, 0, 1, 2, 3, 3]  # {0,1} {2} {3} {4,5}, numbered by smallest member
    assert coarse.tolist() == [0, 0, 0, 0]
    h = build_hierarchy(g, num_levels=3, partitioner=LouvainPartitioner(), seed=0)
    assert [int(level.num_nodes) for level in h.levels] == [1, 1, 4, 6]


def test_louvain_leaves_no_disconnected_leaf_community_on_enzymes():
    """Regression: an enzymes training graph whose Louvain partition at seed 6 holds a 4-node community
    with 2 edges, which made the HiGen training loss infinite (``--hierarchies 24``)."""
    from graphgen.datasets import load_dataset

    g = load_dataset("enzymes", "train", protocol="graphrnn")[22]
    G = nx.Graph(g.edge_index.t().tolist())
    raw = LouvainPartitioner().louvain_levels(G, seed=6)[-1]
    assert any(not nx.is_connected(G.subgraph(c)) for c in raw), "precondition: networkx's Louvain changed"
    a = LouvainPartitioner().partition_levels(g, 1, seed=6)[0]
    for c in range(int(a.max()) + 1):
        assert nx.is_connected(G.subgraph((a == c).nonzero().flatten().tolist()))


def test_edgeless_and_isolated_nodes():
    h = build_hierarchy(from_edge_array(3, []), seed=0)
    assert int(h.levels[1].num_nodes) == 3 and h.levels[0].edge_index.numel() == 0
    h = build_hierarchy(from_edge_array(4, [[0, 1]]), seed=0)
    assert upper_edge_weights(h.levels[0]).tolist() == [1]


def test_bad_inputs():
    with pytest.raises(InvalidGraphError, match="no nodes"):
        build_hierarchy(from_edge_array(0, []))
    with pytest.raises(InvalidGraphError, match="graph 0 has a self-loop on node 0"):
        build_hierarchy(from_edge_array(2, [[0, 0]], allow_self_loops=True))
    one_way = Data(edge_index=torch.tensor([[0, 1], [1, 2]]), num_nodes=3)
    with pytest.raises(InvalidGraphError, match=r"graph 1 is not undirected \(an edge lacks its reverse\)"):
        build_hierarchy([from_edge_array(2, [[0, 1]]), one_way])
    repeated = Data(edge_index=torch.tensor([[0, 1, 0, 1], [1, 0, 1, 0]]), num_nodes=2)
    with pytest.raises(InvalidGraphError, match="graph 0 has duplicate edges"):
        build_hierarchy(repeated)
    with pytest.raises(InvalidGraphError, match="zero graphs"):
        build_hierarchy([])
    outside = Data(edge_index=torch.tensor([[0, 5], [5, 0]]), num_nodes=3)  # was an IndexError in Louvain
    with pytest.raises(InvalidGraphError, match=r"graph 1 has an edge at node 5, outside its 3 nodes \(ids 0\.\.2\)"):
        build_hierarchy([from_edge_array(2, [[0, 1]]), outside])
    with pytest.raises(InvalidGraphError, match="no empty community"):
        build_hierarchy(from_edge_array(3, []), partitioner=FixedPartitioner((torch.tensor([0, 2, 2]),)))
    with pytest.raises(ValueError, match="num_levels"):
        build_hierarchy(from_edge_array(3, []), num_levels=0)


def test_graph_signatures_name_each_graphs_own_hierarchy_whatever_the_batch():
    """A graph's digest is the same alone and in any batch, equal for equal hierarchies, and
    different when its partition differs (FixedPartitioner with another assignment)."""
    a, b, c = (random_graph(n, 0.3, seed=s) for n, s in ((9, 1), (12, 2), (9, 1)))  # c == a
    alone = [build_hierarchy([g], num_levels=2, seed=0).graph_signatures()[0] for g in (a, b)]
    together = build_hierarchy([b, a, c], num_levels=2, seed=0).graph_signatures()
    assert together == [alone[1], alone[0], alone[0]] and alone[0] != alone[1]
    n = int(a.num_nodes)
    halves = torch.arange(n) * 2 // n
    thirds = torch.arange(n) * 3 // n
    one = build_hierarchy([a], num_levels=2, partitioner=FixedPartitioner([halves])).graph_signatures()
    other = build_hierarchy([a], num_levels=2, partitioner=FixedPartitioner([thirds])).graph_signatures()
    same = build_hierarchy([a], num_levels=2, partitioner=FixedPartitioner([halves])).graph_signatures()
    assert one == same and one != other
