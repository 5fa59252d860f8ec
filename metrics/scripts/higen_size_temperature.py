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
"""

from __future__ import annotations

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


def main() -> None:
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


if __name__ == "__main__":
    main()
