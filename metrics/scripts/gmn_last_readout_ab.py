"""A/B: GMN (m=2) forward+backward at 10k nodes with and without the exact last-position read-out.

The walk-token stage reads each node's token sequence at its last position only;
``MambaBlock.forward_last`` scans the backward direction on that one token (exact, tested in
tests/nn/test_mamba.py). Here the same model runs both ways, alternating, in one process.
Recorded as metrics/results/gmn_last_readout_ab.json.
"""

import json
import statistics
import sys
import time

import torch

from graphgen.bench.encoders import _graph, _model
from graphgen.bench.record import provenance
from graphgen.nn.mamba import MambaBlock

torch.set_num_threads(1)
num_nodes = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
x, ei = _graph(num_nodes)
model = _model("gmn")
original = MambaBlock.forward_last


def step():
    model.zero_grad()
    model(x, ei).square().mean().backward()


def timed(last_readout: bool) -> float:
    if last_readout:
        MambaBlock.forward_last = original
    elif hasattr(MambaBlock, "forward_last"):
        del MambaBlock.forward_last  # SequenceEncoder falls back to the full block
    torch.manual_seed(0)
    start = time.perf_counter()
    step()
    seconds = time.perf_counter() - start
    MambaBlock.forward_last = original
    return seconds


timed(True)  # warm-up
runs = {"full_block": [], "last_readout": []}
for _ in range(3):
    runs["full_block"].append(timed(False))
    runs["last_readout"].append(timed(True))
record = {
    **provenance("python metrics/scripts/gmn_last_readout_ab.py " + str(num_nodes)),
    "num_nodes": num_nodes,
    "model": "gmn (m=2, s=1, M=4, hidden 64, 2 layers)",
    "seconds": runs,
    "median_seconds": {k: statistics.median(v) for k, v in runs.items()},
    "speedup": statistics.median(runs["full_block"]) / statistics.median(runs["last_readout"]),
    "note": "alternating runs in one process; the machine was shared with training runs (ratios, not absolutes)",
}
print(json.dumps(record, indent=1))
