"""The CUDA paths of graphgen.nn against the CPU: the scans, the blocks, both encoders, the benchmark point.

Skipped without a CUDA GPU (CI has none); run on a GPU machine with
``GRAPHGEN_SCAN_KERNEL=0 pytest tests/nn/test_cuda.py`` (the kernel switch only skips building the
CPU kernel there: the CPU references below then use the pure-PyTorch scans, which the CPU tests
already tie to the kernel). Every check runs the same inputs and weights on both devices; tokenizers
run on the CPU (see :mod:`graphgen.nn.tokenizers`), so the encoders see identical tokens on both.
"""

from __future__ import annotations

import copy

import pytest
import torch

from graphgen.nn import MambaBlock, MambaConfig, TransformerBlock, selective_scan, selective_scan_ref
from graphgen.nn import scan as scan_module
from graphgen.nn.encoders import GSMPlusPlus, GSMPlusPlusConfig
from tests.nn.test_encoders import CONFIGS, _batch
from tests.nn.test_scan import _inputs

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
CUDA = torch.device("cuda")


def _to(tensors: dict, device) -> dict:
    return {k: v.detach().to(device).requires_grad_() for k, v in tensors.items()}


def _relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.detach().cpu().double(), b.detach().cpu().double()
    return float((a - b).norm() / b.norm().clamp(min=1e-30))


def test_auto_scan_resolves_to_the_parallel_scan_on_cuda_except_for_short_sequences():
    short, long = scan_module.SHORT_SCAN, scan_module.SHORT_SCAN + 1
    assert scan_module._resolve("auto", torch.zeros(long, 2, device=CUDA)) == "parallel"
    assert scan_module._resolve("auto", torch.zeros(short, 2, device=CUDA)) == "sequential"
    assert scan_module._resolve("auto", torch.zeros(long, 2)) == "sequential"


@pytest.mark.parametrize("method", ["auto", "sequential", "parallel", "chunked"])
@pytest.mark.parametrize("shape", [(2, 3, 4, 1), (3, 2, 5, 33), (1, 4, 2, 100)])
def test_selective_scan_on_cuda_equals_the_cpu_reference_in_float64(method, shape):
    if method == "auto" and scan_module._mamba_ssm_kernel() is not None:
        pytest.skip("auto dispatches to mamba_ssm's kernel here, which is not a float64 kernel")
    kw = _inputs(*shape)
    ref = selective_scan_ref(**kw, delta_softplus=True)
    on_gpu = _to(kw, CUDA)
    fast = selective_scan(**on_gpu, delta_softplus=True, method=method, chunk=3)
    assert fast.is_cuda
    torch.testing.assert_close(fast.cpu(), ref, rtol=1e-10, atol=1e-12)
    weights = torch.randn(ref.shape, generator=torch.Generator().manual_seed(9), dtype=ref.dtype)
    g_ref = torch.autograd.grad((ref * weights).sum(), list(kw.values()))
    g_fast = torch.autograd.grad((fast * weights.to(CUDA)).sum(), list(on_gpu.values()))
    for name, a, b in zip(kw, g_fast, g_ref):
        torch.testing.assert_close(a.cpu(), b, rtol=1e-9, atol=1e-11, msg=name)


def test_float32_parallel_scan_on_cuda_is_within_float_rounding_of_float64():
    kw = _inputs(8, 64, 16, 256, seed=5)
    ref = selective_scan_ref(**kw, delta_softplus=True)
    on_gpu = _to({k: v.float() for k, v in kw.items()}, CUDA)
    fast = selective_scan(**on_gpu, delta_softplus=True)
    assert _relative_error(fast, ref) < 1e-5
    g_ref = torch.autograd.grad(ref.square().sum(), list(kw.values()))
    g_fast = torch.autograd.grad(fast.square().sum(), list(on_gpu.values()))
    for name, a, b in zip(kw, g_fast, g_ref):
        assert _relative_error(a, b) < 1e-4, name


def test_a_100k_step_sequence_on_cuda_stays_finite_and_matches_the_cpu():
    b, d, n, length = 1, 4, 4, 100_000
    g = torch.Generator().manual_seed(0)
    u = torch.randn(b, d, length, generator=g, dtype=torch.float64)
    delta = torch.randn(b, d, length, generator=g, dtype=torch.float64)
    A = -torch.rand(d, n, generator=g, dtype=torch.float64) - 0.01
    B, C = torch.randn(b, n, length, generator=g, dtype=torch.float64), torch.randn(b, n, length, generator=g)
    C = C.double()
    u_cpu = u.clone().requires_grad_()
    y_cpu = selective_scan(u_cpu, delta, A, B, C, delta_softplus=True, method="sequential")
    (grad_cpu,) = torch.autograd.grad(y_cpu.square().mean(), u_cpu)
    u_gpu = u.float().to(CUDA).requires_grad_()
    args = [t.float().to(CUDA) for t in (delta, A, B, C)]
    y_gpu = selective_scan(u_gpu, *args, delta_softplus=True)
    (grad_gpu,) = torch.autograd.grad(y_gpu.square().mean(), u_gpu)
    assert torch.isfinite(y_gpu).all() and torch.isfinite(grad_gpu).all()
    assert _relative_error(y_gpu, y_cpu) < 1e-4
    assert _relative_error(grad_gpu, grad_cpu) < 1e-4


def _same_module_on_both(module: torch.nn.Module) -> tuple[torch.nn.Module, torch.nn.Module]:
    return module, copy.deepcopy(module).to(CUDA)


