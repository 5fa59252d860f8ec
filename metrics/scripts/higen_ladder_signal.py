"""Whether HiGen's coordinated cross edges have something to go on, and whether their samples zip strips.

    python metrics/scripts/higen_ladder_signal.py MODEL DATASET [--samples 64] [--json OUT]

* ``signal_in_data``: the true leaf blocks of the first ``--samples`` training graphs (the model's
  hierarchy settings, Louvain seeds 0 and 1), each block's edges in the coordinated model's placement
  order (row-major in the model's pair order, ``cross_order``, :mod:`graphgen.models.higen.block_sequence`;
  with ``cross_both_directions`` the forward direction).
  For every edge, the coordination features at its step: the share of edges that are a block's first
  (nothing placed yet), of later edges with ``t_1 = t_2 = 0`` (no placed edge shares an endpoint's
  community neighbourhood: no signal for the model without the ladder feature) and with
  ``t_1 = t_2 = t_3 = 0`` (no signal with it).
* ``contact_connected`` / ``contact_path`` (in ``cross_edge_triangles``, data and samples): over the
  sides of the blocks (the nodes of ``C_i`` that a block's edges touch, and those of ``C_j``), the
  share whose contact nodes induce a connected subgraph, and a path, of their community.
* ``signal_in_data_by_order``: the same shares in each pair order (``generation``, ``boundary``), with
  the right community's places as is (``forward``), reversed, and per block the better of the two
  (fewer later edges with ``t_1 = t_2 = 0``): whether a strip's direction hides the signal.
* ``cross_edge_triangles`` (two-level models): on the test graphs' real coarse graphs and real
  communities, the share of cross edges that lie on at least one and at least two triangles of the
  whole graph, real against the model's cross edges (seeds 0-2). In a zipped strip between two
  communities every cross edge but the strip's ends lies on two triangles. Also the
  ``placement_signal`` shares (as above) of the real and of the sampled cross edges of these blocks:
  how many of the model's own edges land where no placed edge is next to them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np
import torch
from _higen_diagnostic import model_split, parse, real_communities, report, sample_cross_edges

from graphgen.models.higen import HiGen
from graphgen.models.higen.bipartite_net import block_pairs
from graphgen.models.higen.block_sequence import (
    block_groups,
    block_targets,
    coordination_features,
    padded_blocks,
    reverse_right,
    take_columns,
)
from graphgen.models.higen.boundary_walk import CROSS_ORDERS, community_positions
from graphgen.models.higen.model import _without_isolated_nodes


def block_signal(h, pairs, order: str = "generation", reverse: bool = False) -> torch.Tensor:
    """Per leaf block of ``pairs`` (a ``BlockPairs`` layout of ``h``'s leaf level, its ``pair_target``
    the edges to count), ``(B, 4)``: its edges, whether it has a first edge, its later edges with
    ``t_1 = t_2 = 0`` and with ``t_1 = t_2 = t_3 = 0`` at their step of the placement order: the
    communities' ``order`` (:mod:`graphgen.models.higen.boundary_walk`), with the right community's
    places reversed when ``reverse`` (``block_sequence``, "Both directions")."""
    level, parent = h.levels[-1], h.assignments[-1]
    zeros = torch.zeros(pairs.pair_block.numel(), dtype=torch.float64)
    position = community_positions(level.edge_index, parent, order)
    out = torch.zeros(int(pairs.block_weight.numel()), 4, dtype=torch.long)
    for members, keep, sub in block_groups(pairs):
        blocks = padded_blocks(zeros[keep], sub, level.edge_index, parent, position)
        targets = block_targets(blocks, sub)
        blocks, index = reverse_right(blocks, torch.full((blocks.shape[0],), reverse))
        targets = take_columns(targets, index)
        b, size_i, size_j = targets.shape
        rows = members.nonzero().flatten()
        for k in range(b):
            sequence = targets[k].reshape(-1).nonzero().flatten()
            if sequence.numel() == 0:
                continue
            steps = torch.zeros(sequence.numel(), size_i * size_j, dtype=torch.float64)
            steps[torch.arange(1, sequence.numel()), sequence[:-1]] = 1.0
            placed = torch.cumsum(steps, 0).view(-1, 1, size_i, size_j)  # P_{<k} at each step
            feats = coordination_features(
                placed, blocks.left_adjacency[k : k + 1], blocks.right_adjacency[k : k + 1], ladder=True
            )[:, 0].reshape(sequence.numel(), size_i * size_j, -1)
            later = feats[torch.arange(sequence.numel()), sequence][1:]  # (steps - 1, 5)
            shared = (later[:, 0] == 0) & (later[:, 1] == 0)
            out[rows[k]] = torch.tensor(
                [sequence.numel(), 1, int(shared.sum()), int((shared & (later[:, 4] == 0)).sum())]
            )
    return out


def signal_counts(h, pairs, order: str = "generation") -> Counter:
    """:func:`block_signal` summed over the blocks: counts ``edges``, ``first``, ``without_t1_t2``,
    ``without_t1_t2_t3``."""
    total = block_signal(h, pairs, order).sum(0).tolist()
    return Counter(dict(zip(("edges", "first", "without_t1_t2", "without_t1_t2_t3"), total)))


def signal_by_order(model: HiGen, graphs, seeds=(0, 1)) -> dict:
    """The placement-signal shares of the true cross edges of ``graphs`` (Louvain seeds ``seeds``) in
    each pair order, with the right community as is (``forward``), reversed, and, per block, the
    direction with fewer later edges without ``t_1``/``t_2`` signal (``better_of_the_two``: what a
    model that knew each strip's direction would see; the direction mixture can learn towards it)."""
    out = {}
    for order in CROSS_ORDERS:
        runs = {"forward": [], "reversed": []}
        for seed in seeds:
            h = model._hierarchy(graphs, seed)
            pairs = block_pairs(h, len(h.levels) - 1)
            runs["forward"].append(block_signal(h, pairs, order))
            runs["reversed"].append(block_signal(h, pairs, order, reverse=True))
        forward, backward = torch.cat(runs["forward"]), torch.cat(runs["reversed"])
        better = torch.where((backward[:, 2] < forward[:, 2]).unsqueeze(1), backward, forward)
        out[order] = {
            name: _shares(
                Counter(dict(zip(("edges", "first", "without_t1_t2", "without_t1_t2_t3"), t.sum(0).tolist())))
            )
            for name, t in (("forward", forward), ("reversed", backward), ("better_of_the_two", better))
        }
    return out


def _shares(counts: Counter) -> dict:
    edges = max(counts["edges"], 1)
    return {
        "cross_edges": counts["edges"],
        "first_of_block": round(counts["first"] / edges, 4),
        "later_without_t1_t2": round(counts["without_t1_t2"] / edges, 4),
        "later_without_t1_t2_t3": round(counts["without_t1_t2_t3"] / edges, 4),
    }


def placement_signal(model: HiGen, graphs, seeds=(0, 1)) -> dict:
    """:func:`signal_counts` of the true leaf cross edges of ``graphs`` under the model's hierarchy
    settings, Louvain seeds ``seeds``, as shares of the edges."""
    total = Counter()
    for seed in seeds:
        h = model._hierarchy(graphs, seed)
        total.update(signal_counts(h, block_pairs(h, len(h.levels) - 1), model.config.cross_order))
    return {"graphs": len(graphs), "louvain_seeds": list(seeds), **_shares(total)}


def sampled_pairs(pairs, rows: torch.Tensor, cols: torch.Tensor):
    """``pairs`` with ``pair_target`` set to the sampled cross edges ``(rows, cols)`` (either orientation)."""
    n = int(max(pairs.pair_left.max(), pairs.pair_right.max(), rows.max(), cols.max())) + 1
    keys = torch.cat([rows * n + cols, cols * n + rows])
    hit = torch.isin(pairs.pair_left * n + pairs.pair_right, keys)
    return replace(pairs, pair_target=hit.long())


def triangle_shares(num_nodes: int, intra: torch.Tensor, cross: torch.Tensor) -> dict:
    """Shares of the ``cross`` edges ``(2, C)`` on at least one / two triangles of the graph made of
    ``intra`` ``(2, E)`` (both directions) and ``cross`` (one direction)."""
    adjacency = torch.zeros(num_nodes, num_nodes, dtype=torch.float64)
    adjacency[intra[0], intra[1]] = 1.0
    adjacency[cross[0], cross[1]] = adjacency[cross[1], cross[0]] = 1.0
    common = (adjacency[cross[0]] * adjacency[cross[1]]).sum(1)  # triangles through each cross edge
    count = max(int(cross.shape[1]), 1)
    return {
        "cross_edges": int(cross.shape[1]),
        "on_a_triangle": round(float((common >= 1).sum()) / count, 4),
        "on_two_triangles": round(float((common >= 2).sum()) / count, 4),
    }


def contact_runs(num_nodes: int, intra: torch.Tensor, cross: torch.Tensor, parent: torch.Tensor) -> dict:
    """Over the block sides of the ``cross`` edges ``(2, C)`` (each block ``(i, j)`` has two sides: the
    nodes of ``C_i`` and of ``C_j`` that its edges touch), the shares whose contact nodes induce a
    connected subgraph and a path in their community (``intra``, both directions)."""
    import networkx as nx

    g = nx.Graph()
    g.add_nodes_from(range(num_nodes))
    g.add_edges_from(intra.t().tolist())
    sides: dict[tuple[int, int], set[int]] = {}
    for a, b in cross.t().tolist():
        i, j = int(parent[a]), int(parent[b])
        sides.setdefault((i, j), set()).add(a)
        sides.setdefault((j, i), set()).add(b)
    connected = path = 0
    for nodes in sides.values():
        sub = g.subgraph(nodes)
        if nx.is_connected(sub):
            connected += 1
            path += sub.number_of_edges() == len(nodes) - 1 and max(d for _, d in sub.degree()) <= 2
    count = max(len(sides), 1)
    return {
        "block_sides": len(sides),
        "contact_connected": round(connected / count, 4),
        "contact_path": round(path / count, 4),
    }


def cross_edge_triangles(model: HiGen, test, seeds=(0, 1, 2)) -> dict:
    h, communities = real_communities(model, test)
    leaf, parent = h.levels[-1], h.assignments[-1]
    n = int(leaf.num_nodes)
    across = (parent[leaf.edge_index[0]] != parent[leaf.edge_index[1]]) & (leaf.edge_index[0] < leaf.edge_index[1])
    pairs = block_pairs(h, len(h.levels) - 1)
    out = {
        "data": {
            **triangle_shares(n, communities.edge_index, leaf.edge_index[:, across]),
            "placement_signal": _shares(signal_counts(h, pairs, model.config.cross_order)),
            **contact_runs(n, communities.edge_index, leaf.edge_index[:, across], parent),
        }
    }
    runs, signal = [], Counter()
    for seed in seeds:
        rows, cols = sample_cross_edges(model, h, communities, seed)
        cross = torch.stack([rows, cols])
        runs.append(
            {
                **triangle_shares(n, communities.edge_index, cross),
                **contact_runs(n, communities.edge_index, cross, parent),
            }
        )
        signal.update(signal_counts(h, sampled_pairs(pairs, rows, cols), model.config.cross_order))
    keys = ("on_a_triangle", "on_two_triangles", "contact_connected", "contact_path")
    out[f"sampled_seeds_{seeds[0]}_{seeds[-1]}"] = {
        **{key: round(float(np.mean([r[key] for r in runs])), 4) for key in keys},
        "placement_signal": _shares(signal),
    }
    return out


def main() -> None:
    args = parse(__doc__, 64)
    torch.set_num_threads(1)
    model = HiGen.from_pretrained(args.model).eval()
    train = [_without_isolated_nodes(g) for g in model_split(args.model, args.dataset, "train")[: args.samples]]
    test = [_without_isolated_nodes(g) for g in model_split(args.model, args.dataset, "test")]
    result = {
        "model": args.model,
        "dataset": args.dataset,
        "signal_in_data": placement_signal(model, train),
        "signal_in_data_by_order": signal_by_order(model, train),
    }
    if model.config.num_levels == 2:
        result["cross_edge_triangles"] = cross_edge_triangles(model, test)
    report(result, args, "higen_ladder_signal.py")


if __name__ == "__main__":
    main()
