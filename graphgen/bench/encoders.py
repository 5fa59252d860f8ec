"""Encoder benchmark: forward + backward time and peak memory of one large graph, GMN / GSM++ vs GPS.

Each point runs in a fresh subprocess (``python -m graphgen.bench.encoders MODEL NUM_NODES``) on a
sparse random graph (``3 n`` random node pairs, mean degree about 6, seed 0) with 16 random input
features, torch on one thread. It builds the model (hidden 64, 2 layers), runs one forward and
backward pass to warm up, then times a second one. ``peak_memory_mb`` is the process's peak
resident set during the first step minus its resident set just before it (Linux: the peak is reset
through ``/proc/self/clear_refs`` and read from ``VmHWM``), so it covers activations, gradients and
the tokenizers' work, not the imports.

Models: ``gmn`` (:class:`graphgen.nn.GraphMamba`, m = 2, s = 1, M = 4, GINE), ``gmn-m0`` (the same
with m = 0: node tokens only, GraphGPS with a bidirectional Mamba in place of attention), ``gsm++``
(:class:`graphgen.nn.GSMPlusPlus`, HAC-BFS tokens, GatedGCN, full attention as in the paper),
``gsm++-window`` (the same with ``attention_window=256``: attention within windows of 256
consecutive HAC-BFS tokens, linear in ``n``; our option, not the paper's), ``gps`` (PyG ``GPSConv`` with a GIN
local model and 4-head full attention: the quadratic baseline). PyTorch's CPU attention kernel
never materialises the ``n x n`` matrix, so attention's *memory* grows linearly here; its *time*
grows as ``n^2``. Past ``MAX_NODES`` a model is not run; the record gives the extrapolated time and
memory instead. The Mamba layers scan with :func:`graphgen.nn.selective_scan`'s default, the fused
C++ kernel of :mod:`graphgen.nn.scan_kernel` when it builds (``GRAPHGEN_SCAN_KERNEL=0``: PyTorch).

``device="cuda"`` (``graphgen bench encoders --part scaling --device cuda``) runs the same points on
the GPU, in this process (one CUDA start-up for the whole run) with torch's default CPU threads for
the tokenizers, which run on the CPU (see :mod:`graphgen.nn.tokenizers`). A point is timed as the
median of three synchronised forward + backward steps after the warm-up step, and
``peak_memory_mb`` is ``torch.cuda.max_memory_allocated`` during the warm-up step minus the memory
allocated before it (the model and the graph). The Mamba layers then scan with the parallel scan
(or ``mamba_ssm``'s kernel where installed); PyTorch's CUDA attention kernels keep attention's
memory linear. Every model runs at every size there (``MAX_NODES`` is the CPU's limit); a point
that runs out of GPU memory is recorded as failed and the run goes on.
"""

from __future__ import annotations

import json
import sys

from graphgen.bench.record import PeakMemory, point_in_subprocess

SIZES = (1_000, 3_000, 10_000, 30_000, 100_000)
QUICK_SIZES = (1_000, 3_000)
MODELS = ("gmn", "gmn-m0", "gsm++", "gsm++-window", "gps")
# largest size each model is run at, and why not beyond (extrapolated from the measured points)
MAX_NODES = {"gmn": 100_000, "gmn-m0": 100_000, "gsm++": 30_000, "gsm++-window": 100_000, "gps": 30_000}
CUDA_REPEATS = 3  # timed steps per point on a GPU (median); one step takes milliseconds there
WHY_NOT = {"gmn": "memory", "gsm++": "time (its attention layer)", "gps": "time (n^2 attention)"}
HIDDEN, LAYERS, FEATURES = 64, 2, 16
ATTENTION_WINDOW = 256  # gsm++-window: its Transformer block attends within windows of this many tokens


def _graph(num_nodes: int):
    import torch

    g = torch.Generator().manual_seed(0)
    pairs = torch.randint(0, num_nodes, (2, 3 * num_nodes), generator=g)
    pairs = pairs[:, pairs[0] != pairs[1]]
    ei = torch.unique(torch.cat([pairs, pairs.flip(0)], 1), dim=1)
    return torch.randn(num_nodes, FEATURES, generator=g), ei


