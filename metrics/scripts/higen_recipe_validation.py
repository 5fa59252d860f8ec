"""HiGen training recipes compared on held-out validation graphs: sample quality and ``--num-nodes`` reach.

    PYTHONPATH=. python metrics/scripts/higen_recipe_validation.py OUT.json DATASET PROTOCOL CHECKPOINT ...
        [--seeds 10] [--multiples 1 2 4 8] [--graphs 8]

Every checkpoint must have been trained with ``--holdout`` (the same share for all, so that all see
the same validation graphs; checked). For each: its training command and lowest / last validation
NLL per edge (from the checkpoint's history); sampling seeds ``0..S-1`` of as many graphs as the
validation split holds at temperature 1, scored against it under ``PROTOCOL`` (degree, clustering,
orbit and spectral MMD², their per-seed values, and the mean of the first three; the share of connected
samples, ``connected``, since session 53); and the node counts (and connected share) reached by
``HiGen.sample(num_nodes=k * n_max)`` (``higen_num_nodes_reach.reach``: 8 graphs per
multiple ``k`` of the largest training graph, seed 0). The test split is never read.
"""

from __future__ import annotations

import argparse
import statistics

import torch
from _higen_diagnostic import model_split, temperature_sweep
from higen_num_nodes_reach import reach

from graphgen.bench.record import write_record
from graphgen.io.checkpoint import load_checkpoint
from graphgen.metrics.validity import is_connected_graph
from graphgen.models import HiGen

KEYS = ("degree_mmd", "clustering_mmd", "orbit_mmd", "spectral_mmd")
MEAN_OF = KEYS[:3]  # the community_small target reads the mean of degree, clustering and orbit


def connected_share(samples: list) -> dict:
    return {"connected": sum(map(is_connected_graph, samples)) / len(samples)}


def candidate(path: str, dataset: str, protocol: str, seeds: int, multiples: list[int], graphs: int) -> dict:
    ckpt = load_checkpoint(path)
    history = [row["val_nll_per_edge"] for row in ckpt.metadata.get("history", []) if row.get("val_nll_per_edge")]
    model = HiGen.from_pretrained(path).eval()
    val = model_split(path, dataset, "val")
    runs = temperature_sweep(model, val, protocol, [1.0], seeds, KEYS, "temperature", extra=connected_share)[1.0]
    for row in runs["per_seed"]:
        row["deg_clus_orbit_mean"] = statistics.mean(row[k] for k in MEAN_OF)
    names = (*KEYS, "deg_clus_orbit_mean", "connected")
    largest = int(model.node_counts.max())
    return {
        "training_command": ckpt.metadata.get("command"),
        "holdout": float(ckpt.metadata.get("holdout", 0.0)),
        "validation_graphs": len(val),
        "val_nll_per_edge": {"lowest": min(history), "last": history[-1]} if history else None,
        "per_seed": runs["per_seed"],
        "mean": {k: statistics.mean(r[k] for r in runs["per_seed"]) for k in names},
        "std": {k: statistics.stdev(r[k] for r in runs["per_seed"]) for k in names} if seeds > 1 else None,
        "num_nodes_reach": {
            "largest_training_graph": largest,
            "rows": [reach(model, k * largest, graphs, 0) | {"multiple": k} for k in multiples],
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("dataset")
    parser.add_argument("protocol")
    parser.add_argument("checkpoints", nargs="+")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--multiples", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--graphs", type=int, default=8)
    args = parser.parse_args()
    torch.set_num_threads(1)
    holdouts = {float(load_checkpoint(path).metadata.get("holdout", 0.0)) for path in args.checkpoints}
    if len(holdouts) != 1 or not holdouts.pop() > 0:
        raise SystemExit("error: every checkpoint needs the same --holdout share > 0 (the same validation graphs)")
    results = {}
    for path in args.checkpoints:
        results[path] = candidate(path, args.dataset, args.protocol, args.seeds, args.multiples, args.graphs)
        row = results[path]
        reached = [round(r["reached"], 2) for r in row["num_nodes_reach"]["rows"]]
        print(path, {k: round(v, 4) for k, v in row["mean"].items()}, "reach", reached, flush=True)
    record = {
        "dataset": f"{args.dataset}:val",
        "protocol": args.protocol,
        "seeds": args.seeds,
        "temperature": 1.0,
        "multiples": args.multiples,
        "graphs_per_multiple": args.graphs,
        "checkpoints": results,
    }
    write_record(args.out, record)


if __name__ == "__main__":
    main()
