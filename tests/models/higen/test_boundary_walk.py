import networkx as nx
import pytest
import torch

from graphgen.models.higen.block_sequence import (
    blocks_sequence_log_likelihood,
    coordination_net,
    padded_blocks,
    sample_blocks,
)
from graphgen.models.higen.boundary_walk import community_positions
from graphgen.models.higen.model import Draws


def both_directions(edges):
    ei = torch.tensor(edges, dtype=torch.long).t()
    return torch.cat([ei, ei.flip(0)], 1)


def test_a_wheel_is_walked_round_its_rim_and_a_path_end_to_end():
    # community 0: wheel, centre 0, rim 1..6; community 1: path 7 - 9 - 8; one cross edge 1 - 7 (ignored)
    wheel = [(0, k) for k in range(1, 7)] + [(k, k % 6 + 1) for k in range(1, 7)]
    edge_index = both_directions(wheel + [(7, 9), (9, 8), (1, 7)])
    parent = torch.tensor([0] * 7 + [1] * 3)
    assert community_positions(edge_index, parent).tolist() == [0, 1, 2, 3, 4, 5, 6, 0, 1, 2]
    assert community_positions(edge_index, parent, "boundary").tolist() == [6, 0, 1, 2, 3, 4, 5, 0, 2, 1]
    with pytest.raises(ValueError, match="unknown cross order 'border'"):
        community_positions(edge_index, parent, "border")


def test_isolated_nodes_and_separate_borders_are_each_visited_once():
    # one community: triangle 0-1-2 (every edge on one triangle), node 3 without intra edges, edge 4-5
    # on no triangle: three walks and a lone node, in generation order
    edge_index = both_directions([(0, 1), (1, 2), (0, 2), (4, 5)])
    parent = torch.zeros(6, dtype=torch.long)
    assert community_positions(edge_index, parent, "boundary").tolist() == [0, 1, 2, 3, 4, 5]


def test_a_triangulation_is_walked_round_its_outer_cycle_first():
    """A Delaunay triangulation of random points as one community: the walk visits the convex hull
    (the edges on one triangle) in cyclic order, then the inner nodes in generation order."""
    from scipy.spatial import Delaunay

    points = torch.rand(30, 2, generator=torch.Generator().manual_seed(0)).numpy()
    tri = Delaunay(points)
    g = nx.Graph()
    for a, b, c in tri.simplices.tolist():
        g.add_edges_from([(a, b), (b, c), (a, c)])
    edge_index = both_directions(list(g.edges()))
    position = community_positions(edge_index, torch.zeros(30, dtype=torch.long), "boundary")
    assert sorted(position.tolist()) == list(range(30))
    hull = set(tri.convex_hull.flatten().tolist())
    walk = torch.argsort(position).tolist()
    assert set(walk[: len(hull)]) == hull
    for a, b in zip(walk[: len(hull)], walk[1 : len(hull)] + walk[:1]):
        assert g.has_edge(a, b)  # consecutive hull nodes, and the last closes the cycle
    inner = walk[len(hull) :]
    assert inner == sorted(inner)


def planar_blocks(count=4):
    from graphgen.data import build_hierarchy
    from graphgen.data.hierarchy_order import order_hierarchy
    from graphgen.datasets import load_dataset
    from graphgen.models.higen.bipartite_net import block_pairs

    h = order_hierarchy(build_hierarchy(load_dataset("planar", "train")[:count], seed=0))
    return block_pairs(h, 2), h.assignments[1], h.levels[2]


def random_g(seed):
    torch.manual_seed(seed)
    g = coordination_net(8).double()
    for p in g.parameters():
        torch.nn.init.normal_(p, std=0.8)
    return g