def _assert_same_parameter_gradients(cpu: torch.nn.Module, gpu: torch.nn.Module, **tolerance) -> None:
    for (name, p), q in zip(cpu.named_parameters(), gpu.parameters()):
        if p.grad is None:
            assert q.grad is None or not q.grad.any(), name
            continue
        torch.testing.assert_close(q.grad.cpu(), p.grad, msg=name, **tolerance)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_mamba_block_on_cuda_equals_cpu_in_outputs_and_parameter_gradients(bidirectional):
    torch.manual_seed(0)
    config = MambaConfig(d_model=8, d_state=4, bidirectional=bidirectional)
    cpu, gpu = _same_module_on_both(MambaBlock(config).double())
    x = torch.randn(3, 11, 8, dtype=torch.float64)
    lengths = torch.tensor([11, 4, 7])
    out_cpu, out_gpu = cpu(x, lengths), gpu(x.to(CUDA), lengths.to(CUDA))
    torch.testing.assert_close(out_gpu.cpu(), out_cpu, rtol=1e-10, atol=1e-12)
    weights = torch.randn(out_cpu.shape, dtype=torch.float64)
    (out_cpu * weights).sum().backward()
    (out_gpu * weights.to(CUDA)).sum().backward()
    _assert_same_parameter_gradients(cpu, gpu, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("window", [None, 4])
def test_transformer_block_on_cuda_equals_cpu(window):
    torch.manual_seed(0)
    cpu, gpu = _same_module_on_both(TransformerBlock(8, 2, 0.0, window).double())
    x = torch.randn(3, 11, 8, dtype=torch.float64)
    lengths = torch.tensor([11, 4, 7])
    out_cpu, out_gpu = cpu(x, lengths), gpu(x.to(CUDA), lengths.to(CUDA))
    torch.testing.assert_close(out_gpu.cpu(), out_cpu, rtol=1e-9, atol=1e-11)


MOT = (GSMPlusPlus, GSMPlusPlusConfig(4, hidden=16, num_layers=1, num_heads=2, tokenization="mot"))


@pytest.mark.parametrize(("cls", "config"), [*CONFIGS, MOT])
def test_encoders_on_cuda_equal_cpu_with_the_same_tokens(cls, config):
    torch.manual_seed(0)
    x, ei, batch = _batch()
    edge_attr = torch.randn(ei.shape[1], config.edge_dim) if config.edge_dim else None
    cpu, gpu = _same_module_on_both(cls(config))
    on_gpu = [t.to(CUDA) if t is not None else None for t in (x, ei, edge_attr, batch)]
    # training mode: the random tie-breaks and walks follow torch.manual_seed on both devices
    torch.manual_seed(1)
    out_cpu = cpu(x, ei, edge_attr, batch)
    torch.manual_seed(1)
    out_gpu = gpu(*on_gpu)
    assert out_gpu.is_cuda
    torch.testing.assert_close(out_gpu.cpu(), out_cpu, rtol=1e-4, atol=1e-5)
    out_cpu.square().mean().backward()
    out_gpu.square().mean().backward()
    _assert_same_parameter_gradients(cpu, gpu, rtol=1e-3, atol=1e-5)
    cpu.eval(), gpu.eval()
    with torch.no_grad():  # evaluation mode: the fixed evaluation orderings
        torch.testing.assert_close(gpu(*on_gpu).cpu(), cpu(x, ei, edge_attr, batch), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("model", ["gmn", "gsm++", "gps"])
def test_the_encoder_benchmark_point_runs_on_cuda(model):
    from graphgen.bench.encoders import point

    record = point(model, 300, "cuda")
    assert record["seconds"] > 0 and record["peak_memory_mb"] > 0 and record["num_nodes"] == 300


def test_higen_samples_on_cuda_equal_its_cpu_samples():
    from graphgen.models import HiGen

    model = HiGen.from_pretrained("higen-community-small")
    on_cpu = model.sample(3, generator=torch.Generator().manual_seed(0))
    on_gpu = model.sample(3, generator=torch.Generator().manual_seed(0), device="cuda")
    for a, b in zip(on_cpu, on_gpu):
        assert b.edge_index.is_cuda
        assert torch.equal(a.edge_index, b.edge_index.cpu()) and a.num_nodes == b.num_nodes


def test_sparse_constructions_do_not_warn_about_implicit_invariant_checks():
    """torch 2.11 + CUDA warned "Sparse invariant checks are implicitly disabled" at every sparse COO
    construction outside ``check_sparse_tensor_invariants`` (``metrics/scripts/sparse_warning_probe.py``);
    graphgen builds them all through ``graphgen.data.ops.sparse_coo``. A fresh process: torch warns once."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", SPARSE_WARNING_CHECK.replace("DEVICE", "cuda")], capture_output=True)
    assert out.returncode == 0 and out.stdout.decode().strip() == "ok", out.stderr.decode()[-2000:]


SPARSE_WARNING_CHECK = """
import warnings
warnings.filterwarnings("error", message=".*[Ss]parse invariant")
import torch
from torch_geometric.data import Data
from graphgen.data.ops import edge_triangle_counts, normalized_laplacian
from graphgen.nn.tokenizers import NodeTokenizer
ei = torch.tensor([[0, 1, 1, 2, 0, 2], [1, 0, 2, 1, 2, 0]])
assert edge_triangle_counts(ei, 3)[0].tolist() == [1, 1, 1]
lap = normalized_laplacian(Data(edge_index=ei, num_nodes=3))
tokens = NodeTokenizer().tokenize(ei, torch.zeros(3, dtype=torch.long), 3).to("DEVICE")
tokens.sequences(torch.randn(3, 4, device="DEVICE"))
torch.sparse.mm(lap.to("DEVICE"), torch.randn(3, 2, device="DEVICE", dtype=torch.float64))
print("ok")
"""
