"""Backend benchmark: graphgen's vectorised graph I/O and per-graph ops against networkx.

Each record times graphgen and a baseline on the same inputs in the same run and reports the
ratio ``baseline_seconds / graphgen_seconds`` (above 1: graphgen is faster).

* ``graph6_decode``: our numpy decoder vs ``networkx.from_graph6_bytes`` on PROTEINS (739 graphs).
* ``triangles_clustering``: one batched sparse pass over a whole split vs ``networkx.triangles`` +
  ``networkx.clustering`` graph by graph (ENZYMES, 587 graphs), results checked equal first.
* ``normalized_laplacian``: our sparse block-diagonal Laplacian of the batch vs
  ``networkx.normalized_laplacian_matrix`` per graph.
* ``hierarchy``: building the 2-level Louvain hierarchy of SBM train (128 graphs), reported per
  graph, with the share spent inside Louvain (networkx) -- no baseline, a tracking number.
"""

from __future__ import annotations

from graphgen.bench.record import median_seconds, provenance


def run(quick: bool = False) -> dict:
    import networkx as nx
    import numpy as np
    import torch
    from torch_geometric.data import Batch

    from graphgen.data import (
        LouvainPartitioner,
        build_hierarchy,
        clustering_coefficients,
        normalized_laplacian,
        to_networkx,
        triangle_counts,
    )
    from graphgen.datasets import dataset_file, load_dataset
    from graphgen.io.graph6 import decode_graph6

    repeats = 3 if quick else 7
    records = []

    lines = [line for line in dataset_file("proteins", "all.g6").read_bytes().splitlines() if line]
    ours = median_seconds(lambda: [decode_graph6(line) for line in lines], repeats)
    base = median_seconds(lambda: [nx.from_graph6_bytes(line) for line in lines], repeats)
    records.append(
        {
            "task": "graph6_decode",
            "dataset": "proteins/all",
            "graphs": len(lines),
            "graphgen_seconds": ours,
            "baseline": "networkx.from_graph6_bytes",
            "baseline_seconds": base,
            "speedup": base / ours,
        }
    )

    graphs = load_dataset("enzymes", "all")
    batch = Batch.from_data_list(graphs)
    nx_graphs = [to_networkx(g) for g in graphs]
    tri = triangle_counts(batch).tolist()
    assert tri == [t for g in nx_graphs for t in nx.triangles(g).values()], "triangle counts differ from networkx"
    ours = median_seconds(lambda: (triangle_counts(batch), clustering_coefficients(batch)), repeats)
    base = median_seconds(lambda: [(nx.triangles(g), nx.clustering(g)) for g in nx_graphs], repeats)
    records.append(
        {
            "task": "triangles_clustering",
            "dataset": "enzymes/all",
            "graphs": len(graphs),
            "graphgen_seconds": ours,
            "baseline": "networkx.triangles+clustering per graph",
            "baseline_seconds": base,
            "speedup": base / ours,
        }
    )

    ours = median_seconds(lambda: normalized_laplacian(batch), repeats)
    base = median_seconds(lambda: [nx.normalized_laplacian_matrix(g) for g in nx_graphs], repeats)
    records.append(
        {
            "task": "normalized_laplacian",
            "dataset": "enzymes/all",
            "graphs": len(graphs),
            "graphgen_seconds": ours,
            "baseline": "networkx.normalized_laplacian_matrix per graph",
            "baseline_seconds": base,
            "speedup": base / ours,
        }
    )

    sbm = load_dataset("sbm", "train")
    if quick:
        sbm = sbm[:32]
    total = median_seconds(lambda: build_hierarchy(sbm, num_levels=2, seed=0), max(1, repeats // 2), warmup=0)
    louvain = median_seconds(
        lambda: [LouvainPartitioner().partition_levels(g, 1, 0) for g in sbm], max(1, repeats // 2), warmup=0
    )
    sizes = build_hierarchy(sbm, num_levels=2, seed=0).levels[1]
    records.append(
        {
            "task": "hierarchy",
            "dataset": f"sbm/train[:{len(sbm)}]",
            "graphs": len(sbm),
            "graphgen_seconds": total,
            "seconds_per_graph": total / len(sbm),
            "louvain_share": louvain / total,
            "mean_communities": float(np.mean(np.bincount(sizes.batch.numpy()))),
        }
    )
    del torch
    return {
        "benchmark": "backend",
        "quick": quick,
        "repeats": repeats,
        **provenance(f"graphgen bench backend{' --quick' if quick else ''}"),
        "records": records,
    }
