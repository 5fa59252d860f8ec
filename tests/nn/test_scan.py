"""Selective scan: parity of the fast paths with the reference, in outputs and every gradient."""

from __future__ import annotations

import inspect

import pytest
import torch

from graphgen.nn import linear_scan, selective_scan, selective_scan_ref
from graphgen.nn import scan as scan_module


def _inputs(b, d, n, length, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)

    def r(*shape):
        return torch.randn(*shape, generator=g, dtype=dtype).requires_grad_()

    A = (-torch.rand(d, n, generator=g, dtype=dtype) - 0.05).requires_grad_()
    return dict(u=r(b, d, length), delta=r(b, d, length), A=A, B=r(b, n, length), C=r(b, n, length),
                D=r(d), z=r(b, d, length), delta_bias=r(d))  # fmt: skip


def _kernel_or_skip(method):
    from graphgen.nn.scan_kernel import scan_kernel, scan_kernel_error

    if method == "kernel" and scan_kernel() is None:
        pytest.skip(f"the fused CPU scan kernel cannot be built here: {scan_kernel_error()}")


@pytest.mark.parametrize("method", ["sequential", "parallel", "chunked", "kernel"])
@pytest.mark.parametrize("shape", [(2, 3, 4, 1), (1, 2, 3, 2), (2, 3, 2, 7), (3, 2, 5, 33), (1, 4, 2, 100)])
def test_fast_scan_equals_reference_in_outputs_and_all_gradients(method, shape):
    _kernel_or_skip(method)
    kw = _inputs(*shape)
    ref = selective_scan_ref(**kw, delta_softplus=True)
    fast = selective_scan(**kw, delta_softplus=True, method=method, chunk=3)  # chunks: 1, partial and many
    torch.testing.assert_close(fast, ref, rtol=1e-10, atol=1e-12)
    weights = torch.randn(ref.shape, generator=torch.Generator().manual_seed(9), dtype=ref.dtype)
    g_ref = torch.autograd.grad((ref * weights).sum(), list(kw.values()))
    g_fast = torch.autograd.grad((fast * weights).sum(), list(kw.values()))
    for name, a, b in zip(kw, g_fast, g_ref):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-11, msg=name)


def test_float32_parity_at_1e_5():
    kw = {k: v.detach().float().requires_grad_() for k, v in _inputs(2, 8, 4, 50, seed=3).items()}
    ref = selective_scan_ref(**kw, delta_softplus=True)
    fast = selective_scan(**kw, delta_softplus=True)
    torch.testing.assert_close(fast, ref, rtol=1e-5, atol=1e-5)
    g_ref = torch.autograd.grad(ref.sum(), list(kw.values()))
    g_fast = torch.autograd.grad(fast.sum(), list(kw.values()))
    for a, b in zip(g_fast, g_ref):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


def test_linear_scan_gradcheck_and_combine_associativity():
    g = torch.Generator().manual_seed(1)
    a = torch.rand(9, 3, generator=g, dtype=torch.float64).requires_grad_()
    b = torch.randn(9, 3, generator=g, dtype=torch.float64).requires_grad_()
    for method in ("sequential", "parallel"):
        assert torch.autograd.gradcheck(lambda a, b, m=method: linear_scan(a, b, m), (a, b))

    def combine(x, y):
        return x[0] * y[0], y[0] * x[1] + y[1]

    t = [(torch.rand(4, generator=g), torch.randn(4, generator=g)) for _ in range(3)]
    left, right = combine(combine(t[0], t[1]), t[2]), combine(t[0], combine(t[1], t[2]))
    torch.testing.assert_close(left[0], right[0])
    torch.testing.assert_close(left[1], right[1])


def test_zero_decay_gives_the_memoryless_output():
    kw = _inputs(1, 2, 3, 6)
    kw["A"] = torch.full((2, 3), -1e4, dtype=torch.float64)  # dA = exp(delta A) ~ 0: no memory
    kw["delta"] = torch.rand(1, 2, 6, dtype=torch.float64) + 0.5
    kw["delta_bias"] = None
    kw["z"] = None
    y = selective_scan(**kw)
    expected = torch.einsum("bdl,bnl,bnl->bdl", kw["delta"] * kw["u"], kw["B"], kw["C"]) + kw["u"] * kw["D"][:, None]
    torch.testing.assert_close(y, expected)


