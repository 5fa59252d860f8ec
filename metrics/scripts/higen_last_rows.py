"""Where HiGen's low-degree nodes come from: the last row of each leaf community, data vs samples.

    python metrics/scripts/higen_last_rows.py MODEL DATASET [--samples 100] [--json OUT]

For the dataset's train + test graphs, teacher-forced in the model's own hierarchy and order, and
for ``--samples`` graphs sampled from MODEL (seed 0), counts: how many edges the last node of each
leaf community has to earlier nodes of its community (its row), the degree of each community's
first node, and the share of nodes of degree <= 2. Samples carry their generated communities, which
are contiguous in generation order, so the rows are read back from the sampled edges.
"""

from __future__ import annotations

import numpy as np
import torch
from _higen_diagnostic import model_split, parse, report

SHOWN = 6  # histogram bins 0..5 (row sizes / degrees above 5 are counted in the last bin)


def _histogram(values: torch.Tensor) -> list[int]:
    return np.bincount(np.minimum(values.numpy(), SHOWN - 1), minlength=SHOWN).tolist()


def _summary(position, size, row, degree) -> dict:
    last, first = position == size - 1, position == 0
    return {
        "communities": int(first.sum()),
        "last_row_edges_histogram_0_to_5plus": _histogram(row[last]),
        "first_node_degree_histogram_0_to_5plus": _histogram(degree[first]),
        "share_of_nodes_with_degree_at_most_2": float((degree <= 2).float().mean()),
        "nodes": int(degree.numel()),
    }


def data_rows(model, graphs) -> dict:
    batch = model.prepare(graphs)
    rows = batch.levels[-1][0]
    leaf = batch.hierarchy.levels[-1]
    degree = torch.bincount(leaf.edge_index[0], minlength=int(leaf.num_nodes))
    size = torch.bincount(rows.community)[rows.community]
    return _summary(rows.position, size, rows.mass + rows.reserved, degree)


def sample_rows(model, count: int) -> dict:
    position, size, row, degree = [], [], [], []
    for g in model.sample(count, generator=torch.Generator().manual_seed(0)):
        src, dst = g.edge_index
        deg = torch.bincount(src, minlength=int(g.num_nodes))
        for k in g.community.unique():
            members = (g.community == k).nonzero().flatten()
            first = int(members[0])
            for i, v in enumerate(members.tolist()):
                nb = dst[src == v]
                position.append(i)
                size.append(members.numel())
                row.append(int(((nb >= first) & (nb < v) & (g.community[nb] == k)).sum()))
                degree.append(int(deg[v]))
    return _summary(*(torch.tensor(x) for x in (position, size, row, degree)))


def main() -> None:
    from graphgen.models.higen import HiGen

    args = parse(__doc__, 100)
    model = HiGen.from_pretrained(args.model)
    graphs = model_split(args.model, args.dataset, "train") + model_split(args.model, args.dataset, "test")
    result = {
        "model": args.model,
        "dataset": f"{args.dataset} train + test ({len(graphs)} graphs), teacher-forced in the model's order",
        "data": data_rows(model, graphs),
        "samples": {"count": args.samples, "seed": 0, **sample_rows(model, args.samples)},
    }
    report(result, args, "higen_last_rows.py")


if __name__ == "__main__":
    main()
