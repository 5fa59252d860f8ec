import networkx as nx
import pytest

from graphgen.data import from_networkx
from graphgen.datasets import generate, load_dataset
from graphgen.metrics.novelty import IsomorphismIndex, uniqueness_novelty_vun
from graphgen.metrics.validity import (
    VALIDITY,
    is_connected_graph,
    is_grid_graph,
    is_lobster_graph,
    is_planar_graph,
    is_sbm_graph_modularity,
    is_tree_graph,
    sbm_modularity_pvalue,
)


def test_family_tests_on_hand_built_graphs():
    assert is_planar_graph(nx.complete_graph(4)) and not is_planar_graph(nx.complete_graph(5))
    assert not is_planar_graph(nx.Graph([(0, 1), (2, 3)]))  # planar but disconnected
    assert is_tree_graph(nx.path_graph(5)) and not is_tree_graph(nx.cycle_graph(5))
    caterpillar = nx.path_graph(6)
    caterpillar.add_edges_from([(1, 10), (10, 11), (3, 12)])
    assert is_lobster_graph(caterpillar) and is_lobster_graph(nx.path_graph(3))
    spider = nx.Graph([(0, 1), (1, 2), (2, 3), (0, 4), (4, 5), (5, 6), (0, 7), (7, 8), (8, 9)])
    assert not is_lobster_graph(spider)  # three legs of length 3: not a path after two prunings
    assert is_grid_graph(nx.grid_2d_graph(4, 7)) and not is_grid_graph(nx.grid_2d_graph(1, 7))
    g = nx.grid_2d_graph(5, 5)
    g.add_edge((0, 0), (1, 1))
    assert not is_grid_graph(g)


def test_connected_test_on_hand_built_graphs_and_data():
    assert is_connected_graph(nx.path_graph(4)) and is_connected_graph(nx.empty_graph(1))
    assert not is_connected_graph(nx.Graph([(0, 1), (2, 3)]))
    assert not is_connected_graph(nx.empty_graph(0))  # no graph, not a valid one
    assert not is_connected_graph(nx.empty_graph(3))  # isolated nodes
    two_triangles = from_networkx(nx.disjoint_union(nx.cycle_graph(3), nx.cycle_graph(3)))
    assert not is_connected_graph(two_triangles) and is_connected_graph(from_networkx(nx.cycle_graph(6)))
    assert VALIDITY["connected"] is is_connected_graph


def test_inputs_are_not_mutated():
    g = nx.path_graph(7)
    before = sorted(g.edges())
    is_lobster_graph(g)
    assert sorted(g.edges()) == before


def test_shipped_training_sets_are_valid():
    for name, test in (("planar", is_planar_graph), ("tree", is_tree_graph), ("grid", is_grid_graph)):
        assert all(test(g) for g in load_dataset(name, "train")), name
    assert all(is_lobster_graph(g) for g in generate("lobster", 30, seed=5))


def test_sbm_modularity_accepts_a_planted_sbm_with_exact_parameters():
    accepted = 0
    for seed in range(10):
        g = nx.stochastic_block_model(
            [30, 30, 30], [[0.3, 0.005, 0.005], [0.005, 0.3, 0.005], [0.005, 0.005, 0.3]], seed=seed
        )
        accepted += is_sbm_graph_modularity(g)
        pvalue, blocks, sizes = sbm_modularity_pvalue(g)
        assert blocks == 3 and sorted(sizes) == [30, 30, 30]
    assert accepted >= 8
    assert not is_sbm_graph_modularity(nx.gnp_random_graph(90, 0.1, seed=0))


def test_vun_counts_duplicates_train_copies_and_relabelled_copies():
    train = [nx.path_graph(5), nx.cycle_graph(6)]
    relabelled_cycle = nx.relabel_nodes(nx.cycle_graph(6), {i: (i * 5) % 6 for i in range(6)})
    star = nx.star_graph(4)
    samples = [star, nx.relabel_nodes(star, {0: 4, 4: 0}), relabelled_cycle, nx.path_graph(7), nx.complete_graph(4)]
    r = uniqueness_novelty_vun([from_networkx(g) for g in samples], train, "tree")
    assert r["n_duplicates"] == 1 and r["n_in_train"] == 1
    assert r["frac_unique"] == 4 / 5 and r["frac_unique_novel"] == 3 / 5
    assert r["vun"] == 2 / 5  # the star and the 7-path; K4 is novel but not a tree
    assert r["frac_valid"] == 3 / 5  # star, its relabelled copy and the 7-path are trees


