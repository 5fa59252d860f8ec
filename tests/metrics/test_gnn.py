import networkx as nx
import numpy as np
import pytest
from scipy.linalg import sqrtm

from graphgen.data import from_networkx, permute_graph
from graphgen.datasets import generate, load_dataset
from graphgen.metrics.gnn import RandomGIN, frechet_distance, gnn_metrics, mmd_rbf_max, prdc


def test_embeddings_are_seeded_and_permutation_invariant():
    graphs = generate("sbm", 5, seed=0)
    a, b = RandomGIN(3).embed(graphs), RandomGIN(3).embed(graphs)
    assert a.shape == (5, 70) and np.array_equal(a, b)
    assert not np.allclose(a, RandomGIN(4).embed(graphs))
    import torch

    shuffled = [
        permute_graph(g, torch.randperm(int(g.num_nodes), generator=torch.Generator().manual_seed(1))) for g in graphs
    ]
    assert np.allclose(RandomGIN(3).embed(shuffled), a, rtol=1e-12, atol=1e-9)


def test_embedding_matches_a_dense_forward_pass():
    g = nx.karate_club_graph()
    gin = RandomGIN(0)
    a = nx.to_numpy_array(g, nodelist=range(34), weight=None)
    h = 2 * a.sum(axis=1, keepdims=True)
    pooled = []
    for w1, b1, w2, b2 in gin.layers:
        z = (h + a @ h) @ w1.T + b1
        z = np.maximum(z / np.sqrt(1 + 1e-5), 0) @ w2.T + b2
        h = np.maximum(z / np.sqrt(1 + 1e-5), 0)
        pooled.append(h.sum(axis=0))
    assert np.allclose(gin.embed([from_networkx(g)])[0], np.concatenate(pooled))
    w = gin.layers[1][2]
    assert np.allclose(w @ w.T, np.eye(35))  # orthogonal initialisation


def test_frechet_distance():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 6))
    y = rng.standard_normal((200, 6)) @ rng.standard_normal((6, 6)) + 2
    cx, cy = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    ref = np.sum((x.mean(0) - y.mean(0)) ** 2) + np.trace(cx + cy - 2 * sqrtm(cx @ cy).real)
    assert frechet_distance(x, y) == pytest.approx(ref, rel=1e-9)
    assert frechet_distance(x, x) == pytest.approx(0, abs=1e-8)


def test_too_few_graphs_leave_out_the_undefined_metrics():
    """One graph has no covariance: the Fréchet distance refuses it by name, and gnn_metrics leaves it
    out (as it leaves out precision/recall below k + 1 graphs) instead of failing inside LAPACK."""
    x = np.random.default_rng(2).standard_normal((5, 3))
    with pytest.raises(ValueError, match="at least 2 graphs"):
        frechet_distance(x[:1], x)
    one = [generate("planar", 1, seed=0)[0]]
    out = gnn_metrics(one, one, seeds=range(2))
    assert "fd" not in out and "f1_pr" not in out and out["mmd_rbf"] == 0.0
    two = gnn_metrics(generate("planar", 2, seed=0), one + one, seeds=range(2))
    assert two["fd"] > 0


def test_prdc_and_mmd_on_identical_and_disjoint_sets():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((50, 4))
    same = prdc(x, x)
    assert same["precision"] == same["recall"] == same["coverage"] == 1.0 and same["density"] >= 1.0
    far = prdc(x, x + 100)
    assert far["precision"] == far["recall"] == far["coverage"] == far["density"] == 0.0
    assert mmd_rbf_max(x, x)[0] == 0.0 and mmd_rbf_max(x, x + 3)[0] > 0.5
    with pytest.raises(ValueError, match="k=5"):
        prdc(x[:5], x)


def test_metrics_separate_families():
    test = load_dataset("sbm", "test")
    near = gnn_metrics(test, load_dataset("sbm", "train")[:40], seeds=range(5))
    far = gnn_metrics(test, generate("planar", 40, seed=0), seeds=range(5))
    assert near["fd"] < far["fd"] and near["mmd_rbf"] < far["mmd_rbf"]
    assert near["f1_pr"] > 0.8 and far["f1_pr"] < 0.5
    assert set(near) >= {"fd", "fd_std", "mmd_rbf", "precision", "recall", "density", "coverage", "f1_pr", "f1_dc"}


def test_gnn_metrics_report_each_seed_and_the_end():
    calls = []
    graphs = generate("planar", 8, seed=0)
    out = gnn_metrics(graphs[:4], graphs[4:], seeds=range(3), progress=lambda *a: calls.append(a))
    assert calls == [(0, 3), (1, 3), (2, 3), (3, 3)] and out["seeds"] == [0, 1, 2]
    assert out == gnn_metrics(graphs[:4], graphs[4:], seeds=range(3))  # reporting changes nothing
