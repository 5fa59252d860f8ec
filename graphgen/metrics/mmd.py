"""Maximum mean discrepancy estimators.

For ``X = {x_i}_{i=1..m}``, ``Y = {y_j}_{j=1..n}`` and a kernel ``k``:

* ``biased`` (V-statistic; what GraphRNN, GRAN, SPECTRE, DiGress and HiGen report, squared, no
  square root)::

      MMD²_b = 1/m² Σ_ij k(x_i, x_j) + 1/n² Σ_ij k(y_i, y_j) - 2/(mn) Σ_ij k(x_i, y_j)

* ``umve`` (unbiased): the within-set sums skip ``i = j`` and use ``m(m-1)``, ``n(n-1)``;
* ``ustat``: also drops the diagonal of the cross term; needs ``m = n``.

Example:
    >>> import numpy as np
    >>> from graphgen.metrics.kernels import GaussianTV
    >>> x = np.eye(3)
    >>> mmd2(x, x, GaussianTV(1.0))
    0.0
"""

from __future__ import annotations

import numpy as np

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
    kxx, kyy, kxy = kernel.gram(x, x), kernel.gram(y, y), kernel.gram(x, y)
    if estimator == "biased":
        return float(kxx.mean() + kyy.mean() - 2 * kxy.mean())
    if estimator not in ESTIMATORS:
        raise ValueError(f"unknown MMD estimator {estimator!r}; choose one of {', '.join(ESTIMATORS)}")
    if m < 2 or n < 2:
        raise ValueError("the unbiased MMD estimators need at least 2 graphs per set")
    within = (kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    if estimator == "umve":
        return float(within - 2 * kxy.mean())
    if m != n:
        raise ValueError(f"the U-statistic needs equal set sizes, got {m} and {n}")
    return float(within - 2 * (kxy.sum() - np.trace(kxy)) / (m * (m - 1)))
