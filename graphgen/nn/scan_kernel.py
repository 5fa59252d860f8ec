"""A fused CPU kernel for the selective scan, compiled on first use; pure PyTorch stays the fallback.

:class:`~graphgen.nn.scan.ChunkedSelectiveScan` and the linear scans materialise ``(L, b, d, n)``
tensors (``exp(delta A)``, ``delta B u``, the states) and, for long sequences, run a Python loop
over ``L``. This kernel walks the recurrence of :mod:`graphgen.nn.scan` in C++ instead, one
``(b, d)`` channel at a time with its ``n`` states in registers:

    forward:  h_t[n] = exp(delta_t A[n]) h_{t-1}[n] + delta_t u_t B_t[n],   y_t = sum_n C_t[n] h_t[n]
    backward: the states of the channel are recomputed into a buffer of ``L x n``, then the reverse
              recurrence of ``ChunkedSelectiveScan`` runs (g_t = C_t gy_t + exp(delta_{t+1} A) g_{t+1}, ...).

Work is parallel over the batch ``b`` (``at::parallel_for``): every batch row owns its rows of
``grad_B`` / ``grad_C``; ``grad_A`` is summed from per-chunk partials in chunk order, so results do
not depend on which worker finishes first. Memory is ``O(b d L)`` (inputs
and outputs) plus two ``L x n`` buffers (states and ``exp(delta A)``) per worker.

The extension is built with ``torch.utils.cpp_extension.load_inline`` (a C++ compiler and ninja are
needed; the build is cached in torch's extension directory, about a minute the first time). If
the build fails, or ``GRAPHGEN_SCAN_KERNEL=0`` is set, :func:`scan_kernel` returns ``None`` and
callers use the pure-PyTorch scans.
"""

from __future__ import annotations

import logging
import os

import torch

__all__ = ["scan_kernel", "scan_kernel_error", "KernelSelectiveScan"]

_LOG = logging.getLogger(__name__)

_SOURCE = r"""
#include <torch/extension.h>
#include <ATen/Parallel.h>
#include <cmath>
#include <map>
#include <mutex>
#include <vector>

template <typename T>
static void forward_impl(const T* u, const T* delta, const T* A, const T* B, const T* C, T* y,
                         int64_t b, int64_t d, int64_t L, int64_t n) {
  at::parallel_for(0, b, 1, [&](int64_t begin, int64_t end) {
    std::vector<T> h(n);
    for (int64_t bi = begin; bi < end; ++bi) {
      const T* Bb = B + bi * n * L;
      const T* Cb = C + bi * n * L;
      for (int64_t di = 0; di < d; ++di) {
        const int64_t row = (bi * d + di) * L;
        const T* Ad = A + di * n;
        std::fill(h.begin(), h.end(), T(0));
        for (int64_t t = 0; t < L; ++t) {
          const T dt = delta[row + t], du = dt * u[row + t];
          T acc = 0;
          for (int64_t k = 0; k < n; ++k) {
            const T hk = std::exp(dt * Ad[k]) * h[k] + du * Bb[k * L + t];
            h[k] = hk;
            acc += Cb[k * L + t] * hk;
          }
          y[row + t] = acc;
        }
      }
    }
  });
}

template <typename T>
static void backward_impl(const T* u, const T* delta, const T* A, const T* B, const T* C, const T* gy,
                          T* gu, T* gdelta, T* gA, T* gB, T* gC, int64_t b, int64_t d, int64_t L, int64_t n) {
  std::mutex lock;
  std::map<int64_t, std::vector<T>> partials;  // grad_A of each chunk of the batch, summed in order below
  at::parallel_for(0, b, 1, [&](int64_t begin, int64_t end) {
    std::vector<T> H(L * n), DA(L * n), g(n), partialA(d * n, T(0));
    for (int64_t bi = begin; bi < end; ++bi) {
      const T* Bb = B + bi * n * L;
      const T* Cb = C + bi * n * L;
      T* gBb = gB + bi * n * L;
      T* gCb = gC + bi * n * L;
      for (int64_t di = 0; di < d; ++di) {
        const int64_t row = (bi * d + di) * L;
        const T* Ad = A + di * n;
        for (int64_t t = 0; t < L; ++t) {  // recompute the states of this channel
          const T dt = delta[row + t], du = dt * u[row + t];
          for (int64_t k = 0; k < n; ++k) {
            const T prev = t ? H[(t - 1) * n + k] : T(0);
            const T da = std::exp(dt * Ad[k]);
            DA[t * n + k] = da;
            H[t * n + k] = da * prev + du * Bb[k * L + t];
          }
        }
        std::fill(g.begin(), g.end(), T(0));
        for (int64_t t = L - 1; t >= 0; --t) {
          const T dt = delta[row + t], ut = u[row + t], gyt = gy[row + t];
          T g_delta = 0, g_u = 0;
          for (int64_t k = 0; k < n; ++k) {
            const T gk = g[k] + Cb[k * L + t] * gyt;  // gradient reaching h_t
            const T prev = t ? H[(t - 1) * n + k] : T(0);
            const T da = DA[t * n + k];
            const T g_log_a = gk * prev * da;
            const T bk = Bb[k * L + t];
            gCb[k * L + t] += gyt * H[t * n + k];
            g_delta += g_log_a * Ad[k] + gk * bk * ut;
            partialA[di * n + k] += g_log_a * dt;
            g_u += dt * gk * bk;
            gBb[k * L + t] += gk * dt * ut;
            g[k] = da * gk;  // carried to h_{t-1}
          }
          gdelta[row + t] = g_delta;
          gu[row + t] = g_u;
        }
      }
    }
    std::lock_guard<std::mutex> guard(lock);
    partials[begin] = std::move(partialA);
  });
  for (const auto& chunk : partials)  // a fixed order: the same sums whichever worker finished first
    for (int64_t i = 0; i < d * n; ++i) gA[i] += chunk.second[i];
}

torch::Tensor scan_forward(torch::Tensor u, torch::Tensor delta, torch::Tensor A, torch::Tensor B, torch::Tensor C) {
  const int64_t b = u.size(0), d = u.size(1), L = u.size(2), n = A.size(1);
  auto y = torch::empty_like(u);
  AT_DISPATCH_FLOATING_TYPES(u.scalar_type(), "graphgen_scan_forward", [&] {
    forward_impl<scalar_t>(u.data_ptr<scalar_t>(), delta.data_ptr<scalar_t>(), A.data_ptr<scalar_t>(),
                           B.data_ptr<scalar_t>(), C.data_ptr<scalar_t>(), y.data_ptr<scalar_t>(), b, d, L, n);
  });
  return y;
}

std::vector<torch::Tensor> scan_backward(torch::Tensor u, torch::Tensor delta, torch::Tensor A, torch::Tensor B,
                                         torch::Tensor C, torch::Tensor grad_y) {
  const int64_t b = u.size(0), d = u.size(1), L = u.size(2), n = A.size(1);
  auto gu = torch::empty_like(u), gdelta = torch::empty_like(u);
  auto gA = torch::zeros_like(A), gB = torch::zeros_like(B), gC = torch::zeros_like(C);
  AT_DISPATCH_FLOATING_TYPES(u.scalar_type(), "graphgen_scan_backward", [&] {
    backward_impl<scalar_t>(u.data_ptr<scalar_t>(), delta.data_ptr<scalar_t>(), A.data_ptr<scalar_t>(),
                            B.data_ptr<scalar_t>(), C.data_ptr<scalar_t>(), grad_y.data_ptr<scalar_t>(),
                            gu.data_ptr<scalar_t>(), gdelta.data_ptr<scalar_t>(), gA.data_ptr<scalar_t>(),
                            gB.data_ptr<scalar_t>(), gC.data_ptr<scalar_t>(), b, d, L, n);
  });
  return {gu, gdelta, gA, gB, gC};
}
"""

