import networkx as nx
import numpy as np
import pytest
import torch
from scipy.linalg import eigvalsh

from graphgen.data import from_edge_array, from_networkx
from graphgen.metrics import (
    MetricInputWarning,
    as_graph_set,
    clustering_histograms,
    degree_histograms,
    orbit_features,
    spectral_histograms,
)
from graphgen.metrics.descriptors import histogram_bin_index
from tests.conftest import random_graph


def test_degree_pmf_of_a_star():
    h = degree_histograms([nx.star_graph(4)])
    assert h.tolist() == [[0.0, 0.8, 0.0, 0.0, 0.2]]


def test_clustering_of_k4_and_a_tree():
    h = clustering_histograms([nx.complete_graph(4), nx.random_labeled_tree(10, seed=0)])
    assert h[0, 99] == 1.0 and h[0, :99].sum() == 0  # c = 1.0 falls in the closed last bin
    assert h[1, 0] == 1.0


def test_spectrum_of_complete_graph_and_isolated_node():
    n = 7
    h = spectral_histograms([nx.complete_graph(n)], bins=200)
    idx = histogram_bin_index(np.array([0.0, n / (n - 1)]), -1e-5, 2.0, 200)
    assert h[0, idx[0]] == pytest.approx(1 / n) and h[0, idx[1]] == pytest.approx((n - 1) / n)
    g = nx.complete_graph(3)
    g.add_node(3)
    h = spectral_histograms([g])
    assert h[0, idx[0]] == pytest.approx(0.5)  # K3's zero plus the isolated node's zero


def test_bin_index_equals_numpy_histogram():
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.random(5000) * 2.2 - 0.1, np.linspace(-1e-5, 2, 201), [2.0, 2 + 1e-15, -2e-5]])
    idx = histogram_bin_index(values, -1e-5, 2.0, 200)
    ours = np.bincount(idx[idx >= 0], minlength=200)
    assert np.array_equal(ours, np.histogram(values, bins=200, range=(-1e-5, 2))[0])


def test_descriptors_equal_networkx_graph_by_graph():
    graphs = [nx.gnp_random_graph(n, 0.2, seed=n) for n in range(2, 50, 4)]
    deg, clus, spec = degree_histograms(graphs), clustering_histograms(graphs), spectral_histograms(graphs)
    for i, g in enumerate(graphs):
        n = g.number_of_nodes()
        d = np.array(nx.degree_histogram(g)) / n
        assert np.array_equal(deg[i, : d.size], d) and not deg[i, d.size :].any()
        c = np.histogram(list(nx.clustering(g).values()), bins=100, range=(0, 1))[0] / n
        assert np.array_equal(clus[i], c)
        e = np.histogram(eigvalsh(nx.normalized_laplacian_matrix(g).toarray()), bins=200, range=(-1e-5, 2))[0]
        assert np.array_equal(spec[i], e / e.sum())


def test_spectral_clip_counts_every_eigenvalue_of_bipartite_graphs():
    grids = [nx.grid_2d_graph(a, b) for a in range(3, 12) for b in range(3, 6)]
    raw, dropped = spectral_histograms(grids, return_dropped=True)
    clipped = spectral_histograms(grids, clip=True)
    assert np.allclose(clipped.sum(axis=1), 1)
    assert dropped.sum() >= 0 and np.array_equal(raw[dropped == 0], clipped[dropped == 0])


def test_orbit_features_are_mean_counts():
    g = nx.complete_graph(4)
    assert orbit_features([g])[0].tolist() == [3, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]


def test_data_networkx_and_batch_inputs_agree():
    graphs = [random_graph(n, 0.3, seed=n) for n in (5, 9, 14)]
    from torch_geometric.data import Batch

    from graphgen.data import to_networkx

    a = degree_histograms(graphs)
    assert np.array_equal(a, degree_histograms([to_networkx(g) for g in graphs]))
    assert np.array_equal(a, degree_histograms(Batch.from_data_list(graphs)))


