"""How often networkx's Louvain returns a disconnected community, before graphgen splits it.

    python metrics/scripts/louvain_disconnected.py DATASET [DATASET ...] [--seeds 8] [--resolution R ...] [--json OUT]

For every graph of each dataset (all its splits, each graph once) and every Louvain seed
``0..seeds-1``, the final (coarsest) level of networkx's Louvain, as
:meth:`graphgen.data.partition.LouvainPartitioner.louvain_levels` returns it, is checked for a
community that is not connected in the graph. HiGen's leaf rows give such a community
probability 0, which is why ``LouvainPartitioner`` splits every community into its connected
components (:func:`graphgen.data.partition.split_disconnected`); this counts how often that matters.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def main() -> None:
    from graphgen.data.convert import to_networkx
    from graphgen.data.partition import LouvainPartitioner, split_disconnected
    from graphgen.datasets import load_dataset

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="+")
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--resolution", type=float, nargs="+", default=None, help="one per dataset (default 1)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    resolutions = args.resolution or [1.0] * len(args.datasets)
    if len(resolutions) != len(args.datasets):
        raise SystemExit("error: give one --resolution per dataset")
    from _higen_diagnostic import emit

    result = {"seeds": args.seeds, "datasets": {}}
    for name, resolution in zip(args.datasets, resolutions):
        graphs = load_dataset(name, "all")
        louvain = LouvainPartitioner(resolution)
        partitions, disconnected, by_seed = 0, 0, {}
        for g in graphs:
            G = to_networkx(g, weight="weight")
            for seed in range(args.seeds):
                final = louvain.louvain_levels(G, seed)[-1]
                partitions += 1
                if len(split_disconnected(G, final)) > len(final):
                    disconnected += 1
                    by_seed[str(seed)] = by_seed.get(str(seed), 0) + 1
        result["datasets"][name] = {
            "graphs": len(graphs),
            "resolution": resolution,
            "partitions": partitions,
            "with_a_disconnected_community": disconnected,
            "by_seed": by_seed,
        }
        print(name, result["datasets"][name], flush=True)
    result["command"] = (
        "python metrics/scripts/louvain_disconnected.py "
        + " ".join(args.datasets)
        + f" --seeds {args.seeds}"
        + (" --resolution " + " ".join(f"{r:g}" for r in resolutions) if args.resolution else "")
        + (f" --json {args.json}" if args.json else "")
    )
    emit(result, args.json)


if __name__ == "__main__":
    main()