def test_isomorphism_index_never_merges_non_isomorphic_graphs():
    # same degree sequence, different graphs: two triangles vs a hexagon
    two_triangles = nx.disjoint_union(nx.cycle_graph(3), nx.cycle_graph(3))
    index = IsomorphismIndex([two_triangles])
    assert not index.contains(nx.cycle_graph(6)) and index.contains(nx.relabel_nodes(two_triangles, {0: 5, 5: 0}))


def test_vun_on_a_dataset_split():
    r = uniqueness_novelty_vun(load_dataset("community_small", "test"), load_dataset("community_small", "train"))
    assert r["n_duplicates"] == 5 and r["n_in_train"] == 5 and r["vun"] == 0.5
    with pytest.raises(ValueError):
        uniqueness_novelty_vun([], [])


def test_a_labelled_copy_is_found_without_an_isomorphism_test():
    """A graph with the same nodes and edges as a kept one is a copy at no comparison; a relabelled
    copy still needs its test; same nodes with other edges are not merged."""
    index = IsomorphismIndex([nx.path_graph(5)])
    assert index.contains(nx.Graph([(3, 4), (0, 1), (2, 1), (3, 2)])) and index.comparisons == 0
    assert index.contains(nx.relabel_nodes(nx.path_graph(5), {0: 4, 4: 0})) and index.comparisons == 1
    assert not index.contains(nx.star_graph(4))


def test_uniqueness_and_novelty_equal_an_all_pairs_count_on_samples_with_repeats():
    """On 150 samples of the default model (many repeats, most of them in the same node order) the
    duplicates and training copies are those of the reference's loop over all earlier kept graphs."""
    import torch

    from graphgen.metrics.validity import to_nx
    from graphgen.models import HiGen

    def degrees(g):
        return sorted(d for _, d in g.degree)

    def isomorphic(g, other):  # the degree sequences first: a necessary condition, to keep the loop short
        return degrees(g) == degrees(other) and nx.is_isomorphic(g, other)

    samples = HiGen.from_pretrained("higen-community-small").sample(150, generator=torch.Generator().manual_seed(3))
    train = [to_nx(g) for g in load_dataset("community_small", "train")]
    kept, duplicates, in_train = [], 0, 0
    for g in map(to_nx, samples):
        if any(isomorphic(g, other) for other in kept):
            duplicates += 1
            continue
        kept.append(g)
        in_train += any(isomorphic(g, other) for other in train)
    r = uniqueness_novelty_vun(samples, train)
    assert duplicates > 10 and (r["n_duplicates"], r["n_in_train"]) == (duplicates, in_train)


def test_labelled_keys_tell_graphs_apart_whatever_their_labels():
    """The labelled key of integer-labelled graphs (bytes) and of other labels (sets): equal exactly
    for the same nodes and edges, whatever the edge order or direction; an isolated node counts."""
    from graphgen.metrics.novelty import _labelled

    path = nx.path_graph(4)
    assert _labelled(path) == _labelled(nx.Graph([(3, 2), (1, 0), (2, 1)]))
    with_isolated = nx.path_graph(4)
    with_isolated.add_node(4)
    assert _labelled(path) != _labelled(with_isolated) and _labelled(path) != _labelled(nx.star_graph(3))
    assert _labelled(nx.Graph([(0, 1), (2, 3)])) != _labelled(nx.Graph([(0, 2), (1, 3)]))
    named = nx.relabel_nodes(path, {0: "a", 1: "b", 2: "c", 3: "d"})
    assert _labelled(named) == _labelled(nx.Graph([("d", "c"), ("b", "a"), ("c", "b")]))
    assert _labelled(named) != _labelled(nx.relabel_nodes(path, {0: "b", 1: "a", 2: "c", 3: "d"}))


def test_each_key_of_a_sample_is_computed_once_and_the_wl_hash_only_when_needed(monkeypatch):
    """A sample queried in both indexes and added to one takes one labelled key and at most one WL
    hash; a labelled copy of a kept graph takes none (the labelled key answers)."""
    import graphgen.metrics.novelty as novelty

    calls = {"labelled": 0, "wl": 0}
    labelled, wl_hash = novelty._labelled, novelty._wl_hash

    def count(name, fn):
        def counted(g):
            calls[name] += 1
            return fn(g)

        return counted

    monkeypatch.setattr(novelty, "_labelled", count("labelled", labelled))
    monkeypatch.setattr(novelty, "_wl_hash", count("wl", wl_hash))
    path, star = nx.path_graph(5), nx.star_graph(4)
    r = uniqueness_novelty_vun([path, nx.path_graph(5), star], [nx.cycle_graph(4)])
    assert (r["n_duplicates"], r["n_in_train"]) == (1, 0)
    # training graph: 1 + 1; path: 1 + 1 (seen empty, then added, then the training index); its copy: 1 + 0;
    # star: 1 + 1
    assert calls == {"labelled": 4, "wl": 3}