def test_hygiene_counts_and_never_mutates():
    g_loop = from_edge_array(3, [[0, 0], [0, 1]], allow_self_loops=True)
    g_loop.edge_weight = None
    before = g_loop.edge_index.clone()
    empty = from_edge_array(0, [])
    with pytest.warns(MetricInputWarning, match="self-loops from 1 graphs"):
        gs = as_graph_set([g_loop, empty, from_edge_array(2, [[0, 1]])])
    assert torch.equal(g_loop.edge_index, before)
    assert gs.report() == {"n_input": 3, "n_used": 2, "n_empty": 1, "n_with_self_loops": 1, "n_with_duplicate_edges": 0}
    assert gs.edges[0].tolist() == [[0, 1]]
    with pytest.warns(MetricInputWarning):
        assert degree_histograms([g_loop]).tolist() == [[1 / 3, 2 / 3]]
    nx_graph = from_networkx(nx.path_graph(3))
    assert as_graph_set([nx_graph]).n_with_duplicate_edges == 0


@pytest.mark.parametrize("pair, bad", [((0, 5), 5), ((-1, 1), -1), ((3, 0), 3)])
def test_an_edge_outside_the_node_range_is_an_error_not_a_renumbering(pair, bad):
    """(0, 5) in a 3-node graph would otherwise be read as the pair (1, 2) (key 0 * 3 + 5)."""
    from torch_geometric.data import Data

    from graphgen.errors import InvalidGraphError

    g = Data(edge_index=torch.tensor([[pair[0], pair[1]], [pair[1], pair[0]]]), num_nodes=3)
    with pytest.raises(InvalidGraphError, match=rf"samples: graph 1 has an edge at node {bad}, outside its 3 nodes"):
        as_graph_set([from_edge_array(2, [[0, 1]]), g], name="samples")


def test_duplicates_counted_and_node_statistics_cached():
    from torch_geometric.data import Data

    # (0, 1) stored twice in the same direction, unsorted: counted once as a graph with duplicates
    dup = Data(edge_index=torch.tensor([[1, 0, 2, 0, 1], [2, 1, 1, 1, 0]]), num_nodes=3)
    gs = as_graph_set([dup, from_edge_array(2, [[0, 1]])])
    assert gs.n_with_duplicate_edges == 1
    assert gs.edges[0].tolist() == [[0, 1], [1, 2]]
    assert gs.degrees().tolist() == [1, 2, 1, 1, 1] and gs.degrees() is gs.degrees()
    assert gs.triangles().tolist() == [0] * 5
    with pytest.raises(ValueError):
        gs.degrees()[0] = 7  # cached arrays are read-only


def test_a_graph_without_edge_index_is_edgeless_and_float_ids_are_refused():
    """PyG reads ``Data(num_nodes=3)`` as three nodes and no edges; so do the metrics (it used to
    raise AttributeError). Float ``edge_index`` entries are not node ids: one InvalidGraphError."""
    from torch_geometric.data import Data

    from graphgen.errors import InvalidGraphError

    gs = as_graph_set([Data(num_nodes=3), from_edge_array(2, [[0, 1]])])
    assert gs.num_nodes.tolist() == [3, 2] and gs.edges[0].shape == (0, 2)
    assert degree_histograms(gs).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    floats = Data(edge_index=torch.tensor([[0.0, 1.0], [1.0, 0.0]]), num_nodes=2)
    with pytest.raises(InvalidGraphError, match="samples: graph 0: edge_index must hold integer node ids"):
        as_graph_set([floats], name="samples")


def test_spectral_refuses_a_laplacian_larger_than_the_memory_available(monkeypatch):
    """A graph whose dense Laplacian (8 n^2 bytes) exceeds the memory available is refused before
    numpy allocates it, naming the graph; the small graphs beside it would fit."""
    import graphgen.system_memory

    monkeypatch.setattr(graphgen.system_memory, "available_bytes", lambda: 2**28)  # 256 MiB
    graphs = [from_edge_array(3, [[0, 1]]), from_edge_array(6000, [[0, 1], [1, 2]])]  # 6,000^2 * 8 B = 268.2 MiB
    with pytest.raises(
        MemoryError, match=r"normalised Laplacian of graph 1 \(6,000 nodes\): 0\.27 GiB, more than the 0\.25 GiB"
    ):
        spectral_histograms(graphs)
    monkeypatch.setattr(graphgen.system_memory, "available_bytes", lambda: 0)
    assert spectral_histograms([graphs[0]]).shape == (1, 200)  # a small Laplacian is built without asking
