"""How far the train-vs-test floor moves between random subsets of the training graphs.

    python metrics/scripts/floor_spread.py DATASET [--protocol gran] [--subsets 10] [--json OUT]

Every model record reports one floor: the MMDs of one seeded random subset of the training split,
as many graphs as the test split, against the test split (``graphgen.metrics.train_test_floor``,
seed 0). This evaluates ``--subsets`` such subsets (seeds 0, 1, ...) and reports each metric's
per-subset values, mean, standard deviation, minimum and maximum: what a perfect generator (one that
samples real training graphs) scores at this sample size, and how much of a model's distance to a
published number is sampling noise.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset")
    parser.add_argument("--protocol", default="gran")
    parser.add_argument("--subsets", type=int, default=10)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    import torch

    from graphgen.bench.record import provenance
    from graphgen.cli._output import write_json
    from graphgen.datasets import load_dataset
    from graphgen.metrics import DESCRIPTORS, train_test_floor

    torch.set_num_threads(1)
    train, test = load_dataset(args.dataset, "train"), load_dataset(args.dataset, "test")
    keys = [f"{name}_mmd" for name in DESCRIPTORS]
    per_subset = []
    for seed in range(args.subsets):
        r = train_test_floor(train, test, len(test), args.protocol, seed=seed)
        per_subset.append({k: r[k] for k in keys if k in r})
        print(seed, per_subset[-1], flush=True)
    keys = [k for k in keys if k in per_subset[0]]
    summary = {
        k: {
            "mean": statistics.mean(s[k] for s in per_subset),
            "std": statistics.pstdev(s[k] for s in per_subset),
            "min": min(s[k] for s in per_subset),
            "max": max(s[k] for s in per_subset),
        }
        for k in keys
    }
    result = {
        "dataset": f"{args.dataset}: {len(test)} training graphs per subset against the {len(test)} test graphs",
        "protocol": args.protocol,
        "subsets": args.subsets,
        "per_subset": per_subset,
        "summary": summary,
        **provenance("python metrics/scripts/floor_spread.py " + " ".join(sys.argv[1:])),
    }
    write_json(result, args.json)
    if args.json is None:
        print(summary)


if __name__ == "__main__":
    main()
