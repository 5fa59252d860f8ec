"""How many recorded samples are connected, and their V.U.N. with connectedness as the validity test.

    PYTHONPATH=. python metrics/scripts/sample_connectivity.py OUT.json DATASET FOLDER ...

For each folder under ``metrics/results/`` (or a path) written by ``evaluate_higen.py``, per sample
file ``samples_seed*.g6``: ``graphgen.metrics.uniqueness_novelty_vun(samples, DATASET's train split,
"connected")`` (connected: at least one node and one component; unique within the file; novel: not
isomorphic to a training graph), and over the folder the total of connected graphs and the mean of
each fraction over the files. The same connected counts for the dataset's train and test splits, the
reference a model's share is read against. Reads files only; samples nothing.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from graphgen.bench.record import write_record
from graphgen.datasets import load_dataset
from graphgen.io import read_graphs
from graphgen.metrics.novelty import uniqueness_novelty_vun
from graphgen.metrics.validity import is_connected_graph

RESULTS = Path(__file__).resolve().parents[1] / "results"
FRACTIONS = ("frac_valid", "frac_unique", "frac_unique_novel", "vun")


def folder_counts(folder: str, train: list) -> dict:
    path = Path(folder) if Path(folder).is_dir() else RESULTS / folder
    files = sorted(path.glob("samples_seed*.g6"), key=lambda p: int(p.stem.removeprefix("samples_seed")))
    if not files:
        raise SystemExit(f"{folder}: no samples_seed*.g6 files")
    per_file = {f.name: uniqueness_novelty_vun(read_graphs(f), train, "connected") for f in files}
    rows = list(per_file.values())
    graphs = sum(r["n_samples"] for r in rows)
    connected = round(sum(r["frac_valid"] * r["n_samples"] for r in rows))
    means = {k: statistics.mean(r[k] for r in rows) for k in FRACTIONS}
    return {"graphs": graphs, "connected": connected, "mean_over_files": means, "per_file": per_file}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("dataset")
    parser.add_argument("folders", nargs="+")
    args = parser.parse_args()
    splits = {split: load_dataset(args.dataset, split) for split in ("train", "test")}
    record = {
        "dataset": args.dataset,
        "splits": {s: {"graphs": len(g), "connected": sum(map(is_connected_graph, g))} for s, g in splits.items()},
        "folders": {},
    }
    print(f"{args.dataset}: {record['splits']}")
    for folder in args.folders:
        c = record["folders"][folder] = folder_counts(folder, splits["train"])
        means = ", ".join(f"{k} {v:.3f}" for k, v in c["mean_over_files"].items())
        print(f"{folder}: {c['connected']} of {c['graphs']} connected; {means}")
    write_record(args.out, record)


if __name__ == "__main__":
    main()
