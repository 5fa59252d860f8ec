"""How much of a two-level HiGen model's gap is its coarse level, over several training subsets.

    python metrics/scripts/higen_subset_decomposition.py MODEL DATASET [--samples 4] [--json OUT]

Against the test split (``gran`` protocol, degree / clustering / orbit MMD), for ``--samples``
random subsets of as many training graphs as test graphs (subset ``s``: the first ``|test|`` of a
permutation seeded ``s``):

* ``real``: the training graphs themselves (what a perfect model of the training split scores);
* ``leaf_on_coarse``: the leaf level the model samples (seed 0) from those graphs' real coarse
  graphs (``_higen_diagnostic.sample_leaf_level``): the model with a perfect coarse level.

and ``full_samples``: ``|test|`` graphs sampled from the model (seeds 0-2). Each view also reports
the mean node and edge counts, the mean ``|E| / |V|`` and the pooled share of nodes of degree
0..5 and >= 6. ``full`` minus ``leaf_on_coarse`` is what the coarse level costs; ``leaf_on_coarse``
minus ``real`` what the leaf level costs on training-like coarse graphs. ``higen_coarse_split.py
--oracle-seeds`` gives the same two views for one subset (and the test graphs) with more seeds.
"""

from __future__ import annotations

import numpy as np
import torch
from _higen_diagnostic import model_split, parse, real_communities, report, sample_leaf_level

from graphgen.data.hierarchy import batch_from_edges
from graphgen.metrics import evaluate
from graphgen.models.higen import HiGen
from graphgen.models.higen.model import _without_isolated_nodes

KEYS = ("degree_mmd", "clustering_mmd", "orbit_mmd")


def summary(graphs, test) -> dict:
    """The MMDs of ``graphs`` against ``test`` and their size and degree statistics."""
    r = evaluate(test, graphs, "gran")
    degrees = np.concatenate([np.bincount(g.edge_index[0].numpy(), minlength=g.num_nodes) for g in graphs])
    n = np.array([g.num_nodes for g in graphs], dtype=float)
    m = np.array([g.edge_index.shape[1] // 2 for g in graphs], dtype=float)
    shares = [float(np.mean(degrees == d)) for d in range(6)] + [float(np.mean(degrees >= 6))]
    return {
        **{k: round(r[k], 5) for k in KEYS},
        "nodes_mean": round(float(n.mean()), 2),
        "edges_mean": round(float(m.mean()), 2),
        "edges_per_node_mean": round(float((m / n).mean()), 3),
        "degree_share_0_to_5_and_6_plus": [round(x, 3) for x in shares],
    }


def main() -> None:
    args = parse(__doc__, 4)
    torch.set_num_threads(1)
    model = HiGen.from_pretrained(args.model)
    model.eval()
    test, train = model_split(args.model, args.dataset, "test"), model_split(args.model, args.dataset, "train")
    result = {"model": args.model, "dataset": args.dataset, "test": summary(test, test), "subsets": []}
    for s in range(args.samples):
        pick = torch.randperm(len(train), generator=torch.Generator().manual_seed(s))[: len(test)].tolist()
        graphs = [_without_isolated_nodes(train[i]) for i in pick]
        h, _ = real_communities(model, graphs)
        nodes, edges, _ = sample_leaf_level(model, h, graphs, 0)
        leaf = batch_from_edges(nodes, edges).to_data_list()
        result["subsets"].append(
            {"seed": s, "real": summary([train[i] for i in pick], test), "leaf_on_coarse": summary(leaf, test)}
        )
    result["full_samples"] = [
        {"seed": seed, **summary(model.sample(len(test), generator=torch.Generator().manual_seed(seed)), test)}
        for seed in range(3)
    ]
    report(result, args, "higen_subset_decomposition.py")


if __name__ == "__main__":
    main()
