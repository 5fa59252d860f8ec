"""Why sampled SBM graphs fail the SBM validity test: a breakdown per reason and the block sizes.

    python metrics/scripts/sbm_validity_breakdown.py SAMPLES.g6 [SAMPLES.g6 ...]

For each graph6 file, every graph goes through :func:`graphgen.metrics.validity.sbm_modularity_pvalue`
(the blocks of the best modularity partition) and is counted under the first test it fails, in the
order of :func:`~graphgen.metrics.validity.is_sbm_graph_modularity`: the block count (2-5), a block
size outside 20-40 nodes, the p-value (<= 0.9); or as valid. Also prints the blocks per graph and
the percentiles of all block sizes. Run it on ``datasets/sbm/test.g6`` for the data's own numbers.
"""

from __future__ import annotations

import sys

import networkx as nx
import numpy as np

from graphgen.metrics.validity import sbm_modularity_pvalue


def breakdown(path: str) -> dict:
    with open(path, "rb") as f:
        graphs = [nx.from_graph6_bytes(line.strip()) for line in f if line.strip()]
    reasons = {"block_count": 0, "block_size": 0, "pvalue": 0, "valid": 0}
    sizes_all = []
    for g in graphs:
        pvalue, k, sizes = sbm_modularity_pvalue(g)
        sizes_all += sizes
        if not 2 <= k <= 5:
            reasons["block_count"] += 1
        elif any(s < 20 or s > 40 for s in sizes):
            reasons["block_size"] += 1
        elif pvalue <= 0.9:
            reasons["pvalue"] += 1
        else:
            reasons["valid"] += 1
    sizes = np.array(sizes_all, dtype=float)
    return {
        "graphs": len(graphs),
        "fails_first_on": reasons,
        "blocks_per_graph": round(len(sizes) / max(len(graphs), 1), 2),
        "block_size_percentiles_0_10_25_50_75_90_100": np.percentile(sizes, [0, 10, 25, 50, 75, 90, 100]).tolist()
        if sizes.size
        else [],
        "share_of_blocks_under_20": round(float((sizes < 20).mean()), 3) if sizes.size else None,
    }


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__.strip().splitlines()[2].strip())
    for path in sys.argv[1:]:
        print(path, breakdown(path))
