import pytest
import torch

from graphgen.data import FixedPartitioner, build_hierarchy, from_edge_array
from graphgen.data.hierarchy_order import order_hierarchy
from graphgen.datasets import load_dataset
from graphgen.models.higen.bipartite import conditional_bernoulli_log_prob, multinomial_block_log_prob
from graphgen.models.higen.bipartite_net import BipartiteNet, BipartiteNetConfig, block_log_likelihood, block_pairs


@pytest.fixture(scope="module")
def hierarchy():
    return order_hierarchy(build_hierarchy(load_dataset("enzymes", "train")[:4], num_levels=3, seed=0))


def test_pairs_cover_every_block_and_spend_the_parent_weights(hierarchy):
    for level in (2, 3):
        pairs = block_pairs(hierarchy, level)
        spent = torch.zeros_like(pairs.block_weight).index_add_(0, pairs.pair_block, pairs.pair_target)
        assert torch.equal(spent, pairs.block_weight)
        assert torch.equal(torch.bincount(pairs.pair_block), pairs.block_size)
        parent = hierarchy.assignments[level - 1]
        assert bool((parent[pairs.pair_left] != parent[pairs.pair_right]).all())


def test_hand_built_block():
    g = from_edge_array(6, [[0, 1], [1, 2], [0, 2], [3, 4], [4, 5], [3, 5], [2, 3], [1, 4]])
    h = order_hierarchy(build_hierarchy(g, partitioner=FixedPartitioner((torch.tensor([0, 0, 0, 1, 1, 1]),))), "bfs")
    pairs = block_pairs(h, 2)
    assert pairs.block_weight.tolist() == [2] and pairs.block_size.tolist() == [9]
    assert int(pairs.pair_target.sum()) == 2


@pytest.mark.parametrize("level", [2, 3])
def test_batched_likelihood_equals_per_block_reference(hierarchy, level):
    pairs = block_pairs(hierarchy, level)
    logits = torch.randn(pairs.pair_block.numel(), generator=torch.Generator().manual_seed(level), dtype=torch.float64)
    fast = block_log_likelihood(pairs, logits)
    for b in range(int(pairs.block_weight.numel())):
        sel = pairs.pair_block == b
        y = pairs.pair_target[sel].double()
        ref = (
            conditional_bernoulli_log_prob(y, logits[sel]) if pairs.leaf else multinomial_block_log_prob(y, logits[sel])
        )
        assert float(fast[b]) == pytest.approx(float(ref), abs=1e-10)


def test_network_gradients_and_symmetry(hierarchy):
    torch.manual_seed(0)
    pairs = block_pairs(hierarchy, 3)
    net = BipartiteNet(BipartiteNetConfig(hidden=16, num_layers=2))
    logits = net(hierarchy.levels[3], hierarchy.assignments[2], pairs)
    assert logits.shape == pairs.pair_left.shape
    (-block_log_likelihood(pairs, logits).sum()).backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    swapped = type(pairs)(
        pairs.pair_block,
        pairs.pair_right,
        pairs.pair_left,
        pairs.pair_target,
        pairs.block_weight,
        pairs.block_size,
        pairs.leaf,
    )
    with torch.no_grad():
        assert torch.allclose(net(hierarchy.levels[3], hierarchy.assignments[2], swapped), logits.detach())


def test_chunked_scoring_without_autograd_gives_the_same_scores(hierarchy, monkeypatch):
    import graphgen.models.higen.bipartite_net as bipartite_net

    torch.manual_seed(0)
    net = BipartiteNet(BipartiteNetConfig(hidden=8, num_layers=1, position_dim=4))
    pairs = block_pairs(hierarchy, 3)
    whole = net(hierarchy.levels[3], hierarchy.assignments[2], pairs)  # autograd on: one pass
    monkeypatch.setattr(bipartite_net, "PAIR_CHUNK", 7)  # many chunks, the last one partial
    assert pairs.pair_block.numel() > 7 and pairs.pair_block.numel() % 7
    with torch.no_grad():
        chunked = net(hierarchy.levels[3], hierarchy.assignments[2], pairs)
    torch.testing.assert_close(chunked, whole.detach(), rtol=1e-5, atol=1e-6)


def test_scores_by_parts_equal_the_literal_score_mlp(hierarchy):
    torch.manual_seed(1)
    net = BipartiteNet(BipartiteNetConfig(hidden=16, num_layers=2))
    pairs = block_pairs(hierarchy, 3)
    graph, parent = hierarchy.levels[3], hierarchy.assignments[2]
    h = net.node_embeddings(graph, parent)
    torch.testing.assert_close(net(graph, parent, pairs), net.literal_scores(h, pairs), rtol=1e-5, atol=1e-5)


def test_block_rounds_exact_values_and_no_shared_community(hierarchy):
    from graphgen.models.higen.bipartite_net import block_rounds

    # blocks in (i, j) order: (0,1) -> 0, (0,2) -> 1, (0,3) -> 2, (1,2) -> 2, (2,3) -> 0 (2 holds 1, 2; 3 holds 2)
    left, right = torch.tensor([2, 0, 1, 0, 0]), torch.tensor([3, 2, 2, 1, 3])
    assert block_rounds(left, right).tolist() == [0, 1, 2, 0, 2]
    assert block_rounds(torch.zeros(0, dtype=torch.long), torch.zeros(0, dtype=torch.long)).numel() == 0
    for level in (2, 3):
        blocks = hierarchy.bipartites(level)
        rounds = block_rounds(blocks.left_parent, blocks.right_parent)
        ends = torch.cat([blocks.left_parent, blocks.right_parent])
        key = ends * (int(rounds.max()) + 1) + torch.cat([rounds, rounds])
        assert key.unique().numel() == key.numel()  # a community is in at most one block per round
        degree = torch.bincount(ends)
        assert int(rounds.max()) <= 2 * int(degree.max()) - 2


def test_earlier_cross_edges_count_the_rounds_before(hierarchy):
    from graphgen.models.higen.bipartite_net import block_rounds, earlier_cross_edges

    level = 3
    pairs = block_pairs(hierarchy, level, rounds=True)
    blocks = hierarchy.bipartites(level)
    rounds = block_rounds(blocks.left_parent, blocks.right_parent)
    n = int(hierarchy.levels[level].num_nodes)
    assert torch.equal(pairs.pair_earlier, earlier_cross_edges(pairs, rounds, n))
    edges = [
        (int(a), int(b), int(rounds[k]), int(w))
        for a, b, k, w in zip(pairs.pair_left, pairs.pair_right, pairs.pair_block, pairs.pair_target)
        if w > 0
    ]
    for q in range(0, pairs.pair_block.numel(), 7):
        r = int(rounds[pairs.pair_block[q]])
        for side, node in enumerate((int(pairs.pair_left[q]), int(pairs.pair_right[q]))):
            expected = sum(w for a, b, s, w in edges if s < r and node in (a, b))
            assert float(pairs.pair_earlier[q, side]) == expected
    assert block_pairs(hierarchy, level).pair_earlier is None