_KERNEL: object | None = None
_TRIED = False
_ERROR: str | None = None


def scan_kernel():
    """The compiled extension (functions ``scan_forward``, ``scan_backward``), or ``None`` when it
    cannot be built here or ``GRAPHGEN_SCAN_KERNEL=0``. Built once per process (cached on disk)."""
    global _KERNEL, _TRIED, _ERROR
    if os.environ.get("GRAPHGEN_SCAN_KERNEL", "1") == "0":
        return None
    if not _TRIED:
        _TRIED = True
        try:
            from torch.utils.cpp_extension import load_inline

            _LOG.info("loading the fused CPU scan kernel (built once per machine, about a minute)")
            _KERNEL = load_inline(
                name="graphgen_scan_kernel_v3",
                cpp_sources=_SOURCE,
                functions=["scan_forward", "scan_backward"],
                extra_cflags=["-O3"],
                verbose=False,
            )
        except Exception as exc:  # noqa: BLE001 -- no compiler, no ninja, ...: the PyTorch path stays
            _ERROR = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            _LOG.warning("the fused CPU scan kernel could not be built (%s); using the PyTorch scans", _ERROR)
            _KERNEL = None
    return _KERNEL


def scan_kernel_error() -> str | None:
    """Why :func:`scan_kernel` could not build the extension (``None`` if it did or was not tried)."""
    return _ERROR


class KernelSelectiveScan(torch.autograd.Function):
    """``y = scan(u, delta, A, B, C)`` (without ``D``, ``z``) through the fused kernel, on CPU tensors."""

    @staticmethod
    def forward(ctx, u, delta, A, B, C):
        kernel = scan_kernel()
        u, delta, A, B, C = (t.contiguous() for t in (u, delta, A, B, C))
        ctx.save_for_backward(u, delta, A, B, C)
        return kernel.scan_forward(u, delta, A, B, C)

    @staticmethod
    def backward(ctx, grad_y):
        return tuple(scan_kernel().scan_backward(*ctx.saved_tensors, grad_y.contiguous()))
