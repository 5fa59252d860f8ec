"""The global shape of a two-level model's graphs, read from their lowest Laplacian modes: data vs parts of the model.

    python metrics/scripts/higen_global_shape.py MODEL DATASET [--seeds 2] [--temperature 0.7]
        [--run-rows | --face-rows [--planar-strips]] [--json OUT]

Planar's graphs are Delaunay triangulations of points in a square: their two lowest non-zero modes
of the normalised Laplacian (``λ_1 <= λ_2``, the 2nd and 3rd smallest eigenvalues) are the square's
two axes, nearly equal. A graph stretched along one axis has a lower ``λ_1`` and a higher ``λ_2``; edges
that join distant parts of the square raise both. The gran protocol's spectral MMD compares histograms
of all eigenvalues, and these modes are where the samples and the data differ most at the low end.

``shape`` of a set of graphs (per graph, then mean, standard deviation and for the ratio the median):
``lambda_1``, ``lambda_2``, ``ratio`` (``λ_2 / λ_1``), ``diameter`` and ``mean_distance`` (mean
shortest-path length), over connected graphs (``disconnected`` counts the others), and ``planar`` (the
share of all graphs) and ``inner_faces``: per planar graph, the faces of more than three places other
than its longest (taken as the outer face; networkx's embedding), which a triangulated disc has none of
-- with communities known (samples) split into ``inside`` one community and ``spanning`` several.
Views:

- ``data``: the training, validation and test splits (the graphs as given);
- ``samples``: the model's samples, as many as the test split per sampling seed ``0..--seeds-1`` at
  ``--temperature`` under the decoding flags;
- ``cross_edges_on_real_communities``: the training graphs with their real leaf communities and coarse
  graphs (the model's Louvain hierarchy) and the model's cross edges in place of the real ones
  (``_higen_diagnostic.real_communities_with_sampled_cross_edges``, each seed, at ``--temperature``;
  no decoding: the real communities have no drawn faces), and ``real_distance``: the share of those
  cross edges by the shortest-path distance of their two ends in the real graph (1: a real cross
  edge's place; ``5+`` pooled), ``cross_degree``: the share of the nodes with cross edges by their
  number (``4+`` pooled), beside ``real_cross_degree`` of the real cross edges, and
  ``planar_two_communities``: ``shape`` of the planar graphs with two communities only (a single
  untwisted strip between two real discs), beside ``real_two_communities``;
- ``leaf_level_on_real_coarse_graphs``: the training graphs' real coarse graphs with the model's
  whole leaf level, communities and cross edges (``_higen_diagnostic.sample_leaf_level``).

With ``--slides K ...`` also ``real_cross_edges_slid``: the training graphs themselves with every block's real
cross edges moved ``K`` places along the border cycle of one of its two communities (the later one;
``boundary_walk.border_cycles``, a random direction per block, seeded), the strips' shape and the other side
kept: a placement error of ``K`` border nodes and nothing else (a rigid slide keeps a strip untwisted). How
precisely a strip must land for the data's shape.

What each part of the model adds to the distance from the data's shape: the communities as given
and only the cross edges drawn, then the communities drawn too, then the coarse level as well.
"""

from __future__ import annotations

import statistics
from collections import Counter

import networkx as nx
import numpy as np
import torch
from _higen_diagnostic import (
    command,
    decoded_test_run,
    emit,
    model_parser,
    model_split,
    real_communities,
    real_communities_with_sampled_cross_edges,
    sample_leaf_level,
)

from graphgen.data.convert import to_networkx
from graphgen.data.hierarchy import batch_from_edges
from graphgen.models.higen.boundary_walk import border_cycles

DISTANCES = ("1", "2", "3", "4", "5+")
CROSS_DEGREES = ("1", "2", "3", "4+")


def inner_faces(g: nx.Graph, community: list[int] | None = None) -> Counter | None:
    """The faces of more than three places of a planar ``g`` other than its longest, counted as
    ``all`` and, with ``community``, as ``inside`` one community or ``spanning`` several; ``None`` when
    ``g`` is not planar."""
    planar, embedding = nx.check_planarity(g)
    if not planar:
        return None
    seen, faces = set(), []
    for u, v in embedding.edges():
        if (u, v) not in seen:
            faces.append(embedding.traverse_face(u, v, mark_half_edges=seen))
    faces.sort(key=len)
    out = Counter()
    for face in faces[:-1]:
        if len(face) > 3:
            out["all"] += 1
            if community is not None:
                out["inside" if len({community[u] for u in face}) == 1 else "spanning"] += 1
    return out


