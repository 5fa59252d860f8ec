"""MMDs of a HiGen model's samples when only its leaf size head draws at a temperature.

    python metrics/scripts/higen_size_temperature.py MODEL DATASET [--temperatures 1 0.7 0.5] [--seeds 3] [--json OUT]

An explicit-size model (``community_size="explicit"``) draws every leaf community's node count from
its size head, ``N ~ p(N | W, ...)``; here that one choice is drawn at temperature ``τ``
(``q(N) ∝ p(N)^{1/τ}``, :class:`graphgen.models.higen.model.Draws`) and every other choice at 1.
Samples (as many as the test split under the checkpoint's split protocol, seeds ``0..seeds-1``) are
scored against that test split with the gran protocol. A probe of how much of the degree error the
spread of the drawn sizes carries, not a sampling option: ``τ != 1`` is not the model's
distribution.
"""

from __future__ import annotations

import statistics
from dataclasses import replace

import torch
from _higen_diagnostic import emit, explicit_size_model, model_parser, model_split

from graphgen.metrics import evaluate

KEYS = ("degree_mmd", "clustering_mmd", "orbit_mmd", "spectral_mmd")


def main() -> None:
    parser = model_parser(__doc__)
    parser.add_argument("--temperatures", type=float, nargs="+", default=[1.0, 0.7, 0.5])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = explicit_size_model(args.model)
    test = model_split(args.model, args.dataset, "test")
    drawn_sizes = model._community_sizes  # bound method: the model's own size draws
    result = {"model": args.model, "dataset": f"{args.dataset}:test ({len(test)} graphs)", "temperatures": {}}
    try:
        for tau in args.temperatures:

            def sizes(net, state, draws, node_share=None, tau=tau):
                return drawn_sizes(net, state, replace(draws, temperature=tau), node_share)

            model._community_sizes = sizes
            runs = []
            for seed in range(args.seeds):
                samples = model.sample(len(test), generator=torch.Generator().manual_seed(seed))
                scores = evaluate(test, samples, "gran")
                runs.append({k: scores[k] for k in KEYS})
            result["temperatures"][str(tau)] = {
                "per_seed": runs,
                "mean": {k: statistics.mean(r[k] for r in runs) for k in KEYS},
            }
            print(tau, {k: round(v, 5) for k, v in result["temperatures"][str(tau)]["mean"].items()}, flush=True)
    finally:
        del model._community_sizes  # the class method again
    temps = " ".join(f"{t:g}" for t in args.temperatures)
    result["command"] = (
        f"python metrics/scripts/higen_size_temperature.py {args.model} {args.dataset} --temperatures {temps}"
        f" --seeds {args.seeds}" + (f" --json {args.json}" if args.json else "")
    )
    emit(result, args.json)


if __name__ == "__main__":
    main()
