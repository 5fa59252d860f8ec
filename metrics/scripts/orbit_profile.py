"""Which graphlets a set of samples over- or under-produces: mean orbit counts per node against a test split.

    python metrics/scripts/orbit_profile.py DATASET SAMPLES.g6 [SAMPLES.g6 ...] [--json OUT]

The orbit MMD compares, graph by graph, the 15 mean orbit counts per node of GRAN's protocol
(:func:`graphgen.metrics.descriptors.orbit_features`: orbit 0 the degree, 1-3 the 3-node graphlets,
4-14 the 4-node ones). This script reports each orbit's mean over the test graphs of ``DATASET`` and,
for each samples file, the ratio of its mean to the test graphs' -- 1 where the samples make as many
of that graphlet per node as the data. Named orbits (Pržulj's numbering): 4-5 the 4-node path,
6-7 the 3-star (claw), 8 the 4-cycle, 9-11 the paw (triangle with a tail), 12-13 the diamond
(4-cycle with one chord), 14 K4.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

GRAPHLETS = {
    "degree": [0],
    "path_3": [1, 2],
    "triangle": [3],
    "path_4": [4, 5],
    "claw": [6, 7],
    "cycle_4": [8],
    "paw": [9, 10, 11],
    "diamond": [12, 13],
    "k4": [14],
}


def orbit_profile(reference: np.ndarray, samples: np.ndarray) -> dict:
    """Per graphlet of :data:`GRAPHLETS`, the ratio of the samples' mean orbit counts per node (summed
    over the graphlet's orbits, averaged over graphs) to the reference's; ``(G, 15)`` inputs."""
    ref, got = reference.mean(0), samples.mean(0)
    return {
        name: round(float(got[o].sum() / ref[o].sum()), 3) if ref[o].sum() > 0 else None
        for name, o in GRAPHLETS.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset")
    parser.add_argument("samples", nargs="+", type=Path)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    from _higen_diagnostic import emit

    from graphgen.datasets import load_dataset
    from graphgen.io import read_graphs
    from graphgen.metrics.descriptors import orbit_features

    reference = orbit_features(load_dataset(args.dataset, "test"))
    ref = reference.mean(0)
    result = {
        "dataset": f"{args.dataset}:test",
        "reference_per_node": {name: round(float(ref[o].sum()), 3) for name, o in GRAPHLETS.items()},
        "ratio_to_reference": {str(p): orbit_profile(reference, orbit_features(read_graphs(p))) for p in args.samples},
        "command": "python metrics/scripts/orbit_profile.py "
        + " ".join([args.dataset, *map(str, args.samples)])
        + (f" --json {args.json}" if args.json else ""),
    }
    emit(result, args.json)


if __name__ == "__main__":
    main()
