"""The HiGen diagnostic scripts of ``metrics/scripts`` (files, not a package) on hand-counted graphs.

Their numbers are quoted in ``metrics/README.md`` and the session notes, so their definitions are
checked here on graphs small enough to count by hand.
"""

import importlib
import sys
from dataclasses import replace
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "metrics" / "scripts"


def _script(name: str):
    """Import ``metrics/scripts/NAME.py`` (with the scripts' folder on the path, as they run)."""
    sys.path.insert(0, str(SCRIPTS))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(SCRIPTS))


@pytest.fixture(scope="module")
def higen_structure():
    return _script("higen_structure")


# a wheel (hub 0, rim 1-5) in one community; two triangles joined by the cross edge 2-3; K5 in one community
WHEEL = (6, [(0, k) for k in range(1, 6)] + [(k, k % 5 + 1) for k in range(1, 6)])
TWO_TRIANGLES = (6, [(0, 1), (0, 2), (1, 2), (3, 4), (3, 5), (4, 5), (2, 3)])
K5 = (5, [(u, v) for u in range(5) for v in range(u + 1, 5)])
GRAPHS = [WHEEL, TWO_TRIANGLES, K5]
COMMUNITIES = [[0] * 6, [0, 0, 0, 1, 1, 1], [0] * 5]


def test_structure_counts_planarity_cross_edges_and_triangles(higen_structure):
    out = higen_structure.structure(GRAPHS, COMMUNITIES)
    assert out["graphs"] == 3
    assert out["planar"] == pytest.approx(round(2 / 3, 4)) and out["communities_planar"] == pytest.approx(
        round(2 / 3, 4)
    )
    assert out["cross_edge_share"] == pytest.approx(round((1 / 7) / 3, 4))
    assert out["cross_edges_on_a_triangle"] == 0.0  # the only cross edge closes no triangle (NaN graphs skipped)
    assert out["intra_edges_on_a_triangle"] == 1.0
    # communities of >= 3 nodes: sizes 6, 3, 3, 5; densities d.sum() / (n (n - 1)) = 2|E| / (n (n - 1))
    assert out["communities"] == 4 and out["community_size_mean"] == pytest.approx(4.25)
    assert out["community_density_mean"] == pytest.approx(round((20 / 30 + 1 + 1 + 1) / 4, 4))


def test_local_triangulation_bins_triangles_minus_degree(higen_structure):
    out = higen_structure.structure(GRAPHS, COMMUNITIES)["local_triangulation"]
    # whole graphs: wheel hub 5 - 5 = 0, rim 2 - 3 = -1 (x5); two triangles: 1 - 2 = -1 (x4), the cross
    # edge's ends 1 - 3 = -2 (x2); K5: 6 - 4 = +2 (x5). Seventeen nodes.
    assert out["graph"] == {
        "at_most_-2": round(2 / 17, 4),
        "-1": round(9 / 17, 4),
        "0": round(1 / 17, 4),
        "at_least_1": round(5 / 17, 4),
    }
    # within communities the cross edge is gone: every node of the two triangles is at -1
    assert out["communities"] == {
        "at_most_-2": 0.0,
        "-1": round(11 / 17, 4),
        "0": round(1 / 17, 4),
        "at_least_1": round(5 / 17, 4),
    }


def test_degrees_by_place_uses_generation_order_within_communities(higen_structure):
    out = higen_structure.structure(GRAPHS, COMMUNITIES)["degrees_by_place"]
    # first nodes: wheel hub (5, 0), triangle nodes 0 (2, 0) and 3 (2, 1), K5 node 0 (4, 0)
    assert out["first"] == {"nodes": 4, "intra_degree": 3.25, "cross_degree": 0.25, "degree_at_most_2": 0.25}
    # last nodes: wheel 5 (3, 0), triangle nodes 2 (2, 1) and 5 (2, 0), K5 node 4 (4, 0)
    assert out["last"] == {"nodes": 4, "intra_degree": 2.75, "cross_degree": 0.25, "degree_at_most_2": 0.25}
    # intra degree 2: the six triangle nodes, two of them with the cross edge
    assert out["with_a_cross_edge_by_intra_degree"]["2"] == round(2 / 6, 3)


@pytest.fixture(scope="module")
def higen_size_head():
    return _script("higen_size_head")


def _explicit_size_model():
    import torch

    from graphgen.models.higen import HiGen, HiGenConfig

    torch.manual_seed(0)
    config = HiGenConfig(hidden=16, num_layers=1, num_mixtures=2, position_dim=8, community_size="explicit")
    return HiGen(replace(config, size_concentration=True, size_share=True))


