"""How closely each shipped HiGen model follows ``--num-nodes``, within and beyond its training sizes.

    PYTHONPATH=. python metrics/scripts/higen_num_nodes_reach.py OUT.json [--multiples 1 2 4 8]
        [--graphs 8] [--seed 0] [--models NAME ...]

For each shipped HiGen model and each multiple ``k`` of its largest training graph ``n_max``, draws
``--graphs`` graphs with ``HiGen.sample(num_nodes=k * n_max)`` (seed ``--seed``) and records the node
counts reached (mean, min, max, and the mean over the request), the edges, the share of connected
graphs (``connected``, since session 53), and the wall seconds.
The model's size mechanism is recorded beside them: community sizes ``emergent`` (a community ends
when its rows have spent its budget) or ``explicit`` (drawn by the size head), and the top-level
community count ``emergent`` or ``explicit``.
"""

import argparse
import time

import torch

from graphgen.bench.record import write_record
from graphgen.metrics.validity import is_connected_graph
from graphgen.models import HiGen
from graphgen.models.pretrained import PRETRAINED


def reach(model: HiGen, num_nodes: int, graphs: int, seed: int) -> dict:
    start = time.perf_counter()
    sampled = model.sample(graphs, generator=torch.Generator().manual_seed(seed), num_nodes=num_nodes)
    seconds = time.perf_counter() - start
    nodes = [int(g.num_nodes) for g in sampled]
    edges = [int(g.edge_index.shape[1]) // 2 for g in sampled]
    connected = sum(map(is_connected_graph, sampled))
    return {
        "num_nodes": num_nodes,
        "nodes_mean": sum(nodes) / len(nodes),
        "nodes_min": min(nodes),
        "nodes_max": max(nodes),
        "reached": sum(nodes) / len(nodes) / num_nodes,
        "edges_mean": sum(edges) / len(edges),
        "connected": connected / len(sampled),
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--multiples", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--graphs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", nargs="+", default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    names = args.models or [name for name in PRETRAINED if name.startswith("higen")]
    models = {}
    for name in names:
        model = HiGen.from_pretrained(name)
        largest = int(model.node_counts.max())
        config = model.config
        rows = [reach(model, k * largest, args.graphs, args.seed) | {"multiple": k} for k in args.multiples]
        models[name] = {
            "largest_training_graph": largest,
            "community_size": config.community_size,
            "community_count": "explicit" if config.explicit_count else "emergent",
            "size_context": config.size_context,
            "rows": rows,
        }
        print(name, [(r["num_nodes"], round(r["nodes_mean"]), round(r["reached"], 2)) for r in rows], flush=True)
    record = {
        "graphs": args.graphs,
        "seed": args.seed,
        "models": models,
    }
    write_record(args.out, record)


if __name__ == "__main__":
    main()
