"""HiGen training under ``torchrun`` with two processes (DDP, gloo on CPU)."""

import os
import subprocess
import sys

import pytest
import torch

from graphgen.datasets import load_dataset
from graphgen.io.checkpoint import load_checkpoint
from graphgen.models.higen import HiGen, HiGenConfig

pytestmark = pytest.mark.slow


def test_two_processes_average_their_gradients_like_one_process_on_both_batches(tmp_path):
    out = tmp_path / "ddp.pt"
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        "2",
        "-m",
        "graphgen",
        "train",
        "higen",
        "--dataset",
        "community_small",
        "--epochs",
        "1",
        "--batch-size",
        "40",  # 80 training graphs: one batch per process
        "--hidden",
        "16",
        "--num-layers",
        "1",
        "--seed",
        "3",
        "--out",
        str(out),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stderr.count("trained higen") == 1  # rank 0 alone reports
    ckpt = load_checkpoint(out)
    assert ckpt.metadata["processes"] == 2

    # one process, one optimizer step on the mean of the two batches' losses
    train = load_dataset("community_small", "train")
    torch.manual_seed(3)
    model = HiGen(HiGenConfig(hidden=16, num_layers=1)).fit_size_model(train)
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    batches = [model.prepare(train[:40]), model.prepare(train[40:])]
    losses = [model.loss(b)["loss"] for b in batches]
    ((losses[0] + losses[1]) / 2).backward()
    optimizer.step()
    moved = 0
    for name, value in model.state_dict().items():
        assert torch.allclose(ckpt.state_dict[name], value, atol=1e-6, rtol=0), name
        moved += int(not torch.equal(value, initial[name]))
    assert moved > 10  # the step changed the parameters, so the comparison means something
    # the reported loss: both ranks' batches, weighted by their edges
    edges = [b.num_edges for b in batches]
    expected = sum(float(x.detach()) * e for x, e in zip(losses, edges)) / sum(edges)
    assert ckpt.metadata["history"][0]["train_nll_per_edge"] == pytest.approx(expected, rel=1e-9)


def test_two_processes_refit_the_size_head_once_over_every_batch(tmp_path):
    """--refit-size-head under torchrun: the checkpoint rank 0 writes holds the size head refitted over
    every training batch (both ranks' batches), recorded once."""
    from graphgen.models.higen import refit_size_head

    out = tmp_path / "ddp.pt"
    flags = ["--epochs", "1", "--batch-size", "40", "--hidden", "16", "--num-layers", "1", "--seed", "3"]
    flags += ["--community-size", "explicit", "--size-share", "--refit-size-head", "20", "--out", str(out)]
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    cmd += ["-m", "graphgen", "train", "higen", "--dataset", "community_small", *flags]
    done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stderr.count("size head refitted") == 1
    ckpt = load_checkpoint(out)
    record = ckpt.metadata["size_head_refit"]
    assert ckpt.metadata["processes"] == 2 and record["steps"] == 20 and record["nll_after"] < record["nll_before"]
    model = HiGen.from_checkpoint(ckpt)
    train = load_dataset("community_small", "train")
    batches = [model.prepare(train[:40]), model.prepare(train[40:])]
    check = refit_size_head(model, batches, steps=0)
    assert check["communities"] == record["communities"]
    assert check["nll_before"] == pytest.approx(record["nll_after"], rel=1e-9)
