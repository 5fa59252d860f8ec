"""Set-to-set metrics reduced in blocks: the blocks cover the pair matrix exactly, and every metric
computed in small blocks equals the whole-matrix computation (bit for bit where one block holds it)."""

import numpy as np
import pytest
from scipy.spatial.distance import cdist

import graphgen.metrics.blocks as blocks
from graphgen.metrics.blocks import diagonal_offset, pair_blocks
from graphgen.metrics.gnn import mmd_rbf_max, prdc
from graphgen.metrics.kernels import GaussianEMD, GaussianL2, GaussianTV, LaplacianTV
from graphgen.metrics.mmd import ESTIMATORS, mmd2

SIZES = [(1, None, 1), (5, None, 10), (7, None, 1), (9, None, 20), (9, None, 81), (6, 4, 5), (3, 11, 7), (8, 8, 1)]


@pytest.mark.parametrize("m,n,entries", SIZES)
def test_blocks_cover_the_matrix_once_with_its_diagonal(m, n, entries):
    rng = np.random.default_rng(m * 100 + entries)
    cols = m if n is None else n
    matrix = rng.standard_normal((m, cols))
    if n is None:
        matrix = matrix + matrix.T  # the within-set case reads a symmetric matrix
    visits, weights = np.zeros((m, cols)), np.zeros((m, cols))
    total, trace = 0.0, 0.0
    for rows, cs, weight in pair_blocks(m, n, entries):
        assert (rows.stop - rows.start) * (cs.stop - cs.start) <= max(entries, cs.stop - cs.start)
        visits[rows, cs] += 1
        weights[rows, cs] = weight
        total += weight * matrix[rows, cs].sum()
        trace += np.trace(matrix[rows, cs], offset=diagonal_offset(rows, cs))
    assert visits.max() == 1  # no entry read twice
    if n is None:  # weights of the upper block triangle make up the lower one: Σ W∘M = Σ M, M symmetric
        assert np.array_equal(weights + weights.T, np.full((m, m), 2.0))
        assert len(list(pair_blocks(m, n, entries))) == 1 or visits.sum() < m * m
    else:
        assert np.array_equal(visits, np.ones((m, n)))
    assert total == pytest.approx(matrix.sum(), rel=1e-12, abs=1e-12)
    assert trace == pytest.approx(np.trace(matrix), rel=1e-12, abs=1e-12)


def test_one_block_when_the_matrix_fits_and_a_bad_size_is_refused():
    assert list(pair_blocks(3, 4, 12)) == [(slice(0, 3), slice(0, 4), 1)]
    assert len(list(pair_blocks(3, 4, 11))) == 2
    assert list(pair_blocks(0, None)) == [(slice(0, 0), slice(0, 0), 1)]
    with pytest.raises(ValueError, match="at least one entry"):
        list(pair_blocks(3, 3, 0))


