"""GNN-based metrics (Thompson et al., "On Evaluation Metrics for Graph Generative Models", ICLR 2022).

**Feature extractor: an untrained random GIN**, in numpy (no torch needed), seeded:

* input node feature ``2 · degree`` (in-degree + out-degree of the bidirected graph), 1-dim;
* 2 GIN convolutions ``h' = ReLU(BN(MLP((1 + ε) h_v + Σ_{u ∈ N(v)} h_u)))`` with ``ε = 0``, where
  ``MLP = Linear(in, 35) → BN → ReLU → Linear(35, 35)``; in evaluation mode with fresh running
  statistics BatchNorm is the scaling ``1/√(1 + 1e-5)``;
* Linear weights orthogonally initialised, biases ``U(±1/√fan_in)`` (PyTorch's default);
* graph embedding = the sum-pooled outputs of both convolutions, concatenated (70 dims);
* embeddings are standardised with the mean and standard deviation of the **reference** set.

Exact weights differ from the reference implementation's (torch RNG); the architecture and
statistics are the paper's. Results are averaged over ``seeds`` (mean and standard deviation).

**Metrics on the embeddings** (reference ``X``, generated ``Y``):

* ``fd``: Fréchet distance ``‖μ_X - μ_Y‖² + Tr(C_X + C_Y - 2 (C_X^{1/2} C_Y C_X^{1/2})^{1/2})``,
  computed with symmetric eigendecompositions (eigenvalues clipped at 0), ``np.cov`` (N - 1);
* ``mmd_rbf``: biased MMD² with ``k = exp(-d² / 2σ²)`` for ``σ ∈ {0.01, 0.1, 0.25, 0.5, 0.75, 1,
  2.5, 5, 7.5, 10} × √(mean squared X-Y distance)``; the maximum over σ, floored at 0;
* ``precision``/``recall`` (Kynkäänniemi et al. 2019) and ``density``/``coverage`` (Naeem et al.
  2020) with ``k = 5`` nearest-neighbour radii; ``f1_pr`` and ``f1_dc`` are harmonic means
  (``+1e-5`` in the denominator).

Every one of these but ``fd`` is a sum or a count over pairs of embeddings; each is computed over the
**distinct** embeddings weighted by how often they occur (:func:`distinct_rows`; generated sets of
small graphs repeat graphs), which gives the same values with less pair work, and in blocks of
bounded size (:mod:`graphgen.metrics.blocks`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from scipy.spatial.distance import cdist

from graphgen.metrics.blocks import distinct_rows, pair_blocks, pair_sum, subset
from graphgen.metrics.graph_set import as_graph_set
from graphgen.seeding import numpy_rng

__all__ = ["RandomGIN", "frechet_distance", "mmd_rbf_max", "prdc", "gnn_metrics", "SIGMA_MULTIPLIERS"]

SIGMA_MULTIPLIERS = (0.01, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
_BN_SCALE = 1.0 / np.sqrt(1.0 + 1e-5)


def _orthogonal(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    a = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q = q * np.sign(np.diag(r))
    return q if rows >= cols else q.T


class RandomGIN:
    """The untrained GIN feature extractor (see the module docstring).

    Args:
        seed: weights seed. hidden: width (35). num_convs: GIN convolutions (2).
    """

    def __init__(self, seed: int = 42, hidden: int = 35, num_convs: int = 2):
        rng = numpy_rng(seed)
        self.layers = []
        fan_in = 1
        for _ in range(num_convs):
            w1 = _orthogonal(rng, hidden, fan_in)
            b1 = rng.uniform(-1, 1, hidden) / np.sqrt(fan_in)
            w2 = _orthogonal(rng, hidden, hidden)
            b2 = rng.uniform(-1, 1, hidden) / np.sqrt(hidden)
            self.layers.append((w1, b1, w2, b2))
            fan_in = hidden

    def embed(self, graphs) -> np.ndarray:
        """Graph embeddings ``(G, hidden · num_convs)`` for a set of graphs."""
        gs = as_graph_set(graphs)
        n, edges, graph_of_node = gs.union()
        rows = np.concatenate([edges[:, 0], edges[:, 1]])
        cols = np.concatenate([edges[:, 1], edges[:, 0]])
        adj = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n))
        pool = sp.csr_matrix((np.ones(n), (graph_of_node, np.arange(n))), shape=(len(gs), n))
        h = (2.0 * np.asarray(adj.sum(axis=1))).reshape(n, 1)
        pooled = []
        for w1, b1, w2, b2 in self.layers:
            z = h + adj @ h  # (1 + eps) h_v + sum of neighbours, eps = 0
            z = np.maximum((z @ w1.T + b1) * _BN_SCALE, 0.0) @ w2.T + b2
            h = np.maximum(z * _BN_SCALE, 0.0)
            pooled.append(pool @ h)
        return np.concatenate(pooled, axis=1)


def frechet_distance(x: np.ndarray, y: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to the rows of ``x`` and ``y`` (>= 0); each needs
    two rows or more (a covariance)."""
    if len(x) < 2 or len(y) < 2:
        raise ValueError("the Fréchet distance needs at least 2 graphs per set (a covariance)")
    mu = x.mean(axis=0) - y.mean(axis=0)
    cx, cy = np.atleast_2d(np.cov(x, rowvar=False)), np.atleast_2d(np.cov(y, rowvar=False))
    vals, vecs = np.linalg.eigh(cx)
    root = (vecs * np.sqrt(np.clip(vals, 0, None))) @ vecs.T
    middle = np.linalg.eigvalsh(root @ cy @ root)
    value = mu @ mu + np.trace(cx) + np.trace(cy) - 2 * np.sqrt(np.clip(middle, 0, None)).sum()
    return float(max(value, 0.0))


