"""Where a strip-mixture model puts its strips on real communities, against the data's own blocks.

    python metrics/scripts/higen_strip_placement.py MODEL DATASET [--seeds 3] [--temperature 1]
        [--uniform-start] [--json OUT]

MODEL has strip-shaped leaf blocks (``cross_strips``). On the test graphs' real communities and
real coarse graphs (the model's hierarchy), the model's cross edges are drawn with every feasible
block forced to a strip (``higen_strip_components.forced``), seeds ``0..--seeds-1`` at
``--temperature``, and each block is compared with the data's block between the same two
communities. Reported over the blocks the data makes as strips (``higen_strip_blocks.is_strip``):

- ``exact``: the share of blocks drawn equal to the data's;
- ``edge_jaccard``: mean ``|Y ∩ Y*| / |Y ∪ Y*|`` of the drawn and the real edge sets;
- ``side_jaccard``: mean Jaccard of the contact sides (the nodes holding a cross edge), both
  communities' sides pooled;
- ``side_length_error``: mean ``|(|A| - |A*|)|`` over both sides (the strip's edge count is the
  data's, so ``|A| + |B| = |A*| + |B*|``: lengths can only trade between the sides);
- ``outside_real_sides``: the share of the drawn contact nodes that are not contact nodes of the
  data's block (a strip placed beside the real one);
- ``ends_real``: the share of drawn strips whose contact sides' end nodes are all ends of the real
  contact sides.

Also for the data (``data``): the border nodes (on their community's border cycle) that hold a
cross edge and those that do not, with their mean community (intra) degree.

``--uniform-start`` draws the start pair uniformly over each block's border pairs (the steps as the
model draws them): the chance level the model's start is measured against.
"""

from __future__ import annotations

import contextlib
import statistics

import networkx as nx
import torch
from _higen_diagnostic import command, cross_edge_comparison, emit, sample_cross_edges
from higen_strip_blocks import blocks_by_pair, is_strip, path_order
from higen_strip_components import forced


def _jaccard(x: set, y: set) -> float:
    return len(x & y) / max(len(x | y), 1)


def _blocks(community, cross) -> dict:
    return {key: set(edges) for key, edges in blocks_by_pair(community, cross).items()}


def _ends(graph: nx.Graph, edges: set) -> set[int]:
    """The nodes at both ends of each contact side of a strip ``edges``."""
    ends = set()
    for side in (0, 1):
        order = path_order(graph, {e[side] for e in edges})
        if order is not None:
            ends |= {order[0], order[-1]}
    return ends


def compare(graph: nx.Graph, community, real: list, drawn: list) -> dict:
    """Per-block comparison (module docstring) of ``drawn`` cross edges with the ``real`` ones, over
    the real blocks that are strips and have a drawn block between the same communities."""
    real_blocks, drawn_blocks = _blocks(community, real), _blocks(community, drawn)
    rows = []
    for key, truth in real_blocks.items():
        if key not in drawn_blocks or not is_strip(graph, sorted(truth))[0]:
            continue
        got = drawn_blocks[key]
        sides_true = [{e[s] for e in truth} for s in (0, 1)]
        sides_got = [{e[s] for e in got} for s in (0, 1)]
        contact = sides_got[0] | sides_got[1]
        true_ends = _ends(graph, truth)
        got_ends = _ends(graph, got) if is_strip(graph, sorted(got))[0] else set()
        rows.append(
            {
                "exact": float(got == truth),
                "edge_jaccard": _jaccard(got, truth),
                "side_jaccard": _jaccard(contact, sides_true[0] | sides_true[1]),
                "side_length_error": statistics.mean(abs(len(g) - len(t)) for g, t in zip(sides_got, sides_true)),
                "outside_real_sides": len(contact - (sides_true[0] | sides_true[1])) / max(len(contact), 1),
                "ends_real": float(bool(got_ends) and got_ends <= true_ends),
            }
        )
    return rows


@contextlib.contextmanager
def uniform_start(on: bool):
    """Within the block (when ``on``), every :class:`StripModel` scores all start pairs alike."""
    from graphgen.models.higen.strip_blocks import StripModel

    original = StripModel.start_logits
    if on:
        StripModel.start_logits = lambda self, theta, tables, block, a, c, direction: theta.new_zeros(a.shape)
    try:
        yield
    finally:
        StripModel.start_logits = original


def border_degrees(edge_index, community, real: list) -> dict:
    """Count and mean intra-community degree of the border nodes (on their community's border cycle)
    that hold one of the cross edges ``real`` (``contact``) and of those that hold none (``outer``);
    ``edge_index``: the intra-community edges, both directions."""
    from graphgen.models.higen.boundary_walk import border_cycles

    place, _ = border_cycles(edge_index, torch.as_tensor(community))
    degree = torch.bincount(edge_index[0], minlength=len(community)).tolist()
    touched = {v for edge in real for v in edge}
    groups = {"contact": [], "outer": []}
    for v in range(len(community)):
        if place[v] >= 0:
            groups["contact" if v in touched else "outer"].append(degree[v])
    return {
        k: {"nodes": len(d), "mean_intra_degree": round(statistics.mean(d), 3) if d else None}
        for k, d in groups.items()
    }


def main() -> None:
    args, model, test, h, communities, real = cross_edge_comparison(
        __doc__, lambda parser: parser.add_argument("--uniform-start", action="store_true")
    )
    if model.bipartite_nets[-1].strips is None:
        raise SystemExit(f"error: {args.model} has no strip-shaped leaf blocks (cross_strips)")
    community = h.assignments[-1].tolist()
    graph = nx.Graph()
    graph.add_nodes_from(range(communities.num_nodes))
    graph.add_edges_from(communities.edge_index.t().tolist())
    result = {"model": args.model, "dataset": f"{args.dataset}:test ({len(test)} graphs)"}
    result["temperature"] = args.temperature
    result["uniform_start"] = args.uniform_start
    result["data"] = border_degrees(communities.edge_index, community, real)
    for seed in range(args.seeds):
        with forced("strips"), uniform_start(args.uniform_start):
            rows, cols = sample_cross_edges(model, h, communities, seed, args.temperature)
        drawn = [(min(u, v), max(u, v)) for u, v in zip(rows.tolist(), cols.tolist())]
        per_block = compare(graph, community, real, drawn)
        result[f"seed_{seed}"] = {"strip_blocks": len(per_block)} | {
            k: round(statistics.mean(r[k] for r in per_block), 4) for k in per_block[0]
        }
        print(seed, result[f"seed_{seed}"], flush=True)
    result["command"] = command("higen_strip_placement.py", args)
    emit(result, args.json)


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
