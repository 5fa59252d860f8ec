"""The selective scan of Mamba (Gu & Dao, arXiv 2312.00752), in pure PyTorch, with exact gradients.

For inputs ``u`` (channels ``d``, length ``L``), step sizes ``delta``, a diagonal state matrix
``A`` (``d x n``, negative), input-dependent ``B_t, C_t`` (``n`` each, shared across channels):

    dA_t = exp(delta_t[d] * A[d, n])                        (zero-order hold for A, in (0, 1))
    h_t[d, n] = dA_t[d, n] * h_{t-1}[d, n] + delta_t[d] * B_t[n] * u_t[d],    h_0 = 0
    y_t[d] = sum_n C_t[n] h_t[d, n] + D[d] * u_t[d]         (then y * silu(z) when z is given)

(the Euler form ``delta * B`` for the input, as every reference implementation does).

Two implementations share one signature, that of ``mamba_ssm``'s ``selective_scan_fn``
(channels first: ``u, delta, z: (b, d, L)``, ``A: (d, n)``, ``B, C: (b, n, L)``, ``D: (d,)``):

* :func:`selective_scan_ref`: the recurrence as a Python loop under autograd, obviously correct
  and slow -- the parity oracle;
* :func:`selective_scan`: the same numbers through :class:`LinearScan`, an ``autograd.Function``
  for ``h_t = a_t h_{t-1} + b_t`` whose backward is the reverse recurrence
  ``g'_t = g_t + a_{t+1} g'_{t+1}``, ``grad b_t = g'_t``, ``grad a_t = g'_t h_{t-1}`` -- never a
  backward through a Python loop. Its forward and backward run either sequentially (a loop with no
  autograd graph; best for short sequences) or as a Hillis-Steele parallel scan (``log2 L``
  vectorised steps; best for long ones). Both only multiply numbers in (0, 1]: no cumulative
  products that underflow. On CUDA tensors with ``mamba_ssm`` installed, its fused kernel is used.

Example:
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> b, d, n, L = 2, 3, 4, 5
    >>> u, delta = torch.randn(b, d, L, generator=g), torch.rand(b, d, L, generator=g)
    >>> A = -torch.rand(d, n, generator=g)
    >>> B, C = torch.randn(b, n, L, generator=g), torch.randn(b, n, L, generator=g)
    >>> torch.allclose(selective_scan(u, delta, A, B, C), selective_scan_ref(u, delta, A, B, C), atol=1e-6)
    True
"""

from __future__ import annotations

import importlib.util

import torch
import torch.nn.functional as F

__all__ = ["SCAN_METHODS", "LinearScan", "ChunkedSelectiveScan", "linear_scan", "selective_scan", "selective_scan_ref"]

LINEAR_SCAN_METHODS = ("auto", "sequential", "parallel")
SCAN_METHODS = (*LINEAR_SCAN_METHODS, "chunked", "kernel")
DEFAULT_CHUNK = 64