def test_size_table_accounts_for_every_node_and_edge(higen_size_head):
    import torch

    from graphgen.datasets import load_dataset

    graphs = load_dataset("enzymes", "train")[:5]
    t = higen_size_head.size_table(_explicit_size_model(), graphs, seed=0)
    nodes = sum(int(g.num_nodes) for g in graphs)  # enzymes' first graphs have no isolated node
    edges = sum(int(g.edge_index.shape[1]) // 2 for g in graphs)
    assert int(t["N"].sum()) == nodes and float(t["share"].sum()) == pytest.approx(nodes)
    assert int(t["W"].sum() + t["D"].sum() / 2) == edges  # intra edges + cross edges (D counts both ends)
    assert bool((t["N"] - 1 <= t["W"]).all()) and bool((t["W"] <= t["N"] * (t["N"] - 1) / 2).all())
    assert torch.equal(t["V"].unique().sort().values, torch.tensor(sorted({float(g.num_nodes) for g in graphs})))


def test_a_size_head_fitted_alone_learns_a_deterministic_rule(higen_size_head):
    """Trees (N = W + 1, the top of the support) for every budget: a fitted head puts almost all its mass
    there, far below the NLL of the untrained head."""
    import torch

    w = torch.arange(1.0, 9.0).repeat(4)
    table = {"N": w + 1, "W": w, "D": torch.ones_like(w), "V": torch.full_like(w, 20.0), "share": w + 1}
    model = _explicit_size_model()
    untrained = higen_size_head.model_nll(model, table)
    fitted = higen_size_head.fit_alone(model, table, {"t": table}, with_share=True, seed=0, steps=300)["t"]
    assert fitted < 0.05 < untrained, (fitted, untrained)


def test_leaf_level_with_true_sizes_gives_every_community_its_real_node_count():
    """_higen_diagnostic.sample_leaf_level(..., true_sizes=True): the sampled leaf level of real coarse
    graphs has each community's real node count (the drawn sizes differ), spends each community's
    budget, and the model samples with its own size head again afterwards."""
    import torch

    from graphgen.datasets import load_dataset
    from graphgen.models.higen import HiGen

    diagnostic = _script("_higen_diagnostic")
    model = _explicit_size_model().fit_size_model(load_dataset("enzymes", "train")[:8])
    graphs = load_dataset("enzymes", "train")[:6]
    h, _ = diagnostic.real_communities(model, graphs)
    real = torch.bincount(h.assignments[1], minlength=int(h.levels[1].num_nodes))
    counts, edge_index, parent = diagnostic.sample_leaf_level(model, h, graphs, seed=0, true_sizes=True)
    assert torch.equal(torch.bincount(parent, minlength=real.numel()), real)
    assert counts.tolist() == [int(g.num_nodes) for g in graphs]
    inside = parent[edge_index[0]] == parent[edge_index[1]]
    coarse = h.levels[1]
    loops = coarse.edge_index[0] == coarse.edge_index[1]
    budget = torch.zeros(real.numel(), dtype=torch.long).index_add_(
        0, coarse.edge_index[0, loops], coarse.edge_weight[loops].long()
    )
    intra = torch.bincount(parent[edge_index[0, inside]], minlength=real.numel()) // 2
    assert torch.equal(intra, budget)
    assert "_community_sizes" not in model.__dict__ and model._community_sizes.__func__ is HiGen._community_sizes
    drawn = torch.bincount(diagnostic.sample_leaf_level(model, h, graphs, seed=0)[2], minlength=real.numel())
    assert not torch.equal(drawn, real)


def _data(n, edges):
    import torch
    from torch_geometric.data import Data

    ei = torch.tensor(edges, dtype=torch.long).t()
    return Data(edge_index=torch.cat([ei, ei.flip(0)], 1), num_nodes=n)


def test_coarse_split_budgets_count_cross_edges_per_community_and_per_graph():
    """higen_coarse_split.budgets: the wheel has one community and no cross edge; the two triangles
    have one cross edge, one end in each community, 1 of their 7 edges."""
    import torch

    budgets = _script("higen_coarse_split").budgets
    graphs = [_data(*WHEEL), _data(*TWO_TRIANGLES)]
    out = budgets(graphs, [torch.tensor(c) for c in COMMUNITIES[:2]])
    assert out["cross_edges_per_community_mean"] == pytest.approx(round(2 / 3, 3))  # [0, 1, 1]
    assert out["cross_edges_per_community_std"] == pytest.approx(round((2 / 9) ** 0.5, 3))
    assert out["cross_share_per_graph_mean"] == pytest.approx(round(1 / 14, 4))  # [0, 1/7]
    assert out["cross_share_per_graph_std"] == pytest.approx(round(1 / 14, 4))


def test_subset_decomposition_summary_counts_sizes_and_degree_shares():
    """higen_subset_decomposition.summary on the wheel (hub of degree 5, rim of degree 3) and K5
    (degree 4), scored against themselves (MMD 0)."""
    summary = _script("higen_subset_decomposition").summary
    graphs = [_data(*WHEEL), _data(*K5)]
    out = summary(graphs, graphs)
    assert out["nodes_mean"] == 5.5 and out["edges_mean"] == 10.0
    assert out["edges_per_node_mean"] == pytest.approx(round((10 / 6 + 10 / 5) / 2, 3))
    assert out["degree_share_0_to_5_and_6_plus"] == [
        0.0,
        0.0,
        0.0,
        round(5 / 11, 3),
        round(5 / 11, 3),
        round(1 / 11, 3),
        0.0,
    ]
    assert out["degree_mmd"] == pytest.approx(0.0, abs=1e-12)


def test_ladder_signal_triangle_shares_count_triangles_through_each_cross_edge():
    """higen_ladder_signal.triangle_shares: a square 0-1-2-3 split into communities {0, 1} and {2, 3}
    (intra edges 0-1, 2-3) with cross edges 1-2, 0-3 and the diagonal 0-2: 1-2 lies on triangle 0-1-2,
    0-3 on 0-2-3, the diagonal on both."""
    import torch

    triangle_shares = _script("higen_ladder_signal").triangle_shares
    intra = torch.tensor([[0, 1, 2, 3], [1, 0, 3, 2]])
    out = triangle_shares(4, intra, torch.tensor([[1, 0, 0], [2, 3, 2]]))
    assert out == {"cross_edges": 3, "on_a_triangle": 1.0, "on_two_triangles": round(1 / 3, 4)}
    out = triangle_shares(4, intra, torch.tensor([[1, 0], [2, 3]]))  # the square without its diagonal
    assert out == {"cross_edges": 2, "on_a_triangle": 0.0, "on_two_triangles": 0.0}


def test_ladder_signal_counts_edges_placed_without_a_placed_neighbour():
    """higen_ladder_signal.signal_counts on one block between the paths 0-1-2 and 3-4-5 with cross
    edges (0, 4), (1, 3), (2, 5), placed in that (row-major) order: (0, 4) is the block's first;
    (1, 3) has no placed edge at 1 or at a neighbour of 3 in row 1 (t_1 = t_2 = 0) but the rung
    (0, 4) with 0 ~ 1 and 4 ~ 3 (t_3 = 1); (2, 5) has none of them. sampled_pairs marks edges given
    in either orientation."""
    from types import SimpleNamespace

    import torch

    from graphgen.models.higen.bipartite_net import BlockPairs

    script = _script("higen_ladder_signal")
    path = [(0, 1), (1, 2), (3, 4), (4, 5)]
    ei = torch.tensor(path + [(v, u) for u, v in path]).t()
    h = SimpleNamespace(levels=[None, SimpleNamespace(edge_index=ei)], assignments=[torch.tensor([0, 0, 0, 1, 1, 1])])
    pairs = BlockPairs(
        pair_block=torch.zeros(9, dtype=torch.long),
        pair_left=torch.arange(3).repeat_interleave(3),
        pair_right=torch.tensor([3, 4, 5]).repeat(3),
        pair_target=torch.zeros(9, dtype=torch.long),
        block_weight=torch.tensor([3]),
        block_size=torch.tensor([9]),
        leaf=True,
    )
    pairs = script.sampled_pairs(pairs, torch.tensor([0, 3, 5]), torch.tensor([4, 1, 2]))
    assert pairs.pair_target.tolist() == [0, 1, 0, 1, 0, 0, 0, 0, 1]
    counts = script.signal_counts(h, pairs)
    assert counts == {"edges": 3, "first": 1, "without_t1_t2": 2, "without_t1_t2_t3": 1}


def test_row_attachment_counts_how_rows_join_their_prefix_graphs():
    """higen_row_attachment.row_attachment on the wheel (hub 0, rim 1-5 in order: rows 2-5 join
    {0, 1}, {0, 2}, {0, 3}, {0, 4, 1}, each a path of the prefix, none closed or crowded) and K5 (rows
    2-4 join 2, 3, 4 earlier nodes: a path, a triangle, and K4, whose nodes are closed (T = d = 3)
    and whose edges lie on two triangles; the prefix stops being planar at that last row, place
    floor(10 * 4 / 5) = 8). The two-community graph's rows (t >= 2) are the third nodes of its
    triangles, joining a path each."""
    out = _script("higen_row_attachment").row_attachment(
        [WHEEL, K5, TWO_TRIANGLES], [COMMUNITIES[0], [0] * 5, [0, 0, 0, 1, 1, 1]]
    )
    assert out["rows"] == 9 and out["rows_by_earlier_neighbours"] == {
        "2": round(6 / 9, 4),
        "3": round(2 / 9, 4),
        "4": round(1 / 9, 4),
    }
    assert out["rows_joining_two_or_more"] == 9
    assert (out["path"], out["connected"], out["closed"], out["joins_an_edge_on_two_triangles"]) == (
        round(7 / 9, 4),
        1.0,
        round(1 / 9, 4),
        round(1 / 9, 4),
    )
    # prefix gaps d - T, rows t >= 1: wheel 0 | 1 1 | 1 1 1 | 1 x 4 | 1 x 5; K5 0 | 1 1 | 1 1 1 | 0 x 4 (K4);
    # each triangle community 0 | 1 1
    assert out["prefix_degree_gap"] == {"0": round(8 / 31, 4), "1": round(23 / 31, 4)}
    assert out["communities"] == 4 and out["nonplanar_communities"] == 1
    assert out["first_nonplanar_rows"] == {
        "rows": 1,
        "by_earlier_neighbours": {"4": 1},
        "path": 0,
        "connected": 1,
        "closed": 1,
        "joins_an_edge_on_two_triangles": 1,
        "place_tenths": {"8": 1},
    }


def test_orbit_profile_sums_each_graphlets_orbits_and_divides_by_the_reference():
    """orbit_profile on the orbit counts of the wheel (reference) and K5 (samples), computed by the
    protocol's own orbit_features: K5 has per node 4 edges, 6 triangles (orbit 3) and C(4, 3) = 4 K4s
    (orbit 14); the wheel (hub and a 5-cycle rim) has no K4, no induced 4-cycle and no induced claw
    (any 3 rim nodes hold an adjacent pair), so those ratios are undefined (None); its rim holds
    induced 4-paths, which K5 lacks (ratio 0)."""
    import numpy as np

    from graphgen.data import from_edge_array
    from graphgen.metrics.descriptors import orbit_features

    profile = _script("orbit_profile").orbit_profile
    wheel, k5 = (orbit_features([from_edge_array(n, edges)]) for n, edges in (WHEEL, K5))
    assert k5[0, 0] == 4 and k5[0, 3] == 6 and k5[0, 14] == 4
    out = profile(wheel, k5)
    assert out["degree"] == round(4 / (20 / 6), 3) and out["triangle"] == round(6 / wheel[0, 3], 3)
    assert out["k4"] is None and out["cycle_4"] is None and out["claw"] is None and out["path_4"] == 0.0
    undefined = {"k4": None, "cycle_4": None, "claw": None}
    assert (
        profile(wheel, np.concatenate([wheel, wheel]))
        == {name: 1.0 for name in out if name not in undefined} | undefined
    )


def test_model_split_reads_the_split_protocol_the_checkpoint_was_trained_under(tmp_path):
    """_higen_diagnostic.model_split: a checkpoint trained under enzymes' graphrnn split is diagnosed on
    that split's test graphs (118, not the default gdss split's 117), its validation split (made of
    training graphs) is refused, and a checkpoint with no recorded protocol gets the default split."""
    from graphgen.datasets import load_dataset, split_indices
    from graphgen.io.checkpoint import load_checkpoint, save_checkpoint

    diagnostic = _script("_higen_diagnostic")
    shipped = load_checkpoint(_shipped("higen-enzymes"))
    assert shipped.metadata.get("protocol") in (None, "gdss")
    assert len(diagnostic.model_split("higen-enzymes", "enzymes", "test")) == len(load_dataset("enzymes", "test"))
    shipped.metadata = {**shipped.metadata, "protocol": "graphrnn"}
    path = tmp_path / "graphrnn.pt"
    save_checkpoint(shipped, path)
    test = diagnostic.model_split(str(path), "enzymes", "test")
    assert len(test) == len(split_indices("enzymes", "test", protocol="graphrnn")) == 118
    with pytest.raises(SystemExit, match="no held-out validation split"):
        diagnostic.model_split(str(path), "enzymes", "val")


def _shipped(name: str) -> Path:
    from graphgen.models.pretrained import resolve_checkpoint

    return resolve_checkpoint(name)[0]


def test_row_break_rate_counts_draws_that_break_planarity_or_open_a_gap():
    """higen_row_break_rate on two hand-built communities of 6 nodes. A: K4 on 0-3, then row 4 joins
    {0, 1} and row 5 joins {1, 4}; rows 4 and 5 are drawn twice each: {0,1,2,3} at row 4 makes K5
    (breaks), {0, 2} does not; at row 5 {2, 4} (not adjacent: the new node has d - T = 2, a gap)
    stays planar, {0,1,2,3} contains K5 (breaks). B: K5 on 0-4, then row 5: with planar prefixes only
    its rows stop at row 4 (row 5's prefix is K5); row 4 draws {0, 1} and {0, 1, 2}, neither breaks
    (K5 minus edges). Every evaluated prefix is disc-like (K4, and K4 with a node on an edge)."""
    script = _script("higen_row_break_rate")
    k4 = [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)]
    a_edges = k4 + [(4, 0), (4, 1), (5, 1), (5, 4)]
    a_drawn = {4: [([0, 1, 2, 3], 4, True), ([0, 2], 2, False)], 5: [([2, 4], 2, False), ([0, 1, 2, 3], 4, True)]}
    b_edges = k4 + [(4, 0), (4, 1), (4, 2), (4, 3), (5, 0)]
    b_drawn = {4: [([0, 1], 2, False), ([0, 1, 2], 3, False)], 5: [([0], 1, False), ([1], 1, False)]}
    a = script.community_rows_outcomes(6, a_edges, a_drawn, planar_prefix_only=True)
    assert [(r["t"], r["disc_like"], r["broke"], r["gap"], r["next_gap"]) for r in a] == [
        (4, True, [True, False], [False, False], False),
        (5, True, [False, True], [True, False], False),
    ]
    b = script.community_rows_outcomes(6, b_edges, b_drawn, planar_prefix_only=True)
    assert [r["t"] for r in b] == [4] and b[0]["broke"] == [False, False]
    assert [r["t"] for r in script.community_rows_outcomes(6, b_edges, b_drawn, planar_prefix_only=False)] == [4, 5]
    out = script.summarise([(6, a_edges, a), (6, b_edges, b)], planar_prefix_only=False)
    assert out["communities"] == 2 and out["planar_communities"] == 0.5
    assert out["gap_rate"] == round(1 / 6, 5) and out["next_row_gap_rate"] == 0.0
    assert out["predicted_planar_communities"] == 0.625  # A: (1 - 1/2)(1 - 1/2), B: 1
    assert out["all"] == {"rows": 3, "break_rate": round(2 / 6, 5)}
    assert out["disc_like"] == out["all"] and "not_disc_like" not in out
    assert out["place_6"] == {"rows": 2, "break_rate": 0.25} and out["place_8"] == {"rows": 1, "break_rate": 0.5}
    assert out["last_row"] == {"rows": 1, "break_rate": 0.5}
    assert out["drawn_last"] == {"draws": 2, "break_rate": 1.0}
    assert out["drawn_not_last"] == {"draws": 4, "break_rate": 0.0}
    assert out["drawn_edges_2"] == {"draws": 3, "break_rate": 0.0}
    assert out["drawn_edges_3"] == {"draws": 1, "break_rate": 0.0}
    assert out["drawn_edges_4"] == {"draws": 2, "break_rate": 1.0}
    assert "predicted_planar_communities" not in script.summarise([(6, a_edges, a)], planar_prefix_only=True)


