"""Maximum mean discrepancy estimators.

For ``X = {x_i}_{i=1..m}``, ``Y = {y_j}_{j=1..n}`` and a kernel ``k``:

* ``biased`` (V-statistic; what GraphRNN, GRAN, SPECTRE, DiGress and HiGen report, squared, no
  square root)::

      MMD²_b = 1/m² Σ_ij k(x_i, x_j) + 1/n² Σ_ij k(y_i, y_j) - 2/(mn) Σ_ij k(x_i, y_j)

* ``umve`` (unbiased): the within-set sums skip ``i = j`` and use ``m(m-1)``, ``n(n-1)``;
* ``ustat``: also drops the diagonal of the cross term; needs ``m = n``.

The Gram matrices are reduced block by block (:mod:`graphgen.metrics.blocks`): memory stays bounded
for any number of graphs, and the within-set sums visit only the upper block triangle (kernels are
symmetric, ``k(a, b) = k(b, a)``). Sets of up to about 2,000 graphs are one block each, computed
exactly as a whole Gram matrix. A set whose descriptors repeat (generated sets of small graphs
repeat graphs, and distinct graphs share degree histograms: 20,000 community_small samples have
1,984 distinct degree histograms) is reduced over its distinct rows weighted by their counts
(:func:`~graphgen.metrics.blocks.distinct_rows`): the same sums (to summation order) with the pair
work shrunk by the square of the distinct share; a set without repeats takes the unweighted path.

Example:
    >>> import numpy as np
    >>> from graphgen.metrics.kernels import GaussianTV
    >>> x = np.eye(3)
    >>> mmd2(x, x, GaussianTV(1.0))
    0.0
"""

from __future__ import annotations

import numpy as np

from graphgen.metrics.blocks import diagonal_offset, distinct_rows, pair_blocks, pair_sum, subset
from graphgen.metrics.kernels import Kernel

__all__ = ["mmd2", "ESTIMATORS"]

ESTIMATORS = ("biased", "umve", "ustat")


def mmd2(x: np.ndarray, y: np.ndarray, kernel: Kernel, estimator: str = "biased") -> float:
    """Squared MMD between the rows of ``x`` and ``y`` under ``kernel``.

    Raises:
        ValueError: an empty set, an unknown estimator, or ``ustat`` with ``m != n``.
    """
    m, n = len(x), len(y)
    if m == 0 or n == 0:
        raise ValueError(f"MMD needs two non-empty sets, got {m} and {n} graphs")
    xs, ys = distinct_rows(x), distinct_rows(y)
    (sxx, txx), (syy, tyy) = _gram_sums(kernel, *xs), _gram_sums(kernel, *ys)
    if estimator == "ustat":  # its cross trace pairs x_i with y_i: the rows as given
        sxy, txy = _gram_sums(kernel, x, None, y, None)
    else:
        sxy, txy = _gram_sums(kernel, *xs, *ys)
    if estimator == "biased":
        return float(sxx / (m * m) + syy / (n * n) - 2 * (sxy / (m * n)))
    if estimator not in ESTIMATORS:
        raise ValueError(f"unknown MMD estimator {estimator!r}; choose one of {', '.join(ESTIMATORS)}")
    if m < 2 or n < 2:
        raise ValueError("the unbiased MMD estimators need at least 2 graphs per set")
    within = (sxx - txx) / (m * (m - 1)) + (syy - tyy) / (n * (n - 1))
    if estimator == "umve":
        return float(within - 2 * (sxy / (m * n)))
    if m != n:
        raise ValueError(f"the U-statistic needs equal set sizes, got {m} and {n}")
    return float(within - 2 * (sxy - txy) / (m * (m - 1)))


def _gram_sums(kernel: Kernel, x, x_counts=None, y=None, y_counts=None) -> tuple[float, float]:
    """``Σ_ij w_i v_j k(x_i, y_j)`` and the trace ``Σ_i w_i k(x_i, y_i)`` (``y`` None: within ``x``) over
    rows standing for ``x_counts`` / ``y_counts`` rows each (``None``: one), reduced block by block.
    The trace is defined within one set, or between two sets given row for row (no counts)."""
    total, trace = 0.0, 0.0
    other, other_counts = (x, x_counts) if y is None else (y, y_counts)
    weighted = x_counts is not None or other_counts is not None
    for rows, cols, weight in pair_blocks(len(x), None if y is None else len(y)):
        gram = kernel.gram(x[rows], other[cols])
        total += weight * pair_sum(gram, subset(x_counts, rows), subset(other_counts, cols))
        offset = diagonal_offset(rows, cols)
        if not weighted:
            trace += np.trace(gram, offset=offset)
        elif y is None and offset == 0:  # a diagonal block: its entry (i, i) stands for x_counts[i] pairs
            trace += float(np.diagonal(gram) @ x_counts[rows])
    return total, trace
