"""Evaluate a trained HiGen checkpoint against its dataset's test split, and optionally ship it.

    python metrics/scripts/evaluate_higen.py CHECKPOINT NAME DATASET PROTOCOL [--seeds 3] [--ship]
        [--target KEY=VALUE ...] [--note TEXT] [--decoding sample|mode] [--temperature T]
        [--size-temperature T] [--run-rows | --face-rows] [--planar-strips] [--validity NAME]

For each seed: ``graphgen sample --checkpoint CHECKPOINT -n |test| --seed S`` then ``graphgen evaluate
-r DATASET:test:SPLIT -p PROTOCOL --json``, through the command line exactly as a user would run it. Writes
``metrics/results/NAME/{PROTOCOL}_seed{S}.json``, the samples, and ``summary.json`` (per-seed and mean
MMDs, V.U.N., GNN F1, the train/test floor, the training curve and command from the checkpoint,
the targets and whether each is met, the fraction of valid samples per seed (``--validity``, e.g.
``connected``, passed on to ``graphgen evaluate``; by default the dataset's own test); for a
checkpoint one of whose networks ``metrics/scripts/higen_cross_refit.py`` or ``higen_row_refit.py``
retrained, that command and its curve too). With ``--ship`` the checkpoint is copied without its training state to
``graphgen/checkpoints/NAME.pt`` (its sha256 recorded).

``SPLIT`` is the split protocol the checkpoint was trained under (its metadata, e.g. ``gdss`` or
``graphrnn`` for enzymes), so a model is always scored on the test graphs held out from its own
training split; PROTOCOL is the MMD protocol (kernels and descriptors, e.g. ``gran``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
from pathlib import Path

from _higen_diagnostic import DECODING_OPTIONS, add_decoding_options, decoding_flags

ROOT = Path(__file__).resolve().parents[2]
KEYS = ("degree_mmd", "clustering_mmd", "orbit_mmd", "spectral_mmd")


def graphgen(*args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "graphgen", *args], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"graphgen {' '.join(args)} failed: {done.stderr.strip()[-500:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("name")
    parser.add_argument("dataset")
    parser.add_argument("protocol")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--ship", action="store_true")
    parser.add_argument(
        "--target", action="append", default=[], help="KEY=VALUE, e.g. degree_mmd=0.0017 or deg_clus_orbit_mean=0.046"
    )
    parser.add_argument("--note", default="")
    parser.add_argument("--decoding", default="sample", choices=("sample", "mode"))
    parser.add_argument("--temperature", type=float, default=1.0, help="sampling temperature (graphgen sample)")
    parser.add_argument(
        "--size-temperature", type=float, default=None, help="temperature of the leaf sizes alone (graphgen sample)"
    )
    parser.add_argument(
        "--validity", default=None, help="validity test for V.U.N. (graphgen evaluate --validity; default: by dataset)"
    )
    add_decoding_options(parser)  # --run-rows, --face-rows, --planar-strips, passed on to graphgen sample
    args = parser.parse_args()
    targets = {}
    for kv in args.target:
        key, _, value = kv.partition("=")
        if key not in (*KEYS, "deg_clus_orbit_mean"):
            parser.error(f"unknown target {key!r}; choose one of {', '.join(KEYS)}, deg_clus_orbit_mean")
        targets[key] = float(value)

    from graphgen.bench.record import provenance
    from graphgen.cli._output import write_json
    from graphgen.datasets import load_dataset
    from graphgen.io.checkpoint import load_checkpoint, strip_training_state
    from graphgen.models.pretrained import PRETRAINED, resolve_checkpoint

    ckpt = load_checkpoint(resolve_checkpoint(args.checkpoint)[0])  # a file or a shipped name
    out_dir = ROOT / "metrics" / "results" / args.name
    out_dir.mkdir(parents=True, exist_ok=True)
    split = ckpt.metadata.get("protocol")  # the split protocol it was trained under
    if ckpt.metadata.get("dataset") not in (None, args.dataset):
        raise SystemExit(f"{args.checkpoint} was trained on {ckpt.metadata['dataset']}, not {args.dataset}")
    n_test = len(load_dataset(args.dataset, "test", protocol=split))
    reference = f"{args.dataset}:test" + (f":{split}" if split else "")
    per_seed, commands = [], []
    for seed in range(args.seeds):
        samples = out_dir / f"samples_seed{seed}.g6"
        result = out_dir / f"{args.protocol}_seed{seed}.json"
        sample_args = ["sample", "--checkpoint", args.checkpoint, "-n", str(n_test), "--seed", str(seed)]
        if args.decoding != "sample":
            sample_args += ["--decoding", args.decoding]
        if args.temperature != 1.0:
            sample_args += ["--temperature", f"{args.temperature:g}"]
        if args.size_temperature is not None:
            sample_args += ["--size-temperature", f"{args.size_temperature:g}"]
        sample_args += decoding_flags(args)
        eval_args = ["evaluate", "-r", reference, "-s", str(samples), "-p", args.protocol]
        if args.validity is not None:
            eval_args += ["--validity", args.validity]
        graphgen(*sample_args, "--out", str(samples))
        graphgen(*eval_args, "--json", str(result))
        commands.append(" ".join(["graphgen", *sample_args, "--out", str(samples.relative_to(ROOT))]))
        per_seed.append(json.loads(result.read_text()))
    for r in per_seed:  # GDSS's community_small summary: the mean of degree, clustering and orbit
        r["deg_clus_orbit_mean"] = statistics.mean(r[k] for k in KEYS[:3])
    keys = (*KEYS, "deg_clus_orbit_mean")
    mean = {k: statistics.mean(r[k] for r in per_seed) for k in keys}
    std = {k: statistics.pstdev(r[k] for r in per_seed) for k in keys}
    history = ckpt.metadata.get("history", [])
    summary = {
        "model": args.name,
        "dataset": f"{args.dataset} (test split: {n_test} graphs" + (f", {split} protocol)" if split else ")"),
        "protocol": args.protocol,
        "decoding": args.decoding,
        "temperature": args.temperature,
        "size_temperature": args.size_temperature,
        **{name: bool(getattr(args, name)) for name in DECODING_OPTIONS},
        "note": args.note,
        "checkpoint": args.checkpoint,
        "training_command": ckpt.metadata.get("command"),
        # a checkpoint made by metrics/scripts/higen_cross_refit.py or higen_row_refit.py --checkpoint-out:
        # the later command, which retrained one network alone, and its curve (``curve`` is the first command's)
        **{
            f"{refit}{k}": ckpt.metadata[f"{refit}{k}"]
            for refit in ("cross_refit", "row_refit")
            for k in ("", "_of", "_of_sha256", "_curve")
            if f"{refit}{k}" in ckpt.metadata
        },
        "epochs": len(history),
        "config": ckpt.config,
        "train_config": ckpt.metadata.get("train_config"),
        "curve": [{k: h[k] for k in ("epoch", "train_nll_per_edge", "val_nll_per_edge")} for h in history],
        "evaluation_commands": commands,
        "per_seed": [{k: r[k] for k in keys} for r in per_seed],
        "mean": mean,
        "std": std,
        "vun": [r.get("vun", {}).get("vun") for r in per_seed],
        "validity": args.validity,
        "frac_valid": [r.get("vun", {}).get("frac_valid") for r in per_seed],
        "gnn_f1_pr": [r.get("gnn", {}).get("f1_pr") for r in per_seed],
        "floor_train_vs_test": per_seed[0].get("floor"),
        "targets": {k: {"target": v, "mean": mean[k], "met": mean[k] <= v} for k, v in targets.items()},
        **provenance("python metrics/scripts/evaluate_higen.py " + " ".join(sys.argv[1:])),
    }
    dst = None
    if args.ship:
        dst = ROOT / "graphgen" / "checkpoints" / f"{args.name}.pt"
        strip_training_state(args.checkpoint, dst)
    elif args.checkpoint in PRETRAINED:  # re-evaluating a shipped model
        dst = resolve_checkpoint(args.checkpoint)[0]
    if dst is not None:
        summary["shipped_checkpoint"] = {
            "path": str(dst.relative_to(ROOT)),
            "bytes": dst.stat().st_size,
            "sha256": hashlib.sha256(dst.read_bytes()).hexdigest(),
        }
    write_json(summary, out_dir / "summary.json")
    print(json.dumps({"mean": mean, "std": std, "vun": summary["vun"], "targets": summary["targets"]}, indent=1))


if __name__ == "__main__":
    main()
