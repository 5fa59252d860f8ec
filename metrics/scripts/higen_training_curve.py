"""Samples' quality against training time: MMDs and V.U.N. of the snapshots one training run kept.

    python metrics/scripts/higen_training_curve.py RUN.pt DATASET [--protocol gran] [--seeds 10]
        [--temperature 1.0 ...] [--split test|val] [--check-record DIR] --json OUT.json

``RUN.pt`` is the ``--out`` of a ``graphgen train higen ... --keep-every K`` run. Its kept snapshots
``RUN.epochNNNN.pt`` (``graphgen.models.higen.train.snapshot_checkpoint_path``), its lowest-validation
model ``RUN.best.pt`` when present, and ``RUN.pt`` itself when its size head was refitted after the
last epoch (``--refit-size-head``; the snapshots precede that refit) are each sampled ``--seeds`` times
(seed ``S`` draws as many graphs as the test split holds with ``torch.Generator().manual_seed(S)``,
what ``graphgen sample --seed S`` does) at every ``--temperature``, and scored against the test split
of the split protocol the run trained under with the MMD ``--protocol`` (what ``graphgen evaluate -r
DATASET:test`` reports, without its floor and GNN metrics) and V.U.N. against the training split. Per
point: the epoch, the training seconds the snapshot's process had spent (``seconds_in_this_process``;
a resumed run restarts that clock, and the point says where), the run's training and validation NLL
per edge at that epoch, and the mean and std over seeds. The test split is only reported here:
nothing is chosen by it. ``--split val`` scores against the validation split instead (as many graphs
as it holds), where a choice among snapshots may be made.

``--check-record DIR`` (e.g. ``metrics/results/higen-planar``) compares the best model's seed-0 sample at
temperature 1 with ``DIR/PROTOCOL_seed0.json`` (a record made by ``evaluate_higen.py`` through the command
line), so a reproduced run is seen to be the shipped model and this script to score as the CLI does.
Points already in ``--json`` (same checkpoint file size and mtime) are kept, so a run that is still
training can be scored as its snapshots appear.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path

KEYS = ("degree_mmd", "clustering_mmd", "orbit_mmd", "spectral_mmd")
DEFAULT_VALIDITY = {"planar": "planar", "tree": "tree", "lobster": "lobster", "grid": "grid", "sbm": "sbm_modularity"}


def snapshots(run: Path) -> list[Path]:
    """The run's kept snapshots in epoch order, then its ``.best.pt`` when present, then ``run`` itself
    when its size head was refitted after the last epoch (``--refit-size-head``: then the final model
    differs from the last snapshot)."""
    pattern = re.compile(re.escape(run.stem) + r"\.epoch(\d+)" + re.escape(run.suffix or ".pt") + "$")
    if not run.parent.is_dir():
        raise SystemExit(f"{run.parent} is not a folder")
    kept = sorted((p for p in run.parent.iterdir() if pattern.match(p.name)), key=lambda p: p.name)
    from graphgen.io.checkpoint import load_checkpoint
    from graphgen.models.higen.train import best_checkpoint_path

    best = best_checkpoint_path(run)
    refitted = run.exists() and "size_head_refit" in load_checkpoint(run).metadata
    return kept + ([best] if best.exists() else []) + ([run] if refitted else [])


def _kind_and_epoch(ckpt) -> tuple[str, int]:
    """What a checkpoint of the run is, and the epoch its parameters are from."""
    history = ckpt.metadata.get("history", [])
    snap = ckpt.metadata.get("snapshot")
    if snap:
        return "snapshot", snap["epoch"]
    if (ckpt.metadata.get("size_head_refit") or {}).get("epoch") == history[-1]["epoch"]:  # the run's own refit
        return "the run's final model, size head refitted after the last epoch", history[-1]["epoch"]
    return "lowest validation NLL (.best.pt)", min(history, key=lambda h: h["val_nll_per_edge"])["epoch"]


def score_point(
    path: Path, dataset: str, protocol: str, seeds: int, temperature: float, validity, split: str = "test"
) -> dict:
    import torch

    from graphgen.datasets import load_dataset
    from graphgen.io.checkpoint import load_checkpoint
    from graphgen.metrics import evaluate
    from graphgen.metrics.novelty import uniqueness_novelty_vun
    from graphgen.models.pretrained import load_model

    ckpt = load_checkpoint(path)
    reference = load_dataset(dataset, split, protocol=ckpt.metadata.get("protocol"))
    train = load_dataset(dataset, "train", protocol=ckpt.metadata.get("protocol"))
    model, _ = load_model(path)
    history = ckpt.metadata.get("history", [])
    snap = ckpt.metadata.get("snapshot")
    kind, epoch = _kind_and_epoch(ckpt)
    at = history[epoch - 1]
    per_seed = []
    started = time.perf_counter()
    for seed in range(seeds):
        graphs = model.sample(len(reference), generator=torch.Generator().manual_seed(seed), temperature=temperature)
        result = {k: float(v) for k, v in evaluate(reference, graphs, protocol).items() if k in KEYS}
        result["vun"] = uniqueness_novelty_vun(graphs, train, validity)["vun"]
        per_seed.append(result)
    keys = (*KEYS, "vun")
    return {
        "checkpoint": path.name,
        "kind": kind,
        "epoch": epoch,
        "training_seconds_in_process": snap["seconds_in_this_process"] if snap else None,
        "process_started_at_epoch": snap["process_started_at_epoch"] if snap else None,
        "train_nll_per_edge": at["train_nll_per_edge"],
        "val_nll_per_edge": at["val_nll_per_edge"],
        "temperature": temperature,
        "split": split,
        "seeds": seeds,
        "mean": {k: statistics.mean(r[k] for r in per_seed) for k in keys},
        "std": {k: statistics.pstdev(r[k] for r in per_seed) for k in keys},
        "per_seed": per_seed,
        "scoring_seconds": time.perf_counter() - started,
        "file": {"bytes": path.stat().st_size, "mtime": path.stat().st_mtime},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("dataset")
    parser.add_argument("--protocol", default="gran")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--temperature", type=float, action="append")
    parser.add_argument("--split", default="test", choices=("test", "val"))
    parser.add_argument("--check-record", type=Path)
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args()
    temperatures = args.temperature or [1.0]

    from graphgen.bench.record import provenance
    from graphgen.cli._output import write_json

    validity = DEFAULT_VALIDITY.get(args.dataset)
    old = json.loads(args.json.read_text()) if args.json.exists() else {}
    done = {(p["checkpoint"], p["temperature"], p.get("split", "test"), p["seeds"], p["file"]["bytes"],
             p["file"]["mtime"]): p for p in old.get("points", [])}  # fmt: skip
    paths = snapshots(args.run)
    if not paths:
        raise SystemExit(f"no snapshots of {args.run} (train with --keep-every K) and no .best.pt beside it")
    from graphgen.io.checkpoint import load_checkpoint

    command = load_checkpoint(paths[0]).metadata.get("command")
    points = []
    for path in paths:
        for temperature in temperatures:
            stat = path.stat()
            key = (path.name, temperature, args.split, args.seeds, stat.st_size, stat.st_mtime)
            point = done.get(key) or score_point(
                path, args.dataset, args.protocol, args.seeds, temperature, validity, args.split
            )
            points.append(point)
            mean, val = point["mean"], point["val_nll_per_edge"]
            print(
                f"{path.name} T={temperature:g}: epoch {point['epoch']}, val "
                + ("-" if val is None else f"{val:.4f}")
                + ", "
                + " / ".join(f"{mean[k]:.4f}" for k in KEYS)
                + f", V.U.N. {mean['vun']:.3f}",
                file=sys.stderr,
            )
            record = {
                "run": str(args.run),
                "training_command": command,
                "dataset": args.dataset,
                "protocol": args.protocol,
                "split": args.split,
                "validity": validity,
                "points": points,
                **provenance("python metrics/scripts/higen_training_curve.py " + " ".join(sys.argv[1:])),
            }
            write_json(record, args.json)  # after every point: a long scan can be read (and resumed) midway
    if args.check_record is not None:
        record["record_check"] = _check_record(points, args.check_record, args.protocol)
        write_json(record, args.json)
        print(json.dumps(record["record_check"], indent=1))


def _check_record(points: list[dict], directory: Path, protocol: str) -> dict:
    """The best model's seed-0 values at temperature 1 against ``directory/PROTOCOL_seed0.json``."""
    best = [p for p in points if p["checkpoint"].endswith(".best.pt") and p["temperature"] == 1.0]
    if any(p.get("split", "test") != "test" for p in best):
        return {"checked": False, "why": "evaluate_higen.py's records are of the test split"}
    if not best:
        return {"checked": False, "why": "no .best.pt point at temperature 1"}
    recorded_path = directory / f"{protocol}_seed0.json"
    recorded = json.loads(recorded_path.read_text())
    ours = best[0]["per_seed"][0]
    differences = {k: abs(ours[k] - recorded[k]) for k in KEYS}
    differences["vun"] = abs(ours["vun"] - recorded["vun"]["vun"])
    return {
        "checked": True,
        "record": str(recorded_path),
        "max_abs_difference": max(differences.values()),
        "differences": differences,
    }


if __name__ == "__main__":
    main()
