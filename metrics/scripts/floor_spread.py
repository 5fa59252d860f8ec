"""How far the train-vs-test floor moves between random subsets of the training graphs.

    python metrics/scripts/floor_spread.py DATASET [--protocol gran] [--split-protocol P] [--subsets 10]
        [--samples DIR] [--json OUT]

Every model record reports one floor: the MMDs of one seeded random subset of the training split,
as many graphs as the test split, against the test split (``graphgen.metrics.train_test_floor``,
seed 0). This evaluates ``--subsets`` such subsets (seeds 0, 1, ...) and reports each metric's
per-subset values, mean, standard deviation, minimum and maximum: what a perfect generator (one that
samples real training graphs) scores at this sample size, and how much of a model's distance to a
published number is sampling noise.

Beside it, ``within_train``: the same subset against a second, disjoint seeded subset of the training
split of the same size -- the distance between two samples of the training distribution at this
sample size. A floor well above it means the test split is not drawn like the training split (a
shifted test set, e.g. enzymes' ``gdss`` split, whose test graphs are the file's first 117: EC
classes 6 and 5, while the training split holds no class-6 enzyme), and no model of the training
graphs can score below the floor there. ``--split-protocol`` picks the dataset's split protocol
(default: the dataset's own).

With ``--samples DIR`` (a model record: ``DIR/samples_seed{S}.g6`` for every subset seed ``S``), also
``samples_vs_train``: sampling seed ``S``'s graphs against floor subset ``S`` (training graphs, as many
as the test split) -- how close the model is to the distribution it was trained on, at the same
sample size as its test score (``samples_vs_test``, recomputed here). On a shifted test split a model
can match its training graphs and still miss the test graphs by the shift.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np


def _summary(per_subset: list[dict], keys: list[str]) -> dict:
    return {
        k: {
            "mean": statistics.mean(s[k] for s in per_subset),
            "std": statistics.pstdev(s[k] for s in per_subset),
            "min": min(s[k] for s in per_subset),
            "max": max(s[k] for s in per_subset),
        }
        for k in keys
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset")
    parser.add_argument("--protocol", default="gran")
    parser.add_argument("--split-protocol", default=None)
    parser.add_argument("--subsets", type=int, default=10)
    parser.add_argument("--samples", type=Path, default=None, help="a record's folder of samples_seed{S}.g6")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    import torch

    from graphgen.bench.record import provenance
    from graphgen.cli._output import write_json
    from graphgen.datasets import load_dataset
    from graphgen.io import read_graphs
    from graphgen.metrics import DESCRIPTORS, evaluate, train_test_floor
    from graphgen.metrics.evaluate import floor_subset

    torch.set_num_threads(1)
    train = load_dataset(args.dataset, "train", protocol=args.split_protocol)
    test = load_dataset(args.dataset, "test", protocol=args.split_protocol)
    n = len(test)
    if len(train) < 2 * n:
        raise SystemExit(f"{args.dataset}: {len(train)} training graphs hold no two disjoint subsets of {n}")
    keys = [f"{name}_mmd" for name in DESCRIPTORS]
    per_subset, within, model_train, model_test = [], [], [], []
    if args.samples is not None:
        missing = [s for s in range(args.subsets) if not (args.samples / f"samples_seed{s}.g6").exists()]
        if missing:
            raise SystemExit(f"{args.samples}: no samples_seed{missing[0]}.g6 (one per subset seed)")
    for seed in range(args.subsets):
        r = train_test_floor(train, test, n, args.protocol, seed=seed)
        per_subset.append({k: r[k] for k in keys if k in r})
        # the floor's subset (the same seeded draw) against n other training graphs
        floor_pick = floor_subset(len(train), n, seed)
        taken = set(floor_pick)
        others = [int(i) for i in np.random.default_rng(seed).permutation(len(train)) if int(i) not in taken][:n]
        floor_graphs = [train[i] for i in floor_pick]
        w = evaluate([train[i] for i in others], floor_graphs, args.protocol)
        within.append({k: w[k] for k in keys if k in w})
        print(seed, per_subset[-1], within[-1], flush=True)
        if args.samples is not None:
            samples = read_graphs(args.samples / f"samples_seed{seed}.g6")
            m = evaluate(floor_graphs, samples, args.protocol)
            model_train.append({k: m[k] for k in keys if k in m})
            m = evaluate(test, samples, args.protocol)
            model_test.append({k: m[k] for k in keys if k in m})
            print(seed, "samples vs train", model_train[-1], "vs test", model_test[-1], flush=True)
    keys = [k for k in keys if k in per_subset[0]]
    result = {
        "dataset": f"{args.dataset}: {n} training graphs per subset against the {n} test graphs",
        "split_protocol": args.split_protocol,
        "protocol": args.protocol,
        "subsets": args.subsets,
        "per_subset": per_subset,
        "summary": _summary(per_subset, keys),
        "within_train": {"per_subset": within, "summary": _summary(within, keys)},
        **(
            {
                "samples": str(args.samples),
                "samples_vs_train": {"per_subset": model_train, "summary": _summary(model_train, keys)},
                "samples_vs_test": {"per_subset": model_test, "summary": _summary(model_test, keys)},
            }
            if args.samples is not None
            else {}
        ),
        **provenance("python metrics/scripts/floor_spread.py " + " ".join(sys.argv[1:])),
    }
    write_json(result, args.json)
    if args.json is None:
        print(result["summary"], result["within_train"]["summary"])


if __name__ == "__main__":
    main()
