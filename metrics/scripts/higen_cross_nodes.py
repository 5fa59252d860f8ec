"""Node by node, what HiGen's cross edges change when placed on the real communities.

    python metrics/scripts/higen_cross_nodes.py MODEL DATASET [--seeds 3] [--temperature 1] [--json OUT]

The test graphs' real coarse graphs and real leaf communities (the model's own hierarchy) get the
cross edges that MODEL samples (seeds ``0..--seeds-1``, at ``--temperature``; two-level models), so
every node can be compared with itself in the real graph -- the view that
``higen_coarse_split.py --oracle-seeds`` scores as ``cross_edges_on_real_communities``. Reported for
the real graphs (``data``) and each seed:

* ``cross_degree``: how many nodes hold 0, 1, 2, 3, >= 4 cross edges;
* ``degree_gap``: how many nodes have ``d(v) - T(v)`` <= -1, 0, 1, 2, >= 3 (degree minus triangles
  through the node in the whole graph; 0 is a closed wheel, 1 a border node of a triangulated disc);
* per seed, ``same_cross_degree``: the share of *border* nodes (a cross edge in the real graph or in
  the sample) whose cross degree is their real one; ``same_cross_neighbours``: the share whose set of
  cross neighbours is their real one; ``changed_clustering``: the share of all nodes whose
  clustering coefficient differs from their real one (what the clustering MMD reads).
"""

from __future__ import annotations

from collections import Counter

import networkx as nx
from _higen_diagnostic import command, cross_edge_comparison, emit, sample_cross_edges


def _graph(n: int, intra, cross) -> nx.Graph:
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(intra)
    g.add_edges_from(cross)
    return g


def node_profile(n: int, intra: list[tuple[int, int]], cross: list[tuple[int, int]]) -> dict:
    """Cross degrees and degree gaps of the graph of ``n`` nodes with edges ``intra`` + ``cross``."""
    g = _graph(n, intra, cross)
    neighbours = {v: set() for v in range(n)}
    for a, b in cross:
        neighbours[a].add(b)
        neighbours[b].add(a)
    triangles = nx.triangles(g)
    return {
        "cross_degree": Counter(min(len(neighbours[v]), 4) for v in range(n)),
        "degree_gap": Counter(min(max(g.degree(v) - triangles[v], -1), 3) for v in range(n)),
        "neighbours": neighbours,
        "clustering": nx.clustering(g),
    }


def compare(real: dict, sampled: dict) -> dict:
    """``same_cross_degree``, ``same_cross_neighbours`` and ``changed_clustering`` (module docstring)."""
    nodes = list(real["neighbours"])
    border = [v for v in nodes if real["neighbours"][v] or sampled["neighbours"][v]]
    same_degree = sum(len(real["neighbours"][v]) == len(sampled["neighbours"][v]) for v in border)
    same_set = sum(real["neighbours"][v] == sampled["neighbours"][v] for v in border)
    changed = sum(abs(real["clustering"][v] - sampled["clustering"][v]) > 1e-12 for v in nodes)
    return {
        "border_nodes": len(border),
        "same_cross_degree": round(same_degree / max(len(border), 1), 4),
        "same_cross_neighbours": round(same_set / max(len(border), 1), 4),
        "changed_clustering": round(changed / max(len(nodes), 1), 4),
    }


def _counts(profile: dict) -> dict:
    labels = {"cross_degree": {4: ">= 4"}, "degree_gap": {-1: "<= -1", 3: ">= 3"}}
    return {k: {labels[k].get(b, str(b)): c for b, c in sorted(profile[k].items())} for k in labels}


def main() -> None:
    args, model, test, h, communities, real_cross = cross_edge_comparison(__doc__)
    n = int(h.levels[2].num_nodes)
    intra = [(a, b) for a, b in communities.edge_index.t().tolist() if a < b]
    real = node_profile(n, intra, real_cross)
    result = {
        "model": args.model,
        "dataset": f"{args.dataset}:test ({len(test)} graphs, {n} nodes)",
        "temperature": args.temperature,
        "data": _counts(real),
    }
    for seed in range(args.seeds):
        rows, cols = sample_cross_edges(model, h, communities, seed, args.temperature)
        sampled = node_profile(n, intra, list(zip(rows.tolist(), cols.tolist())))
        result[f"seed_{seed}"] = {**_counts(sampled), **compare(real, sampled)}
        print(seed, result[f"seed_{seed}"], flush=True)
    result["command"] = command("higen_cross_nodes.py", args)
    emit(result, args.json)


if __name__ == "__main__":
    main()