def mmd_rbf_max(x: np.ndarray, y: np.ndarray, multipliers: Sequence[float] = SIGMA_MULTIPLIERS) -> tuple[float, float]:
    """Maximum over σ of the biased RBF MMD² (floored at 0) and the maximising σ.

    The squared distances are reduced block by block (:mod:`graphgen.metrics.blocks`), every σ
    from the same block, over distinct rows weighted by their counts (:func:`distinct_rows`), so
    memory stays bounded for any number of graphs."""
    m, n = len(x), len(y)
    (xs, xc), (ys, yc) = distinct_rows(x), distinct_rows(y)
    dxy_sum = 0.0
    for rows, cols, weight in pair_blocks(len(xs), len(ys)):
        dxy_sum += weight * pair_sum(cdist(xs[rows], ys[cols], "sqeuclidean"), subset(xc, rows), subset(yc, cols))
    base = np.sqrt(dxy_sum / (m * n))
    sigmas = [multiplier * base for multiplier in multipliers]
    gammas = [1.0 / (2 * sigma * sigma) if sigma > 0 else 0.0 for sigma in sigmas]
    sxx, syy, sxy = (
        _rbf_sums(*pair, gammas) for pair in ((xs, xc, None, None), (ys, yc, None, None), (xs, xc, ys, yc))
    )
    best, best_sigma = 0.0, float("nan")
    for k, sigma in enumerate(sigmas):
        if sigma <= 0:
            continue
        value = sxx[k] / (m * m) + syy[k] / (n * n) - 2 * (sxy[k] / (m * n))
        if value > best:
            best, best_sigma = float(value), float(sigma)
    return best, best_sigma


def _rbf_sums(a, a_counts, b, b_counts, gammas: Sequence[float]) -> np.ndarray:
    """``Σ_ij w_i w_j exp(-γ ‖a_i - b_j‖²)`` for each ``γ`` over rows weighted by their counts
    (``b`` None: within ``a``), block by block."""
    sums = np.zeros(len(gammas))
    other, other_counts = (a, a_counts) if b is None else (b, b_counts)
    for rows, cols, weight in pair_blocks(len(a), None if b is None else len(b)):
        d = cdist(a[rows], other[cols], "sqeuclidean")
        row_counts, col_counts = subset(a_counts, rows), subset(other_counts, cols)
        for k, gamma in enumerate(gammas):
            if gamma > 0:
                sums[k] += weight * pair_sum(np.exp(-gamma * d), row_counts, col_counts)
    return sums


