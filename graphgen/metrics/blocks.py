"""Pair matrices in blocks of bounded size, so that set-to-set metrics scale to many graphs.

An MMD or a nearest-neighbour metric between ``m`` and ``n`` graphs reads every entry of an
``m x n`` matrix of kernel values or distances; held whole, 20,000 samples make a 3.2 GB float64
matrix, and each elementwise step (``d * d``, ``exp``) another. :func:`pair_blocks` cuts the matrix
into row blocks of at most :data:`PAIR_BLOCK_ENTRIES` entries (at least one row each), so a caller
reduces each block as it comes (a sum, a trace, a row minimum) and never holds the whole matrix.

Within one set (``n is None``) the matrix is symmetric, ``K_ij = K_ji`` (every kernel and distance
graphgen uses is), so only its **upper block triangle** is visited: each row block ``[i0, i1)``
gives its square diagonal block (weight 1) and, right of it, the block ``[i0, i1) x [i1, m)`` of
pairs that occur twice in the full matrix (weight 2). ``Σ_ij K_ij = Σ_blocks weight · Σ block``,
about half the work of the full matrix.

A matrix that fits one block is visited as **one whole block** (weight 1): results for sets of up
to about 2,000 graphs are computed by exactly the operations used before blocking, bit for bit.
Sums over several blocks differ from the whole-matrix sum only by floating-point summation order
(relative 1e-15 or so).

Sets whose rows repeat are reduced over their distinct rows (:func:`distinct_rows`), each standing
for its count: a block's sum becomes ``Σ_ij r_i B_ij c_j`` (:func:`pair_sum`; ``subset`` takes the
counts of a block's rows or columns). A set without repeats keeps ``None`` counts and the plain sums.

Example:
    >>> [(r.start, r.stop, c.start, c.stop, w) for r, c, w in pair_blocks(5, entries=10)]
    [(0, 2, 0, 2, 1), (0, 2, 2, 5, 2), (2, 4, 2, 4, 1), (2, 4, 4, 5, 2), (4, 5, 4, 5, 1)]
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

__all__ = ["PAIR_BLOCK_ENTRIES", "pair_blocks", "diagonal_offset", "distinct_rows", "pair_sum", "subset"]

#: Entries of one block (2^22: 32 MiB as float64 for each temporary array of a block).
PAIR_BLOCK_ENTRIES = 1 << 22


def pair_blocks(m: int, n: int | None = None, entries: int | None = None) -> Iterator[tuple[slice, slice, int]]:
    """Blocks ``(rows, cols, weight)`` covering the ``m x n`` pair matrix (``n`` given) or the
    upper block triangle of the symmetric ``m x m`` one (``n`` None); see the module docstring."""
    entries = PAIR_BLOCK_ENTRIES if entries is None else entries
    if entries < 1:
        raise ValueError(f"a block holds at least one entry, got {entries}")
    cols = m if n is None else n
    if m * cols <= entries:
        yield slice(0, m), slice(0, cols), 1
        return
    step = max(1, entries // max(cols, 1))
    for i0 in range(0, m, step):
        i1 = min(m, i0 + step)
        if n is not None:
            yield slice(i0, i1), slice(0, n), 1
            continue
        yield slice(i0, i1), slice(i0, i1), 1
        if i1 < m:
            yield slice(i0, i1), slice(i1, m), 2


def diagonal_offset(rows: slice, cols: slice) -> int:
    """The ``offset`` for ``numpy.trace(block, offset)`` that sums the entries ``(i, i)`` of the
    whole matrix lying in a block (0 when none do)."""
    return rows.start - cols.start


def distinct_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """The distinct rows of ``x`` in order of first occurrence and how often each occurs, or ``(x,
    None)`` when every row is distinct. Generated sets of small graphs repeat graphs (and so
    embeddings) often: 5,000 community_small samples have 2,677 distinct ones. A sum or count over pairs of
    rows is computed over distinct rows weighted by their counts (:func:`pair_sum`): the same value,
    with the pair work shrunk by the square of the distinct share."""
    if len(x) < 2:
        return x, None
    _, first, counts = np.unique(x, axis=0, return_index=True, return_counts=True)
    if len(first) == len(x):
        return x, None
    order = np.argsort(first)
    return x[first[order]], counts[order]


def pair_sum(block: np.ndarray, row_counts: np.ndarray | None, col_counts: np.ndarray | None) -> float:
    """``Σ_ij r_i B_ij c_j`` (counts ``None``: 1 each, the block's plain sum)."""
    if row_counts is None and col_counts is None:
        return block.sum()
    rows = np.ones(block.shape[0]) if row_counts is None else row_counts
    cols = np.ones(block.shape[1]) if col_counts is None else col_counts
    return float(rows @ (block @ cols))


def subset(counts: np.ndarray | None, index) -> np.ndarray | None:
    """``counts[index]``, or ``None`` for ``None`` (every row once)."""
    return None if counts is None else counts[index]
