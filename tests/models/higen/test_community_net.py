import math

import pytest
import torch

from graphgen.data import build_hierarchy
from graphgen.data.hierarchy_order import order_hierarchy
from graphgen.datasets import load_dataset
from graphgen.models.higen.community_net import CommunityNet, CommunityNetConfig, prefix_batch, triangle_inputs
from graphgen.models.higen.rows import community_rows, row_log_likelihood
from graphgen.models.higen.stick_breaking import binomial_log_prob


def level(graphs, lv, triangles=False):
    h = order_hierarchy(build_hierarchy(graphs, seed=0))
    rows = community_rows(h, lv)
    return rows, prefix_batch(rows, h.levels[lv], triangles=triangles)


def test_prefix_graphs_hold_exactly_the_earlier_edges():
    rows, pb = level(load_dataset("community_small", "train")[:2], 2)
    real = pb.edge_features[:, 1] == 0
    # every real prefix edge joins two earlier nodes of the same row; candidates touch the new node
    src, dst = pb.edge_index[:, real]
    assert torch.equal(pb.node_row[src], pb.node_row[dst]) and not pb.is_new[src].any()
    cand = pb.edge_index[:, ~real]
    assert bool((pb.is_new[cand[0]] | pb.is_new[cand[1]]).all())
    # row t's prefix holds the community's edges among its first t nodes: count them directly
    expected = 0
    for r in range(rows.num_rows):
        t = int(rows.position[r])
        start = r - t
        mask = (rows.entry_row >= start) & (rows.entry_row < r) & (rows.entry_count > 0)
        expected += 2 * int(mask.sum())  # entries of earlier rows = edges among the first t nodes
    assert int(real.sum()) == expected


def test_triangle_inputs_on_a_fan_and_a_wheel():
    """A wheel's hub has T = d (its neighbours close into a cycle), a fan's hub T = d - 1 (a path);
    every value against networkx (node triangles, degree gap, each edge's common neighbours)."""
    import networkx as nx

    fan = nx.Graph([(0, i) for i in range(1, 6)] + [(i, i + 1) for i in range(1, 5)])  # hub 0, path 1..5
    for graph, hub_gap in [(nx.wheel_graph(6), 0), (fan, 1)]:
        ei = torch.tensor([[u, v] for u, v in graph.edges()] + [[v, u] for u, v in graph.edges()]).t()
        nodes, edges = triangle_inputs(ei, graph.number_of_nodes())
        tri = nx.triangles(graph)
        assert nodes[:, 0].tolist() == pytest.approx([math.log1p(tri[v]) for v in range(graph.number_of_nodes())])
        gap = [(graph.degree(v) - tri[v]) / 4 for v in range(graph.number_of_nodes())]
        assert nodes[:, 1].tolist() == pytest.approx(gap) and gap[0] * 4 == hub_gap
        common = [len(list(nx.common_neighbors(graph, int(u), int(v)))) for u, v in ei.t()]
        assert edges.tolist() == pytest.approx([math.log1p(c) for c in common])


