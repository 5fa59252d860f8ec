"""HiGen's sampling temperature chosen on the validation split, never on the test split.

    python metrics/scripts/higen_temperature.py MODEL DATASET PROTOCOL [--temperatures 1 0.9 0.8 0.7 0.6]
        [--seeds 5] [--run-rows | --face-rows] [--planar-strips] [--json OUT]

For each temperature ``τ`` (:class:`graphgen.models.higen.model.Draws`: every random choice drawn
from its distribution raised to ``1/τ``) and sampling seeds ``0..S-1``: as many graphs as the
validation split holds, scored against it under ``PROTOCOL``; per ``τ`` the per-seed and mean MMDs
and the mean of the MMDs each divided by its value at ``τ = 1`` (``relative_to_tau_1``, so that no
one descriptor's scale decides); where the dataset has a validity rule (``graphgen evaluate``'s) also
the V.U.N. of the samples against the training split (reported, not used to choose). ``chosen`` is
the ``τ`` with the lowest relative mean: the
temperature to evaluate on the test split with ``evaluate_higen.py … --temperature``. ``--run-rows``:
every draw under the run-rows decoding (``HiGen.sample(run_rows=True)``); ``--face-rows``: under the
face-run decoding (``HiGen.sample(face_rows=True)``); ``--planar-strips`` (with ``--face-rows`` or a
``row_faces`` model): also under the planar-strips decoding.
"""

from __future__ import annotations

import statistics

import torch
from _higen_diagnostic import (
    DECODING_OPTIONS,
    add_decoding_options,
    decoding_flags,
    decoding_options,
    emit,
    model_parser,
    model_split,
    temperature_sweep,
)

from graphgen.cli.evaluate_cmd import DEFAULT_VALIDITY
from graphgen.errors import DatasetError
from graphgen.metrics import DESCRIPTORS
from graphgen.models.higen import HiGen

KEYS = tuple(f"{name}_mmd" for name in DESCRIPTORS)


def main() -> None:
    parser = model_parser(__doc__)
    parser.add_argument("protocol")
    parser.add_argument("--temperatures", type=float, nargs="+", default=[1.0, 0.9, 0.8, 0.7, 0.6])
    parser.add_argument("--seeds", type=int, default=5)
    add_decoding_options(parser)
    args = parser.parse_args()
    temperatures = sorted(set(args.temperatures) | {1.0}, reverse=True)
    torch.set_num_threads(1)
    model = HiGen.from_pretrained(args.model).eval()
    try:
        val = model_split(args.model, args.dataset, "val")
    except DatasetError as err:  # e.g. community_small's GDSS protocol has no validation split
        raise SystemExit(f"error: {err}") from None
    fixed = decoding_options(args)
    validity = DEFAULT_VALIDITY.get(args.dataset)  # V.U.N. too where the dataset has a validity rule
    vun = None if validity is None else (model_split(args.model, args.dataset, "train"), validity)
    runs = temperature_sweep(model, val, args.protocol, temperatures, args.seeds, KEYS, "temperature", vun, **fixed)
    base = runs[1.0]["mean"]
    for run in runs.values():
        run["relative_to_tau_1"] = statistics.mean(run["mean"][k] / base[k] for k in KEYS if base[k] > 0)
    chosen = min(runs, key=lambda t: runs[t]["relative_to_tau_1"])
    result = {
        "model": args.model,
        "dataset": f"{args.dataset}:val ({len(val)} graphs)",
        "protocol": args.protocol,
        "seeds": args.seeds,
        **{name: bool(fixed.get(name)) for name in DECODING_OPTIONS},
        "temperatures": {f"{t:g}": run for t, run in runs.items()},
        "chosen": chosen,
        "command": f"python metrics/scripts/higen_temperature.py {args.model} {args.dataset} {args.protocol} "
        f"--temperatures {' '.join(f'{t:g}' for t in args.temperatures)} --seeds {args.seeds}"
        + "".join(f" {flag}" for flag in decoding_flags(args))
        + (f" --json {args.json}" if args.json else ""),
    }
    emit(result, args.json)


if __name__ == "__main__":
    main()
