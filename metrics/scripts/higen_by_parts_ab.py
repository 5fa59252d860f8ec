"""A/B: HiGen's networks with their first linears applied by parts (the code) or as written.

Since session 10 the GRAN message-passing layer, the community network's entry head and the
bipartite pair scores apply their first linear by parts (``W [x; y] = W_x x + W_y y``, the node
part once per node instead of once per edge, candidate or pair). The literal formulas stay in the
modules as references (``_GranLayer.literal``, ``CommunityNet.literal_entry_logits``,
``BipartiteNet.literal_scores``); here they are patched in and out of the same process, alternating:

* training: one epoch of the default HiGen configuration on enzymes' training split (batch 16,
  seed 0, one thread), graphs per second of the optimisation;
* sampling: ``higen-enzymes`` draws 117 graphs (the test split's count; seed 0), seconds, and whether both ways give the
  same graphs (float rounding may flip a draw; the shipped models' recorded samples are unchanged).

    python metrics/scripts/higen_by_parts_ab.py [--rounds 3] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from contextlib import contextmanager
from pathlib import Path

import torch

from graphgen.bench.record import provenance
from graphgen.models.higen.bipartite_net import BipartiteNet
from graphgen.models.higen.community_net import CommunityNet, _GranLayer

PATCHES = (
    (_GranLayer, "forward", _GranLayer.literal),
    (CommunityNet, "_entry_logits", CommunityNet.literal_entry_logits),
    (
        BipartiteNet,
        "forward",
        lambda self, g, parent, pairs: self.literal_scores(self.node_embeddings(g, parent), pairs),
    ),
)


@contextmanager
def written_as_literal(on: bool):
    saved = [(cls, name, getattr(cls, name)) for cls, name, _ in PATCHES]
    try:
        if on:
            for cls, name, literal in PATCHES:
                setattr(cls, name, literal)
        yield
    finally:
        for cls, name, original in saved:
            setattr(cls, name, original)


def training_epoch(batches, literal: bool) -> float:
    from graphgen.models.higen import HiGen, HiGenConfig

    torch.manual_seed(0)
    model = HiGen(HiGenConfig())
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    with written_as_literal(literal):
        start = time.perf_counter()
        for batch in batches:
            loss = model.loss(batch)["loss"]
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return time.perf_counter() - start


def sampling(model, literal: bool) -> tuple[float, list]:
    with written_as_literal(literal):
        start = time.perf_counter()
        graphs = model.sample(117, generator=torch.Generator().manual_seed(0))
        seconds = time.perf_counter() - start
    return seconds, [g.edge_index.tolist() for g in graphs]


def main() -> None:
    from graphgen.datasets import load_dataset
    from graphgen.models.higen import HiGen, HiGenConfig

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    graphs = load_dataset("enzymes", "train")
    preparer = HiGen(HiGenConfig()).fit_size_model(graphs)
    batches = [preparer.prepare(graphs[i : i + 16]) for i in range(0, len(graphs), 16)]
    model = HiGen.from_pretrained("higen-enzymes")
    runs = {
        "by_parts": {"train_seconds": [], "sample_seconds": []},
        "literal": {"train_seconds": [], "sample_seconds": []},
    }
    sampling(model, False)  # warm-up: the first sample may build the native kernels
    same = True
    for _ in range(args.rounds):
        drawn = {}
        for name, literal in (("literal", True), ("by_parts", False)):
            runs[name]["train_seconds"].append(training_epoch(batches, literal))
            seconds, drawn[name] = sampling(model, literal)
            runs[name]["sample_seconds"].append(seconds)
        same = same and drawn["literal"] == drawn["by_parts"]
    median = {name: {k: statistics.median(v) for k, v in r.items()} for name, r in runs.items()}
    record = {
        **provenance("python metrics/scripts/higen_by_parts_ab.py" + f" --rounds {args.rounds}"),
        "runs": runs,
        "median": median,
        "train_graphs_per_second": {name: len(graphs) / m["train_seconds"] for name, m in median.items()},
        "train_speedup": median["literal"]["train_seconds"] / median["by_parts"]["train_seconds"],
        "sample_speedup": median["literal"]["sample_seconds"] / median["by_parts"]["sample_seconds"],
        "samples_identical": same,
        "note": "alternating runs in one process, 1 thread; ratios, not absolutes, on a shared machine",
    }
    text = json.dumps(record, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
