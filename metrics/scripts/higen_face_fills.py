"""How often a model's leaf rows put a new node inside a triangle, against the data, by temperature.

    python metrics/scripts/higen_face_fills.py MODEL DATASET [--seeds 3] [--temperatures 1 0.8 0.7]
        [--run-rows | --face-rows [--planar-strips]] [--json OUT]

A leaf row of three edges whose three earlier nodes already form a triangle of the community so far
puts the new node inside it (or closes an ear around a node of the border): a K4, which leaves a node
of degree 3 on exactly 3 triangles (``T = d = 3``, clustering 1) unless later rows join it. Planar's
Delaunay graphs hold about 1.5 such nodes per graph and the gran protocol's clustering histograms
see each of them and its three neighbours (``T = d + 1``).

Counted on the test graphs (the model's ordered hierarchy: rows ``t >= 2`` of at least two edges,
in generation order) and on the model's samples (as many graphs as the test split, sampling seeds
``0..--seeds-1`` at each of ``--temperatures``, nodes of a community in generation order):

- ``rows``: leaf rows ``t >= 2`` with at least two edges; ``into_a_triangle``: the share of them
  whose three nodes already form a triangle of the prefix; ``third_triangle``: the share that joins
  both ends of a prefix edge already on two triangles (a third triangle on it: a separating
  triangle or a crossing);
- ``closed_degree_3``: nodes per graph with degree 3 on 3 triangles in the whole graph, and
  ``closed_degree_3_inner`` those without a cross edge;
- for samples, ``face_rows_lost``: the sampler's count of communities that lost their embedding
  (``row_faces`` models and the face-run decoding), summed over the seeds.
"""

from __future__ import annotations

import networkx as nx
import torch
from _higen_diagnostic import command, decoded_test_run, emit, graphs_and_samples, model_parser
from higen_row_attachment import communities_in_order, row_properties


def fill_counts(edge_lists, communities) -> dict:
    """The counts of the module docstring over graphs given as ``(n, edges)`` with each node's community
    (communities walked as :func:`higen_row_attachment.communities_in_order` reads them, the third
    triangle as its :func:`~higen_row_attachment.row_properties` finds it)."""
    rows = into = third = closed = closed_inner = 0
    for (n, edges), comm in zip(edge_lists, communities):
        for graph, nodes in communities_in_order([(n, edges)], [comm]):
            prefix = nx.Graph()
            for t, v in enumerate(nodes):
                joined = [u for u in graph.neighbors(v) if u < v]
                if t >= 2 and len(joined) >= 2:
                    rows += 1
                    into += len(joined) == 3 and prefix.subgraph(joined).number_of_edges() == 3
                    third += row_properties(prefix, joined)["joins_an_edge_on_two_triangles"]
                prefix.add_node(v)
                prefix.add_edges_from((u, v) for u in joined)
        g = nx.Graph()
        g.add_nodes_from(range(n))
        g.add_edges_from(edges)
        triangles = nx.triangles(g)
        for v in g:
            if g.degree(v) == 3 and triangles[v] == 3:
                closed += 1
                closed_inner += all(comm[u] == comm[v] for u in g[v])
    graphs = max(len(edge_lists), 1)
    return {
        "graphs": len(edge_lists),
        "rows": rows,
        "into_a_triangle": into / max(rows, 1),
        "third_triangle": third / max(rows, 1),
        "closed_degree_3": closed / graphs,
        "closed_degree_3_inner": closed_inner / graphs,
    }


def main() -> None:
    parser = model_parser(__doc__)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--temperatures", type=float, nargs="+", default=[1.0, 0.8, 0.7])
    args, decoding, model, test, result = decoded_test_run(parser)
    (data_edges, data_comms), _ = graphs_and_samples(model, test, 0)
    result["data"] = fill_counts(data_edges, data_comms)
    print("data", result["data"], flush=True)
    result["samples"] = {}
    for tau in args.temperatures:
        edges, comms, lost = [], [], 0
        for seed in range(args.seeds):
            generator = torch.Generator().manual_seed(seed)
            drawn = model.sample(len(test), generator=generator, temperature=tau, **decoding)
            edges += [(int(g.num_nodes), [(a, b) for a, b in g.edge_index.t().tolist() if a < b]) for g in drawn]
            comms += [g.community.tolist() for g in drawn]
            lost += int(model.last_sample_report.get("face_rows_lost", 0))
        result["samples"][str(tau)] = {**fill_counts(edges, comms), "face_rows_lost": lost}
        print(tau, result["samples"][str(tau)], flush=True)
    result["command"] = command("higen_face_fills.py", args)
    emit(result, args.json)


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