def test_row_break_rate_reads_real_and_sampled_communities_through_the_models_own_rows():
    """higen_row_break_rate.break_rates with a small untrained model on two planar test graphs: every
    real community is planar and every row t >= 4 is evaluated once per draw; a sampled leaf level
    (sampled_hierarchy) is an ordered hierarchy whose rows spend each community's real budget, and its
    rows are evaluated only while their prefix is planar."""
    import torch

    from graphgen.datasets import load_dataset
    from graphgen.models.higen import HiGen, HiGenConfig

    script = _script("higen_row_break_rate")
    diagnostic = _script("_higen_diagnostic")
    torch.manual_seed(0)
    model = HiGen(HiGenConfig(hidden=16, num_layers=1, num_mixtures=2, position_dim=8, resolution=0.3)).eval()
    graphs = load_dataset("planar", "test")[:2]
    h, _ = diagnostic.real_communities(model, graphs)
    sizes = torch.bincount(h.levels[-1].batch, minlength=2)
    rows, _ = model.teacher_forced_rows(h, 2, sizes)
    real = script.break_rates(model, h, sizes, draws=3, temperature=1.0, planar_prefix_only=False)
    assert real["planar_communities"] == 1.0 and real["communities"] == int(rows.community.max()) + 1
    assert real["all"]["rows"] == int((rows.position >= script.MIN_POSITION).sum())
    assert sum(v["draws"] for k, v in real.items() if k.startswith("drawn_edges_")) == 3 * real["all"]["rows"]
    hs = script.sampled_hierarchy(model, h, graphs, seed=0, temperature=1.0)
    sampled_rows, _ = model.teacher_forced_rows(hs, 2, sizes)
    assert torch.equal(sampled_rows.remaining[sampled_rows.position == 0], rows.remaining[rows.position == 0])
    own = script.break_rates(model, hs, sizes, draws=3, temperature=1.0, planar_prefix_only=True)
    assert own["all"]["rows"] <= int((sampled_rows.position >= script.MIN_POSITION).sum())
    assert "predicted_planar_communities" not in own