def shape(graphs: list[nx.Graph], communities: list[list[int]] | None = None) -> dict:
    """The shape statistics of the module docstring over ``graphs`` (``communities``: each graph's node
    communities, for ``inner_faces``' split)."""
    rows = []
    for g in graphs:
        if g.number_of_nodes() < 3 or not nx.is_connected(g):
            continue
        values = np.linalg.eigvalsh(nx.normalized_laplacian_matrix(g, nodelist=sorted(g)).toarray())
        rows.append(
            {
                "lambda_1": float(values[1]),
                "lambda_2": float(values[2]),
                "ratio": float(values[2] / values[1]),
                "diameter": float(nx.diameter(g)),
                "mean_distance": float(nx.average_shortest_path_length(g)),
            }
        )
    out = {"graphs": len(graphs), "disconnected": len(graphs) - len(rows)}
    for key in ("lambda_1", "lambda_2", "ratio", "diameter", "mean_distance"):
        values = [r[key] for r in rows]
        out[key] = {
            "mean": statistics.mean(values) if values else None,
            "std": statistics.pstdev(values) if values else None,
        }
    ratios = [r["ratio"] for r in rows]
    out["ratio"]["median"] = statistics.median(ratios) if ratios else None
    out["planar"] = sum(nx.check_planarity(g)[0] for g in graphs) / max(len(graphs), 1)
    counted = [inner_faces(g, None if communities is None else communities[i]) for i, g in enumerate(graphs)]
    counted = [c for c in counted if c is not None]
    keys = ("all",) if communities is None else ("all", "inside", "spanning")
    out["inner_faces"] = {k: sum(c[k] for c in counted) / len(counted) if counted else None for k in keys}
    return out


def split_graphs(nodes_per_graph: torch.Tensor, edge_index: torch.Tensor) -> list[nx.Graph]:
    """The graphs of a batch laid out as ``_higen_diagnostic.sample_leaf_level`` returns it (nodes
    numbered graph by graph, ``nodes_per_graph`` of them; both directions of every edge listed), read
    by :func:`graphgen.data.hierarchy.batch_from_edges` (which wants the edges sorted by row)."""
    order = torch.argsort(edge_index[0], stable=True)
    return [to_networkx(d) for d in batch_from_edges(nodes_per_graph, edge_index[:, order]).to_data_list()]


def real_distances(real: list[nx.Graph], drawn: list[nx.Graph], community: list[list[int]]) -> Counter:
    """How many of ``drawn``'s cross edges (ends in different ``community``) join nodes at each distance
    of :data:`DISTANCES` in the matching ``real`` graph (same nodes)."""
    counts = Counter()
    for r, d, comm in zip(real, drawn, community):
        far = dict(nx.all_pairs_shortest_path_length(r))
        for a, b in d.edges():
            if comm[a] != comm[b]:
                counts[DISTANCES[min(far[a].get(b, 5), 5) - 1]] += 1
    return counts


def cross_degrees(graphs: list[nx.Graph], community: list[list[int]]) -> dict:
    """The share of the nodes with cross edges (ends in different ``community``) by how many they have."""
    counts = Counter()
    for g, comm in zip(graphs, community):
        for v in g:
            k = sum(comm[u] != comm[v] for u in g[v])
            if k:
                counts[CROSS_DEGREES[min(k, 4) - 1]] += 1
    total = max(sum(counts.values()), 1)
    return {k: counts[k] / total for k in CROSS_DEGREES}


def border_cycle_lists(place: torch.Tensor, length: torch.Tensor, parent: torch.Tensor) -> dict[int, list[int]]:
    """Each community's border cycle as a list of (global) node ids in cycle order."""
    cycles = {c: [0] * int(n) for c, n in enumerate(length.tolist())}
    for v, (p, c) in enumerate(zip(place.tolist(), parent.tolist())):
        if p >= 0:
            cycles[c][p] = v
    return cycles


