"""Where a planar model's clustering MMD comes from: its planar and non-planar samples apart.

    python metrics/scripts/higen_planar_split.py DIR [DIR ...] [--dataset planar] [--draws 10] [--json OUT]

Reads the recorded samples of each model record ``DIR`` (``DIR/samples_seed*.g6``, all seeds pooled)
and the dataset's test split, and reports per record:

* ``subsets``: the gran protocol's MMDs of ``--draws`` seeded random draws of as many samples as the
  test split holds, from all samples, from the planar ones and from the non-planar ones (mean over
  the draws; the same sample size as a record's own score, so the biased estimator's diagonal weighs
  the same). A model whose planar samples score a *higher* clustering MMD than all its samples
  together is missing something its non-planar samples happen to supply.
* ``nodes``: for the test graphs and for the planar and non-planar samples, the share of nodes by
  degree ``d`` (3 .. 10, 11 standing for 11 or more) and ``T(v) - d(v)`` (``T`` the node's
  triangles; -2 standing for -2 or less, 2 for 2 or more), as shares of all nodes (those of degree
  below 3 count in the total only). The clustering coefficient of a node is
  ``2 T / (d (d - 1))``, so this table is what the 100-bin clustering histograms see: in a
  triangulation an inner node has ``T = d``, a node on the outer face ``T = d - 1``, and ``T > d``
  needs a separating triangle through the node (e.g. a degree-3 node inside a triangle, which puts
  each of its three neighbours at ``T = d + 1``).
* ``per_graph``: means per graph of the nodes with ``T - d >= 1`` (``over``), of the degree-3 nodes
  with ``T = 3`` (``closed_degree_3``: inside a triangle) and of the nodes with ``T - d = -1``
  (``open``), for the same three sets.
* ``splits``: ``per_graph`` and ``nodes`` of the training, validation and test splits, and
  ``test_closed_degree_3_rank``: the share of 20,000 seeded random draws of as many graphs as the
  test split, out of all three splits pooled, whose mean ``closed_degree_3`` is at least the test
  split's (how unusual the test split is in the count a model of the training graphs learns).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import networkx as nx
import numpy as np

DEGREES = range(3, 12)
GAPS = range(-2, 3)


def node_table(graphs: list[nx.Graph]) -> dict:
    """Shares of nodes by degree and ``T - d`` (module docstring), as ``{"d=3": {"T-d=-1": share}}``."""
    counts = np.zeros((len(DEGREES), len(GAPS)))
    total = 0
    for g in graphs:
        triangles = nx.triangles(g)
        for v in g:
            d = g.degree(v)
            total += 1
            if d >= DEGREES[0]:
                gap = min(max(triangles[v] - d, GAPS[0]), GAPS[-1])
                counts[min(d, DEGREES[-1]) - DEGREES[0], gap - GAPS[0]] += 1
    shares = counts / max(total, 1)
    return {
        f"d={d}{'+' if d == DEGREES[-1] else ''}": {
            f"T-d={k:+d}": round(float(shares[i, j]), 4) for j, k in enumerate(GAPS)
        }
        for i, d in enumerate(DEGREES)
    }


def per_graph(graphs: list[nx.Graph]) -> dict:
    """Means per graph of the node counts of the module docstring."""
    over, closed, open_ = [], [], []
    for g in graphs:
        t = nx.triangles(g)
        over.append(sum(t[v] > g.degree(v) for v in g))
        closed.append(sum(g.degree(v) == 3 and t[v] == 3 for v in g))
        open_.append(sum(t[v] == g.degree(v) - 1 for v in g))
    return {
        "graphs": len(graphs),
        "over": round(float(np.mean(over)), 3) if graphs else None,
        "closed_degree_3": round(float(np.mean(closed)), 3) if graphs else None,
        "open": round(float(np.mean(open_)), 3) if graphs else None,
    }


def closed_rank(splits: dict[str, list[nx.Graph]], draws: int = 20_000) -> float:
    """The share of ``draws`` seeded random draws of ``len(splits["test"])`` graphs out of all of
    ``splits`` pooled whose mean count of closed degree-3 nodes is at least the test split's."""
    counts = {name: [per_graph([g])["closed_degree_3"] for g in graphs] for name, graphs in splits.items()}
    pooled = np.array([c for values in counts.values() for c in values])
    test = float(np.mean(counts["test"]))
    rng = np.random.default_rng(0)
    means = np.array([rng.choice(pooled, len(counts["test"]), replace=False).mean() for _ in range(draws)])
    return float(np.mean(means >= test - 1e-12))