def _knn_radii(x: np.ndarray, k: int, counts: np.ndarray | None = None) -> np.ndarray:
    """Distance of each row to its ``k``-th nearest other row, block by block. The row itself is at
    distance 0, index 0 of the partition; with ``counts`` the rows are distinct rows standing for
    ``counts`` rows each (the row's own copies at distance 0), and the radius is the ``k``-th entry
    (from 0) of the sorted distances to all of them, which lies among the ``k + 1`` smallest distinct
    distances. ``pair_blocks`` with both sizes given yields whole rows, so a block's column ``j`` is
    row ``j`` of ``x`` (and of ``counts``)."""
    radii = np.empty(len(x))
    for rows, cols, _ in pair_blocks(len(x), len(x)):
        d = cdist(x[rows], x[cols])
        if counts is None:
            radii[rows] = np.partition(d, k, axis=1)[:, k]
            continue
        nearest = np.argpartition(d, min(k, d.shape[1] - 1), axis=1)[:, : k + 1]
        dist = np.take_along_axis(d, nearest, axis=1)
        order = np.argsort(dist, axis=1, kind="stable")
        dist, copies = np.take_along_axis(dist, order, axis=1), counts[np.take_along_axis(nearest, order, axis=1)]
        reached = (np.cumsum(copies, axis=1) <= k).sum(axis=1)  # the first place whose copies pass index k
        radii[rows] = dist[np.arange(len(dist)), reached]
    return radii


def prdc(real: np.ndarray, fake: np.ndarray, k: int = 5) -> dict[str, float]:
    """Precision, recall, density, coverage and the two F1 scores (distances block by block, over
    distinct rows weighted by their counts; the counts are exact whatever the blocks)."""
    if len(real) <= k or len(fake) <= k:
        raise ValueError(f"precision/recall with k={k} needs more than {k} graphs per set")
    (reals, real_c), (fakes, fake_c) = distinct_rows(real), distinct_rows(fake)
    real_r, fake_r = _knn_radii(reals, k, real_c), _knn_radii(fakes, k, fake_c)
    fake_inside_some_real = np.zeros(len(fakes), dtype=bool)
    real_has_fake_inside = np.zeros(len(reals), dtype=bool)
    real_covers_nearest_fake = np.zeros(len(reals), dtype=bool)
    inside_count = 0
    for rows, cols, _ in pair_blocks(len(reals), len(fakes)):
        d = cdist(reals[rows], fakes[cols])  # (block of R, F)
        inside_real = d <= real_r[rows, None]
        fake_inside_some_real |= inside_real.any(axis=0)
        inside_count += int(pair_sum(inside_real, subset(real_c, rows), fake_c))  # 0/1 sums: exact
        real_has_fake_inside[rows] = (d <= fake_r[None, :]).any(axis=1)
        real_covers_nearest_fake[rows] = d.min(axis=1) <= real_r[rows]
    precision = float(np.average(fake_inside_some_real, weights=fake_c))
    recall = float(np.average(real_has_fake_inside, weights=real_c))
    density = float(inside_count / (k * fake.shape[0]))
    coverage = float(np.average(real_covers_nearest_fake, weights=real_c))
    return {
        "precision": precision,
        "recall": recall,
        "density": density,
        "coverage": coverage,
        "f1_pr": 2 * precision * recall / (precision + recall + 1e-5),
        "f1_dc": 2 * density * coverage / (density + coverage + 1e-5),
    }


def gnn_metrics(reference, samples, seeds: Sequence[int] = (42,), k: int = 5, progress=None) -> dict:
    """All GNN metrics, mean and standard deviation over random-GIN ``seeds``; the Fréchet distance
    (``fd``) only with 2 graphs or more per set, precision/recall/density/coverage only with more
    than ``k``. ``progress(done, total)`` is called before each seed (``done`` seeds finished) and
    at the end."""
    ref, gen = as_graph_set(reference, name="reference"), as_graph_set(samples, name="samples")
    seeds = list(seeds)
    per_seed = []
    for done, seed in enumerate(seeds):
        if progress is not None:
            progress(done, len(seeds))
        gin = RandomGIN(seed)
        x, y = gin.embed(ref), gin.embed(gen)
        mean, std = x.mean(axis=0), x.std(axis=0)
        std[std == 0] = 1.0  # StandardScaler's rule for constant features
        x, y = (x - mean) / std, (y - mean) / std
        row = {"mmd_rbf": mmd_rbf_max(x, y)[0]}
        if len(x) >= 2 and len(y) >= 2:  # like precision/recall below, left out where undefined
            row["fd"] = frechet_distance(x, y)
        if len(x) > k and len(y) > k:
            row.update(prdc(x, y, k))
        per_seed.append(row)
    if progress is not None:
        progress(len(seeds), len(seeds))
    out = {"seeds": seeds, "n_reference": len(ref), "n_samples": len(gen)}
    for key in per_seed[0]:
        values = np.array([r[key] for r in per_seed])
        out[key] = float(values.mean())
        out[f"{key}_std"] = float(values.std())
    return out
