import networkx as nx
import numpy as np
import pytest
from scipy.stats import wasserstein_distance

from graphgen.datasets import generate, load_dataset
from graphgen.metrics import degree_histograms
from graphgen.metrics.wasserstein import descriptor_ot, histogram_w1, pooled_w1


def test_histogram_w1_equals_scipy():
    rng = np.random.default_rng(0)
    p, q = rng.random(12), rng.random(12)
    p, q = p / p.sum(), q / q.sum()
    grid = np.arange(12) * 0.5
    assert histogram_w1(p, q, 0.5) == pytest.approx(wasserstein_distance(grid, grid, p, q), abs=1e-12)


def test_pooled_w1_by_hand():
    a = [nx.path_graph(3)]  # degrees 1, 2, 1
    b = [nx.star_graph(3)]  # degrees 3, 1, 1, 1
    assert pooled_w1(a, b) == pytest.approx(wasserstein_distance([1, 2, 1], [3, 1, 1, 1]))
    assert pooled_w1(a, a) == 0.0
    weighted = pooled_w1(a + [nx.complete_graph(10)], b, graph_weighted=True)
    unweighted = pooled_w1(a + [nx.complete_graph(10)], b)
    assert weighted != unweighted
    assert pooled_w1(a, [nx.complete_graph(4)], statistic="clustering") == pytest.approx(1.0)


def test_descriptor_ot_methods():
    ref = degree_histograms(load_dataset("sbm", "test"))
    near = degree_histograms(load_dataset("sbm", "train")[:40])
    far = degree_histograms(generate("planar", 40, seed=0))
    for method in ("exact", "sinkhorn", "sliced"):
        ground = "l2" if method == "sliced" else "tv"
        assert descriptor_ot(ref, ref, method=method, ground=ground) == pytest.approx(0, abs=1e-6)
        assert descriptor_ot(ref, near, method=method, ground=ground) < descriptor_ot(
            ref, far, method=method, ground=ground
        )
    # exact OT between two single points equals their ground distance
    x, y = ref[:1], far[:1]
    assert descriptor_ot(x, y, ground="emd") == pytest.approx(histogram_w1(x[0], y[0]))
    with pytest.raises(ValueError, match="unknown OT method"):
        descriptor_ot(ref, near, method="magic")
    with pytest.raises(ValueError, match="unknown ground cost"):
        descriptor_ot(ref, near, ground="cosine")
