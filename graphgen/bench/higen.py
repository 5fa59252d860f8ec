"""HiGen speed and scale: hierarchical against flat sampling, and training throughput.

**Sampling vs graph size.** Two models with the same networks (hidden 32, 2 GRAN layers,
2 mixture components) are trained for ``epochs`` epochs (seed 0) on a generated large-SBM set
(:func:`graphgen.datasets.synthetic.large_sbm_graphs`: blocks of 20-60 nodes, sparse block
graph), in a temporary directory:

* ``hierarchical``: HiGen with two levels (communities generated in parallel, then cross blocks),
  trained on 8 graphs of 250 to ``max_train_nodes`` (default 5,000: the sizes it is asked for)
  nodes (geometric sizes);
* ``flat``: the same model with one level -- the whole graph is one community generated node by
  node, GRAN-style. Its teacher-forced prefix batch grows as ``N²``, so it trains on 4 graphs of
  250 to 400 nodes.

Both are trained briefly (CPU budget): they are speed subjects, not quality models, and the node
count they generate for a target can be far from it -- hence the comparison at generated size.
They use HiGen's defaults except the per-row stop decision, which is off unless ``--row-stop`` is
given: after 8 epochs its coarse rows end the community sequence far too early (288 nodes for the
5,000 target, ``metrics/results/bench_higen_new_defaults.json``), which leaves nothing to measure.

Each sampling point runs in a fresh subprocess (``python -m graphgen.bench.higen CKPT TARGET``):
one graph drawn with ``num_nodes=TARGET`` (seed 0, one torch thread; the C++ suffix-table kernel loaded,
or built, before the clock starts), timed, with the peak
resident memory it added (``VmHWM``, :class:`~graphgen.bench.record.PeakMemory`). The node count
of a sample *emerges* from the model, so every record holds the nodes and edges actually
generated, and the two models are compared at equal **generated** size: each curve is
interpolated in log-log coordinates at ``compare_at`` nodes and at ``compare_edges`` edges (the
root budget, which both models spend exactly for the same target, while the node count they put
it on emerges), and its growth exponent is the least-squares slope of log seconds on log nodes
(and on log edges) -- see :func:`summarise`. A flat point slower than ``flat_limit_seconds``
ends the flat curve (the remaining targets are recorded as skipped, with an ``N²`` estimate).

**A 5,000-node sample.** The briefly trained hierarchical model generates fewer nodes than asked
for large targets (it packs the root budget into fewer, denser communities: 2,178 nodes with
21,535 edges for the 5,000 target after 24 epochs). So its curve continues past the last target,
doubling it (at most :data:`MAX_DOUBLINGS` times) until a sample has ``goal_nodes`` (5,000) nodes;
that sample is denser than the training graphs (more edges per node), so its time is an upper
bound for a 5,000-node graph of the training density. ``goal`` in the JSON records it.

**Which subjects meet the goals.** A level takes as many sampling steps as its largest community,
so sampling time follows how the subject splits the root budget. After the default 8 epochs the
coarse level makes too few communities with too large budgets, and with emergent sizes the node
count misses the target (dense hierarchical samples, sparse flat ones). ``--community-size explicit
--epochs 40`` (about 30 minutes of training) gives both subjects about the target's node count and
communities no larger than the data's scale: ``metrics/results/bench_higen_explicit_sizes_40_epochs.json``
(13.9x at 2,000 nodes, a 5,985-node sample in 25.6 s).

**Training throughput** on enzymes-sized graphs: the default HiGen configuration trained for
``throughput_epochs`` epochs on the enzymes training split (470 graphs of 10-125 nodes), batch 16,
one thread; graphs per second of the optimisation alone, plus the one-off preparation time
(Louvain, ordering, teacher-forcing tensors) reported apart.
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
import time
from pathlib import Path

from graphgen.bench.record import point_in_subprocess

HIDDEN, LAYERS, MIXTURES = 32, 2, 2
TARGETS = (250, 500, 1000, 2000, 5000)
QUICK_TARGETS = (250, 500, 1000)
GOAL_NODES, QUICK_GOAL_NODES = 5000, 1000  # the hierarchical curve goes on until a sample is this large
MAX_DOUBLINGS = 3


def _training_graphs(min_nodes: int, max_nodes: int, count: int = 8, seed: int = 100):
    from graphgen.datasets import generate

    sizes = sorted({round(min_nodes * (max_nodes / min_nodes) ** (i / max(count - 1, 1))) for i in range(count)})
    return [generate("large_sbm", 1, num_nodes=n, seed=seed + i)[0] for i, n in enumerate(sizes)]


def _train(levels: int, graphs, out: Path, epochs: int, options: dict | None = None) -> dict:
    """Train one speed subject; ``options`` are :class:`HiGenConfig` fields (e.g. ``row_stop``)."""
    from graphgen.models.higen import HiGenConfig, TrainConfig, train_higen

    config = HiGenConfig(num_levels=levels, hidden=HIDDEN, num_layers=LAYERS, num_mixtures=MIXTURES, **(options or {}))
    start = time.perf_counter()
    train_config = TrainConfig(epochs=epochs, batch_size=2, lr=3e-3)
    result = train_higen(graphs, out, model_config=config, train_config=train_config)
    return {
        "levels": levels,
        "train_graphs": len(graphs),
        "train_nodes": [min(int(g.num_nodes) for g in graphs), max(int(g.num_nodes) for g in graphs)],
        "epochs": epochs,
        "size_context": config.size_context,
        "row_stop": config.row_stop,
        "cross_edges": config.cross_edges,
        "community_size": config.community_size,
        "train_seconds": time.perf_counter() - start,
        "final_train_nll_per_edge": result["history"][-1]["train_nll_per_edge"],
    }


def point(checkpoint: str, target: int) -> dict:
    """One sampling point in this process (see the module docstring)."""
    import torch

    from graphgen.bench.record import PeakMemory
    from graphgen.models.higen import HiGen, esp_kernel

    torch.set_num_threads(1)
    model = HiGen.from_pretrained(checkpoint)
    # the C++ suffix table is built once per Python environment (about half a minute) and loaded once per process:
    # both happen here, not in the timed draw (session 45's run timed a build into its first point)
    esp_kernel.esp_kernel()
    with PeakMemory() as memory:
        start = time.perf_counter()
        graph = model.sample(1, generator=torch.Generator().manual_seed(0), num_nodes=target)[0]
        seconds = time.perf_counter() - start
    return {
        "target_nodes": target,
        "nodes": int(graph.num_nodes),
        "edges": int(graph.edge_index.shape[1]) // 2,
        "communities": int(graph.community.max()) + 1 if graph.num_nodes else 0,
        "seconds": seconds,
        "peak_memory_mb": memory.mb,
    }


def _log_fit(points: list[dict], key: str = "nodes") -> float | None:
    """Least-squares slope of log seconds on log generated ``key`` (the growth exponent)."""
    xs = [math.log(p[key]) for p in points]
    ys = [math.log(p["seconds"]) for p in points]
    if len(xs) < 2 or max(xs) == min(xs):
        return None
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def seconds_at(points: list[dict], size: float, key: str = "nodes") -> float | None:
    """Seconds at ``size`` generated ``key`` (nodes or edges) by log-log interpolation between the
    bracketing points.

    >>> seconds_at([{"nodes": 100, "seconds": 1.0}, {"nodes": 1000, "seconds": 100.0}], 316.2277660168379)
    10.000000000000002
    """
    pts = sorted((p[key], p["seconds"]) for p in points)
    for (n0, s0), (n1, s1) in zip(pts, pts[1:]):
        if n0 <= size <= n1 and n1 > n0:
            w = (math.log(size) - math.log(n0)) / (math.log(n1) - math.log(n0))
            return math.exp((1 - w) * math.log(s0) + w * math.log(s1))
    return None


def summarise(sampling: list[dict], compare_at: int, compare_edges: int) -> dict:
    """Growth exponents and the flat/hierarchical time ratio at equal generated nodes and at equal
    generated edges (both models spend the same root edge budget for a target, so edges are the
    size they are given; the nodes emerge, and an undertrained model packs them differently)."""
    summary = {}
    for name in ("hierarchical", "flat"):
        done = [r for r in sampling if r["model"] == name and "seconds" in r]
        summary[name] = {
            "growth_exponent": _log_fit(done),
            "growth_exponent_in_edges": _log_fit(done, "edges"),
            f"seconds_at_{compare_at}_nodes": seconds_at(done, compare_at),
            f"seconds_at_{compare_edges}_edges": seconds_at(done, compare_edges, "edges"),
        }

    def ratio(key: str) -> float | None:
        hier, flat = summary["hierarchical"][key], summary["flat"][key]
        return flat / hier if hier and flat else None

    return {
        "summary": summary,
        "speedup_at_compare_size": ratio(f"seconds_at_{compare_at}_nodes"),
        "compare_at_nodes": compare_at,
        "speedup_at_compare_edges": ratio(f"seconds_at_{compare_edges}_edges"),
        "compare_at_edges": compare_edges,
    }


def _curve(checkpoint: Path, targets, limit: float | None, timeout: float, reach: int | None = None) -> list[dict]:
    """Sampling points for ``targets``; with ``reach``, doubling the last target (at most
    :data:`MAX_DOUBLINGS` times) until a sample has ``reach`` nodes."""
    records = []
    targets = list(targets)
    doublings = 0
    while targets:
        target = targets.pop(0)
        done = [r for r in records if "seconds" in r]
        if limit is not None and done and done[-1]["seconds"] > limit:
            last = done[-1]
            estimate = last["seconds"] * (target / last["nodes"]) ** 2
            records.append({"target_nodes": target, "skipped": f"over the time limit: ~{estimate:.0f} s by N^2"})
            continue
        record = point_in_subprocess("graphgen.bench.higen", checkpoint, target, timeout=timeout)
        records.append({"target_nodes": target, **record} if "failed" in record else record)
        short = reach is not None and all(r.get("nodes", 0) < reach for r in records)
        if not targets and short and "seconds" in record and doublings < MAX_DOUBLINGS:
            targets.append(2 * target)
            doublings += 1
    return records


def goal(sampling: list[dict], nodes: int) -> dict:
    """The first hierarchical sample with at least ``nodes`` nodes, and the seconds interpolated at
    exactly ``nodes`` generated nodes."""
    done = [r for r in sampling if r["model"] == "hierarchical" and "seconds" in r]
    reached = [r for r in done if r["nodes"] >= nodes]
    first = min(reached, key=lambda r: r["nodes"]) if reached else None
    return {
        "nodes": nodes,
        "first_sample_at_least_that_large": first,
        f"seconds_at_{nodes}_nodes": seconds_at(done, nodes),
        "under_a_minute": bool(first and first["seconds"] < 60),
    }


def _throughput(epochs: int) -> dict:
    import torch

    from graphgen.datasets import load_dataset
    from graphgen.models.higen import HiGen, HiGenConfig

    graphs = load_dataset("enzymes", "train")
    torch.manual_seed(0)
    torch.set_num_threads(1)
    model = HiGen(HiGenConfig()).fit_size_model(graphs)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    start = time.perf_counter()
    batches = [model.prepare(graphs[i : i + 16]) for i in range(0, len(graphs), 16)]
    prepare_seconds = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(epochs):
        for batch in batches:
            loss = model.loss(batch)["loss"]
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    seconds = time.perf_counter() - start
    return {
        "dataset": "enzymes:train",
        "graphs": len(graphs),
        "epochs": epochs,
        "batch_size": 16,
        "config": "HiGenConfig() defaults (hidden 64, 3 layers, 4 mixtures, 2 levels)",
        "prepare_seconds": prepare_seconds,
        "seconds_per_epoch": seconds / epochs,
        "graphs_per_second": len(graphs) * epochs / seconds,
    }


def run(
    quick: bool = False,
    *,
    epochs: int | None = None,
    max_train_nodes: int | None = None,
    flat_limit_seconds: float = 60.0,
    compare_at: int = 2000,
    compare_edges: int = 8000,
    throughput_epochs: int = 2,
    goal_nodes: int | None = None,
    subject_options: dict | None = None,
) -> dict:
    """The records (the caller adds provenance); see the module docstring."""
    epochs = epochs or (2 if quick else 8)
    targets = QUICK_TARGETS if quick else TARGETS
    max_train_nodes = max_train_nodes or (500 if quick else 5000)
    goal_nodes = goal_nodes or (QUICK_GOAL_NODES if quick else GOAL_NODES)
    compare_at = min(compare_at, 500) if quick else compare_at
    compare_edges = min(compare_edges, 2000) if quick else compare_edges
    with tempfile.TemporaryDirectory(prefix="graphgen-bench-higen-") as tmp:
        hier_ckpt, flat_ckpt = Path(tmp) / "hierarchical.pt", Path(tmp) / "flat.pt"
        training = {
            "hierarchical": _train(2, _training_graphs(250, max_train_nodes), hier_ckpt, epochs, subject_options),
            "flat": _train(1, _training_graphs(250, 400, count=4), flat_ckpt, epochs, subject_options),
        }
        curves = {
            "hierarchical": _curve(hier_ckpt, targets, None, timeout=1800, reach=goal_nodes),
            "flat": _curve(flat_ckpt, targets, flat_limit_seconds, timeout=1800),
        }
    sampling = [{"model": m, **r} for m, rs in curves.items() for r in rs]
    return {
        "training": training,
        "sampling": sampling,
        **summarise(sampling, compare_at, compare_edges),
        "goal": goal(sampling, goal_nodes),
        "throughput": _throughput(1 if quick else throughput_epochs),
        "setup": {
            "hidden": HIDDEN,
            "layers": LAYERS,
            "mixtures": MIXTURES,
            "torch_threads": 1,
            "sampling_seed": 0,
            "targets": list(targets),
            "flat_limit_seconds": flat_limit_seconds,
        },
    }


if __name__ == "__main__":
    print(json.dumps(point(sys.argv[1], int(sys.argv[2]))))
