"""Which sparse COO construction warns "Sparse invariant checks are implicitly disabled" on this torch.

    PYTHONPATH=. python metrics/scripts/sparse_warning_probe.py

On a GPU machine with torch 2.11 + CUDA, ``tests/nn/test_cuda.py`` saw that warning at
``graphgen.nn.tokenizers._mean_pool`` (``sparse_coo_tensor(..., check_invariants=True).coalesce()``,
the first variant here), while the CPU wheel of torch 2.13 is silent for it and warns only without
the argument. Each case runs in a fresh process (torch warns once per process). A probe for the next
session with a GPU, not a benchmark: it writes no record.
"""

import warnings

import torch

rows, cols = torch.tensor([0, 0, 1, 2]), torch.tensor([0, 1, 1, 2])
values = torch.tensor([0.5, 0.5, 1.0, 1.0])


def checked():
    with torch.sparse.check_sparse_tensor_invariants(enable=True):
        return torch.sparse_coo_tensor(torch.stack([rows, cols]), values, (3, 3)).coalesce()


VARIANTS = {
    "check_invariants=True + coalesce": lambda: torch.sparse_coo_tensor(
        torch.stack([rows, cols]), values, (3, 3), check_invariants=True
    ).coalesce(),
    "check_invariants=True, no coalesce": lambda: torch.sparse_coo_tensor(
        torch.stack([rows, cols]), values, (3, 3), check_invariants=True
    ),
    "no argument + coalesce": lambda: torch.sparse_coo_tensor(torch.stack([rows, cols]), values, (3, 3)).coalesce(),
    "context manager + coalesce": checked,
    "check_invariants=False + coalesce": lambda: torch.sparse_coo_tensor(
        torch.stack([rows, cols]), values, (3, 3), check_invariants=False
    ).coalesce(),
}


def one(device, label, stage):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        p = VARIANTS[label]()
        if stage == "to+mm":
            torch.sparse.mm(p.to(device), torch.randn(3, 2, device=device))
    return len(caught)


if __name__ == "__main__":
    import subprocess
    import sys

    if len(sys.argv) == 4:  # one case in a fresh process: torch warns once per process
        print(one(*sys.argv[1:]))
        sys.exit()
    print("torch", torch.__version__)
    for device in ["cpu"] + (["cuda"] if torch.cuda.is_available() else []):
        for label in VARIANTS:
            for stage in ("build", "to+mm"):
                out = subprocess.run([sys.executable, __file__, device, label, stage], capture_output=True, text=True)
                print(
                    f"{device:4s} {label:38s} {stage:6s} warnings: {out.stdout.strip() or out.stderr[-200:]}",
                    flush=True,
                )