@pytest.mark.parametrize("lv, dataset", [(1, "sbm"), (2, "enzymes")])
def test_prefix_triangle_inputs_are_those_of_each_rows_prefix_graph(lv, dataset):
    """With triangles=True every prefix node and real prefix edge carries the triangle inputs of its
    row's prefix graph (the community's first t nodes, weights ignored), recomputed with networkx
    from the hierarchy; candidate edges carry 0; the other features are unchanged."""
    import networkx as nx

    graphs = load_dataset(dataset, "train")[:3]
    h = order_hierarchy(build_hierarchy(graphs, seed=0))
    rows = community_rows(h, lv)
    plain, pb = prefix_batch(rows, h.levels[lv]), prefix_batch(rows, h.levels[lv], triangles=True)
    assert torch.equal(pb.node_features[:, :3], plain.node_features)
    assert torch.equal(pb.edge_features[:, :2], plain.edge_features) and torch.equal(pb.edge_index, plain.edge_index)
    ei = h.levels[lv].edge_index
    community = rows.community
    full = nx.Graph([(int(u), int(v)) for u, v in ei.t() if u != v and community[u] == community[v]])
    first_prefix = torch.cumsum(rows.position + 1, 0) - (rows.position + 1)
    checked = 0
    for r in range(rows.num_rows):
        t, start = int(rows.position[r]), r - int(rows.position[r])
        prefix = full.subgraph(range(start, start + t)) if t else nx.Graph()
        tri = nx.triangles(prefix)
        for local in range(t):
            v = start + local
            d, tv = (prefix.degree(v), tri[v]) if v in prefix else (0, 0)
            features = pb.node_features[int(first_prefix[r]) + local]
            assert float(features[3]) == pytest.approx(math.log1p(tv))
            assert float(features[4]) == pytest.approx(max(-4, min(4, d - tv)) / 4)
            checked += int(tv > 0)
    assert checked > 5  # the check saw triangles
    real = pb.edge_features[:, 1] == 0
    assert torch.equal(pb.edge_features[~real, 2], torch.zeros(int((~real).sum())))
    src, dst = pb.edge_index[:, real]
    level_node = torch.arange(rows.num_rows)[pb.node_row] - rows.position[pb.node_row] + pb.node_position
    expected = []
    for a, b, row in zip(level_node[src].tolist(), level_node[dst].tolist(), pb.node_row[src].tolist()):
        # row r's new node is level node r: its prefix holds the community's nodes before it
        expected.append(math.log1p(sum(1 for c in nx.common_neighbors(full, a, b) if c < row)))
    assert pb.edge_features[real, 2].tolist() == pytest.approx(expected)


@pytest.mark.parametrize(
    "lv, row_concentration, self_loop_concentration",
    [(2, False, False), (2, True, False), (1, False, True), (1, True, True)],
)
def test_outputs_are_valid_and_gradients_reach_every_parameter(lv, row_concentration, self_loop_concentration):
    torch.manual_seed(0)
    rows, pb = level(load_dataset("enzymes", "train")[:2], lv)
    config = CommunityNetConfig(
        hidden=16,
        num_layers=2,
        num_mixtures=3,
        row_concentration=row_concentration,
        self_loop_concentration=self_loop_concentration,
    )
    net = CommunityNet(config)
    log_alpha, p_mass, q_self, logits, p_stop, nu, xi = net(pb)
    assert log_alpha.shape == (rows.num_rows, 3) and logits.shape == (rows.entry_row.numel(), 3)
    assert torch.allclose(log_alpha.exp().sum(1), torch.ones(rows.num_rows, dtype=torch.float64))
    assert bool(((p_mass > 0) & (p_mass < 1) & (q_self > 0) & (q_self < 1)).all())
    assert p_stop is None and (nu is None) == (not row_concentration) and (xi is None) == (not self_loop_concentration)
    for concentration in (nu, xi):
        if concentration is not None:
            assert concentration.shape == (rows.num_rows, 3)
            assert bool(((concentration >= math.exp(-3)) & (concentration <= math.exp(3))).all())
    loss = -row_log_likelihood(
        rows, log_alpha, p_mass, q_self, logits, p_stop, nu, xi, leaf_rows="conditional_bernoulli"
    ).sum()
    loss.backward()
    for name, param in net.named_parameters():
        assert param.grad is not None and torch.isfinite(param.grad).all(), name
        if lv == 1 and name == "entry_head.2.bias":  # coarse rows: a softmax over the entries ignores a shift
            continue
        assert float(param.grad.abs().sum()) > 0, name


def test_overfitting_one_graph_reaches_the_binomial_floor():
    torch.manual_seed(0)
    rows, pb = level(load_dataset("community_small", "train")[:1], 1)
    # irreducible part: each row's mass is a binomial, best at p = u / r
    u, r = rows.mass.double(), rows.remaining.double()
    floor = -float(binomial_log_prob(u, r, torch.where(r > 0, u / r.clamp(min=1), torch.zeros_like(u))).sum())
    # ... and so is the self-loop share of a later coarse row: s ~ Bin(u + c, q), best at q = s / (u + c)
    later = rows.position > 0
    s, n = rows.self_loop[later].double(), (rows.mass + rows.reserved)[later].double()
    floor -= float(binomial_log_prob(s, n, torch.where(n > 0, s / n.clamp(min=1), torch.zeros_like(s))).sum())
    net = CommunityNet(CommunityNetConfig(hidden=32))
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    first = None
    for _ in range(300):
        loss = -row_log_likelihood(rows, *net(pb)).sum()
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < first / 5 and loss.item() < floor + 0.05


