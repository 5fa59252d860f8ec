"""Random number generators from the seeds users give.

numpy's seed sequences take non-negative integers only and fail deep inside with "expected
non-negative integer" otherwise; :func:`numpy_rng` checks the seed first, so a negative or fractional
seed is an :class:`~graphgen.errors.InvalidArgumentError` naming it, from whichever function took it.
"""

from __future__ import annotations

import numbers

import numpy as np

from graphgen.errors import InvalidArgumentError

__all__ = ["numpy_rng"]


def numpy_rng(seed) -> np.random.Generator:
    """``np.random.default_rng(seed)`` for a non-negative integer ``seed`` (``None``, a ``Generator``
    or a ``SeedSequence`` pass through as numpy takes them)."""
    if seed is None or isinstance(seed, (np.random.Generator, np.random.SeedSequence)):
        return np.random.default_rng(seed)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise InvalidArgumentError(f"seed must be a non-negative integer, got {seed!r}")
    return np.random.default_rng(int(seed))
