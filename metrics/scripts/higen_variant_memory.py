"""Time and tensor memory of one prepared hierarchy variant of a dataset's training split.

    PYTHONPATH=. python metrics/scripts/higen_variant_memory.py DATASET OUT.json [--batch-size 4] [--repeats 3]

For a flat model with random ties (``--levels 1 --random-ties``) and for two levels (the shipped
planar recipe's Louvain partition), prepares variant ``v`` of every training minibatch, as training
does (:class:`graphgen.models.higen.train._Variants`), and records the median seconds over
``repeats`` variants and the bytes of tensor storage one variant holds (``tensor_bytes``). Session 29
used it to size the cache of prepared variants: before, training held all ``--hierarchies`` of them.
One thread, like training.
"""

import argparse
import json
import statistics
import time

import torch

from graphgen.datasets.loader import load_dataset
from graphgen.models.higen.model import HiGen, HiGenConfig
from graphgen.models.higen.train import TrainConfig, _batches, _Variants, tensor_bytes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dataset")
    parser.add_argument("out")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--note", default="", help="free text kept in the record (e.g. an ad-hoc observation)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    graphs = load_dataset(args.dataset, "train")
    batches = _batches(list(graphs), args.batch_size)
    rows = {}
    for name, levels, ties in (("flat, random ties", 1, True), ("two levels", 2, False)):
        model = HiGen(HiGenConfig(num_levels=levels)).fit_size_model(graphs)
        variants = _Variants(model, batches, TrainConfig(batch_size=args.batch_size, random_ties=ties))
        seconds, sizes = [], []
        for v in range(args.repeats):
            started = time.perf_counter()
            prepared = variants.prepare(v)  # training's own preparation of variant v, not kept
            seconds.append(time.perf_counter() - started)
            sizes.append(tensor_bytes(prepared))
        rows[name] = {"seconds_per_variant": statistics.median(seconds), "megabytes_per_variant": max(sizes) / 2**20}
        print(name, rows[name])
    record = {
        "dataset": args.dataset,
        "training_graphs": len(graphs),
        "batch_size": args.batch_size,
        "repeats": args.repeats,
        "threads": 1,
        "variants": rows,
        "note": args.note,
        "command": f"PYTHONPATH=. python metrics/scripts/higen_variant_memory.py {args.dataset} {args.out} "
        f"--batch-size {args.batch_size} --repeats {args.repeats}",
    }
    with open(args.out, "w") as fh:
        json.dump(record, fh, indent=2)


if __name__ == "__main__":
    main()
