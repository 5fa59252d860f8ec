"""Weight averaging probe: a run's snapshots averaged over windows of epochs, scored on validation.

    python metrics/scripts/higen_snapshot_average.py RUN.pt DATASET --window A B [--window A B ...]
        [--seeds 10] [--split val] --json OUT.json

``RUN.pt`` is the ``--out`` of a ``graphgen train higen ... --keep-every 1`` run. For each window the
parameters of the snapshots of epochs ``A..B`` are averaged uniformly (floating-point tensors; the
root size model's counts are the same in every snapshot) — the post-hoc form of stochastic weight
averaging — and written beside the run as ``RUN.avgA-B.pt`` (a snapshot-like checkpoint of epoch
``B``). Each averaged model gets its own validation NLL per edge (the training loop's
``validation_nll`` on the same batches) and its samples are scored as
``higen_training_curve.py --split val`` scores a snapshot (``score_point``: ``--seeds`` sampling
seeds, as many graphs as the split holds, MMDs and V.U.N.). The run's lowest-validation model
(``RUN.best.pt``) is scored the same way in the same record, as the baseline. Nothing here is chosen
on the test split.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from higen_training_curve import DEFAULT_VALIDITY, KEYS, score_point  # noqa: E402


def average_snapshots(run: Path, first: int, last: int) -> Path:
    """Write ``RUN.avgFIRST-LAST.pt``: the uniform average of the snapshots of epochs first..last."""
    import torch

    from graphgen.io.checkpoint import load_checkpoint, save_checkpoint
    from graphgen.models.higen.train import snapshot_checkpoint_path

    paths = [snapshot_checkpoint_path(run, e) for e in range(first, last + 1)]
    missing = [p.name for p in paths if not p.exists()]
    if missing:
        raise SystemExit(f"missing snapshots {', '.join(missing)} (train with --keep-every 1)")
    ckpts = [load_checkpoint(p) for p in paths]
    averaged = ckpts[-1]
    averaged.state_dict = {
        k: torch.stack([c.state_dict[k] for c in ckpts]).mean(0) if v.is_floating_point() else v
        for k, v in averaged.state_dict.items()
    }
    averaged.metadata["averaged_epochs"] = [first, last]
    out = run.with_name(f"{run.stem}.avg{first}-{last}{run.suffix or '.pt'}")
    save_checkpoint(averaged, out)
    return out


def validation_nll_of(path: Path, dataset: str) -> tuple[float, dict]:
    """The checkpoint's validation NLL per edge and its parts, as the training loop computes them."""
    from graphgen.datasets import load_dataset
    from graphgen.io.checkpoint import load_checkpoint
    from graphgen.models.higen import HiGen
    from graphgen.models.higen.train import validation_batches, validation_nll

    ckpt = load_checkpoint(path)
    model = HiGen.from_checkpoint(ckpt)
    val = load_dataset(dataset, "val", protocol=ckpt.metadata.get("protocol"))
    return validation_nll(model, validation_batches(model, val, ckpt.metadata["train_config"]["batch_size"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("dataset")
    parser.add_argument("--window", type=int, nargs=2, action="append", required=True, metavar=("A", "B"))
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--split", default="val", choices=("val", "test"))
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args()

    from graphgen.bench.record import provenance
    from graphgen.io.checkpoint import load_checkpoint
    from graphgen.models.higen.train import best_checkpoint_path

    validity = DEFAULT_VALIDITY.get(args.dataset)
    models = [(None, best_checkpoint_path(args.run))]
    models += [((a, b), average_snapshots(args.run, a, b)) for a, b in args.window]
    points = []
    for window, path in models:
        nll, parts = validation_nll_of(path, args.dataset)
        point = score_point(path, args.dataset, "gran", args.seeds, 1.0, validity, args.split)
        point.update(averaged_epochs=window, val_nll_per_edge=nll, val_parts=parts)
        if window is not None:
            point["kind"] = f"uniform average of the snapshots of epochs {window[0]}-{window[1]}"
        points.append(point)
        print(
            f"{path.name}: val {nll:.5f}, "
            + " / ".join(f"{point['mean'][k]:.4f}" for k in KEYS)
            + f", V.U.N. {point['mean']['vun']:.3f}",
            file=sys.stderr,
        )
    from graphgen.cli._output import write_json

    record = {
        "run": str(args.run),
        "training_command": load_checkpoint(models[0][1]).metadata.get("command"),
        "dataset": args.dataset,
        "split": args.split,
        "validity": validity,
        "points": points,
        **provenance("python metrics/scripts/higen_snapshot_average.py " + " ".join(sys.argv[1:])),
    }
    write_json(record, args.json)


if __name__ == "__main__":
    main()