def test_the_padded_layout_follows_the_order_and_keeps_the_communities():
    pairs, parent, level = planar_blocks()
    position = community_positions(level.edge_index, parent, "boundary")
    assert not torch.equal(position, community_positions(level.edge_index, parent))
    logits = torch.randn(pairs.pair_block.numel(), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    blocks = padded_blocks(logits, pairs, level.edge_index, parent, position)
    _, size_i, size_j = blocks.shape
    assert torch.equal(blocks.pair_slot, position[pairs.pair_left] * size_j + position[pairs.pair_right])
    assert torch.equal(blocks.theta.view(blocks.shape[0], -1)[pairs.pair_block, blocks.pair_slot], logits)
    # every intra edge of a block's left community sits at its endpoints' places
    first = torch.cumsum(pairs.block_size, 0) - pairs.block_size
    u, v = level.edge_index
    for b in range(0, int(pairs.block_weight.numel()), 7):
        comm = parent[pairs.pair_left[first[b]]]
        inside = (parent[u] == comm) & (parent[v] == comm)
        dense = torch.zeros(size_i, size_i, dtype=torch.float64)
        dense[position[u[inside]], position[v[inside]]] = 1.0
        assert torch.equal(blocks.left_adjacency[b], dense)


def test_the_order_changes_the_likelihood_only_through_the_coordination():
    pairs, parent, level = planar_blocks()
    logits = torch.randn(pairs.pair_block.numel(), generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    with torch.no_grad():
        zero = coordination_net().double()  # g ≡ 0: the conditional Bernoulli, whatever the order
        lp = {
            o: blocks_sequence_log_likelihood(logits, pairs, level.edge_index, parent, zero, order=o)
            for o in ("generation", "boundary")
        }
        assert torch.allclose(lp["generation"], lp["boundary"], rtol=1e-10)
        g = random_g(2)
        lp = {
            o: blocks_sequence_log_likelihood(logits, pairs, level.edge_index, parent, g, order=o)
            for o in ("generation", "boundary")
        }
    assert float((lp["generation"] - lp["boundary"]).abs().max()) > 1e-3


@pytest.mark.parametrize("order", ["generation", "boundary"])
def test_sampled_units_land_on_their_own_pairs(order):
    """With one pair per block far more likely than the rest and a block weight of 1, the sample
    lands on exactly that pair: the padded layout maps back to the right nodes in either order."""
    pairs, parent, level = planar_blocks()
    gen = torch.Generator().manual_seed(3)
    first = torch.cumsum(pairs.block_size, 0) - pairs.block_size
    favourite = first + (torch.rand(pairs.block_size.numel(), generator=gen) * pairs.block_size).long()
    logits = torch.full((pairs.pair_block.numel(),), -30.0, dtype=torch.float64)
    logits[favourite] = 30.0
    pairs.block_weight = torch.ones_like(pairs.block_weight)
    with torch.no_grad():
        units = sample_blocks(logits, pairs, level.edge_index, parent, random_g(4), Draws(gen), order=order)
    assert units.nonzero().flatten().tolist() == favourite.tolist()


def test_greedy_boundary_samples_follow_the_boundary_likelihood():
    pairs, parent, level = planar_blocks()
    logits = torch.randn(pairs.pair_block.numel(), generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    g = random_g(6)
    with torch.no_grad():
        greedy = sample_blocks(logits, pairs, level.edge_index, parent, g, Draws(greedy=True), order="boundary")
        drawn = sample_blocks(
            logits, pairs, level.edge_index, parent, g, Draws(torch.Generator().manual_seed(7)), order="boundary"
        )
    spent = torch.zeros_like(pairs.block_weight).index_add_(0, pairs.pair_block, drawn)
    assert torch.equal(spent, pairs.block_weight) and int(drawn.max()) == 1
    scores = {}
    for name, units in (("greedy", greedy), ("drawn", drawn)):
        pairs.pair_target = units
        with torch.no_grad():
            scores[name] = float(
                blocks_sequence_log_likelihood(logits, pairs, level.edge_index, parent, g, order="boundary").sum()
            )
    assert scores["greedy"] > scores["drawn"]