def test_cross_refit_trains_the_cross_edge_term_that_training_optimises():
    """higen_cross_refit: the NLL of a batch's leaf cross edges equals the ``bipartite_nets.0`` term of
    ``HiGen.loss`` on the same graphs and Louvain seed, and a short refit of a fresh network returns
    its lowest-validation state, one history entry per epoch."""
    import argparse

    import torch

    from graphgen.datasets import load_dataset
    from graphgen.models.higen import HiGen, HiGenConfig
    from graphgen.models.higen.bipartite_net import BipartiteNet

    script = _script("higen_cross_refit")
    torch.manual_seed(0)
    config = HiGenConfig(hidden=16, num_layers=1, num_mixtures=2, position_dim=8, resolution=0.3)
    model = HiGen(replace(config, cross_ladder=True, cross_contact=True, cross_both_directions=True)).eval()
    graphs = load_dataset("planar", "train")[:4]
    batch = script.prepared_blocks(model, graphs, 3)
    with torch.no_grad():
        expected = model.loss(model.prepare(graphs, partition_seed=3))["parts"]["bipartite_nets.0"] * batch[3]
        got = script.cross_nll(model.bipartite_nets[0], batch)
    assert batch[3] == sum(int(g.edge_index.shape[1]) // 2 for g in graphs)
    assert float(got) == pytest.approx(float(expected), rel=1e-9)
    val = [script.prepared_blocks(model, load_dataset("planar", "val")[:2], 0)]
    args = argparse.Namespace(seed=0, batch_size=2, lr=1e-3, epochs=3, hierarchies=2)
    net = BipartiteNet(model.bipartite_nets[0].config)
    state, history = script.refit(model, net, graphs, val, args)
    assert [h["epoch"] for h in history] == [1, 2, 3]
    net.load_state_dict(state)
    assert script.nll_per_edge(net, val) == pytest.approx(min(h["val"] for h in history), rel=1e-12)


def test_cross_refit_checkpoint_is_the_model_with_the_refit_network(tmp_path):
    """higen_cross_refit --checkpoint-out: the saved checkpoint loads as MODEL with the retrained
    (strip) network, its config saying so, MODEL's metadata kept and the refit command added; its
    samples equal those of the model in memory."""
    import argparse
    import hashlib

    import torch

    from graphgen.datasets import load_dataset
    from graphgen.io.checkpoint import load_checkpoint, save_checkpoint
    from graphgen.models.higen import HiGen, HiGenConfig
    from graphgen.models.higen.bipartite_net import BipartiteNet

    script = _script("higen_cross_refit")
    torch.manual_seed(0)
    config = HiGenConfig(hidden=16, num_layers=1, num_mixtures=2, position_dim=8, resolution=0.3)
    model = HiGen(config).fit_size_model(load_dataset("planar", "train")[:4]).eval()
    save_checkpoint(model.to_checkpoint({"dataset": "planar", "command": "train"}, "sha256:x"), tmp_path / "m.pt")
    net = BipartiteNet(replace(model.bipartite_nets[0].config, strips=True))
    with torch.no_grad():
        net.strips.mix_logit.fill_(2.0)
    model.bipartite_nets[0] = net.eval()
    args = argparse.Namespace(model=str(tmp_path / "m.pt"), checkpoint_out=str(tmp_path / "refit.pt"))
    history = [{"epoch": 1, "train": 0.5, "val": 0.4, "seconds": 3.0}]
    script.save_refit_checkpoint(model, net.config, args, "python higen_cross_refit.py ...", history)
    ckpt = load_checkpoint(tmp_path / "refit.pt")
    assert ckpt.config["cross_strips"] is True and ckpt.metadata["command"] == "train"
    assert ckpt.metadata["cross_refit"] == "python higen_cross_refit.py ..." and ckpt.data_fingerprint == "sha256:x"
    assert ckpt.metadata["cross_refit_curve"] == [{"epoch": 1, "train": 0.5, "val": 0.4}]
    digest = hashlib.sha256((tmp_path / "m.pt").read_bytes()).hexdigest()
    assert (
        ckpt.metadata["cross_refit_of"] == str(tmp_path / "m.pt") and ckpt.metadata["cross_refit_of_sha256"] == digest
    )
    loaded = HiGen.from_pretrained(str(tmp_path / "refit.pt"))
    assert float(loaded.bipartite_nets[0].strips.mix_logit.detach()) == 2.0
    a = loaded.sample(3, generator=torch.Generator().manual_seed(1))
    b = model.sample(3, generator=torch.Generator().manual_seed(1))
    assert [g.edge_index.tolist() for g in a] == [g.edge_index.tolist() for g in b]


def test_cross_nodes_compares_every_node_with_itself_in_the_real_graph():
    """higen_cross_nodes on two triangles {0,1,2} and {3,4,5} (the communities) joined by the real cross
    edges 2-3 and 2-4 (node 2 closes the triangle 2-3-4) against a sample that puts its two cross
    edges on 1-3 and 2-5. Real: cross degrees 0,0,2,1,1,0; d - T: 1,1,2,1,1,1. Sample: cross degrees
    0,1,1,1,0,1; d - T: 1,2,2,2,1,2. Border nodes 1-5: only node 3 keeps its cross degree (1), none its
    cross neighbours; clustering changes at nodes 1, 3, 4, 5 (node 2: 2/6 and 1/3 are equal)."""
    script = _script("higen_cross_nodes")
    intra = [(0, 1), (0, 2), (1, 2), (3, 4), (3, 5), (4, 5)]
    real = script.node_profile(6, intra, [(2, 3), (2, 4)])
    sampled = script.node_profile(6, intra, [(1, 3), (2, 5)])
    assert script._counts(real) == {
        "cross_degree": {"0": 3, "1": 2, "2": 1},
        "degree_gap": {"1": 5, "2": 1},
    }
    assert script._counts(sampled)["cross_degree"] == {"0": 2, "1": 4}
    assert script._counts(sampled)["degree_gap"] == {"1": 2, "2": 4}
    assert script.compare(real, sampled) == {
        "border_nodes": 5,
        "same_cross_degree": 0.2,
        "same_cross_neighbours": 0.0,
        "changed_clustering": round(4 / 6, 4),
    }


def test_command_lists_every_parsed_argument_with_json_last():
    import argparse

    diagnostic = _script("_higen_diagnostic")
    args = argparse.Namespace(model="m.pt", dataset="planar", json="out.json", seeds=3, draws_per_row=2, flag=True)
    args.off, args.unset, args.empty, args.logits = False, None, [], [-2.0, 0.5, 3]
    assert diagnostic.command("s.py", args) == (
        "python metrics/scripts/s.py m.pt planar --seeds 3 --draws-per-row 2 --flag --logits -2 0.5 3 --json out.json"
    )


def test_strip_blocks_accepts_a_zipped_band_and_rejects_a_crossing_one():
    """higen_strip_blocks on two border paths A = 0-1-2 and B = 3-4-5. The band 0-3, 0-4, 1-4, 2-4, 2-5
    (steps A/B: (0,0) (0,1) (1,1) (2,1) (2,2)) is a strip, and so is it with B walked the other way
    (0-5, 0-4, 1-4, 2-4, 2-3); 0-3, 1-5, 2-4 crosses (sides are paths, no staircase); a side 0, 2
    (not adjacent) is no path."""
    script = _script("higen_strip_blocks")
    import networkx as nx

    graph = nx.Graph([(0, 1), (1, 2), (3, 4), (4, 5)])
    assert script.path_order(graph, {2, 0, 1}) == [0, 1, 2] and script.path_order(graph, {0, 2}) is None
    band = [(0, 3), (0, 4), (1, 4), (2, 4), (2, 5)]
    assert script.is_strip(graph, band) == (True, True)
    assert script.is_strip(graph, [(0, 5), (0, 4), (1, 4), (2, 4), (2, 3)]) == (True, True)
    assert script.is_strip(graph, [(0, 3), (1, 5), (2, 4)]) == (False, True)
    assert script.is_strip(graph, [(0, 3), (2, 4)]) == (False, False)
    community = [0, 0, 0, 1, 1, 1]
    assert script.strip_shares(graph, community, [(3, 0), (4, 0), (4, 1), (2, 4), (5, 2)]) == {
        "blocks": 1,
        "strips": 1.0,
        "cross_edges_in_strips": 1.0,
        "contact_sides_paths": 1.0,
    }


def test_strip_components_force_each_component_and_restore_the_mixture():
    """higen_strip_components.forced: inside ``strips`` every feasible block draws a strip, inside
    ``fallback`` none does, and afterwards the model's own mixture weights are back."""
    import torch

    from graphgen.models.higen.model import Draws
    from graphgen.models.higen.strip_blocks import StripModel, StripTables

    script = _script("higen_strip_components")
    model = StripModel(4)
    b = 6
    tables = StripTables(
        *[torch.zeros(1, dtype=torch.long)] * 7,
        torch.zeros((1, 2)),
        *[torch.zeros(b, dtype=torch.long)] * 5,
        torch.arange(1, b + 1),
        torch.tensor([True, False] * 3),
        torch.zeros((1, 2), dtype=torch.long),
        False,
    )
    draws = Draws(torch.Generator().manual_seed(0))
    own = StripModel.mix_logits
    with script.forced("strips"):
        assert model.choose_strips(tables, draws).tolist() == [True, False] * 3
    with script.forced("fallback"):
        assert not model.choose_strips(tables, draws).any()
    assert StripModel.mix_logits is own
    assert model.mix_logits(tables).shape == (b,)
    assert float(model.mix_logits(tables)[0].detach()) == 0.0  # λ = 0 and g_π ≡ 0 at initialisation


def test_strip_components_counts_broken_fans_and_border_jumps():
    """fans_and_jumps on the path 0-1-2 (one community; its border cycle 0, 1, 2 closes with the
    jump 2 -> 0: 1 of 3 steps) and node 3 (another): cross edges 3-0 and 3-2 make node 3's fan {0, 2},
    not connected in the path (broken); adding 3-1 makes it the path 0-1-2 (whole)."""
    import torch

    script = _script("higen_strip_components")
    community = torch.tensor([0, 0, 0, 1])

    def both(edges):
        return torch.tensor(edges + [(b, a) for a, b in edges]).t()

    broken = script.fans_and_jumps(both([(0, 1), (1, 2), (3, 0), (3, 2)]), community)
    assert broken == {"fans": 1, "broken_fans": 1, "cycle_steps": 3, "border_jumps": 1}
    whole = script.fans_and_jumps(both([(0, 1), (1, 2), (3, 0), (3, 1), (3, 2)]), community)
    assert whole == {"fans": 1, "broken_fans": 0, "cycle_steps": 3, "border_jumps": 1}
    assert script._shares(broken)["broken_fan_share"] == 1.0


def test_strip_placement_compares_a_drawn_strip_with_the_real_one_between_the_same_communities():
    """higen_strip_placement.compare on two path communities 0-1-2-3 and 4-5-6-7: the real strip
    (0,4),(1,4),(1,5),(2,5) against the same strip shifted one place along both paths,
    (1,5),(2,5),(2,6),(3,6): 2 shared edges of 6, contact nodes {1,2,3,5,6} against {0,1,2,4,5}
    (3 of 7 shared, 2 of 5 outside), side lengths equal, ends {1,3,5,6} not the real {0,2,4,5}."""
    import networkx as nx

    script = _script("higen_strip_placement")
    graph = nx.Graph([(0, 1), (1, 2), (2, 3), (4, 5), (5, 6), (6, 7)])
    community = [0, 0, 0, 0, 1, 1, 1, 1]
    real = [(0, 4), (1, 4), (1, 5), (2, 5)]
    (shifted,) = script.compare(graph, community, real, [(1, 5), (2, 5), (2, 6), (3, 6)])
    assert shifted == {
        "exact": 0.0,
        "edge_jaccard": pytest.approx(2 / 6),
        "side_jaccard": pytest.approx(3 / 7),
        "side_length_error": 0.0,
        "outside_real_sides": pytest.approx(2 / 5),
        "ends_real": 0.0,
    }
    (same,) = script.compare(graph, community, real, list(reversed(real)))
    assert same["exact"] == same["edge_jaccard"] == same["ends_real"] == 1.0
    assert same["outside_real_sides"] == 0.0
    # a real block that is no strip (a crossing pair) is left out
    assert script.compare(graph, community, [(0, 5), (1, 4)], [(0, 5), (1, 4)]) == []


def test_strip_placement_border_degrees_split_contact_and_outer_border_nodes():
    """border_degrees on the wheel (centre 0, rim 1-4: every rim node of degree 3, the centre inner)
    and the path 5-6-7 (degrees 1, 2, 1) with real cross edges 1-5 and 2-5: contact nodes 1, 2, 5
    (degrees 3, 3, 1), outer border nodes 3, 4, 6, 7 (3, 3, 2, 1)."""
    import torch

    script = _script("higen_strip_placement")
    edges = [(0, 1), (0, 2), (0, 3), (0, 4), (1, 2), (2, 3), (3, 4), (4, 1), (5, 6), (6, 7)]
    edge_index = torch.tensor(edges + [(b, a) for a, b in edges]).t()
    got = script.border_degrees(edge_index, [0, 0, 0, 0, 0, 1, 1, 1], [(1, 5), (2, 5)])
    assert got == {
        "contact": {"nodes": 3, "mean_intra_degree": round(7 / 3, 3)},
        "outer": {"nodes": 4, "mean_intra_degree": 2.25},
    }


def test_border_structure_counts_borders_discs_and_open_links():
    """border_structure on a triangle {0, 1, 2} (community 0) and an edge {3, 4} (community 1) joined by
    the cross edges 2-3 and 2-4: border cycles 3 + 2 nodes (discs would have 3·3-3-3 = 3 and
    3·2-3-1 = 2); node 2 (degree 4, triangles 1-2-0 and 2-3-4: T = 2) is border_cross and open, nodes 3
    and 4 (degree 2, T = 1) border_cross and open, nodes 0 and 1 (degree 2, T = 1) border_only and open;
    K5 as one community is counted non-planar; counts add up over graphs."""
    import torch

    script = _script("higen_border_structure")

    def both(edges):
        return torch.tensor(edges + [(b, a) for a, b in edges]).t()

    got = script.border_structure(both([(0, 1), (1, 2), (0, 2), (3, 4), (2, 3), (2, 4)]), [0, 0, 0, 1, 1])
    assert got == {
        "communities": 2,
        "nodes": 5,
        "intra_edges": 4,
        "cross_edges": 2,
        "nonplanar_communities": 0,
        "border_nodes": 5,
        "border_nodes_if_discs": 5,
        "nodes_by_kind": {"border_cross:open": 3, "border_only:open": 2},
        "neighbour_pairs": {},
    }
    # three communities around a corner: A = {0, 1, 2}, B = {3, 4}, C = {5}; A meets B in {2} and C in
    # {1, 2}, B meets A in {3, 4} and C in {4}, C meets both in {5}: one shared node each, all adjacent
    corner = both([(0, 1), (1, 2), (0, 2), (3, 4), (2, 3), (2, 4), (1, 5), (2, 5), (4, 5)])
    assert script.border_structure(corner, [0, 0, 0, 1, 1, 2])["neighbour_pairs"] == {"adjacent:shared_1": 3}
    # a path of communities A = {0} - B = {1, 2, 3} - C = {4}: B meets A in {1, 2, 3} and C in {2, 3}
    path = both([(0, 1), (0, 2), (0, 3), (1, 2), (2, 3), (1, 3), (2, 4), (3, 4)])
    assert script.border_structure(path, [0, 1, 1, 1, 2])["neighbour_pairs"] == {"apart:shared_2": 1}
    k5 = [(a, b) for a in range(5) for b in range(a + 1, 5)]
    nonplanar = script.border_structure(both(k5), [0] * 5)
    assert nonplanar["nonplanar_communities"] == 1 and nonplanar["cross_edges"] == 0
    assert nonplanar["border_nodes_if_discs"] == 3 * 5 - 3 - 10
    total = script._add(got, got)
    assert total["nodes"] == 10 and total["nodes_by_kind"] == {"border_cross:open": 6, "border_only:open": 4}
    assert script._add(total, script.border_structure(corner, [0, 0, 0, 1, 1, 2]))["neighbour_pairs"] == {
        "adjacent:shared_1": 3
    }


def test_row_refit_trains_the_leaf_row_term_and_counts_planar_communities():
    """higen_row_refit: ``leaf_nll`` is the ``community_nets.1`` term of ``HiGen.loss`` (summed), a short
    refit of the leaf network of a run-shaped model returns its lowest-validation state, one history
    entry per epoch, and leaves the other networks' weights alone; ``planar_share`` counts a K5
    community as non-planar and a triangle as planar."""
    import argparse

    import torch
    from torch_geometric.data import Data

    from graphgen.datasets import load_dataset
    from graphgen.models.higen import HiGen, HiGenConfig

    script = _script("higen_row_refit")
    diagnostic = _script("_higen_diagnostic")
    torch.manual_seed(0)
    model = HiGen(HiGenConfig(hidden=16, num_layers=1, num_mixtures=2, position_dim=8, resolution=0.3, row_runs=True))
    graphs = load_dataset("planar", "train")[:4]
    batch = model.prepare(graphs, partition_seed=2)
    with torch.no_grad():
        expected = model.loss(batch)["parts"]["community_nets.1"] * batch.num_edges
        assert float(script.leaf_nll(model, batch)) == pytest.approx(float(expected), rel=1e-9)
    val = [model.prepare(load_dataset("planar", "val")[:2])]
    coarse = {k: v.clone() for k, v in model.community_nets[0].state_dict().items()}
    net = model.community_nets[-1]
    before = script.nll_per_edge(model, val)  # g ≡ 0 at initialisation: π = ½, the scan's logit 0
    scan = script.share_scan(model, val, [-3.0, 0.0])
    assert [round(e["share"], 4) for e in scan] == [0.0474, 0.5] and scan[1]["val_nll_per_edge"] == before
    assert scan[0]["val_nll_per_edge"] != before and script.nll_per_edge(model, val) == before  # restored
    args = argparse.Namespace(seed=0, batch_size=2, lr=1e-3, epochs=2, hierarchies=2)
    state, history = diagnostic.train_alone(
        net,
        graphs,
        lambda g, v: model.prepare(g, partition_seed=v),
        lambda b: (script.leaf_nll(model, b), b.num_edges),
        lambda: script.nll_per_edge(model, val),
        args,
    )
    assert [h["epoch"] for h in history] == [1, 2]
    net.load_state_dict(state)
    assert script.nll_per_edge(model, val) == pytest.approx(min(h["val"] for h in history), rel=1e-12)
    assert all(torch.equal(v, model.community_nets[0].state_dict()[k]) for k, v in coarse.items())
    counted = script.runs_in_data(model, graphs)  # every leaf row t >= 2, split by its edge count
    rows = model.prepare(graphs).levels[-1][0]
    assert counted["all"]["rows"] == int((rows.position >= 2).sum())
    assert sum(v["rows"] for k, v in counted.items() if k.startswith("w_")) == counted["all"]["rows"]
    assert 0.5 < counted["all"]["share"] <= 1.0  # planar rows are mostly runs
    assert counted["not_runs"]["rows"] == counted["all"]["rows"] - counted["all"]["runs"]
    assert counted["not_runs"]["with_inner_node"] <= counted["not_runs"]["rows"]
    k5 = [(a, b) for a in range(5) for b in range(a + 1, 5)]
    edges = k5 + [(5, 6), (6, 7), (5, 7), (4, 5)]
    ei = torch.tensor(edges + [(b, a) for a, b in edges]).t()
    g = Data(edge_index=ei, num_nodes=8, community=torch.tensor([0] * 5 + [1] * 3))
    assert script.planar_share([g]) == 0.5
    # K5 (community 0): each node on 6 triangles with 4 neighbours; the triangle's nodes on 1 with 2;
    # the edge 4-5 joins the communities and counts for neither
    assert script.over_triangulated_share(g.edge_index, g.community) == 5 / 8


def test_decoding_options_reach_sample_and_the_command_line():
    """The scripts' decoding flags become ``HiGen.sample`` options and ``graphgen sample`` flags alike."""
    import argparse

    diagnostic = _script("_higen_diagnostic")
    parser = argparse.ArgumentParser()
    diagnostic.add_decoding_options(parser)
    args = parser.parse_args(["--face-rows", "--planar-strips"])
    assert diagnostic.decoding_options(args) == {"face_rows": True, "planar_strips": True}
    assert diagnostic.decoding_flags(args) == ["--face-rows", "--planar-strips"]
    assert diagnostic.decoding_options(parser.parse_args([])) == {}


def test_share_scans_fix_the_share_of_the_run_components():
    """higen_row_refit's scans: at π ≈ 0 both the walk-run and the face-run scans give the plain rows'
    term, at π = ½ they differ from it and from each other (other supports); the share's MLP is
    restored afterwards; the twins keep MODEL's weights and size model."""
    import math

    import torch

    from graphgen.datasets import load_dataset
    from graphgen.models.higen import HiGen, HiGenConfig

    script = _script("higen_row_refit")
    torch.manual_seed(0)
    plain = HiGen(HiGenConfig(hidden=16, num_layers=1, num_mixtures=2, position_dim=8, resolution=0.3))
    graphs = load_dataset("planar", "val")[:2]
    plain.fit_size_model(graphs)
    base = script.nll_per_edge(plain, [plain.prepare(graphs)])
    scans = {}
    for option in ("row_runs", "row_faces"):
        twin = script.with_run_component(plain, option)
        assert torch.equal(twin.edge_counts, plain.edge_counts) and not twin.training
        g = getattr(twin.community_nets[-1], option)
        saved = {k: v.clone() for k, v in g.state_dict().items()}
        scans[option] = script.share_scan(twin, [twin.prepare(graphs)], [-30.0, 0.0])
        assert all(torch.equal(v, g.state_dict()[k]) for k, v in saved.items())
        assert scans[option][0]["val_nll_per_edge"] == pytest.approx(base, rel=1e-9)
        assert math.isfinite(scans[option][1]["val_nll_per_edge"]) and scans[option][1]["val_nll_per_edge"] != base
    assert scans["row_runs"][1]["val_nll_per_edge"] != scans["row_faces"][1]["val_nll_per_edge"]


def test_face_fills_count_rows_into_a_triangle_and_closed_degree_3_nodes():
    """K4 grown 0, 1, 2, 3 (node 3's row joins the triangle 0-1-2) plus a node 4 of another community
    joined to 3 by a cross edge: one row of three edges into a triangle out of the two rows t >= 2 of two
    or more edges; node 3 has degree 4 then, so the K4's nodes 0, 1, 2 (degree 3, 3 triangles) are the
    closed degree-3 nodes, all without a cross edge."""
    fills = _script("higen_face_fills")
    k4 = [(u, v) for u in range(4) for v in range(u + 1, 4)]
    graph = (5, k4 + [(3, 4)])
    walked = [(sorted(g.edges()), nodes) for g, nodes in fills.communities_in_order([graph], [[0, 0, 0, 0, 1]])]
    assert walked == [(k4, [0, 1, 2, 3]), ([], [4])]  # each community's intra edges and nodes in order
    out = fills.fill_counts([graph], [[0, 0, 0, 0, 1]])
    assert out["rows"] == 2 and out["into_a_triangle"] == 0.5
    assert out["third_triangle"] == 0.0  # the prefix 0-1-2 has no edge on two triangles yet
    assert out["closed_degree_3"] == 3 and out["closed_degree_3_inner"] == 3
    # a fifth node of the same community joined to the triangle 0-1-3: also into a triangle, and a third
    # triangle on 0-1 (already on 0-1-2 and 0-1-3); nodes 2 and 4 are then the closed degree-3 nodes
    stacked = (5, k4 + [(0, 4), (1, 4), (3, 4)])
    out = fills.fill_counts([stacked], [[0] * 5])
    assert out["rows"] == 3 and out["into_a_triangle"] == pytest.approx(2 / 3)
    assert out["third_triangle"] == pytest.approx(1 / 3) and out["closed_degree_3"] == 2


def test_planar_split_tables_nodes_by_degree_and_triangles(tmp_path):
    """The node table and the per-graph counts on the wheel (hub T - d = 0, rim -1) and K5 (T - d = +2):
    shares of all nodes, degrees below 3 counted in the total only."""
    import networkx as nx

    split = _script("higen_planar_split")
    wheel = nx.wheel_graph(6)  # hub 0 of degree 5, rim of degree 3
    k5 = nx.complete_graph(5)
    path = nx.path_graph(2)  # two nodes of degree 1
    table = split.node_table([wheel, k5, path])
    total = 6 + 5 + 2
    assert table["d=5"]["T-d=+0"] == pytest.approx(round(1 / total, 4))
    assert table["d=3"]["T-d=-1"] == pytest.approx(round(5 / total, 4))
    assert table["d=4"]["T-d=+2"] == pytest.approx(round(5 / total, 4))
    assert sum(v for row in table.values() for v in row.values()) == pytest.approx(11 / total, abs=1e-3)
    counts = split.per_graph([wheel, k5, nx.complete_graph(4)])
    assert counts == {
        "graphs": 3,
        "over": round((0 + 5 + 0) / 3, 3),
        "closed_degree_3": round(4 / 3, 3),
        "open": round(5 / 3, 3),
    }
    # one K4 (4 closed degree-3 nodes) as the test split among three graphs without any: a draw of one
    # graph out of the four reaches its mean a quarter of the time
    splits = {"train": [nx.path_graph(3), nx.cycle_graph(4)], "val": [wheel], "test": [nx.complete_graph(4)]}
    assert split.closed_rank(splits) == pytest.approx(0.25, abs=0.01)
    splits["test"] = [nx.path_graph(4)]  # no closed node: every draw reaches it
    assert split.closed_rank(splits) == 1.0


def test_component_draws_group_rows_by_rank_and_weight_and_read_whole_faces():
    """fills_face: a set fills a face when it is the node set of a whole face of 3 or more distinct
    places; summarise: shares of rows per rank and weight group, and per group the shares that fill a
    face and that lose the embedding."""
    draws = _script("higen_component_draws")
    faces = [[1, 0, 2], [0, 1, 2], [1, 3]]  # a triangle's two sides and a pendant walk
    assert draws.fills_face(faces, (0, 1, 2)) and not draws.fills_face(faces, (0, 1))
    assert not draws.fills_face([[1, 0, 2, 1, 3]], (0, 1, 2))  # a walk visiting 1 twice is no whole face
    rows = [(0, 0.5, False, False), (0, 0.4, True, False), (1, 0.2, False, True), (5, 0.05, True, True)]
    out = draws.summarise(rows)
    assert out["rows"] == 4
    assert out["rank_0"] == {"share_of_rows": 0.5, "fills_a_face": 0.5, "loses_the_embedding": 0.0}
    assert out["rank_1"] == {"share_of_rows": 0.25, "fills_a_face": 0.0, "loses_the_embedding": 1.0}
    assert out["rank_2_3"]["share_of_rows"] == 0.0 and out["rank_4_plus"]["fills_a_face"] == 1.0
    assert out["weight_0.3_plus"]["share_of_rows"] == 0.5 and out["weight_below_0.1"]["loses_the_embedding"] == 1.0


def test_component_responsibility_finds_rows_into_a_triangle_and_groups_by_rank():
    """rows_into_a_triangle on a grown K4 plus a node joined to the triangle 0-1-3 (both rows of three
    edges are into a triangle; the row of node 2 joins the edge 0-1 only); group_means: posterior and
    prior mass per rank of the prior weights."""
    import torch

    from graphgen.models.higen.rows import CommunityRows

    resp = _script("higen_component_responsibility")
    # one community, rows t = 0..4; row t's earlier neighbours
    joined = [[], [0], [0, 1], [0, 1, 2], [0, 1, 3]]
    entry_row = torch.repeat_interleave(torch.arange(5), torch.arange(5))
    entry_node = torch.cat([torch.arange(t) for t in range(5)])
    entry_count = torch.tensor([int(j in joined[t]) for t in range(5) for j in range(t)])
    zeros = torch.zeros(5, dtype=torch.long)
    rows = CommunityRows(
        community=zeros, position=torch.arange(5), budget=zeros, remaining=zeros, reserved=zeros,
        mass=zeros, self_loop=zeros, entry_row=entry_row, entry_node=entry_node, entry_count=entry_count, leaf=True,
    )  # fmt: skip
    assert resp.rows_into_a_triangle(rows).tolist() == [False, False, False, True, True]
    log_alpha = torch.log(torch.tensor([[0.1, 0.6, 0.3], [0.5, 0.2, 0.3]]))
    posterior = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    out = resp.group_means(posterior, log_alpha)
    # row 0: ranks (2, 0, 1), its posterior on the rank-2 component; row 1: ranks (0, 2, 1), on rank 1
    assert out["rows"] == 2
    assert out["rank_0"]["posterior"] == 0.0 and out["rank_0"]["weight"] == pytest.approx((0.6 + 0.5) / 2)
    assert out["rank_1"]["posterior"] == 0.5 and out["rank_2_3"]["posterior"] == 0.5
    assert out["rank_4_plus"] == {"posterior": 0.0, "weight": 0.0}


def test_global_shape_reads_the_lowest_modes_distances_and_the_real_distance_of_drawn_cross_edges():
    import networkx as nx
    import torch

    shape_script = _script("higen_global_shape")
    disconnected = nx.Graph([(0, 1), (2, 3)])
    out = shape_script.shape([nx.cycle_graph(6), nx.path_graph(4), disconnected, nx.complete_graph(5)])
    # normalised Laplacian: C6 0, 1/2, 1/2, 3/2, 3/2, 2; P4 0, 1/2, 3/2, 2; K5 0, 5/4 (four times)
    assert out["graphs"] == 4 and out["disconnected"] == 1
    assert out["lambda_1"]["mean"] == pytest.approx((0.5 + 0.5 + 1.25) / 3)
    assert out["lambda_2"]["mean"] == pytest.approx((0.5 + 1.5 + 1.25) / 3)
    assert out["ratio"]["mean"] == pytest.approx(5 / 3) and out["ratio"]["median"] == pytest.approx(1.0)
    assert out["diameter"]["mean"] == pytest.approx(7 / 3)
    assert out["mean_distance"]["mean"] == pytest.approx((9 / 5 + 10 / 6 + 1) / 3)
    assert out["planar"] == pytest.approx(3 / 4)  # all but K5
    # over the three planar graphs: C6's second hexagon counts (a disc with a hexagonal hole); P4's one
    # face is its longest; the two K2s' faces have two places
    assert out["inner_faces"] == {"all": pytest.approx(1 / 3)}
    # a hexagon with the chord 0-3: quadrilaterals (0, 1, 2, 3), inside community 0, and (3, 4, 5, 0),
    # spanning both, beside the outer hexagon (the longest face)
    chord = nx.cycle_graph(6)
    chord.add_edge(0, 3)
    assert shape_script.inner_faces(chord, [0, 0, 0, 0, 1, 1]) == {"all": 2, "inside": 1, "spanning": 1}
    assert shape_script.inner_faces(nx.complete_graph(5)) is None

    # a batch of a 3-node and a 2-node graph, both directions of every edge listed
    edges = torch.tensor([[0, 1, 1, 2, 3, 4], [1, 0, 2, 1, 4, 3]])
    first, second = shape_script.split_graphs(torch.tensor([3, 2]), edges)
    assert sorted(first.edges()) == [(0, 1), (1, 2)] and sorted(second.edges()) == [(0, 1)]

    real = nx.path_graph(7)  # communities {0, 1, 2} and {3, 4, 5, 6}
    drawn = nx.Graph([(2, 3), (0, 3), (0, 6), (1, 2), (4, 5)])
    counts = shape_script.real_distances([real], [drawn], [[0, 0, 0, 1, 1, 1, 1]])
    assert counts == {"1": 1, "3": 1, "5+": 1}  # 2-3 is a real cross edge; 1-2 and 4-5 are inside
    # nodes 0 and 3 hold two cross edges each (0-3, 0-6; 2-3, 0-3), nodes 2 and 6 one
    assert shape_script.cross_degrees([drawn], [[0, 0, 0, 1, 1, 1, 1]]) == {"1": 0.5, "2": 0.5, "3": 0.0, "4+": 0.0}

    # two triangles {0, 1, 2} and {3, 4, 5} (global ids 10..15, border cycles in id order) joined by 2-3 and 1-4:
    # slid one place forward along the second community's cycle they become 2-4 and 1-5; a slide of 0 keeps them
    class Forward:
        def choice(self, options):
            return 1

    joined = nx.Graph([(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5), (2, 3), (1, 4)])
    comm, cycles = [0, 0, 0, 1, 1, 1], {0: [10, 11, 12], 1: [13, 14, 15]}
    moved = shape_script.slid(joined, comm, cycles, 10, 1, Forward())
    assert sorted(e for e in moved.edges() if comm[e[0]] != comm[e[1]]) == [(1, 5), (2, 4)]
    assert nx.utils.graphs_equal(shape_script.slid(joined, comm, cycles, 10, 0, Forward()), joined)
    place, length = torch.tensor([0, 1, 2, -1, 1, 0]), torch.tensor([3, 2])
    assert shape_script.border_cycle_lists(place, length, torch.tensor([0, 0, 0, 1, 1, 1])) == {0: [0, 1, 2], 1: [5, 4]}


def test_fill_tilt_adds_beta_to_the_sets_that_fill_a_whole_face_of_their_row():
    import torch

    tilt = _script("higen_fill_tilt")
    # row 0 (entries 0..3): faces a triangle (0, 1, 2) and the outer walk (0, 1, 2, 3) with a pendant; row 1
    # (entries 4..6): a path's single face, which no set of distinct nodes fills
    faces = [[[0, 1, 2], [0, 2, 1, 3, 1]], [[0, 1, 2, 1]]]
    tilt.TILT["faces"] = {0: faces[0], 4: faces[1]}
    assert tilt.fills_face(faces[0], (0, 1, 2)) and not tilt.fills_face(faces[0], (0, 1, 2, 3))
    assert not any(tilt.fills_face(faces[1], nodes) for nodes in ((0, 1, 2), (0, 1), (1, 2)))
    logits = torch.arange(7, dtype=torch.float64).unsqueeze(1)
    sets = torch.tensor([[[0, 1, 2], [1, 2, 3]], [[0, 1, -1], [-1, -1, -1]]])
    offset = torch.tensor([0, 4])
    plain = tilt._set_scores(logits, offset, sets)
    tilt.TILT["beta"] = 1.5
    try:
        tilted = tilt.set_scores(logits, offset, sets)
    finally:
        tilt.TILT["beta"] = 0.0
    assert plain[0, 0, 0] == 0 + 1 + 2 and tilted[0, 0, 0] == 3 + 1.5  # fills the triangle
    assert tilted[0, 1, 0] == plain[0, 1, 0] == 1 + 2 + 3  # a run along the outer walk
    assert tilted[1, 0, 0] == plain[1, 0, 0] == 4 + 5 and torch.isinf(tilted[1, 1, 0])  # padding stays -inf
    assert torch.equal(tilt.set_scores(logits, offset, sets), plain)  # beta = 0: the model itself


def test_recipe_validation_scores_the_held_out_graphs_and_refuses_different_holdouts(tmp_path, monkeypatch):
    """higen_recipe_validation: a checkpoint trained with --holdout is scored on exactly the held-out
    graphs (16 of community_small's 80 training graphs at 0.2), the mean of degree, clustering and orbit
    is that of the three, the reach rows ask for k times the largest training graph; checkpoints whose
    holdouts differ (or are none) are refused before any work."""
    import statistics

    from graphgen.io.checkpoint import load_checkpoint, save_checkpoint

    script = _script("higen_recipe_validation")
    ckpt = load_checkpoint(_shipped("higen-community-small"))
    held = tmp_path / "held.pt"
    ckpt.metadata = {**ckpt.metadata, "holdout": 0.2, "command": "graphgen train higen ... --holdout 0.2"}
    save_checkpoint(ckpt, held)
    row = script.candidate(str(held), "community_small", "graphrnn", seeds=1, multiples=[1, 2], graphs=2)
    assert row["validation_graphs"] == 16 and row["holdout"] == 0.2 and row["std"] is None
    scores = row["per_seed"][0]
    assert scores["deg_clus_orbit_mean"] == pytest.approx(statistics.mean(scores[k] for k in script.MEAN_OF))
    assert [r["num_nodes"] for r in row["num_nodes_reach"]["rows"]] == [20, 40]
    plain = tmp_path / "plain.pt"
    ckpt.metadata = {**ckpt.metadata, "holdout": 0.0}
    save_checkpoint(ckpt, plain)
    for paths in ([str(held), str(plain)], [str(plain)]):
        monkeypatch.setattr(sys, "argv", ["higen_recipe_validation.py", str(tmp_path / "o.json"), "x", "y", *paths])
        with pytest.raises(SystemExit, match="the same --holdout share"):
            script.main()
    assert not (tmp_path / "o.json").exists()


def test_cli_ab_runs_each_command_per_variant_and_compares_what_they_wrote(tmp_path, monkeypatch):
    """cli_ab: variants parse as NAME=DIR[:VAR=VALUE,...]; each command runs once per variant and round
    in its own process from the variant's checkout, with the variant's environment (here a heap-tuning
    setting that changes no output), and the record says whether every variant wrote the same files."""
    import json

    script = _script("cli_ab")
    repo = SCRIPTS.parents[1]
    assert script.parse_variant(f"on={repo}") == ("on", repo, {})
    assert script.parse_variant(f"off={repo}:GRAPHGEN_HEAP_TUNING=off,X=1") == (
        "off",
        repo,
        {"GRAPHGEN_HEAP_TUNING": "off", "X": "1"},
    )
    with pytest.raises(SystemExit, match="expected NAME=DIR"):
        script.parse_variant("nothing")
    out = tmp_path / "ab.json"
    argv = ["cli_ab.py", "--variant", f"on={repo}", "--variant", f"off={repo}:GRAPHGEN_HEAP_TUNING=off"]
    argv += ["--command", "datasets export community_small --split test --out {out}/test.g6", "--rounds", "1"]
    monkeypatch.setattr(sys, "argv", [*argv, "--json", str(out)])
    script.main()
    record = json.loads(out.read_text())
    assert record["same_outputs"] and set(record["outputs_md5"]["on"]) == {"test.g6"}
    (row,) = record["results"]
    assert row["command"].startswith("graphgen datasets export") and set(row["variants"]) == {"on", "off"}
    assert row["variants"]["on"]["ratio_to_first"] == 1.0 and len(row["variants"]["off"]["seconds"]) == 1
    assert record["variants"]["off"]["env"] == {"GRAPHGEN_HEAP_TUNING": "off"}
    assert record["variants"]["on"]["python"] == sys.executable  # the default interpreter, recorded
    monkeypatch.setattr(sys, "argv", [*argv, "--python", "elsewhere=/usr/bin/python3"])
    with pytest.raises(SystemExit, match="--python names no variant: elsewhere"):
        script.main()


def test_training_curve_scores_each_snapshot_as_the_command_line_does(capsys, tmp_path):
    """higen_training_curve: the snapshots in epoch order then the .best.pt, other files left out; a
    point's seed-S values are those of ``graphgen sample --seed S`` scored by ``graphgen evaluate``."""
    import json

    from graphgen.datasets import load_dataset
    from graphgen.models.higen import HiGenConfig, TrainConfig, train_higen
    from tests.cli.test_cli import run

    curve = _script("higen_training_curve")
    train, val = load_dataset("community_small", "train")[:24], load_dataset("community_small", "train")[24:32]
    config = HiGenConfig(hidden=8, num_layers=1, num_mixtures=2)
    out = tmp_path / "r.pt"
    train_higen(train, out, model_config=config, val_graphs=val,
                train_config=TrainConfig(epochs=4, batch_size=8, keep_every=2, checkpoint_every=4))  # fmt: skip
    (tmp_path / "r.epoch12.txt").write_text("not a snapshot")
    (tmp_path / "other.epoch0002.pt").write_bytes(b"")
    assert [p.name for p in curve.snapshots(out)] == ["r.epoch0002.pt", "r.epoch0004.pt", "r.best.pt"]
    point = curve.score_point(tmp_path / "r.epoch0002.pt", "community_small", "graphrnn", 2, 0.8, None)
    assert point["epoch"] == 2 and point["kind"] == "snapshot"
    assert point["val_nll_per_edge"] is not None and point["training_seconds_in_process"] > 0
    for seed in range(2):
        samples, result = tmp_path / f"s{seed}.g6", tmp_path / f"e{seed}.json"
        code, _, err = run(capsys, "sample", "-c", str(tmp_path / "r.epoch0002.pt"), "-n", "20", "--seed", str(seed),
                           "--temperature", "0.8", "--out", str(samples))  # fmt: skip
        assert code == 0, err
        code, _, err = run(capsys, "evaluate", "-r", "community_small:test", "-s", str(samples), "-p", "graphrnn",
                           "--no-floor", "--gnn-seeds", "0", "--json", str(result))  # fmt: skip
        assert code == 0, err
        recorded = json.loads(result.read_text())
        for key in curve.KEYS:
            assert point["per_seed"][seed][key] == pytest.approx(recorded[key], rel=1e-12)
        assert point["per_seed"][seed]["vun"] == recorded["vun"]["vun"]


def test_training_curve_scores_against_the_validation_split_on_request(tmp_path):
    """--split val: as many samples as the validation split holds, scored against it (community20: 16)."""
    import torch

    from graphgen.datasets import load_dataset
    from graphgen.metrics import evaluate
    from graphgen.models.higen import HiGenConfig, TrainConfig, train_higen
    from graphgen.models.pretrained import load_model

    curve = _script("higen_training_curve")
    train = load_dataset("community20", "train")[:16]
    out = tmp_path / "r.pt"
    config = HiGenConfig(hidden=8, num_layers=1, num_mixtures=2)
    train_higen(train, out, model_config=config, train_config=TrainConfig(epochs=1, batch_size=8, keep_every=1))
    point = curve.score_point(tmp_path / "r.epoch0001.pt", "community20", "gran", 1, 1.0, None, "val")
    val = load_dataset("community20", "val")
    model, _ = load_model(tmp_path / "r.epoch0001.pt")
    graphs = model.sample(len(val), generator=torch.Generator().manual_seed(0))
    assert point["split"] == "val" and len(val) == 16
    for key, value in evaluate(val, graphs, "gran").items():
        if key in curve.KEYS:
            assert point["per_seed"][0][key] == pytest.approx(float(value), rel=1e-12)


def test_training_curve_adds_the_final_model_when_its_size_head_was_refitted(tmp_path):
    """With --refit-size-head the run's final checkpoint differs from its last snapshot: it is a point of
    its own, after the .best.pt (whose own refit does not make it the final model)."""
    from graphgen.datasets import load_dataset
    from graphgen.io.checkpoint import load_checkpoint
    from graphgen.models.higen import HiGenConfig, TrainConfig, train_higen

    curve = _script("higen_training_curve")
    train, val = load_dataset("community20", "train")[:16], load_dataset("community20", "val")[:8]
    config = HiGenConfig(hidden=8, num_layers=1, num_mixtures=2, community_size="explicit")
    cfg = TrainConfig(epochs=2, batch_size=8, keep_every=1, size_head_refit_steps=3)
    out = tmp_path / "r.pt"
    train_higen(train, out, model_config=config, train_config=cfg, val_graphs=val)
    paths = curve.snapshots(out)
    assert [p.name for p in paths] == ["r.epoch0001.pt", "r.epoch0002.pt", "r.best.pt", "r.pt"]
    kinds = [curve._kind_and_epoch(load_checkpoint(p)) for p in paths]
    assert kinds[0] == ("snapshot", 1) and kinds[1] == ("snapshot", 2)
    assert kinds[2][0].startswith("lowest validation")
    assert kinds[3] == ("the run's final model, size head refitted after the last epoch", 2)
    plain = tmp_path / "p.pt"
    train_higen(train, plain, model_config=config, train_config=TrainConfig(epochs=1, batch_size=8, keep_every=1))
    assert [p.name for p in curve.snapshots(plain)] == ["p.epoch0001.pt"]  # no refit: the final is the snapshot


def test_snapshot_average_is_the_mean_of_the_window_and_its_validation_nll_the_training_loops(tmp_path):
    """higen_snapshot_average: every floating-point parameter of RUN.avgA-B.pt is the mean of the
    snapshots A..B (nothing else changes), and its validation NLL of a single snapshot is the one the
    training loop recorded for that epoch."""
    import torch

    from graphgen.datasets import load_dataset
    from graphgen.io.checkpoint import load_checkpoint
    from graphgen.models.higen import HiGenConfig, TrainConfig, train_higen

    script = _script("higen_snapshot_average")
    train, val = load_dataset("community20", "train")[:16], load_dataset("community20", "val")  # the split it reads
    out = tmp_path / "r.pt"
    config = HiGenConfig(hidden=8, num_layers=1, num_mixtures=2)
    train_higen(train, out, model_config=config, val_graphs=val,
                train_config=TrainConfig(epochs=3, batch_size=8, keep_every=1))  # fmt: skip
    averaged = load_checkpoint(script.average_snapshots(out, 2, 3))
    snaps = [load_checkpoint(tmp_path / f"r.epoch000{e}.pt").state_dict for e in (2, 3)]
    assert averaged.metadata["averaged_epochs"] == [2, 3] and set(averaged.state_dict) == set(snaps[0])
    moved = 0
    for key, value in averaged.state_dict.items():
        if value.is_floating_point():
            assert torch.allclose(value, (snaps[0][key] + snaps[1][key]) / 2, rtol=0, atol=1e-12)
            moved += not torch.equal(snaps[0][key], snaps[1][key])
        else:
            assert torch.equal(value, snaps[1][key])
    assert moved > 0  # the window's snapshots differ, so the average is a new model
    one = script.average_snapshots(out, 3, 3)
    nll, parts = script.validation_nll_of(one, "community20")
    recorded = load_checkpoint(out).metadata["history"][2]
    assert nll == pytest.approx(recorded["val_nll_per_edge"], rel=1e-12)
    with pytest.raises(SystemExit, match="missing snapshots r.epoch0004.pt"):
        script.average_snapshots(out, 3, 4)


def test_size_temperature_pool_averages_the_runs_and_applies_the_guarded_rule():
    """--pool: per temperature the mean over runs of each run's means; the choice is the lowest pooled
    degree MMD among temperatures whose pooled clustering and orbit stay within 1.1x of tau = 1's
    (here 0.3 has the lowest degree but a worse pooled clustering, so 0.5 is chosen)."""
    script = _script("higen_size_temperature")

    def record(rows):
        temps = {t: {"mean": dict(zip(script.KEYS, row))} for t, row in rows.items()}
        return {"dataset": "enzymes:val (70 graphs)", "temperatures": temps, "chosen": "1"}

    a = record(
        {"1": (0.006, 0.030, 0.003, 0.01), "0.5": (0.005, 0.031, 0.003, 0.01), "0.3": (0.003, 0.036, 0.003, 0.01)}
    )
    b = record(
        {"1": (0.006, 0.030, 0.003, 0.01), "0.5": (0.004, 0.032, 0.003, 0.01), "0.3": (0.004, 0.034, 0.003, 0.01)}
    )
    pooled = script.pool([a, b], ["seed_0", "seed_1"])
    assert pooled["pooled_mean"]["0.5"]["degree_mmd"] == pytest.approx(0.0045)
    assert pooled["pooled_mean"]["0.3"]["clustering_mmd"] == pytest.approx(0.035)  # > 1.1 x 0.030
    assert pooled["pooled_chosen"] == "0.5" and set(pooled["per_training_seed"]) == {"seed_0", "seed_1"}
    b["temperatures"].pop("0.3")
    with pytest.raises(SystemExit, match="different temperatures"):
        script.pool([a, b], ["seed_0", "seed_1"])
