"""Seeded generators for the standard synthetic graph families, at any requested size.

Each generator takes ``num_graphs`` and a ``seed`` (same seed, same graphs) plus the family's size
parameters, and returns ``list[Data]``. Defaults follow the recipes behind the benchmark files,
so a larger benchmark set of the same family is one call away; where a recipe is only
approximately known the docstring says so.

============  ===============================================================================
family        recipe
============  ===============================================================================
community     two (or more) G(n_c, p_in) communities + each cross pair with ``p_out``, at least
              one bridge (Niu et al. 2020 / GDSS community-small; GDSS fixes the community seed)
grid          ``networkx.grid_2d_graph(m, n)`` with m, n uniform in ``[min_side, max_side]``
planar        Delaunay triangulation of ``num_nodes`` uniform points in the unit square (SPECTRE)
sbm           2..5 blocks of 20..40 nodes, ``p_in = 0.3``, ``p_out = 0.05`` (SPECTRE)
large_sbm     ``num_nodes`` nodes in blocks of 20..60, ``p_in = 0.2``; blocks on a ring with random
              chords, each linked pair joined by ``1 + Poisson(2)`` edges (ours: a sparse block
              graph, so cross edges grow linearly with the size, for scaling benchmarks)
tree          uniform random labelled tree (Prüfer sequence) of ``num_nodes`` nodes
lobster       backbone path + legs (``p1``) + leg extensions (``p2``), kept if ``min..max`` nodes (GRAN)
ego           radius-``radius`` ego graphs of random nodes in a Barabási–Albert graph with
              ``min..max`` nodes (a synthetic stand-in for the Citeseer ego graphs)
============  ===============================================================================

Example:
    >>> graphs = generate("sbm", 3, seed=0)
    >>> [g.num_nodes for g in graphs] == [g.num_nodes for g in generate("sbm", 3, seed=0)]
    True
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from torch_geometric.data import Data

from graphgen.data.convert import from_edge_array, from_networkx
from graphgen.errors import InvalidGraphError
from graphgen.seeding import numpy_rng

__all__ = [
    "GENERATORS",
    "generate",
    "community_graphs",
    "grid_graphs",
    "planar_graphs",
    "sbm_graphs",
    "large_sbm_graphs",
    "tree_graphs",
    "lobster_graphs",
    "ego_graphs",
    "erdos_renyi_graphs",
    "barabasi_albert_graphs",
]


def _check_count(num_graphs: int) -> None:
    if num_graphs < 0:
        raise InvalidGraphError(f"num_graphs must be >= 0, got {num_graphs}")


def _check_range(lo: int, hi: int, what: str, minimum: int = 1) -> None:
    if lo < minimum or hi < lo:
        raise InvalidGraphError(f"impossible {what} range {lo}..{hi} (need {minimum} <= min <= max)")


def _check_prob(p: float, what: str) -> None:
    if not 0.0 <= p <= 1.0:
        raise InvalidGraphError(f"{what} must be a probability in [0, 1], got {p}")


def community_graphs(
    num_graphs: int,
    *,
    seed: int = 0,
    min_nodes: int = 12,
    max_nodes: int = 20,
    num_communities: int = 2,
    p_in: float = 0.7,
    p_out: float = 0.01,
) -> list[Data]:
    """Community graphs: ``num_communities`` equal G(n/c, p_in) blocks, cross pairs with ``p_out``.

    The total size is drawn uniformly from ``min_nodes..max_nodes`` and rounded down to a multiple
    of ``num_communities`` (GDSS community-small therefore has even sizes only). At least one bridge
    joins consecutive communities, so the graph has no community cut off by chance; the default
    ``p_out`` gives about one or two bridges, as in the community-small benchmark file.
    """
    _check_count(num_graphs)
    _check_range(min_nodes, max_nodes, "node count", minimum=num_communities)
    _check_prob(p_in, "p_in")
    _check_prob(p_out, "p_out")
    rng = numpy_rng(seed)
    graphs = []
    for _ in range(num_graphs):
        n = int(rng.integers(min_nodes, max_nodes + 1)) // num_communities * num_communities
        size = n // num_communities
        block = np.repeat(np.arange(num_communities), size)
        iu, ju = np.triu_indices(n, k=1)
        same = block[iu] == block[ju]
        draw = rng.random(iu.size)
        keep = np.where(same, draw < p_in, draw < p_out)
        edges = set(zip(iu[keep].tolist(), ju[keep].tolist()))
        for c in range(num_communities - 1):
            if not any(block[u] == c and block[v] == c + 1 for u, v in edges):
                u = c * size + int(rng.integers(size))
                v = (c + 1) * size + int(rng.integers(size))
                edges.add((u, v))
        graphs.append(from_edge_array(n, np.array(sorted(edges), dtype=np.int64).reshape(-1, 2)))
    return graphs


def grid_graphs(num_graphs: int, *, seed: int = 0, min_side: int = 10, max_side: int = 19) -> list[Data]:
    """2-D grids ``m × n`` with both sides uniform in ``min_side..max_side``."""
    import networkx as nx

    _check_count(num_graphs)
    _check_range(min_side, max_side, "grid side")
    rng = numpy_rng(seed)
    out = []
    for _ in range(num_graphs):
        m, n = (int(x) for x in rng.integers(min_side, max_side + 1, size=2))
        out.append(from_networkx(nx.convert_node_labels_to_integers(nx.grid_2d_graph(m, n))))
    return out


def planar_graphs(num_graphs: int, *, seed: int = 0, num_nodes: int = 64) -> list[Data]:
    """Delaunay triangulations of ``num_nodes`` uniform random points in the unit square (SPECTRE)."""
    from scipy.spatial import Delaunay

    _check_count(num_graphs)
    _check_range(num_nodes, num_nodes, "node count", minimum=3)
    rng = numpy_rng(seed)
    out = []
    for _ in range(num_graphs):
        tri = Delaunay(rng.random((num_nodes, 2)))
        s = tri.simplices
        edges = np.concatenate([s[:, [0, 1]], s[:, [1, 2]], s[:, [0, 2]]])
        edges = np.unique(np.sort(edges, axis=1), axis=0)
        out.append(from_edge_array(num_nodes, edges))
    return out


def sbm_graphs(
    num_graphs: int,
    *,
    seed: int = 0,
    min_communities: int = 2,
    max_communities: int = 5,
    min_size: int = 20,
    max_size: int = 40,
    p_in: float = 0.3,
    p_out: float = 0.05,
) -> list[Data]:
    """Stochastic block models: ``min..max_communities`` blocks of ``min..max_size`` nodes (SPECTRE)."""
    _check_count(num_graphs)
    _check_range(min_communities, max_communities, "community count")
    _check_range(min_size, max_size, "community size")
    _check_prob(p_in, "p_in")
    _check_prob(p_out, "p_out")
    rng = numpy_rng(seed)
    out = []
    for _ in range(num_graphs):
        k = int(rng.integers(min_communities, max_communities + 1))
        sizes = rng.integers(min_size, max_size + 1, size=k)
        block = np.repeat(np.arange(k), sizes)
        n = block.size
        iu, ju = np.triu_indices(n, k=1)
        p = np.where(block[iu] == block[ju], p_in, p_out)
        keep = rng.random(iu.size) < p
        out.append(from_edge_array(n, np.stack([iu[keep], ju[keep]], 1)))
    return out


def large_sbm_graphs(
    num_graphs: int,
    *,
    seed: int = 0,
    num_nodes: int = 1000,
    min_size: int = 20,
    max_size: int = 60,
    p_in: float = 0.2,
    chords: float = 0.5,
    mean_cross_edges: float = 3.0,
) -> list[Data]:
    """Block models with a sparse block graph, ``num_nodes`` nodes each (for scaling benchmarks).

    Blocks of ``min..max_size`` nodes (the last one takes what is left, at least ``min_size``) are
    ``G(n_b, p_in)``; the blocks sit on a ring (each linked to the next) plus ``chords`` random
    extra links per block; each linked pair of blocks gets ``1 + Poisson(mean_cross_edges - 1)``
    distinct random cross edges. Cross edges thus grow linearly with ``num_nodes``, as in large
    real graphs, while the ordinary :func:`sbm_graphs` links every pair of blocks. A node left
    without a block edge is joined to a random node of its block, so no node is isolated.

    >>> g = large_sbm_graphs(1, num_nodes=300, seed=1)[0]
    >>> g.num_nodes
    300
    """
    _check_count(num_graphs)
    _check_range(min_size, max_size, "community size")
    _check_range(min_size, num_nodes, "number of nodes")
    _check_prob(p_in, "p_in")
    if chords < 0 or mean_cross_edges < 1:
        raise InvalidGraphError("chords must be >= 0 and mean_cross_edges >= 1")
    rng = numpy_rng(seed)
    out = []
    for _ in range(num_graphs):
        sizes = []
        while sum(sizes) < num_nodes:
            sizes.append(int(rng.integers(min_size, max_size + 1)))
        sizes[-1] -= sum(sizes) - num_nodes
        if len(sizes) > 1 and sizes[-1] < min_size:  # fold a short remainder into the previous block
            remainder = sizes.pop()
            sizes[-1] += remainder
        k = len(sizes)
        first = np.cumsum(sizes) - sizes
        edges = []
        for b, size in enumerate(sizes):
            iu, ju = np.triu_indices(size, k=1)
            keep = rng.random(iu.size) < p_in
            block = np.stack([iu[keep], ju[keep]], 1)
            lonely = np.setdiff1d(np.arange(size), block.ravel())  # join each to a random block mate
            mates = (lonely + rng.integers(1, size, size=lonely.size)) % size
            edges.append(np.concatenate([block, np.stack([lonely, mates], 1)]) + first[b])
        links = {(b, (b + 1) % k) for b in range(k)} if k > 1 else set()
        for _ in range(int(round(chords * k)) if k > 2 else 0):
            a, b = rng.choice(k, size=2, replace=False)
            links.add((int(a), int(b)))
        for a, b in sorted({(min(x), max(x)) for x in links}):
            count = min(1 + int(rng.poisson(mean_cross_edges - 1)), sizes[a] * sizes[b])
            pick = rng.choice(sizes[a] * sizes[b], size=count, replace=False)
            edges.append(np.stack([first[a] + pick // sizes[b], first[b] + pick % sizes[b]], 1))
        out.append(from_edge_array(num_nodes, np.concatenate(edges)))
    return out


def tree_graphs(num_graphs: int, *, seed: int = 0, num_nodes: int = 64) -> list[Data]:
    """Uniform random labelled trees (decoded from uniform Prüfer sequences)."""
    _check_count(num_graphs)
    _check_range(num_nodes, num_nodes, "node count")
    import heapq

    rng = numpy_rng(seed)
    out = []
    for _ in range(num_graphs):
        if num_nodes == 1:
            out.append(from_edge_array(1, np.zeros((0, 2), dtype=np.int64)))
            continue
        if num_nodes == 2:
            out.append(from_edge_array(2, np.array([[0, 1]])))
            continue
        prufer = rng.integers(0, num_nodes, size=num_nodes - 2)
        degree = np.ones(num_nodes, dtype=np.int64)
        np.add.at(degree, prufer, 1)
        leaves = [v for v in range(num_nodes) if degree[v] == 1]
        heapq.heapify(leaves)
        edges = []
        for v in prufer.tolist():
            leaf = heapq.heappop(leaves)
            edges.append((leaf, v))
            degree[v] -= 1
            if degree[v] == 1:
                heapq.heappush(leaves, v)
        edges.append((heapq.heappop(leaves), heapq.heappop(leaves)))
        out.append(from_edge_array(num_nodes, np.array(edges)))
    return out


def _lobster(mean_nodes: int, p1: float, p2: float, rng: np.random.Generator) -> tuple[int, np.ndarray]:
    """One random lobster (the recipe of ``networkx.random_lobster``): a backbone path of
    ``int(2 U mean_nodes + 0.5)`` nodes; each backbone node grows legs while ``U < p1``; each leg
    grows one extension while ``U < p2``."""
    backbone = int(2 * rng.random() * mean_nodes + 0.5)
    backbone = max(backbone, 1)
    edges = [(i, i + 1) for i in range(backbone - 1)]
    n = backbone
    for v in range(backbone):
        while rng.random() < p1:
            leg = n
            edges.append((v, leg))
            n += 1
            if rng.random() < p2:
                edges.append((leg, n))
                n += 1
    return n, np.array(edges, dtype=np.int64).reshape(-1, 2)


def lobster_graphs(
    num_graphs: int,
    *,
    seed: int = 0,
    mean_nodes: int = 80,
    p1: float = 0.7,
    p2: float = 0.7,
    min_nodes: int = 10,
    max_nodes: int = 100,
    max_tries: int = 10000,
) -> list[Data]:
    """Random lobsters (GRAN recipe): backbone path, legs with ``p1``, leg extensions with ``p2``,
    kept when they have ``min_nodes..max_nodes`` nodes."""
    _check_count(num_graphs)
    _check_range(min_nodes, max_nodes, "node count")
    _check_prob(p1, "p1")
    _check_prob(p2, "p2")
    if p1 >= 1 or p2 > 1:
        raise InvalidGraphError("p1 must be < 1 (otherwise a lobster never stops growing legs)")
    rng = numpy_rng(seed)
    return _draw_until(
        num_graphs, lambda: _lobster(mean_nodes, p1, p2, rng), min_nodes, max_nodes, max_tries, "lobsters"
    )


def ego_graphs(
    num_graphs: int,
    *,
    seed: int = 0,
    min_nodes: int = 4,
    max_nodes: int = 18,
    base_nodes: int = 2000,
    attach: int = 2,
    radius: int = 1,
    max_tries: int = 100000,
) -> list[Data]:
    """Ego graphs of random centres in one Barabási–Albert graph, kept if ``min..max_nodes`` nodes."""
    import networkx as nx

    _check_count(num_graphs)
    _check_range(min_nodes, max_nodes, "node count")
    rng = numpy_rng(seed)
    base = nx.barabasi_albert_graph(base_nodes, attach, seed=int(rng.integers(2**31)))

    def draw() -> tuple[int, np.ndarray]:
        centre = int(rng.integers(base_nodes))
        ego = nx.ego_graph(base, centre, radius=radius)
        label = {centre: 0}  # the centre is node 0, the others in ascending base id
        label.update({v: i for i, v in enumerate(sorted(v for v in ego if v != centre), start=1)})
        return len(label), np.array([(label[u], label[v]) for u, v in ego.edges()], dtype=np.int64)

    return _draw_until(num_graphs, draw, min_nodes, max_nodes, max_tries, "ego graphs")


def _draw_until(
    num_graphs: int,
    draw: Callable[[], tuple[int, np.ndarray]],
    min_nodes: int,
    max_nodes: int,
    max_tries: int,
    what: str,
) -> list[Data]:
    """Rejection sampling: call ``draw() -> (n, edges)`` until ``num_graphs`` have ``min..max`` nodes."""
    out: list[Data] = []
    for _ in range(max_tries):
        if len(out) == num_graphs:
            break
        n, edges = draw()
        if min_nodes <= n <= max_nodes:
            out.append(from_edge_array(n, edges))
    if len(out) < num_graphs:
        raise InvalidGraphError(
            f"found only {len(out)} of {num_graphs} {what} with {min_nodes}..{max_nodes} nodes "
            f"in {max_tries} draws; change the size range or the family's parameters"
        )
    return out


def erdos_renyi_graphs(num_graphs: int, *, seed: int = 0, num_nodes: int = 50, p: float = 0.1) -> list[Data]:
    """G(n, p) graphs: every pair of ``num_nodes`` nodes joined independently with probability ``p``."""
    _check_count(num_graphs)
    _check_range(num_nodes, num_nodes, "number of nodes")
    _check_prob(p, "p")
    rng = numpy_rng(seed)
    iu, ju = np.triu_indices(num_nodes, k=1)
    out = []
    for _ in range(num_graphs):
        keep = rng.random(iu.size) < p
        out.append(from_edge_array(num_nodes, np.stack([iu[keep], ju[keep]], 1)))
    return out


def barabasi_albert_graphs(num_graphs: int, *, seed: int = 0, num_nodes: int = 50, m: int = 3) -> list[Data]:
    """Preferential attachment: a star on ``m + 1`` nodes, then each new node joins ``m`` distinct
    existing nodes drawn with probability proportional to their degree (networkx's recipe)."""
    _check_count(num_graphs)
    if not 1 <= m < num_nodes:
        raise InvalidGraphError(f"Barabasi-Albert needs 1 <= m < num_nodes, got m={m}, num_nodes={num_nodes}")
    rng = numpy_rng(seed)
    out = []
    for _ in range(num_graphs):
        edges = [(0, v) for v in range(1, m + 1)]
        ends = [u for e in edges for u in e]  # node repeated once per incident edge
        for v in range(m + 1, num_nodes):
            targets: set[int] = set()
            while len(targets) < m:
                targets.add(ends[int(rng.integers(len(ends)))])
            for t in sorted(targets):
                edges.append((t, v))
                ends.extend((t, v))
        out.append(from_edge_array(num_nodes, np.array(edges, dtype=np.int64)))
    return out


GENERATORS: dict[str, Callable[..., list[Data]]] = {
    "community": community_graphs,
    "grid": grid_graphs,
    "planar": planar_graphs,
    "sbm": sbm_graphs,
    "large_sbm": large_sbm_graphs,
    "tree": tree_graphs,
    "lobster": lobster_graphs,
    "ego": ego_graphs,
    "erdos_renyi": erdos_renyi_graphs,
    "barabasi_albert": barabasi_albert_graphs,
}


def generate(family: str, num_graphs: int, *, seed: int = 0, **params) -> list[Data]:
    """Generate ``num_graphs`` graphs of ``family`` (one of :data:`GENERATORS`) with ``seed``."""
    key = family.strip().lower().replace("-", "_")
    if key not in GENERATORS:
        raise InvalidGraphError(f"unknown graph family {family!r}; choose one of {', '.join(GENERATORS)}")
    import inspect

    taken = [name for name in inspect.signature(GENERATORS[key]).parameters if name not in ("num_graphs", "seed")]
    unknown = [name for name in params if name not in taken]
    if unknown:
        raise InvalidGraphError(
            f"family {key} takes no {', '.join(unknown)}"
            + (f" (its parameters: {', '.join(taken)})" if taken else " (it has no parameters)")
        )
    try:
        return GENERATORS[key](num_graphs, seed=seed, **params)
    except TypeError as exc:
        raise InvalidGraphError(f"bad parameter for family {key}: {exc}") from None
