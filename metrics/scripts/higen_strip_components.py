"""A strip-mixture model's samples with each leaf block forced to one component: which one costs what.

    python metrics/scripts/higen_strip_components.py MODEL DATASET [--seeds 3] [--temperature 0.7]
        [--samples-dir DIR] [--json OUT]

MODEL has strip-shaped leaf blocks (``cross_strips``, :mod:`graphgen.models.higen.strip_blocks`):
each feasible block draws a zipped strip with probability ``π_b``, else the coordinated fallback.
Here whole samples (as many as the test split holds, sampling seeds ``0..--seeds-1``, at
``--temperature``) are drawn three ways -- ``mixture`` (the model as it is), ``strips`` (``π_b = 1``
on every feasible block) and ``fallback`` (``π_b = 0``) -- and scored against the test split under
the ``gran`` protocol (mean MMDs per way, and per seed). Everything else in the sampler is the same,
so the differences are the components'. Also counted, for the test graphs (their model hierarchy)
and each way's samples: **broken fans** -- a node's cross neighbours in one other community (two
or more) that do not induce a connected subgraph of it (in a zipped strip they are a path) -- and
**border jumps**, consecutive places of a community's border cycle
(:func:`~graphgen.models.higen.boundary_walk.border_cycles`) that are not joined by an edge (a strip
stepping across one leaves a fan broken). ``--samples-dir`` also writes seed 0's samples of each way
as ``DIR/{way}_seed0.g6`` (for ``orbit_profile.py``).
"""

from __future__ import annotations

import contextlib
import statistics
from pathlib import Path

import torch
from _higen_diagnostic import command, emit, model_parser, model_split, two_level_model

WAYS = ("mixture", "strips", "fallback")
KEYS = ("degree_mmd", "clustering_mmd", "orbit_mmd", "spectral_mmd")


@contextlib.contextmanager
def forced(way: str):
    """Within the block, every :class:`StripModel` puts feasible blocks in the component ``way``."""
    from graphgen.models.higen.strip_blocks import StripModel

    original = StripModel.mix_logits
    if way != "mixture":
        sign = 1.0 if way == "strips" else -1.0
        StripModel.mix_logits = lambda self, tables: torch.full(tables.weight.shape, sign * 1e4)
    try:
        yield
    finally:
        StripModel.mix_logits = original


def fans_and_jumps(edge_index, community) -> dict:
    """``{"fans", "broken_fans", "cycle_steps", "border_jumps"}`` of one graph (or a batch of graphs
    numbered apart): ``edge_index`` both directions, ``community`` each node's community."""
    import networkx as nx

    from graphgen.models.higen.boundary_walk import border_cycles

    graph = nx.Graph()
    graph.add_edges_from(edge_index.t().tolist())
    fans = broken = 0
    for v in graph:
        groups: dict[int, list[int]] = {}
        for u in graph[v]:
            if community[u] != community[v]:
                groups.setdefault(int(community[u]), []).append(u)
        for members in groups.values():
            if len(members) >= 2:
                fans += 1
                broken += not nx.is_connected(graph.subgraph(members))
    inside = community[edge_index[0]] == community[edge_index[1]]
    place, length = border_cycles(edge_index[:, inside], community)
    at = {(int(community[v]), int(place[v])): v for v in range(place.numel()) if place[v] >= 0}
    steps = jumps = 0
    for (c, p), v in at.items():
        if int(length[c]) >= 2:
            steps += 1
            jumps += not graph.has_edge(v, at[(c, (p + 1) % int(length[c]))])
    return {"fans": fans, "broken_fans": broken, "cycle_steps": steps, "border_jumps": jumps}


def _add(total: dict, part: dict) -> dict:
    return {k: total.get(k, 0) + v for k, v in part.items()}


def _shares(counts: dict) -> dict:
    return counts | {
        "broken_fan_share": round(counts["broken_fans"] / max(counts["fans"], 1), 4),
        "border_jump_share": round(counts["border_jumps"] / max(counts["cycle_steps"], 1), 4),
    }


def main() -> None:
    from graphgen.io import write_graphs
    from graphgen.metrics import evaluate

    parser = model_parser(__doc__)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--samples-dir", type=Path, default=None)
    args = parser.parse_args()
    model = two_level_model(args.model)
    if model.bipartite_nets[-1].strips is None:
        raise SystemExit(f"error: {args.model} has no strip-shaped leaf blocks (cross_strips)")
    test = model_split(args.model, args.dataset, "test")
    result = {"model": args.model, "dataset": f"{args.dataset}:test ({len(test)} graphs)"}
    result["temperature"] = args.temperature
    from _higen_diagnostic import real_communities

    h, _ = real_communities(model, test)
    result["data"] = _shares(fans_and_jumps(h.levels[-1].edge_index, h.assignments[-1]))
    print("data", result["data"], flush=True)
    for way in WAYS:
        runs, counts = [], {}
        with forced(way):
            for seed in range(args.seeds):
                drawn = model.sample(
                    len(test), generator=torch.Generator().manual_seed(seed), temperature=args.temperature
                )
                if seed == 0 and args.samples_dir is not None:
                    args.samples_dir.mkdir(parents=True, exist_ok=True)
                    write_graphs(drawn, args.samples_dir / f"{way}_seed0.g6", "graph6")
                r = evaluate(test, drawn, "gran")
                runs.append({k: r[k] for k in KEYS})
                for g in drawn:
                    counts = _add(counts, fans_and_jumps(g.edge_index, g.community))
        result[way] = {"per_seed": runs, "mean": {k: statistics.mean(r[k] for r in runs) for k in KEYS}}
        result[way]["structure"] = _shares(counts)
        print(way, {k: round(v, 4) for k, v in result[way]["mean"].items()}, result[way]["structure"], flush=True)
    result["command"] = command("higen_strip_components.py", args)
    emit(result, args.json)


if __name__ == "__main__":
    main()