def slid(graph: nx.Graph, community: list[int], cycles: dict[int, list[int]], offset: int, k: int, rng) -> nx.Graph:
    """``graph`` with the cross edges of each pair of communities moved ``k`` places along the border cycle
    of the later community (``cycles``: global node ids, ``offset`` the graph's first id), one random
    direction per pair; an end off the cycle stays."""
    out = nx.Graph()
    out.add_nodes_from(graph)
    out.add_edges_from((a, b) for a, b in graph.edges() if community[a] == community[b])
    sign: dict[tuple[int, int], int] = {}
    for a, b in sorted(graph.edges()):
        ca, cb = community[a], community[b]
        if ca == cb:
            continue
        if ca > cb:
            a, b, ca, cb = b, a, cb, ca
        step = sign.setdefault((ca, cb), int(rng.choice([-1, 1]))) * k
        cycle = cycles[cb]
        if b + offset in cycle:
            b = cycle[(cycle.index(b + offset) + step) % len(cycle)] - offset
        out.add_edge(a, b)
    return out


def main() -> None:
    parser = model_parser(__doc__)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--slides", type=int, nargs="*", default=[])
    args, decoding, model, test, result = decoded_test_run(parser)
    train = model_split(args.model, args.dataset, "train")
    val = model_split(args.model, args.dataset, "val")
    result["temperature"] = args.temperature
    result["data"] = {
        name: shape([to_networkx(g) for g in graphs])
        for name, graphs in (("train", train), ("val", val), ("test", test))
    }
    print("data", {k: v["ratio"] for k, v in result["data"].items()}, flush=True)
    drawn, drawn_communities = [], []
    for seed in range(args.seeds):
        generator = torch.Generator().manual_seed(seed)
        for g in model.sample(len(test), generator=generator, temperature=args.temperature, **decoding):
            drawn.append(to_networkx(g))
            drawn_communities.append(g.community.tolist())
    result["samples"] = shape(drawn, drawn_communities)
    print("samples", result["samples"]["ratio"], flush=True)

    h, communities = real_communities(model, train)
    nodes_per_graph = torch.bincount(h.assignments[0][h.assignments[1]], minlength=h.num_graphs)
    real = split_graphs(nodes_per_graph, h.levels[2].edge_index)
    starts = (torch.cumsum(nodes_per_graph, 0) - nodes_per_graph).tolist()
    community = [c.tolist() for c in torch.split(h.assignments[1], nodes_per_graph.tolist())]
    crossed, leaf, leaf_communities, distances = [], [], [], Counter()
    for seed in range(args.seeds):
        counts, edges = real_communities_with_sampled_cross_edges(model, h, communities, seed, args.temperature)
        graphs = split_graphs(counts, edges)
        distances += real_distances(real, graphs, community)
        crossed += graphs
        counts, edges, drawn_parent = sample_leaf_level(model, h, train, seed, temperature=args.temperature)
        leaf += split_graphs(counts, edges)
        leaf_communities += [c.tolist() for c in torch.split(drawn_parent, counts.tolist())]
    total = max(sum(distances.values()), 1)
    two = [i for i, comm in enumerate(community) if len(set(comm)) == 2]
    repeated = community * args.seeds
    result["cross_edges_on_real_communities"] = {
        **shape(crossed, repeated),
        "real_distance": {k: distances[k] / total for k in DISTANCES},
        "cross_degree": cross_degrees(crossed, repeated),
        "real_cross_degree": cross_degrees(real, community),
        "planar_two_communities": shape(
            [g for i, g in enumerate(crossed) if i % len(real) in two and nx.check_planarity(g)[0]]
        ),
        "real_two_communities": shape([real[i] for i in two]),
    }
    result["leaf_level_on_real_coarse_graphs"] = shape(leaf, leaf_communities)
    if args.slides:
        cycles = border_cycle_lists(*border_cycles(communities.edge_index, h.assignments[1]), h.assignments[1])
        result["real_cross_edges_slid"] = {}
        for k in args.slides:
            rng = np.random.default_rng(k)
            moved = [slid(g, comm, cycles, s, k, rng) for g, comm, s in zip(real, community, starts)]
            result["real_cross_edges_slid"][str(k)] = shape(moved, community)
            print("real cross edges slid", k, result["real_cross_edges_slid"][str(k)]["ratio"], flush=True)
    print("cross edges on real communities", result["cross_edges_on_real_communities"]["ratio"], flush=True)
    print("leaf level on real coarse graphs", result["leaf_level_on_real_coarse_graphs"]["ratio"], flush=True)
    result["command"] = command("higen_global_shape.py", args)
    emit(result, args.json)


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
