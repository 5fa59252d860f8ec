"""A strip-mixture model's samples with each leaf block forced to one component: which one costs what.

    python metrics/scripts/higen_strip_components.py MODEL DATASET [--seeds 3] [--temperature 0.7]
        [--samples-dir DIR] [--json OUT]

MODEL has strip-shaped leaf blocks (``cross_strips``, :mod:`graphgen.models.higen.strip_blocks`):
each feasible block draws a zipped strip with probability ``π_b``, else the coordinated fallback.
Here whole samples (as many as the test split holds, sampling seeds ``0..--seeds-1``, at
``--temperature``) are drawn three ways -- ``mixture`` (the model as it is), ``strips`` (``π_b = 1``
on every feasible block) and ``fallback`` (``π_b = 0``) -- and scored against the test split under
the ``gran`` protocol (mean MMDs per way, and per seed). Everything else in the sampler is the same,
so the differences are the components'. ``--samples-dir`` also writes seed 0's samples of each way
as ``DIR/{way}_seed0.g6`` (for ``orbit_profile.py``).
"""

from __future__ import annotations

import contextlib
import statistics
from pathlib import Path

import torch
from _higen_diagnostic import command, emit, model_parser, model_split, two_level_model

WAYS = ("mixture", "strips", "fallback")
KEYS = ("degree_mmd", "clustering_mmd", "orbit_mmd", "spectral_mmd")


@contextlib.contextmanager
def forced(way: str):
    """Within the block, every :class:`StripModel` puts feasible blocks in the component ``way``."""
    from graphgen.models.higen.strip_blocks import StripModel

    original = StripModel.mix_logits
    if way != "mixture":
        sign = 1.0 if way == "strips" else -1.0
        StripModel.mix_logits = lambda self, tables: torch.full(tables.weight.shape, sign * 1e4)
    try:
        yield
    finally:
        StripModel.mix_logits = original


def main() -> None:
    from graphgen.io import write_graphs
    from graphgen.metrics import evaluate

    parser = model_parser(__doc__)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--samples-dir", type=Path, default=None)
    args = parser.parse_args()
    model = two_level_model(args.model)
    if model.bipartite_nets[-1].strips is None:
        raise SystemExit(f"error: {args.model} has no strip-shaped leaf blocks (cross_strips)")
    test = model_split(args.model, args.dataset, "test")
    result = {"model": args.model, "dataset": f"{args.dataset}:test ({len(test)} graphs)"}
    result["temperature"] = args.temperature
    for way in WAYS:
        runs = []
        with forced(way):
            for seed in range(args.seeds):
                drawn = model.sample(
                    len(test), generator=torch.Generator().manual_seed(seed), temperature=args.temperature
                )
                if seed == 0 and args.samples_dir is not None:
                    args.samples_dir.mkdir(parents=True, exist_ok=True)
                    write_graphs(drawn, args.samples_dir / f"{way}_seed0.g6", "graph6")
                r = evaluate(test, drawn, "gran")
                runs.append({k: r[k] for k in KEYS})
        result[way] = {"per_seed": runs, "mean": {k: statistics.mean(r[k] for r in runs) for k in KEYS}}
        print(way, {k: round(v, 4) for k, v in result[way]["mean"].items()}, flush=True)
    result["command"] = command("higen_strip_components.py", args)
    emit(result, args.json)


if __name__ == "__main__":
    main()
