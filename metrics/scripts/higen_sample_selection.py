"""Which epoch of a HiGen run samples best on the validation split, against the lowest-NLL epoch.

    python metrics/scripts/higen_sample_selection.py CHECKPOINT_DIR DATASET [--protocol gran]
        [--seeds 2] [--min-epoch 60] [--json OUT]

``CHECKPOINT_DIR`` holds periodic training checkpoints of one run (``*.pt``, e.g. copies of the
``--checkpoint-every`` file taken as training wrote them). For each checkpoint from ``--min-epoch``
on: as many samples as the validation split (of the split the run was trained on, see
``_higen_diagnostic.model_split``), sampling seeds ``0..S-1``, scored against it under
``--protocol``; the epoch's **sample score** is the mean over the seeds and the four descriptors
(degree, clustering, orbit, spectral) of ``log MMD²`` (MMD² clamped at ``1e-8``), a geometric
mean, so that each descriptor counts by its relative change and none by its scale. The record
lists every epoch's validation NLL/edge (from the checkpoint's history), MMDs and score, and names
``selected_by_samples`` (lowest score) and ``selected_by_nll`` (lowest validation NLL among the
checkpoints). Choosing on the validation split only; the chosen checkpoint is then evaluated on the
test split with ``evaluate_higen.py``. A probe of checkpoint selection (session 28), not a
training option.
"""

from __future__ import annotations

import argparse
import math
import statistics
from pathlib import Path

import torch
from _higen_diagnostic import emit, model_split, temperature_sweep

from graphgen.io.checkpoint import load_checkpoint
from graphgen.models.higen import HiGen

KEYS = ("degree_mmd", "clustering_mmd", "orbit_mmd", "spectral_mmd")
FLOOR = 1e-8  # MMD² below this (or a negative unbiased estimate) counts as this


def score(per_seed: list[dict]) -> float:
    """Mean ``log MMD²`` over seeds and descriptors (see the module docstring)."""
    return statistics.mean(math.log(max(r[k], FLOOR)) for r in per_seed for k in KEYS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("dataset")
    parser.add_argument("--protocol", default="gran")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--min-epoch", type=int, default=60)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    paths = sorted(args.directory.glob("*.pt"))
    if not paths:
        raise SystemExit(f"error: no checkpoints (*.pt) in {args.directory}")
    val = model_split(str(paths[0]), args.dataset, "val")
    epochs = []
    for path in paths:
        ckpt = load_checkpoint(path)
        epoch = int(ckpt.extra.get("epoch", ckpt.metadata.get("epoch", -1)))
        if epoch < args.min_epoch:
            continue
        history = {h["epoch"]: h for h in ckpt.metadata.get("history", [])}
        model = HiGen.from_checkpoint(ckpt).eval()
        print("epoch", epoch, "validation NLL/edge", history.get(epoch, {}).get("val_nll_per_edge"), flush=True)
        per_seed = temperature_sweep(model, val, args.protocol, [1.0], args.seeds, KEYS, "temperature")[1.0]["per_seed"]
        record = {
            "epoch": epoch,
            "checkpoint": path.name,
            "val_nll_per_edge": history.get(epoch, {}).get("val_nll_per_edge"),
            "per_seed": per_seed,
            "mean": {k: statistics.mean(r[k] for r in per_seed) for k in KEYS},
            "score": score(per_seed),
        }
        epochs.append(record)
    if not epochs:
        raise SystemExit(f"error: no checkpoint from epoch {args.min_epoch} on in {args.directory}")
    by_samples = min(epochs, key=lambda r: r["score"])
    with_nll = [r for r in epochs if r["val_nll_per_edge"] is not None]
    by_nll = min(with_nll, key=lambda r: r["val_nll_per_edge"]) if with_nll else None
    result = {
        "run": str(args.directory),
        "dataset": f"{args.dataset}:val ({len(val)} graphs)",
        "protocol": args.protocol,
        "seeds": args.seeds,
        "score": "mean over seeds and descriptors of log(max(MMD^2, 1e-8)); lower is better",
        "epochs": epochs,
        "selected_by_samples": {k: by_samples[k] for k in ("epoch", "checkpoint", "mean", "score")},
        "selected_by_nll": None if by_nll is None else {k: by_nll[k] for k in ("epoch", "checkpoint", "mean", "score")},
        "command": f"python metrics/scripts/higen_sample_selection.py {args.directory} {args.dataset} "
        f"--protocol {args.protocol} --seeds {args.seeds} --min-epoch {args.min_epoch}"
        + (f" --json {args.json}" if args.json else ""),
    }
    emit(result, args.json)


if __name__ == "__main__":
    main()