def subset_scores(test, samples: list[nx.Graph], pool: list[int], draws: int, protocol: str) -> dict | None:
    """The MMDs of ``draws`` seeded draws of ``len(test)`` samples out of ``pool`` (mean per metric)."""
    from graphgen.metrics import DESCRIPTORS, evaluate

    if len(pool) < len(test):
        return None
    keys = [f"{name}_mmd" for name in DESCRIPTORS]
    rows = []
    for seed in range(draws):
        pick = np.random.default_rng(seed).choice(pool, len(test), replace=False)
        result = evaluate(test, [samples[i] for i in pick], protocol)
        rows.append([result[k] for k in keys if k in result])
    kept = [k for k in keys if k in result]
    return {"pool": len(pool), **{k: float(v) for k, v in zip(kept, np.mean(rows, 0))}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("records", nargs="+", type=Path, help="model records' folders of samples_seed*.g6")
    parser.add_argument("--dataset", default="planar")
    parser.add_argument("--protocol", default="gran")
    parser.add_argument("--draws", type=int, default=10)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    import torch

    from graphgen.bench.record import provenance
    from graphgen.cli._output import write_json
    from graphgen.data.convert import to_networkx
    from graphgen.datasets import load_dataset
    from graphgen.io import read_graphs

    torch.set_num_threads(1)

    test_data = load_dataset(args.dataset, "test")
    test = [to_networkx(d) for d in test_data]
    result = {
        "dataset": f"{args.dataset}:test ({len(test)} graphs)",
        "protocol": args.protocol,
        "draws": args.draws,
        "test": {"nodes": node_table(test), "per_graph": per_graph(test)},
        "records": {},
    }
    splits = {name: [to_networkx(d) for d in load_dataset(args.dataset, name)] for name in ("train", "val")}
    splits["test"] = test
    result["splits"] = {
        name: {"per_graph": per_graph(graphs), "nodes": node_table(graphs)} for name, graphs in splits.items()
    }
    result["splits"]["test_closed_degree_3_rank"] = closed_rank(splits)
    print("splits", result["splits"], flush=True)
    for folder in args.records:
        files = sorted(folder.glob("samples_seed*.g6"))
        if not files:
            raise SystemExit(f"error: {folder}: no samples_seed*.g6")
        samples = [to_networkx(d) for f in files for d in read_graphs(f)]
        planar = [i for i, g in enumerate(samples) if nx.check_planarity(g)[0]]
        other = sorted(set(range(len(samples))) - set(planar))
        result["records"][str(folder)] = {
            "samples": len(samples),
            "planar_share": len(planar) / len(samples),
            "subsets": {
                name: subset_scores(test_data, samples, pool, args.draws, args.protocol)
                for name, pool in (("all", list(range(len(samples)))), ("planar", planar), ("non_planar", other))
            },
            "nodes": {
                name: node_table([samples[i] for i in pool])
                for name, pool in (("planar", planar), ("non_planar", other))
            },
            "per_graph": {
                name: per_graph([samples[i] for i in pool])
                for name, pool in (("planar", planar), ("non_planar", other))
            },
        }
        print(
            folder, result["records"][str(folder)]["subsets"], result["records"][str(folder)]["per_graph"], flush=True
        )
    result.update(provenance("python metrics/scripts/higen_planar_split.py " + " ".join(sys.argv[1:])))
    write_json(result, args.json)


if __name__ == "__main__":
    main()
