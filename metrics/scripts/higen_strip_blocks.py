"""How many leaf blocks are zipped strips: the support a strip-shaped cross-edge model would cover.

    python metrics/scripts/higen_strip_blocks.py MODEL DATASET [--seeds 3] [--temperature 1] [--json OUT]

A leaf block is the set of cross edges between two communities ``A`` and ``B``. Its *contact sides*
are the nodes of ``A`` and of ``B`` that hold one of them. The block is a **strip** when each
contact side induces a path of its own community (a single node counts) and, with each side
numbered along its path (``A`` from either end, ``B`` in either direction), the edges sorted by
``(position in A, position in B)`` form a staircase from ``(0, 0)`` to ``(|A| - 1, |B| - 1)`` in
which every step advances exactly one side by one: the triangulated band between two borders,
``|A| + |B| - 1`` edges, each consecutive pair closing a triangle with a border edge. Such a block
is fixed by its two contact runs and a sequence of ``A``-or-``B`` steps.

Reported for the model's hierarchy of the test graphs (``data``), and for the cross edges the model
samples on those real communities and coarse graphs (seeds ``0..--seeds-1``, at ``--temperature``;
two-level models): the blocks, the share that are strips, the share of the cross edges that lie in
strips, and the share of blocks whose two contact sides are paths; for the data also the share of
blocks that are strips along runs of the border cycles (``border_cycle_strips``: the support of the
strip model, :mod:`graphgen.models.higen.strip_blocks`) and the share it can place at all
(``feasible_for_strips``).
"""

from __future__ import annotations

from collections import defaultdict

import networkx as nx
from _higen_diagnostic import command, cross_edge_comparison, emit, sample_cross_edges


def path_order(graph: nx.Graph, nodes: set[int]) -> list[int] | None:
    """``nodes`` in order along the path they induce in ``graph``, or ``None`` if they induce none."""
    sub = graph.subgraph(nodes)
    if len(nodes) == 1:
        return list(nodes)
    if not nx.is_connected(sub) or sub.number_of_edges() != len(nodes) - 1 or max(d for _, d in sub.degree()) > 2:
        return None
    start = min(v for v, d in sub.degree() if d == 1)
    return list(nx.dfs_preorder_nodes(sub, start))


def is_strip(graph: nx.Graph, edges: list[tuple[int, int]]) -> tuple[bool, bool]:
    """``(strip, both sides paths)`` for a block's cross edges ``(a, b)`` (``a`` in ``A``, ``b`` in ``B``)
    over ``graph``, the intra-community edges of both communities."""
    order_a = path_order(graph, {a for a, _ in edges})
    order_b = path_order(graph, {b for _, b in edges})
    if order_a is None or order_b is None:
        return False, False
    for a_side in (order_a, order_a[::-1]):
        for b_side in (order_b, order_b[::-1]):
            pa, pb = {v: i for i, v in enumerate(a_side)}, {v: i for i, v in enumerate(b_side)}
            steps = sorted((pa[a], pb[b]) for a, b in edges)
            ends = steps[0] == (0, 0) and steps[-1] == (len(a_side) - 1, len(b_side) - 1)
            if ends and all((x1 - x0) + (y1 - y0) == 1 for (x0, y0), (x1, y1) in zip(steps, steps[1:])):
                return True, True
    return False, True


def blocks_by_pair(community: list[int], cross: list[tuple[int, int]]) -> dict:
    """The cross edges ``cross`` grouped by block: ``{(A, B): [(a, b), ...]}`` with ``A < B`` the two
    communities (``community[v]``) and each edge written ``a`` in ``A``, ``b`` in ``B``."""
    blocks = defaultdict(list)
    for u, v in cross:
        a, b = (u, v) if community[u] < community[v] else (v, u)
        blocks[(community[a], community[b])].append((a, b))
    return blocks


def strip_shares(graph: nx.Graph, community: list[int], cross: list[tuple[int, int]]) -> dict:
    """Block counts and strip shares (module docstring) of the cross edges ``cross`` between the
    communities (``community[v]``) of ``graph``'s intra-community edges."""
    blocks = blocks_by_pair(community, cross)
    strips = paths = strip_edges = 0
    for edges in blocks.values():
        strip, both_paths = is_strip(graph, edges)
        strips += strip
        paths += both_paths
        strip_edges += len(edges) if strip else 0
    n = max(len(blocks), 1)
    return {
        "blocks": len(blocks),
        "strips": round(strips / n, 4),
        "cross_edges_in_strips": round(strip_edges / max(len(cross), 1), 4),
        "contact_sides_paths": round(paths / n, 4),
    }


def border_cycle_strips(h) -> dict:
    """The support of the strip model (:mod:`graphgen.models.higen.strip_blocks`) on the real leaf
    blocks of ``h``: the share of blocks that are strips along runs of their communities' border
    cycles (at least one representation), and the share of blocks that are feasible."""
    from graphgen.models.higen.bipartite_net import block_pairs
    from graphgen.models.higen.strip_blocks import strip_representations, strip_tables

    pairs = block_pairs(h, 2)
    tables = strip_tables(pairs, h.levels[2].edge_index, h.assignments[1])
    n = max(int(tables.weight.numel()), 1)
    return {
        "border_cycle_strips": round(int(strip_representations(pairs, tables).block.unique().numel()) / n, 4),
        "feasible_for_strips": round(int(tables.feasible.sum()) / n, 4),
    }


def main() -> None:
    args, model, test, h, communities, real_cross = cross_edge_comparison(__doc__)
    graph = nx.Graph()
    graph.add_nodes_from(range(int(h.levels[2].num_nodes)))
    graph.add_edges_from(communities.edge_index.t().tolist())
    community = h.assignments[1].tolist()
    result = {
        "model": args.model,
        "dataset": f"{args.dataset}:test ({len(test)} graphs)",
        "temperature": args.temperature,
        "data": strip_shares(graph, community, real_cross) | border_cycle_strips(h),
    }
    print("data", result["data"], flush=True)
    for seed in range(args.seeds):
        rows, cols = sample_cross_edges(model, h, communities, seed, args.temperature)
        result[f"seed_{seed}"] = strip_shares(graph, community, list(zip(rows.tolist(), cols.tolist())))
        print(seed, result[f"seed_{seed}"], flush=True)
    result["command"] = command("higen_strip_blocks.py", args)
    emit(result, args.json)


if __name__ == "__main__":
    main()
