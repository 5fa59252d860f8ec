"""Which sparse COO construction warns "Sparse invariant checks are implicitly disabled" on this torch.

    PYTHONPATH=. python metrics/scripts/sparse_warning_probe.py [DEVICE ...]

On a GPU machine with torch 2.11 + CUDA, ``tests/nn/test_cuda.py`` saw that warning at
``graphgen.nn.tokenizers._mean_pool`` (``sparse_coo_tensor(..., check_invariants=True).coalesce()``,
the first variant here), while the CPU wheel of torch 2.13 is silent for it and warns only without
the argument. Each case runs in a fresh process (torch warns once per process), eight at a time.

Session 28 ran it on an H200 (torch 2.11.0+cu130; the output is kept as
``metrics/results/sparse_warning_probe_cuda.json``): there every construction outside the
``check_sparse_tensor_invariants`` context warns, already when built on the CPU and whatever the
``check_invariants=`` argument says; inside the context, enabled or disabled, nothing warns. Hence
``graphgen.data.ops.sparse_coo``. A probe, not a benchmark: it prints and writes nothing.
"""

import warnings

import torch

rows, cols = torch.tensor([0, 0, 1, 2]), torch.tensor([0, 1, 1, 2])
values = torch.tensor([0.5, 0.5, 1.0, 1.0])


def in_context(enable):
    with torch.sparse.check_sparse_tensor_invariants(enable=enable):
        return torch.sparse_coo_tensor(torch.stack([rows, cols]), values, (3, 3)).coalesce()


VARIANTS = {
    "check_invariants=True + coalesce": lambda: torch.sparse_coo_tensor(
        torch.stack([rows, cols]), values, (3, 3), check_invariants=True
    ).coalesce(),
    "check_invariants=True, no coalesce": lambda: torch.sparse_coo_tensor(
        torch.stack([rows, cols]), values, (3, 3), check_invariants=True
    ),
    "no argument + coalesce": lambda: torch.sparse_coo_tensor(torch.stack([rows, cols]), values, (3, 3)).coalesce(),
    "context manager + coalesce": lambda: in_context(True),
    "context manager (off) + coalesce": lambda: in_context(False),
    "check_invariants=False + coalesce": lambda: torch.sparse_coo_tensor(
        torch.stack([rows, cols]), values, (3, 3), check_invariants=False
    ).coalesce(),
}


def move(p, device, stage):
    """``p`` on ``device`` the way ``stage`` says: a plain ``.to``, or one inside the context with the
    checks explicitly off (``to(off)``) or on (``to(on)``)."""
    explicit = {"to(off)+mm": False, "to(on)+mm": True}.get(stage)
    if explicit is None:
        return p.to(device)
    with torch.sparse.check_sparse_tensor_invariants(enable=explicit):
        return p.to(device)


STAGES = ("build", "to", "to+mm", "to(off)+mm", "to(on)+mm")


def one(device, label, stage):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        p = VARIANTS[label]()
        if stage != "build":
            p = move(p, device, stage)
        if stage.endswith("+mm"):
            torch.sparse.mm(p, torch.randn(3, 2, device=device))
    return "; ".join(f"{w.filename.rsplit('/', 1)[-1]}:{w.lineno}" for w in caught) or "0"


if __name__ == "__main__":
    import subprocess
    import sys

    if len(sys.argv) == 4:  # one case in a fresh process: torch warns once per process
        print(one(*sys.argv[1:]))
        sys.exit()
    from concurrent.futures import ThreadPoolExecutor

    print("torch", torch.__version__)
    devices = sys.argv[1:] or ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    cases = [(d, label, stage) for d in devices for label in VARIANTS for stage in STAGES]

    def run(case):
        return subprocess.run([sys.executable, __file__, *case], capture_output=True, text=True)

    with ThreadPoolExecutor(max_workers=8) as pool:
        for (device, label, stage), out in zip(cases, pool.map(run, cases)):
            print(f"{device:4s} {label:38s} {stage:10s} warnings: {out.stdout.strip() or out.stderr[-200:]}")