def _scan_sequential(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``h_t = a_t h_{t-1} + b_t`` along dim 0, ``h_{-1} = 0``, as a loop without autograd."""
    h = torch.empty_like(b)
    h[0] = b[0]
    for t in range(1, b.shape[0]):
        torch.addcmul(b[t], a[t], h[t - 1], out=h[t])
    return h


def _scan_parallel(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Hillis-Steele inclusive scan of the combine ``(a1, b1) o (a2, b2) = (a1 a2, a2 b1 + b2)``."""
    a, h = a.clone(), b.clone()
    length, offset = h.shape[0], 1
    while offset < length:
        carried = a[offset:] * h[:-offset]  # computed before the in-place updates below
        if offset * 2 < length:
            a[offset:] = a[offset:] * a[:-offset]
        h[offset:] += carried
        offset *= 2
    return h


SHORT_SCAN = 4  # on CUDA, sequences of at most this many steps scan with the loop (see _resolve)


def _resolve(method: str, b: torch.Tensor) -> str:
    if method == "auto":
        # a development measurement on CPU (1 thread, forward + backward; not a recorded benchmark):
        # the loop won at every shape tried, (b, d, n, L) = (2048, 64, 16, 17) to (1, 64, 16, 4096),
        # by 1.3-2x. On an H200 (metrics/results/scan_methods_cuda.json, selective scan forward +
        # backward, d = 64, n = 16) the L kernel launches of the loop cost more than the log2 L steps
        # of the parallel scan: 43x slower at L = 100,000, 6x at L = 4,096, even at L = 30; at L = 3
        # (GMN's neighbourhood tokens, b = 100,000) the loop is 1.4x faster and needs 0.61x the memory
        # (the parallel scan's clones), hence the loop for sequences of at most SHORT_SCAN steps.
        return "parallel" if b.is_cuda and b.shape[0] > SHORT_SCAN else "sequential"
    return method


def _scan(a: torch.Tensor, b: torch.Tensor, method: str) -> torch.Tensor:
    method = _resolve(method, b)
    if method == "sequential":
        return _scan_sequential(a, b)
    if method == "parallel":
        return _scan_parallel(a, b)
    raise ValueError(f"unknown scan method {method!r}; choose one of {', '.join(SCAN_METHODS)}")


class LinearScan(torch.autograd.Function):
    """``h_t = a_t * h_{t-1} + b_t`` along dim 0 (``h_{-1} = 0``) with a hand-written backward."""

    @staticmethod
    def forward(ctx, a: torch.Tensor, b: torch.Tensor, method: str = "auto") -> torch.Tensor:
        with torch.no_grad():
            h = _scan(a, b, method)
        ctx.save_for_backward(a, h)
        ctx.method = method
        return h

    @staticmethod
    def backward(ctx, grad_h: torch.Tensor):
        a, h = ctx.saved_tensors
        # g'_t = g_t + a_{t+1} g'_{t+1}: the same scan, reversed in time, with a shifted by one
        if _resolve(ctx.method, a) == "sequential":
            grad_b = torch.empty_like(grad_h)  # the reverse loop directly: no flipped copies
            grad_b[-1] = grad_h[-1]
            for t in range(grad_h.shape[0] - 2, -1, -1):
                torch.addcmul(grad_h[t], a[t + 1], grad_b[t + 1], out=grad_b[t])
        else:
            a_next = torch.zeros_like(a)
            a_next[:-1] = a[1:]
            grad_b = _scan_parallel(a_next.flip(0), grad_h.flip(0)).flip(0)
        grad_a = torch.empty_like(a)
        grad_a[0] = 0
        torch.mul(grad_b[1:], h[:-1], out=grad_a[1:])
        return grad_a, grad_b, None


def linear_scan(a: torch.Tensor, b: torch.Tensor, method: str = "auto") -> torch.Tensor:
    """All states of ``h_t = a_t h_{t-1} + b_t`` along dim 0; differentiable in ``a`` and ``b``."""
    if method not in LINEAR_SCAN_METHODS:
        raise ValueError(f"unknown scan method {method!r}; choose one of {', '.join(LINEAR_SCAN_METHODS)}")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    if b.shape[0] == 0:
        return b.clone()
    return LinearScan.apply(a, b, method)


class ChunkedSelectiveScan(torch.autograd.Function):
    """The scan ``y_t = C_t . h_t`` with ``h_t = exp(delta_t A) h_{t-1} + delta_t u_t B_t``, fused,
    memory-lean: only ``y`` and the states at chunk starts are kept; ``dA``, ``delta B u`` and the
    states inside a chunk are recomputed in the backward pass, chunk by chunk, from those
    checkpoints. Hand-written gradients for ``u, delta, A, B, C`` (see the module docstring):

        g_t = C_t gy_t + exp(delta_{t+1} A) g_{t+1}                 (gradient reaching h_t)
        grad C_t = sum_d gy_t[d] h_t[d, :]
        grad delta_t = sum_n (g_t h_{t-1} dA_t)[., n] A[., n] + sum_n g_t[., n] B_t[n] u_t
        grad A = sum_t (g_t h_{t-1} dA_t) delta_t,   grad u_t = delta_t sum_n g_t B_t[n]
        grad B_t = sum_d g_t[d, :] delta_t[d] u_t[d]
    """

    @staticmethod
    def _chunk(u, delta, A, B, h, lo, hi):
        d_a, d_bu = _discretise(u[..., lo:hi], delta[..., lo:hi], A, B[..., lo:hi])  # (T, b, d, n)
        states = torch.empty_like(d_bu)
        torch.addcmul(d_bu[0], d_a[0], h, out=states[0])
        for t in range(1, hi - lo):
            torch.addcmul(d_bu[t], d_a[t], states[t - 1], out=states[t])
        return d_a, states

    @staticmethod
    def forward(ctx, u, delta, A, B, C, chunk: int):
        b, d, length = u.shape
        h = u.new_zeros(b, d, A.shape[1])
        y = u.new_empty(b, d, length)
        starts = []
        with torch.no_grad():
            for lo in range(0, length, chunk):
                hi = min(lo + chunk, length)
                starts.append(h)
                _, states = ChunkedSelectiveScan._chunk(u, delta, A, B, h, lo, hi)
                y[..., lo:hi] = torch.einsum("lbdn,bnl->bdl", states, C[..., lo:hi])
                h = states[-1].clone()
        ctx.save_for_backward(u, delta, A, B, C, torch.stack(starts) if starts else u.new_zeros(0))
        ctx.chunk = chunk
        return y

    @staticmethod
    def backward(ctx, grad_y):
        u, delta, A, B, C, starts = ctx.saved_tensors
        chunk, length = ctx.chunk, u.shape[2]
        grads = [torch.zeros_like(t) for t in (u, delta, A, B, C)]
        grad_u, grad_delta, grad_A, grad_B, grad_C = grads
        carry = None  # exp(delta_{t+1} A) g_{t+1} flowing into the last state of the previous chunk
        with torch.no_grad():
            for index in range((length + chunk - 1) // chunk - 1, -1, -1):
                lo, hi = index * chunk, min(index * chunk + chunk, length)
                h0 = starts[index]
                d_a, states = ChunkedSelectiveScan._chunk(u, delta, A, B, h0, lo, hi)
                direct = torch.einsum("bdl,bnl->lbdn", grad_y[..., lo:hi], C[..., lo:hi])
                g = torch.empty_like(direct)
                g[-1] = direct[-1] if carry is None else direct[-1] + carry
                for t in range(hi - lo - 2, -1, -1):
                    torch.addcmul(direct[t], d_a[t + 1], g[t + 1], out=g[t])
                carry = d_a[0] * g[0]
                previous = torch.cat([h0[None], states[:-1]])  # h_{t-1}
                g_log_a = g * previous * d_a  # gradient wrt delta_t A, per (d, n)
                d_lo_hi, u_lo_hi, b_lo_hi = delta[..., lo:hi], u[..., lo:hi], B[..., lo:hi]
                gb = torch.einsum("lbdn,bnl->bdl", g, b_lo_hi)  # sum_n g_t B_t
                grad_delta[..., lo:hi] = torch.einsum("lbdn,dn->bdl", g_log_a, A) + gb * u_lo_hi
                grad_A += torch.einsum("lbdn,bdl->dn", g_log_a, d_lo_hi)
                grad_u[..., lo:hi] = gb * d_lo_hi
                grad_B[..., lo:hi] = torch.einsum("lbdn,bdl->bnl", g, d_lo_hi * u_lo_hi)
                grad_C[..., lo:hi] = torch.einsum("bdl,lbdn->bnl", grad_y[..., lo:hi], states)
        return grad_u, grad_delta, grad_A, grad_B, grad_C, None


def _step_sizes(delta, delta_bias, delta_softplus):
    """``delta`` with its bias added and softplus applied, as asked."""
    if delta_bias is not None:
        delta = delta + delta_bias[None, :, None]
    return F.softplus(delta) if delta_softplus else delta


def _discretise(u, delta, A, B):
    """``dA`` and ``delta B u``, time first: ``(L, b, d, n)`` each."""
    d_a = torch.exp(torch.einsum("bdl,dn->lbdn", delta, A))
    d_bu = torch.einsum("bdl,bnl->lbdn", delta * u, B)
    return d_a, d_bu


def _finish(y, u, D, z):
    if D is not None:
        y = y + u * D[None, :, None]
    if z is not None:
        y = y * F.silu(z)
    return y


def _check(u, delta, A, B, C):
    b, d, length = u.shape
    if delta.shape != u.shape or A.shape[0] != d or B.shape != (b, A.shape[1], length) or C.shape != B.shape:
        raise ValueError(
            "selective scan expects u, delta: (b, d, L); A: (d, n); B, C: (b, n, L); got "
            f"u {tuple(u.shape)}, delta {tuple(delta.shape)}, A {tuple(A.shape)}, "
            f"B {tuple(B.shape)}, C {tuple(C.shape)}"
        )


def selective_scan_ref(
    u: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor | None = None,
    z: torch.Tensor | None = None,
    delta_bias: torch.Tensor | None = None,
    delta_softplus: bool = False,
) -> torch.Tensor:
    """The selective scan as a plain loop under autograd (the reference; see the module docstring).

    Shapes:
        u, delta, z: ``(b, d, L)``; A: ``(d, n)``; B, C: ``(b, n, L)``; D, delta_bias: ``(d,)``.
        Returns ``y``: ``(b, d, L)``.
    """
    _check(u, delta, A, B, C)
    d_a, d_bu = _discretise(u, _step_sizes(delta, delta_bias, delta_softplus), A, B)
    h = u.new_zeros(u.shape[0], u.shape[1], A.shape[1])
    ys = []
    for t in range(u.shape[2]):
        h = d_a[t] * h + d_bu[t]
        ys.append(torch.einsum("bdn,bn->bd", h, C[:, :, t]))
    y = torch.stack(ys, dim=2) if ys else u.new_zeros(u.shape)
    return _finish(y, u, D, z)


def _kernel_applies(*tensors: torch.Tensor, required: bool) -> bool:
    """Whether the fused CPU kernel runs these tensors (CPU, one float dtype) and is built here."""
    dtype = tensors[0].dtype
    fits = all(t.device.type == "cpu" and t.dtype == dtype for t in tensors) and dtype in (torch.float32, torch.float64)
    if required and not fits:
        raise ValueError("the fused scan kernel takes CPU tensors of one dtype, float32 or float64")
    if not fits:
        return False
    from graphgen.nn.scan_kernel import scan_kernel

    return scan_kernel() is not None


def _mamba_ssm_kernel():
    if importlib.util.find_spec("mamba_ssm") is None:
        return None
    try:
        from mamba_ssm.ops.selective_scan_interface import selective_scan_fn
    except Exception:  # noqa: BLE001 -- a broken CUDA build must not break the pure-PyTorch path
        return None
    return selective_scan_fn


def selective_scan(
    u: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor | None = None,
    z: torch.Tensor | None = None,
    delta_bias: torch.Tensor | None = None,
    delta_softplus: bool = False,
    *,
    method: str = "auto",
    chunk: int = DEFAULT_CHUNK,
) -> torch.Tensor:
    """The selective scan with the custom-backward linear scan (same signature as the reference).

    ``method``: ``"auto"`` (on CUDA: ``mamba_ssm``'s kernel when installed, else the parallel
    scan, or the loop for sequences of at most ``SHORT_SCAN`` steps; on CPU: the fused C++ kernel
    of :mod:`graphgen.nn.scan_kernel` when it builds here, else the sequential scan), ``"sequential"``,
    ``"parallel"``, ``"chunked"`` (:class:`ChunkedSelectiveScan`: fused, recomputes inside
    ``chunk``-step chunks in backward; pure PyTorch, any device) or ``"kernel"`` (the C++ kernel;
    CPU float32/float64 only).
    """
    _check(u, delta, A, B, C)
    if method not in SCAN_METHODS:
        raise ValueError(f"unknown scan method {method!r}; choose one of {', '.join(SCAN_METHODS)}")
    if method == "auto" and u.is_cuda:
        kernel = _mamba_ssm_kernel()
        if kernel is not None:
            return kernel(u, delta, A, B, C, D, z, delta_bias, delta_softplus)
    delta = _step_sizes(delta, delta_bias, delta_softplus)
    if method in ("auto", "kernel") and _kernel_applies(u, delta, A, B, C, required=method == "kernel"):
        from graphgen.nn.scan_kernel import KernelSelectiveScan

        y = KernelSelectiveScan.apply(u, delta, A, B, C) if u.shape[2] else u.new_zeros(u.shape)
        return _finish(y, u, D, z)
    if method == "kernel":
        raise RuntimeError("the fused scan kernel is not available here (see graphgen.nn.scan_kernel)")
    if method == "chunked":
        y = ChunkedSelectiveScan.apply(u, delta, A, B, C, chunk) if u.shape[2] else u.new_zeros(u.shape)
        return _finish(y, u, D, z)
    d_a, d_bu = _discretise(u, delta, A, B)
    h = linear_scan(d_a, d_bu, method)  # (L, b, d, n)
    y = torch.einsum("lbdn,bnl->bdl", h, C)
    return _finish(y, u, D, z)