def test_gran_layer_by_parts_equals_the_literal_formula_in_value_and_gradient():
    from graphgen.models.higen.community_net import _GranLayer

    torch.manual_seed(0)
    layer = _GranLayer(16, 2)
    h = torch.randn(30, 16, requires_grad=True)
    edge_index = torch.randint(0, 30, (2, 200))
    edge_features = torch.rand(200, 2)
    fast, slow = layer(h, edge_index, edge_features), layer.literal(h, edge_index, edge_features)
    torch.testing.assert_close(fast, slow, rtol=1e-5, atol=1e-6)
    (g_fast,) = torch.autograd.grad(fast.square().sum(), h)
    (g_slow,) = torch.autograd.grad(slow.square().sum(), h)
    torch.testing.assert_close(g_fast, g_slow, rtol=1e-4, atol=1e-5)
    # an edge that is not there changes nothing: a node without in-edges keeps GRU(0, h)
    lonely = torch.tensor([5])
    keep = ~torch.isin(edge_index[1], lonely)
    out = layer(h, edge_index[:, keep], edge_features[keep])
    torch.testing.assert_close(out[5], layer.update(torch.zeros(1, 16), h[5:6])[0])


def test_entry_logits_by_parts_equal_the_entry_head_on_the_concatenated_input():
    torch.manual_seed(0)
    rows, pb = level(load_dataset("enzymes", "train")[:2], 2)
    net = CommunityNet(CommunityNetConfig(hidden=16, num_layers=2, num_mixtures=3))
    h = torch.randn(pb.node_row.numel(), 16)
    h_new = h[pb.new_node]
    entry_row = pb.node_row[pb.entry_prefix_node]
    literal = net.entry_head(torch.cat([h_new[entry_row], h[pb.entry_prefix_node], pb.context[entry_row]], 1))
    fast = net._entry_logits(h_new, h, pb.context, entry_row, pb.entry_prefix_node)
    torch.testing.assert_close(fast, literal.double(), rtol=1e-5, atol=1e-5)
    reference = net.literal_entry_logits(h_new, h, pb.context, entry_row, pb.entry_prefix_node)
    torch.testing.assert_close(reference, literal.double(), rtol=0, atol=0)


@pytest.mark.parametrize("lv, dataset", [(1, "sbm"), (2, "planar")])
def test_prefix_adjacency_rows_are_each_nodes_earlier_neighbours(lv, dataset):
    """With adjacency_rows=M every prefix node's extra inputs are its row of the level's adjacency
    restricted to earlier nodes of its community at places < M (log1p of the weight), read here from
    the level graph directly; new nodes' rows are 0; the other features are unchanged."""
    graphs = load_dataset(dataset, "train")[:2]
    h = order_hierarchy(build_hierarchy(graphs, seed=0))
    rows = community_rows(h, lv)
    columns = 6
    plain, pb = prefix_batch(rows, h.levels[lv]), prefix_batch(rows, h.levels[lv], adjacency_rows=columns)
    assert torch.equal(pb.node_features[:, :3], plain.node_features) and torch.equal(pb.edge_index, plain.edge_index)
    weight = {}
    g = h.levels[lv]
    for (u, v), w in zip(g.edge_index.t().tolist(), g.edge_weight.tolist()):
        weight[(u, v)] = w
    first_prefix = torch.cumsum(rows.position + 1, 0) - (rows.position + 1)
    nonzero = 0
    for r in range(rows.num_rows):
        t, start = int(rows.position[r]), r - int(rows.position[r])
        for local in range(t + 1):
            got = pb.node_features[int(first_prefix[r]) + local, -columns:]
            want = torch.zeros(columns)
            if local < t:  # an earlier node: its neighbours among the places before it
                for j in range(min(local, columns)):
                    want[j] = math.log1p(weight.get((start + local, start + j), 0))
            assert torch.allclose(got, want), (r, local)
            nonzero += int(got.count_nonzero())
    assert nonzero > 5  # the check saw edges
    net = CommunityNet(
        CommunityNetConfig(hidden=8, num_layers=1, num_mixtures=2, position_dim=4, adjacency_rows=columns)
    )
    out = net(pb)
    assert out.log_alpha.shape == (rows.num_rows, 2)
    with pytest.raises(ValueError, match="adjacency_rows"):
        net(plain)