def _model(name: str):
    import torch
    from torch import nn

    if name in ("gmn", "gmn-m0"):
        from graphgen.nn import GraphMamba, GraphMambaConfig

        m = 2 if name == "gmn" else 0
        return GraphMamba(GraphMambaConfig(FEATURES, hidden=HIDDEN, num_layers=LAYERS, m=m, s=1, M=4, eval_orderings=1))
    if name in ("gsm++", "gsm++-window"):
        from graphgen.nn import GSMPlusPlus, GSMPlusPlusConfig

        window = ATTENTION_WINDOW if name == "gsm++-window" else None
        config = GSMPlusPlusConfig(
            FEATURES, hidden=HIDDEN, num_layers=LAYERS, eval_orderings=1, attention_window=window
        )
        return GSMPlusPlus(config)
    if name == "gps":
        from torch_geometric.nn import GINConv, GPSConv

        class GPS(nn.Module):
            def __init__(self):
                super().__init__()
                self.input = nn.Linear(FEATURES, HIDDEN)
                self.layers = nn.ModuleList(
                    GPSConv(
                        HIDDEN,
                        GINConv(nn.Sequential(nn.Linear(HIDDEN, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN))),
                        heads=4,
                        norm="layer_norm",
                    )
                    for _ in range(LAYERS)
                )

            def forward(self, x, edge_index):
                h = self.input(x)
                batch = torch.zeros(x.shape[0], dtype=torch.long, device=x.device)
                for layer in self.layers:
                    h = layer(h, edge_index, batch=batch)
                return h

        return GPS()
    raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")


def point(name: str, num_nodes: int, device: str = "cpu") -> dict:
    """One scaling point in this process (see the module docstring)."""
    import statistics
    import time

    import torch

    cuda = device != "cpu"
    if not cuda:
        torch.set_num_threads(1)
    torch.manual_seed(0)
    x, ei = _graph(num_nodes)
    x, ei = x.to(device), ei.to(device)
    model = _model(name).to(device)

    def step():
        model.zero_grad()
        out = model(x, ei)
        out.square().mean().backward()
        if cuda:
            torch.cuda.synchronize(device)

    if cuda:
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
        step()
        peak_mb = (torch.cuda.max_memory_allocated(device) - before) / 2**20
    else:
        with PeakMemory() as memory:
            step()  # the first step measures memory (nothing cached by the allocator yet) and warms up
        peak_mb = memory.mb
    times = []
    for _ in range(CUDA_REPEATS if cuda else 1):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return {
        "model": name,
        "num_nodes": num_nodes,
        "num_edges": int(ei.shape[1] // 2),
        "seconds": statistics.median(times),
        "peak_memory_mb": peak_mb,
        "params": sum(p.numel() for p in model.parameters()),
    }


def _cuda_point(name: str, num_nodes: int, device: str) -> dict:
    """:func:`point` on the GPU in this process; running out of GPU memory is a failed point."""
    import torch

    try:
        return point(name, num_nodes, device)
    except torch.OutOfMemoryError:
        return {"failed": "out of GPU memory"}
    finally:
        torch.cuda.empty_cache()


def run(quick: bool = False, device: str = "cpu") -> dict:
    """The scaling records, their ratios to GPS and the setup (the caller adds provenance)."""
    import torch

    records = []
    for n in QUICK_SIZES if quick else SIZES:
        for name in MODELS:
            if device == "cpu" and n > MAX_NODES[name]:  # on a GPU every model runs at every size
                last = next(r for r in reversed(records) if r["model"] == name and "seconds" in r)
                scale = n / last["num_nodes"]
                time_power = 2 if name in ("gps", "gsm++") else 1
                records.append(
                    {
                        "model": name,
                        "num_nodes": n,
                        "skipped": f"{WHY_NOT[name]}: ~{last['seconds'] * scale**time_power:.0f} s, "
                        f"~{last['peak_memory_mb'] * scale / 1024:.0f} GB extrapolated",
                    }
                )
                continue
            if device == "cpu":
                record = point_in_subprocess("graphgen.bench.encoders", name, n, timeout=1800)
            else:
                record = _cuda_point(name, n, device)
            records.append({"model": name, "num_nodes": n, **record} if "failed" in record else record)
    ratios = {}
    for n in QUICK_SIZES if quick else SIZES:
        by = {r["model"]: r for r in records if r["num_nodes"] == n and "seconds" in r}
        if "gps" in by:
            ratios[str(n)] = {
                m: {
                    "time_ratio_gps_over_model": by["gps"]["seconds"] / by[m]["seconds"],
                    "memory_ratio_gps_over_model": by["gps"]["peak_memory_mb"] / max(by[m]["peak_memory_mb"], 1e-3),
                }
                for m in MODELS
                if m in by and m != "gps"
            }
    return {
        "scaling": records,
        "scaling_ratios_vs_gps": ratios,
        "setup": {
            "hidden": HIDDEN,
            "layers": LAYERS,
            "features": FEATURES,
            "device": device if device == "cpu" else torch.cuda.get_device_name(device),
            "torch_threads": 1 if device == "cpu" else torch.get_num_threads(),
            "timed_steps": 1 if device == "cpu" else CUDA_REPEATS,
            "mean_degree": 6,
            "gsm++-window attention_window": ATTENTION_WINDOW,
        },
    }


if __name__ == "__main__":
    print(json.dumps(point(sys.argv[1], int(sys.argv[2]))))
