"""Border structure of a two-level model's samples against the data: where the triangulation opens.

    python metrics/scripts/higen_border_structure.py MODEL DATASET [--seeds 1] [--temperature 1]
        [--run-rows | --face-rows [--planar-strips]] [--json OUT]

Counted over the test graphs (the model's hierarchy of them) and over the model's samples (as many
as the test split holds, sampling seeds ``0..--seeds-1``, at ``--temperature``; ``--run-rows``,
``--face-rows``, ``--planar-strips``: under those decodings of ``HiGen.sample``), with each
community's border cycle from :func:`~graphgen.models.higen.boundary_walk.border_cycles`:

- ``communities``, ``nodes``, ``intra_edges``, ``cross_edges``, ``nonplanar_communities``;
- ``border_nodes``: the summed border-cycle lengths, and ``border_nodes_if_discs``:
  ``Σ_c (3 n_c - 3 - E_c)``, the border length each community would have as a triangulated disc with
  its node and edge counts (Euler), so the difference measures border beyond the communities' sizes;
- ``nodes_by_kind``: every node by where it sits -- ``inner`` (off its community's border cycle),
  ``border_cross`` (on it, holding a cross edge) or ``border_only`` -- and by ``d - T`` (degree minus
  triangles through the node in the whole graph): ``closed`` (0, a wheel), ``open`` (>= 1, a gap in
  its link), ``over`` (<= -1, more triangles than neighbours);
- ``neighbour_pairs``: for every community ``A`` and every two communities ``B``, ``C`` that it has
  cross edges to, how many nodes of ``A`` have cross edges to both (``shared_0`` .. ``shared_3``, 3
  standing for 3 or more), keyed by whether ``B`` and ``C`` have cross edges to each other
  (``adjacent`` / ``apart``): where the strips of one community meet;
- per sampling seed, ``sample_report``: the sampler's ``last_sample_report`` (overfull blocks, face
  rows' lost embeddings, planar strips' conflicts left).
"""

from __future__ import annotations

from collections import Counter

import networkx as nx
import torch
from _higen_diagnostic import command, decoded_test_run, emit, model_parser, planar_communities, real_communities

COUNTS = ("communities", "nodes", "intra_edges", "cross_edges", "nonplanar_communities")


def border_structure(edge_index, community) -> dict:
    """The counts of the module docstring for one graph, or for several numbered apart (every count
    adds up over graphs): ``edge_index`` both directions, ``community`` each node's community."""
    from graphgen.models.higen.boundary_walk import border_cycles

    community = torch.as_tensor(community)
    n = community.numel()
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(edge_index.t().tolist())
    inside = community[edge_index[0]] == community[edge_index[1]]
    place, length = border_cycles(edge_index[:, inside], community)
    sizes = torch.bincount(community)
    intra = torch.bincount(community[edge_index[0, inside]], minlength=sizes.numel()) // 2
    present = sizes > 0
    planar, total = planar_communities(edge_index, community)
    triangles = nx.triangles(graph)
    kinds = Counter()
    for v in range(n):
        cross = any(community[u] != community[v] for u in graph[v])
        where = "inner" if place[v] < 0 else ("border_cross" if cross else "border_only")
        gap = graph.degree(v) - triangles[v]
        kinds[f"{where}:{'closed' if gap == 0 else ('open' if gap > 0 else 'over')}"] += 1
    pairs = Counter()
    contact: dict[tuple[int, int], set[int]] = {}
    com = community.tolist()
    for u, v in graph.edges:
        if com[u] != com[v]:
            contact.setdefault((com[u], com[v]), set()).add(u)
            contact.setdefault((com[v], com[u]), set()).add(v)
    for a in sorted(set(com)):
        others = sorted(b for x, b in contact if x == a)
        for k, b in enumerate(others):
            for c in others[k + 1 :]:
                shared = min(len(contact[(a, b)] & contact[(a, c)]), 3)
                pairs[f"{'adjacent' if (b, c) in contact else 'apart'}:shared_{shared}"] += 1
    return {
        "communities": int(present.sum()),
        "nodes": n,
        "intra_edges": int(inside.sum()) // 2,
        "cross_edges": int((~inside).sum()) // 2,
        "nonplanar_communities": total - planar,
        "border_nodes": int(length.sum()),
        "border_nodes_if_discs": int((3 * sizes - 3 - intra)[present].sum()),
        "nodes_by_kind": dict(sorted(kinds.items())),
        "neighbour_pairs": dict(sorted(pairs.items())),
    }


TALLIES = ("nodes_by_kind", "neighbour_pairs")


def _add(total: dict, part: dict) -> dict:
    out = {k: total.get(k, 0) + v for k, v in part.items() if k not in TALLIES}
    for key in TALLIES:
        out[key] = dict(sorted((Counter(total.get(key, {})) + Counter(part[key])).items()))
    return out


def main() -> None:
    parser = model_parser(__doc__)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--temperature", type=float, default=1.0)
    args, decoding, model, test, result = decoded_test_run(parser)
    result["temperature"] = args.temperature
    h, _ = real_communities(model, test)
    result["data"] = border_structure(h.levels[-1].edge_index, h.assignments[-1])
    print("data", result["data"], flush=True)
    for seed in range(args.seeds):
        total: dict = {}
        generator = torch.Generator().manual_seed(seed)
        drawn = model.sample(len(test), generator=generator, temperature=args.temperature, **decoding)
        for g in drawn:
            total = _add(total, border_structure(g.edge_index, g.community))
        result[f"seed_{seed}"] = {**total, "sample_report": dict(model.last_sample_report)}
        print(seed, total, flush=True)
    result["command"] = command("higen_border_structure.py", args)
    emit(result, args.json)


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
