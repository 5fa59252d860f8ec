"""MMDs of a HiGen model's samples when only its leaf size head draws at a temperature.

    python metrics/scripts/higen_size_temperature.py MODEL DATASET [--split val|test]
        [--temperatures 1 0.7 0.5] [--seeds 3] [--json OUT]

An explicit-size model (``community_size="explicit"``) draws every leaf community's node count from
its size head, ``N ~ p(N | W, ...)``, a mixture; here that one choice is drawn at temperature ``τ``
(its mixture component from ``α^{1/τ}``, then the count from that component's distribution to the
power ``1/τ``, each renormalised: ``HiGen.sample(size_temperature=τ)``, ``graphgen sample
--size-temperature``) and every other choice at 1. Samples (as many graphs as the split, seeds
``0..seeds-1``) are scored against that split (under the checkpoint's split protocol and held-out
share, see ``_higen_diagnostic.model_split``) with the gran protocol. ``--split val`` (default)
chooses ``τ`` on held-out graphs: the lowest mean degree MMD among the temperatures whose mean
clustering and orbit MMDs stay within 10 % of those at ``τ = 1`` (the choice is recorded). ``--split
test`` is a probe of how much of the test degree error the spread of the drawn sizes carries, not a
way to choose ``τ``.

    python metrics/scripts/higen_size_temperature.py --pool RUN.json RUN.json ... --training-command CMD
        --json OUT

pools ``--split val`` records of several training runs of one command (trained with ``--holdout``, so
that they share their held-out graphs): per temperature the mean over runs of each run's mean MMDs
(``pooled_mean``), and the same rule applied to those means (``pooled_chosen``), the choice a shipped
model trained on all the training graphs takes as its preset.
"""

from __future__ import annotations

import sys

import torch
from _higen_diagnostic import emit, explicit_size_model, model_parser, model_split, temperature_sweep

KEYS = ("degree_mmd", "clustering_mmd", "orbit_mmd", "spectral_mmd")
GUARDED = ("clustering_mmd", "orbit_mmd")  # may not worsen by more than GUARD when τ is chosen
GUARD = 0.10


def choose(temperatures: dict[str, dict]) -> str:
    """The temperature with the lowest mean degree MMD among those whose guarded MMDs stay within
    ``1 + GUARD`` of the first one's (``τ = 1``: always eligible)."""
    first = next(iter(temperatures.values()))["mean"]
    eligible = [
        tau for tau, record in temperatures.items() if all(record["mean"][k] <= (1 + GUARD) * first[k] for k in GUARDED)
    ]
    return min(eligible, key=lambda tau: temperatures[tau]["mean"]["degree_mmd"])


def pool(records: list[dict], names: list[str]) -> dict:
    """The pooled choice over runs' ``--split val`` records (module docstring): every record must have
    swept the same temperatures, in the same order, on the same split (their dataset labels, split and
    graph count, agree; ``--holdout`` holds out the same graphs whatever the training seed)."""
    temperatures = list(records[0]["temperatures"])
    for record in records:
        if list(record["temperatures"]) != temperatures or record["dataset"] != records[0]["dataset"]:
            raise SystemExit("error: the records to pool swept different temperatures or graphs")
        if "chosen" not in record:
            raise SystemExit("error: only --split val records can be pooled")
    means = {
        tau: {"mean": {k: sum(r["temperatures"][tau]["mean"][k] for r in records) / len(records) for k in KEYS}}
        for tau in temperatures
    }
    return {
        "per_training_seed": {name: record for name, record in zip(names, records)},
        "pooled_mean": {tau: m["mean"] for tau, m in means.items()},
        "pooled_rule": (
            f"lowest mean degree MMD among temperatures whose mean {' and '.join(GUARDED)} stay within "
            f"{1 + GUARD:g}x of tau = 1's, on the mean over the {len(records)} training runs"
        ),
        "pooled_chosen": choose(means),
    }


def main() -> None:
    if "--pool" in sys.argv:
        return main_pool()
    parser = model_parser(__doc__)
    parser.add_argument("--split", choices=("val", "test"), default="val")
    parser.add_argument("--temperatures", type=float, nargs="+", default=[1.0, 0.7, 0.5])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    if args.temperatures[0] != 1.0:
        raise SystemExit("error: the first temperature must be 1 (the model itself: the baseline of the choice)")
    torch.set_num_threads(1)
    model = explicit_size_model(args.model)
    graphs = model_split(args.model, args.dataset, args.split)
    runs = temperature_sweep(model, graphs, "gran", args.temperatures, args.seeds, KEYS, "size_temperature")
    result = {
        "model": args.model,
        "dataset": f"{args.dataset}:{args.split} ({len(graphs)} graphs)",
        "temperatures": {f"{tau:g}": run for tau, run in runs.items()},
    }
    if args.split == "val":
        result["chosen"] = choose(result["temperatures"])
        result["rule"] = (
            f"lowest mean degree MMD among temperatures whose mean {' and '.join(GUARDED)} stay within "
            f"{1 + GUARD:g}x of tau = 1's"
        )
    temps = " ".join(f"{t:g}" for t in args.temperatures)
    result["command"] = (
        f"python metrics/scripts/higen_size_temperature.py {args.model} {args.dataset} --split {args.split}"
        f" --temperatures {temps} --seeds {args.seeds}" + (f" --json {args.json}" if args.json else "")
    )
    emit(result, args.json)


def main_pool() -> None:
    import argparse
    import json
    from pathlib import Path

    parser = argparse.ArgumentParser(description="Pool --split val records of several training runs.")
    parser.add_argument("--pool", type=Path, nargs="+", required=True)
    parser.add_argument("--training-command", required=True)
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args()
    records = [json.loads(path.read_text()) for path in args.pool]
    result = {
        "what": f"size temperature chosen on held-out graphs, pooled over {len(records)} training runs",
        **pool(records, [path.stem for path in args.pool]),
        "training_command": args.training_command,
        "command": "python metrics/scripts/higen_size_temperature.py --pool "
        + " ".join(str(p) for p in args.pool)
        + f" --training-command '{args.training_command}' --json {args.json}",
    }
    emit(result, args.json)


if __name__ == "__main__":
    main()
