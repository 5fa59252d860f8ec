import networkx as nx
import numpy as np
import pytest

from graphgen.metrics import orbit_kernel
from graphgen.metrics.orbits import orbit_counts_from_edges, triangle_counts

METHODS = ["numpy", "native"]


def _method_or_skip(method: str) -> str:
    if method == "native" and orbit_kernel.orbit_kernel() is None:
        pytest.skip("the C++ graphlet counter cannot be built here")
    return method


def counts(g: nx.Graph, method: str = "auto") -> np.ndarray:
    g = nx.convert_node_labels_to_integers(g)
    edges = np.array(list(g.edges()), dtype=np.int64).reshape(-1, 2)
    return orbit_counts_from_edges(g.number_of_nodes(), edges, method=method)


def test_hand_built_graphs():
    k4 = counts(nx.complete_graph(4))
    assert (k4 == [3, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]).all()
    p4 = counts(nx.path_graph(4))
    assert p4[0].tolist() == [1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    assert p4[1].tolist() == [2, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    c4 = counts(nx.cycle_graph(4))
    assert (c4[:, 8] == 1).all() and (c4[:, 4:8] == 0).all()
    star = counts(nx.star_graph(3))
    assert star[0, 7] == 1 and (star[1:, 6] == 1).all()
    paw = counts(nx.Graph([(0, 1), (1, 2), (0, 2), (2, 3)]))
    assert paw[3, 9] == 1 and paw[0, 10] == paw[1, 10] == 1 and paw[2, 11] == 1
    diamond = counts(nx.Graph([(0, 1), (1, 2), (2, 3), (0, 3), (0, 2)]))
    assert diamond[1, 12] == diamond[3, 12] == 1 and diamond[0, 13] == diamond[2, 13] == 1


def test_edgeless_isolated_and_self_loops():
    assert (orbit_counts_from_edges(5, np.zeros((0, 2), dtype=np.int64)) == 0).all()
    with_loop = orbit_counts_from_edges(3, np.array([[0, 1], [1, 1], [1, 2]]))
    assert (with_loop == orbit_counts_from_edges(3, np.array([[0, 1], [1, 2]]))).all()
    g = nx.complete_graph(3)
    g.add_node(3)  # an isolated node has all-zero counts and does not change the others
    c = counts(g)
    assert c.dtype == np.int64 and (c[3] == 0).all() and (c[:3] == counts(nx.complete_graph(3))).all()


def test_large_counts_do_not_overflow():
    # a star with 3000 leaves: centre orbit 7 = C(3000, 3) > 2^31 (ORCA bindings overflow int32)
    c = counts(nx.star_graph(3000))
    assert c[0, 7] == 3000 * 2999 * 2998 // 6 == 4_495_501_000
    assert c[1, 6] == 2999 * 2998 // 2


def test_basic_orbits_on_random_graphs():
    for seed in range(20):
        g = nx.gnp_random_graph(40, 0.15, seed=seed)
        c = counts(g)
        assert c[:, 0].tolist() == [d for _, d in g.degree()]
        assert c[:, 3].tolist() == [nx.triangles(g)[v] for v in g]


@pytest.mark.parametrize("method", METHODS)
def test_agrees_with_orca_on_hundreds_of_graphs(method):
    orbit_count = pytest.importorskip("orbit_count")  # GPL-3.0 ORCA binding: a test-only oracle
    _method_or_skip(method)
    rng = np.random.default_rng(0)
    checked = 0
    for seed in range(400):
        kind = seed % 4
        n = int(rng.integers(2, 60))
        if kind == 0:
            g = nx.gnp_random_graph(n, float(rng.uniform(0.02, 0.5)), seed=seed)
        elif kind == 1:
            g = nx.barabasi_albert_graph(max(n, 3), int(rng.integers(1, 3)), seed=seed)
        elif kind == 2:
            g = nx.random_labeled_tree(n, seed=seed)
        else:
            g = nx.stochastic_block_model([n // 2 + 1, n // 3 + 1], [[0.5, 0.05], [0.05, 0.6]], seed=seed)
        if g.number_of_edges() == 0:
            continue  # the binding raises on edgeless graphs; ours returns zeros (tested above)
        ref = np.asarray(orbit_count.node_orbit_counts(g, graphlet_size=4), dtype=np.int64)
        assert np.array_equal(counts(g, method), ref), seed
        checked += 1
    assert checked > 350


def _random_union(rng, num_graphs: int):
    """A block-diagonal union of varied graphs (edgeless, isolated nodes, dense, trees)."""
    graphs = []
    for k in range(num_graphs):
        n = int(rng.integers(1, 45))
        kind = k % 5
        if kind == 0:
            g = nx.gnp_random_graph(n, float(rng.uniform(0.0, 0.7)), seed=int(rng.integers(1 << 30)))
        elif kind == 1:
            g = nx.empty_graph(n)
        elif kind == 2:
            g = nx.random_labeled_tree(n, seed=int(rng.integers(1 << 30)))
        elif kind == 3:
            g = nx.complete_graph(min(n, 9))
            g.add_nodes_from(range(9, n))  # isolated nodes after a clique
        else:
            g = nx.powerlaw_cluster_graph(max(n, 4), 3, 0.6, seed=int(rng.integers(1 << 30)))
        graphs.append(nx.convert_node_labels_to_integers(g))
    sizes = np.array([g.number_of_nodes() for g in graphs])
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    edges = np.concatenate(
        [np.array(list(g.edges()), dtype=np.int64).reshape(-1, 2) + o for g, o in zip(graphs, offsets)]
    )
    return graphs, int(sizes.sum()), edges, np.repeat(np.arange(num_graphs), sizes)


def test_native_equals_numpy_on_unions_in_any_edge_order():
    _method_or_skip("native")
    rng = np.random.default_rng(3)
    for trial in range(5):
        graphs, n, edges, graph_of_node = _random_union(rng, 40)
        expected = orbit_counts_from_edges(n, edges, graph_of_node, method="numpy")
        assert np.array_equal(orbit_counts_from_edges(n, edges, graph_of_node, method="native"), expected)
        # shuffled, reversed edges (the C++ counter sorts its rows), without graph_of_node
        shuffled = edges[rng.permutation(len(edges))][:, ::-1]
        assert np.array_equal(orbit_counts_from_edges(n, shuffled, method="native"), expected), trial
        tri = np.concatenate([list(nx.triangles(g).values()) for g in graphs]).astype(np.int64)
        for method in METHODS:
            assert np.array_equal(triangle_counts(n, shuffled, graph_of_node, method=method), tri)
        assert np.array_equal(expected[:, 3], tri)


def test_method_choice_and_bad_input(monkeypatch):
    edges = np.array([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="unknown orbit-counting method"):
        orbit_counts_from_edges(3, edges, method="orca")
    with pytest.raises(ValueError, match="node ids in 0..2"):
        orbit_counts_from_edges(3, np.array([[0, 3]]), method=_method_or_skip("native"))
    with pytest.raises(ValueError, match="contiguous"):
        orbit_counts_from_edges(3, edges, np.array([0, 1, 0]), method="native")
    with pytest.raises(ValueError, match="joins two different graphs"):
        orbit_counts_from_edges(3, edges, np.array([0, 0, 1]), method="native")
    # GRAPHGEN_ORBIT_KERNEL=0: auto falls back to numpy, native says it is unavailable
    monkeypatch.setenv("GRAPHGEN_ORBIT_KERNEL", "0")
    assert orbit_kernel.orbit_kernel() is None
    assert orbit_counts_from_edges(3, edges)[1].tolist() == [2, 0, 1] + [0] * 12
    with pytest.raises(RuntimeError, match="not available"):
        triangle_counts(3, edges, method="native")