def test_scan_is_causal():
    kw = _inputs(1, 3, 2, 10)
    y = selective_scan(**kw, delta_softplus=True).detach()
    changed = {k: v.detach().clone() for k, v in kw.items()}
    changed["u"][..., 6:] += 1.0
    changed["B"][..., 6:] -= 2.0
    y2 = selective_scan(**changed, delta_softplus=True)
    torch.testing.assert_close(y2[..., :6], y[..., :6])
    assert not torch.allclose(y2[..., 6:], y[..., 6:])


def test_long_sequences_stay_finite():
    b, d, n, length = 1, 4, 4, 100_000
    g = torch.Generator().manual_seed(0)
    u = torch.randn(b, d, length, generator=g).requires_grad_()
    delta = torch.randn(b, d, length, generator=g)
    A = -torch.rand(d, n, generator=g) - 0.01
    B, C = torch.randn(b, n, length, generator=g), torch.randn(b, n, length, generator=g)
    for method in ("sequential", "parallel", "chunked", "kernel"):
        _kernel_or_skip(method)
        y = selective_scan(u, delta, A, B, C, delta_softplus=True, method=method)
        (grad,) = torch.autograd.grad(y.square().mean(), u)
        assert torch.isfinite(y).all() and torch.isfinite(grad).all()


def test_no_cumulative_product_form():
    source = inspect.getsource(scan_module)
    assert "cumprod" not in source.replace("cumulative products", "")


def test_shape_errors():
    kw = _inputs(1, 2, 3, 4)
    kw["B"] = kw["B"][..., :3]
    with pytest.raises(ValueError, match="selective scan expects"):
        selective_scan(**kw)
    with pytest.raises(ValueError, match="unknown scan method"):
        linear_scan(torch.ones(2, 1), torch.ones(2, 1), "chunked")  # a selective-scan method only
    with pytest.raises(ValueError, match="unknown scan method"):
        selective_scan(**_inputs(1, 2, 3, 4), method="blelloch")


def test_kernel_gradcheck_dtype_errors_and_opt_out(monkeypatch):
    from graphgen.nn import scan_kernel as kernel_module

    _kernel_or_skip("kernel")
    kw = _inputs(2, 3, 2, 6, seed=5)
    core = {k: kw[k] for k in ("u", "A", "B", "C")}
    delta = torch.rand(2, 3, 6, generator=torch.Generator().manual_seed(6), dtype=torch.float64).requires_grad_()
    assert torch.autograd.gradcheck(
        lambda u, delta, A, B, C: selective_scan(u, delta, A, B, C, method="kernel"),
        (core["u"], delta, *list(core.values())[1:]),
    )
    # several workers: grad_A is summed in a fixed order, so repeated runs agree bit for bit
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        big = _inputs(64, 4, 3, 9, seed=7, dtype=torch.float32)
        runs = [
            torch.autograd.grad(selective_scan(big["u"], big["delta"].sigmoid(), big["A"], big["B"], big["C"],
                                               method="kernel").sum(), big["A"])[0]
            for _ in range(4)
        ]  # fmt: skip
    finally:
        torch.set_num_threads(threads)
    assert all(torch.equal(r, runs[0]) for r in runs)
    with pytest.raises(ValueError, match="one dtype"):
        selective_scan(kw["u"].float(), kw["delta"], kw["A"], kw["B"], kw["C"], method="kernel")
    # GRAPHGEN_SCAN_KERNEL=0: "auto" takes the pure-PyTorch path and "kernel" says it is unavailable
    monkeypatch.setenv("GRAPHGEN_SCAN_KERNEL", "0")
    assert kernel_module.scan_kernel() is None
    calls = []
    monkeypatch.setattr(kernel_module.KernelSelectiveScan, "apply", lambda *a: calls.append(a))
    ref = selective_scan_ref(**kw)
    torch.testing.assert_close(selective_scan(**kw), ref, rtol=1e-10, atol=1e-12)
    assert calls == []
    with pytest.raises(RuntimeError, match="not available"):
        selective_scan(**kw, method="kernel")