def _whole_mmd2(x, y, kernel, estimator):
    """The whole-Gram-matrix estimator, written out (what mmd2 computed before blocking)."""
    kxx, kyy, kxy = kernel.gram(x, x), kernel.gram(y, y), kernel.gram(x, y)
    m, n = len(x), len(y)
    if estimator == "biased":
        return float(kxx.mean() + kyy.mean() - 2 * kxy.mean())
    within = (kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    if estimator == "umve":
        return float(within - 2 * kxy.mean())
    return float(within - 2 * (kxy.sum() - np.trace(kxy)) / (m * (m - 1)))


@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize(
    "kernel",
    [GaussianTV(0.5), GaussianEMD(1.0, 2.0), GaussianL2(3.0), LaplacianTV(1.0)],
    ids=lambda k: type(k).__name__,
)
def test_mmd2_in_blocks_equals_the_whole_gram_matrices(kernel, estimator, monkeypatch):
    rng = np.random.default_rng(3)
    x = rng.random((23, 6))
    y = rng.random((23 if estimator == "ustat" else 17, 4)) * 1.5  # different widths: padded
    whole = _whole_mmd2(x, y, kernel, estimator)
    assert mmd2(x, y, kernel, estimator) == whole  # one block: the same operations, bit for bit
    for entries in (1, 7, 40, 100):
        monkeypatch.setattr(blocks, "PAIR_BLOCK_ENTRIES", entries)
        assert mmd2(x, y, kernel, estimator) == pytest.approx(whole, rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize("kernel", [GaussianTV(0.5), GaussianEMD(1.0, 2.0)], ids=lambda k: type(k).__name__)
def test_mmd2_over_repeated_rows_equals_the_whole_gram_matrices(kernel, estimator, monkeypatch):
    """Sets whose rows repeat (descriptor histograms of generated graphs do) are reduced over their
    distinct rows weighted by their counts, traces included: the whole-matrix value for every
    estimator (the U-statistic's cross trace pairs the rows as given), in any blocks."""
    rng = np.random.default_rng(5)
    x = rng.random((6, 5))[rng.integers(0, 6, 30)]
    y = rng.random((9, 4))[rng.integers(0, 9, 30 if estimator == "ustat" else 21)] * 1.5
    whole = _whole_mmd2(x, y, kernel, estimator)
    for entries in (None, 1, 7, 40):
        if entries is not None:
            monkeypatch.setattr(blocks, "PAIR_BLOCK_ENTRIES", entries)
        assert mmd2(x, y, kernel, estimator) == pytest.approx(whole, rel=1e-12, abs=1e-14)
        assert mmd2(x, np.unique(y, axis=0), kernel, "biased") == pytest.approx(  # one side repeats
            _whole_mmd2(x, np.unique(y, axis=0), kernel, "biased"), rel=1e-12, abs=1e-14
        )


def _whole_rbf(x, y, multipliers=(0.01, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)):
    dxx, dyy, dxy = cdist(x, x, "sqeuclidean"), cdist(y, y, "sqeuclidean"), cdist(x, y, "sqeuclidean")
    base = np.sqrt(dxy.mean())
    best, best_sigma = 0.0, float("nan")
    for mult in multipliers:
        gamma = 1.0 / (2 * (mult * base) ** 2)
        value = np.exp(-gamma * dxx).mean() + np.exp(-gamma * dyy).mean() - 2 * np.exp(-gamma * dxy).mean()
        if value > best:
            best, best_sigma = float(value), float(mult * base)
    return best, best_sigma


def _whole_prdc(real, fake, k=5):
    def radii(a):
        return np.partition(cdist(a, a), k, axis=1)[:, k]

    real_r, fake_r = radii(real), radii(fake)
    d = cdist(real, fake)
    inside = d <= real_r[:, None]
    return {
        "precision": float(inside.any(axis=0).mean()),
        "recall": float((d <= fake_r[None, :]).any(axis=1).mean()),
        "density": float(inside.sum() / (k * len(fake))),
        "coverage": float((d.min(axis=1) <= real_r).mean()),
    }


def test_gnn_metrics_in_blocks_equal_the_whole_matrices(monkeypatch):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((30, 5))
    y = rng.standard_normal((45, 5)) * 1.3 + 0.4
    whole_rbf, whole_prdc = _whole_rbf(x, y), _whole_prdc(x, y)
    assert whole_prdc["precision"] not in (0.0, 1.0) and whole_prdc["recall"] not in (0.0, 1.0)
    assert mmd_rbf_max(x, y) == whole_rbf
    assert {key: prdc(x, y)[key] for key in whole_prdc} == whole_prdc
    for entries in (1, 13, 200):
        monkeypatch.setattr(blocks, "PAIR_BLOCK_ENTRIES", entries)
        value, sigma = mmd_rbf_max(x, y)
        assert value == pytest.approx(whole_rbf[0], rel=1e-12) and sigma == pytest.approx(whole_rbf[1], rel=1e-12)
        assert {key: prdc(x, y)[key] for key in whole_prdc} == whole_prdc  # counts: exact in any blocks


def test_repeated_rows_are_weighted_and_give_the_whole_matrix_values(monkeypatch):
    """Sets with repeated rows (generated graphs repeat) are reduced over their distinct rows weighted
    by their counts: the same MMD as the whole matrices (to summation order) and exactly the same
    precision, recall, density and coverage, also when a row occurs more than k times (its k-th
    neighbour is a copy of itself, at distance 0), in any blocks; sets with no repeat take the
    unweighted path, bit for bit."""
    from graphgen.metrics.gnn import distinct_rows

    rng = np.random.default_rng(7)
    base_x, base_y = rng.standard_normal((9, 4)), rng.standard_normal((12, 4)) + 0.3
    x = base_x[rng.integers(0, 9, 40)]
    y = np.concatenate([base_y[rng.integers(0, 12, 30)], np.repeat(base_y[:1], 8, axis=0)])  # one row 9+ times
    rows, counts = distinct_rows(y)
    assert counts.sum() == len(y) and counts.max() > 5 and len(rows) == len(np.unique(y, axis=0))
    assert np.array_equal(rows[0], y[0])  # first-occurrence order
    assert distinct_rows(base_x)[1] is None and distinct_rows(base_x)[0] is base_x
    whole_rbf, whole_prdc = _whole_rbf(x, y), _whole_prdc(x, y)
    assert 0 < whole_prdc["precision"] < 1 and 0 < whole_prdc["coverage"] < 1
    for entries in (None, 1, 7, 50):
        if entries is not None:
            monkeypatch.setattr(blocks, "PAIR_BLOCK_ENTRIES", entries)
        value, sigma = mmd_rbf_max(x, y)
        assert value == pytest.approx(whole_rbf[0], rel=1e-12) and sigma == pytest.approx(whole_rbf[1], rel=1e-12)
        assert {key: prdc(x, y)[key] for key in whole_prdc} == whole_prdc
        assert {key: prdc(y, x)[key] for key in whole_prdc} == _whole_prdc(y, x)
        assert {key: prdc(base_x, y)[key] for key in whole_prdc} == _whole_prdc(base_x, y)  # one side repeats
