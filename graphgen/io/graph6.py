"""graph6 encoding and decoding (Brendan McKay's format), vectorised with numpy.

Format (https://users.cecs.anu.edu.au/~bdm/data/formats.txt): each byte holds 6 bits plus 63.
``N(n)`` is one byte ``n + 63`` for ``n <= 62``, ``126`` and 3 bytes (18 bits) for ``n <= 258047``,
else ``126 126`` and 6 bytes (36 bits). Then the upper triangle ``x(i, j), i < j`` is packed
column by column, ``(0,1), (0,2), (1,2), (0,3), ...``, big-endian within each 6-bit group and
zero-padded to a multiple of 6 bits. An optional ``>>graph6<<`` header may open a line.

Decoding is strict: wrong length, bytes outside ``63..126`` and non-zero padding bits all raise
:class:`~graphgen.errors.GraphFormatError`, because a silently mis-read benchmark graph is worse
than a refusal.

Example:
    >>> n, edges = decode_graph6(b"Bg")  # the path 0-1-2: bits (0,1)=1 (0,2)=0 (1,2)=1
    >>> n, edges.tolist()
    (3, [[0, 1], [1, 2]])
    >>> encode_graph6(3, edges)
    b'Bg'
"""

from __future__ import annotations

import numpy as np

from graphgen.errors import GraphFormatError

__all__ = ["decode_graph6", "encode_graph6", "HEADER"]

HEADER = b">>graph6<<"


def _decode_size(body: np.ndarray) -> tuple[int, int]:
    """Return ``(n, bytes consumed)`` for the ``N(n)`` prefix of a graph6/sparse6 body."""
    if body.size == 0:
        raise GraphFormatError("empty graph6 line")
    if body[0] != 63:
        return int(body[0]), 1
    if body.size >= 2 and body[1] == 63:
        if body.size < 8:
            raise GraphFormatError("truncated 36-bit node count")
        n = 0
        for b in body[2:8]:
            n = (n << 6) | int(b)
        return n, 8
    if body.size < 4:
        raise GraphFormatError("truncated 18-bit node count")
    return (int(body[1]) << 12) | (int(body[2]) << 6) | int(body[3]), 4


def _encode_size(n: int) -> bytes:
    if n < 0:
        raise GraphFormatError(f"cannot encode a negative node count {n}")
    if n <= 62:
        return bytes([n + 63])
    if n <= 258047:
        return bytes([126] + [((n >> s) & 63) + 63 for s in (12, 6, 0)])
    if n <= 68719476735:
        return bytes([126, 126] + [((n >> s) & 63) + 63 for s in (30, 24, 18, 12, 6, 0)])
    raise GraphFormatError(f"graph6 cannot encode {n} nodes")


def decode_graph6(line: bytes) -> tuple[int, np.ndarray]:
    """Decode one graph6 line into ``(n, edges)`` with ``edges`` an ``(E, 2)`` int64 array, ``u < v``.

    Raises:
        GraphFormatError: if the line is not valid graph6.
    """
    line = line.strip()
    if line.startswith(HEADER):
        line = line[len(HEADER) :]
    if line.startswith(b":"):
        raise GraphFormatError("this line is sparse6 (starts with ':'), not graph6")
    if line.startswith(b"&"):
        raise GraphFormatError("this line is digraph6 (starts with '&'); directed graphs are not supported")
    raw = np.frombuffer(line, dtype=np.uint8).astype(np.int64) - 63
    if raw.size and (raw.min() < 0 or raw.max() > 63):
        bad = int(raw[(raw < 0) | (raw > 63)][0]) + 63
        raise GraphFormatError(f"byte {bad!r} ({chr(bad)!r}) is outside the graph6 range 63..126")
    n, offset = _decode_size(raw)
    num_bits = n * (n - 1) // 2
    expected = (num_bits + 5) // 6
    body = raw[offset:]
    if body.size != expected:
        raise GraphFormatError(f"graph6 line for {n} nodes must have {expected} data bytes, found {body.size}")
    bits = np.unpackbits(body.astype(np.uint8)[:, None], axis=1)[:, 2:].reshape(-1)
    if bits[num_bits:].any():
        raise GraphFormatError("non-zero padding bits at the end of a graph6 line")
    pos = np.flatnonzero(bits[:num_bits])
    # position p in column-major upper-triangle order: column j holds p in [j(j-1)/2, j(j+1)/2)
    starts = np.arange(n, dtype=np.int64) * (np.arange(n, dtype=np.int64) - 1) // 2
    j = np.searchsorted(starts, pos, side="right") - 1
    i = pos - starts[j]
    return n, np.stack([i, j], axis=1).astype(np.int64).reshape(-1, 2)


def encode_graph6(n: int, edges: np.ndarray, *, header: bool = False) -> bytes:
    """Encode a simple undirected graph (``(E, 2)`` edges, any orientation) as one graph6 line.

    The result has no trailing newline. Self-loops cannot be represented and raise.
    """
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    lo, hi = np.minimum(e[:, 0], e[:, 1]), np.maximum(e[:, 0], e[:, 1])
    if (lo == hi).any():
        raise GraphFormatError("graph6 cannot store self-loops")
    if e.size and (lo.min() < 0 or hi.max() >= n):
        raise GraphFormatError(f"edge endpoints out of range 0..{n - 1}")
    num_bits = n * (n - 1) // 2
    bits = np.zeros(((num_bits + 5) // 6) * 6, dtype=np.uint8)
    bits[hi * (hi - 1) // 2 + lo] = 1
    groups = bits.reshape(-1, 6)
    values = groups @ (1 << np.arange(5, -1, -1)).astype(np.uint8) if groups.size else np.zeros(0, np.uint8)
    out = _encode_size(n) + (values.astype(np.uint8) + 63).tobytes()
    return (HEADER + out) if header else out
