"""A/B: HiGen training steps with the suffix table's C++ backward or PyTorch's autograd loop.

The coordinated leaf blocks' likelihood (:mod:`graphgen.models.higen.block_sequence`) needs the
suffix table of elementary symmetric sums of every block; since session 27 training computes it and
its gradient in C++ (:mod:`graphgen.models.higen.esp_kernel`), where before the forward ran as a
Python loop of tensor operations that autograd then walked back. Here both are run in the same
process, alternating (``GRAPHGEN_ESP_KERNEL=1`` / ``0``), for each shipped model given: the first
``--batches`` training batches of its dataset at its own training batch size (hierarchy seeds 0,
1, ...), each a forward and backward pass of the loss on one thread. Reported per model: the
median seconds per pass of all batches each way, their ratio, and how far the losses (float64) and
the last batch's parameter gradients (float32, so often equal) of the two ways differ.

    python metrics/scripts/higen_esp_backward_ab.py [MODEL ...] [--batches 8] [--rounds 3] [--json OUT]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch

from graphgen.bench.record import provenance


def passes(model, batches) -> tuple[float, list[float], torch.Tensor]:
    """Seconds for a forward and backward pass over ``batches``, the losses, the last batch's gradient."""
    start = time.perf_counter()
    losses = []
    for batch in batches:
        model.zero_grad(set_to_none=True)
        loss = model.loss(batch)["loss"]
        loss.backward()
        losses.append(loss.item())
    seconds = time.perf_counter() - start
    grad = torch.cat([p.grad.flatten().double() for p in model.parameters() if p.grad is not None])
    return seconds, losses, grad


def compare(name: str, num_batches: int, rounds: int) -> dict:
    from graphgen.models.higen.esp_kernel import esp_kernel
    from graphgen.models.pretrained import load_model, trained_split

    model, ckpt = load_model(name)
    meta = ckpt.metadata or {}
    size = int(meta.get("train_config", {}).get("batch_size", 16))
    train = trained_split(ckpt, "train")  # its own split protocol and held-out share
    batches = [model.prepare(train[i * size : (i + 1) * size], partition_seed=i) for i in range(num_batches)]
    os.environ["GRAPHGEN_ESP_KERNEL"] = "1"
    if esp_kernel() is None:
        raise SystemExit("the C++ suffix-table kernel cannot be built here: nothing to compare")
    passes(model, batches[:1])  # warm-up
    seconds = {"kernel": [], "autograd_loop": []}
    for _ in range(rounds):
        for way, flag in (("kernel", "1"), ("autograd_loop", "0")):
            os.environ["GRAPHGEN_ESP_KERNEL"] = flag
            s, losses, grad = passes(model, batches)
            seconds[way].append(s)
            if way == "kernel":
                kernel_losses, kernel_grad = losses, grad
            else:
                loop_losses, loop_grad = losses, grad
    os.environ["GRAPHGEN_ESP_KERNEL"] = "1"
    median = {way: statistics.median(v) for way, v in seconds.items()}
    return {
        "model": name,
        "batches": num_batches,
        "batch_size": size,
        "graphs": min(num_batches * size, len(train)),
        "seconds": seconds,
        "median_seconds": median,
        "speedup": median["autograd_loop"] / median["kernel"],
        "max_loss_difference": max(abs(a - b) for a, b in zip(kernel_losses, loop_losses)),
        "max_gradient_difference": float((kernel_grad - loop_grad).abs().max()),
        "max_gradient": float(loop_grad.abs().max()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", default=["higen-planar", "higen-enzymes"])
    parser.add_argument("--batches", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    from graphgen.cli._output import write_json

    torch.set_num_threads(1)
    results = [compare(name, args.batches, args.rounds) for name in args.models]
    for r in results:
        print(
            f"{r['model']}: {r['speedup']:.2f}x ({r['median_seconds']['autograd_loop']:.2f} s -> "
            f"{r['median_seconds']['kernel']:.2f} s), loss diff {r['max_loss_difference']:.1e}"
        )
    write_json(
        {"results": results, **provenance("python metrics/scripts/higen_esp_backward_ab.py " + " ".join(sys.argv[1:]))},
        args.json,
    )


if __name__ == "__main__":
    main()
