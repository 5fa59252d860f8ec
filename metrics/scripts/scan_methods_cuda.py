"""Time and peak GPU memory of graphgen.nn.selective_scan's methods on CUDA, forward + backward.

Run on a GPU machine: ``PYTHONPATH=. python metrics/scripts/scan_methods_cuda.py OUT.json``. The
shapes are the scans the encoders run: GMN's token stage on 100k nodes (100k sequences of 3
tokens), its node stage (one sequence of 100k nodes), a batch of molecules and a middle case; d = 64
channels and n = 16 states as in the encoder benchmark. Inputs are random (float32), the step is
synchronised, the time is the median of three timed steps after a warm-up (one when a step takes
over two seconds). Peak memory is ``torch.cuda.max_memory_allocated`` over the warm-up step minus
what the inputs hold. This chooses what ``method="auto"`` does on CUDA.
"""

from __future__ import annotations

import json
import statistics
import sys
import time

import torch

from graphgen.nn import selective_scan

SHAPES = {  # name: (b, d, n, L)
    "gmn-token-stage-100k": (100_000, 64, 16, 3),
    "gmn-node-stage-100k": (1, 64, 16, 100_000),
    "molecule-batch": (128, 64, 16, 30),
    "middle": (16, 64, 16, 4096),
}
METHODS = ("parallel", "chunked", "sequential")


def _inputs(b, d, n, length, device):
    g = torch.Generator(device=device).manual_seed(0)

    def r(*shape):
        return torch.randn(*shape, generator=g, device=device)

    A = -torch.rand(d, n, generator=g, device=device) - 0.05
    return [r(b, d, length).requires_grad_(), r(b, d, length).requires_grad_(), A.requires_grad_(),
            r(b, n, length).requires_grad_(), r(b, n, length).requires_grad_()]  # fmt: skip


def measure(shape, method, device="cuda"):
    inputs = _inputs(*shape, device)
    torch.cuda.synchronize()

    def step():
        y = selective_scan(*inputs, delta_softplus=True, method=method)
        torch.autograd.grad(y.square().mean(), inputs)
        torch.cuda.synchronize()

    torch.cuda.reset_peak_memory_stats()
    before = torch.cuda.memory_allocated()
    start = time.perf_counter()
    step()
    first = time.perf_counter() - start
    peak_mb = (torch.cuda.max_memory_allocated() - before) / 2**20
    times = []
    for _ in range(1 if first > 2 else 3):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return {"seconds": statistics.median(times), "peak_memory_mb": peak_mb}


def main(path):
    records = []
    for name, shape in SHAPES.items():
        for method in METHODS:
            try:
                record = measure(shape, method)
            except torch.OutOfMemoryError:
                record = {"failed": "out of GPU memory"}
            torch.cuda.empty_cache()
            records.append({"shape": name, "b_d_n_L": list(shape), "method": method, **record})
            print(json.dumps(records[-1]), flush=True)
    result = {
        "command": "PYTHONPATH=. python metrics/scripts/scan_methods_cuda.py OUT.json",
        "device": torch.cuda.get_device_name(),
        "torch": torch.__version__,
        "records": records,
    }
    with open(path, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
