"""Where HiGen's structure breaks: communities vs cross edges, data vs samples.

    python metrics/scripts/higen_structure.py MODEL DATASET [--samples 40] [--json OUT]

For the dataset's test graphs (communities from the model's own Louvain hierarchy) and for
``--samples`` graphs sampled from MODEL (seed 0, their generated communities), reports: the share of
graphs that are planar, the share whose communities (the intra-community subgraph) are planar, the
share of edges that cross communities, and the share of cross edges and of intra-community edges
that lie on at least one triangle. A planar triangulation has every edge on a triangle; a model that
places cross edges independently of each other breaks that first across communities.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import torch
from _higen_diagnostic import parse, report


def _on_triangle(g: nx.Graph, edges: list[tuple[int, int]]) -> float:
    """Share of ``edges`` with a common neighbour of their endpoints in ``g`` (NaN when none)."""
    return sum(bool(set(g[u]) & set(g[v])) for u, v in edges) / len(edges) if edges else float("nan")


def structure(edge_lists: list[tuple[int, list[tuple[int, int]]]], communities: list[list[int]]) -> dict:
    """Means over graphs of the shares described in the module docstring."""
    rows = []
    for (n, edges), comm in zip(edge_lists, communities):
        g = nx.Graph()
        g.add_nodes_from(range(n))
        g.add_edges_from(edges)
        inner = [(u, v) for u, v in edges if comm[u] == comm[v]]
        cross = [(u, v) for u, v in edges if comm[u] != comm[v]]
        intra = nx.Graph()
        intra.add_nodes_from(range(n))
        intra.add_edges_from(inner)

        rows.append(
            [
                nx.check_planarity(g)[0],
                nx.check_planarity(intra)[0],
                len(cross) / max(len(edges), 1),
                _on_triangle(g, cross),
                _on_triangle(g, inner),
            ]
        )
    mean = np.nanmean(np.array(rows, dtype=float), 0)
    keys = (
        "planar",
        "communities_planar",
        "cross_edge_share",
        "cross_edges_on_a_triangle",
        "intra_edges_on_a_triangle",
    )
    return {"graphs": len(rows), **{k: round(float(v), 4) for k, v in zip(keys, mean)}}


def _edges(edge_index: torch.Tensor) -> list[tuple[int, int]]:
    return [(int(a), int(b)) for a, b in edge_index.t().tolist() if a < b]


def main() -> None:
    from graphgen.datasets import load_dataset
    from graphgen.models.higen import HiGen

    args = parse(__doc__, 40)
    torch.set_num_threads(1)
    model = HiGen.from_pretrained(args.model)
    test = load_dataset(args.dataset, "test")
    batch = model.prepare(test)
    h = batch.hierarchy  # ordered: graph k's leaf nodes are contiguous, in the model's order
    leaf, parent = h.levels[-1], h.assignments[-1]  # leaf node -> its community
    data_edges, data_comms = [], []
    for k in range(len(test)):
        nodes = (leaf.batch == k).nonzero().flatten()
        first = int(nodes[0])
        mask = leaf.batch[leaf.edge_index[0]] == k
        data_edges.append((nodes.numel(), _edges(leaf.edge_index[:, mask] - first)))
        data_comms.append(parent[nodes].tolist())
    samples = model.sample(args.samples, generator=torch.Generator().manual_seed(0))
    result = {
        "model": args.model,
        "dataset": f"{args.dataset}:test ({len(test)} graphs), communities of the model's hierarchy",
        "data": structure(data_edges, data_comms),
        "samples": {
            "seed": 0,
            **structure(
                [(int(g.num_nodes), _edges(g.edge_index)) for g in samples], [g.community.tolist() for g in samples]
            ),
        },
    }
    report(result, args, "higen_structure.py")


if __name__ == "__main__":
    main()
