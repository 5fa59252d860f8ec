"""A C++ loop for the suffix table of elementary symmetric polynomials of the coordinated blocks, and its backward.

:func:`graphgen.models.higen.block_sequence.suffix_log_esp` fills, for every block ``b``, the table
``T[e, r] = log E_r(w_e, ..., w_{M-1})`` from the last pair to the first,

    T[M, 0] = 0,  T[M, r] = LOG_ZERO (r >= 1),
    T[e, 0] = 0,  T[e, r] = logaddexp(T[e + 1, r], T[e + 1, r - 1] + log w_e),

with ``logaddexp(a, b) = max(a, b) + log1p(exp(-|a - b|))``. In PyTorch that is a Python loop of two
tensor operations per pair; sampling a large graph runs it hundreds of thousands of times (46 % of a
3,057-node sample's time, session 7's profile). Here the loop over pairs runs in C++ and the loop
over ``r`` is vectorised (``exp`` and ``log1p`` from glibc's vector library under ``-ffast-math``,
see :func:`graphgen.native.vectorised_build_options`); blocks are parallel (``at::parallel_for``)
and independent, so results do not depend on scheduling. All values stay finite (``LOG_ZERO`` is
``-1e30``), which ``-ffast-math`` requires. The results agree with the PyTorch loop to round-off
(about 1e-15 relative in float64, tested), not bit for bit: vector ``exp``/``log1p`` round differently.

**Backward** (training; session 27). With ``G[e, r] = ∂L/∂T[e, r]`` the upstream gradient and
``A[e, r]`` the total gradient of ``T[e, r]`` (its own ``G`` plus what flows back from ``T[e - 1]``),
each cell ``T[e, r] = logaddexp(keep, take)`` passes ``A[e, r]`` on with its two softmax weights,

    A[0] = G[0],
    A[e + 1, r] = G[e + 1, r] + A[e, r] exp(T[e + 1, r] - T[e, r])
                              + A[e, r + 1] exp(T[e + 1, r] + log w_e - T[e, r + 1]),
    ∂L/∂log w_e = Σ_{r >= 1} A[e, r] exp(T[e + 1, r - 1] + log w_e - T[e, r]),

one pass from the first pair to the last (``T[e, 0] = 0`` depends on nothing). These are the weights
PyTorch's ``logaddexp`` backward uses, so the gradients equal the autograd loop's to round-off
(tested). In PyTorch the loop's forward and backward are about 16 small tensor operations per
pair, a third of a planar training step (session 27); here both run in C++.

``GRAPHGEN_ESP_KERNEL=0`` or a failed build keeps the PyTorch loop.
"""

from __future__ import annotations

import torch

from graphgen.native import NativeExtension, vectorised_build_options

__all__ = ["esp_kernel", "kernel_suffix_log_esp", "differentiable_suffix_log_esp"]

_SOURCE = r"""
#include <torch/extension.h>
#include <ATen/Parallel.h>
#include <cmath>
#include <vector>

template <typename T>
static void fill(const T* __restrict w, T* __restrict out, int64_t B, int64_t M, int64_t R, T log_zero) {
  at::parallel_for(0, B, 1, [&](int64_t b_begin, int64_t b_end) {
    for (int64_t b = b_begin; b < b_end; ++b) {
      T* o = out + b * (M + 1) * R;
      T* last = o + M * R;
      last[0] = 0;
      for (int64_t r = 1; r < R; ++r) last[r] = log_zero;
      for (int64_t e = M - 1; e >= 0; --e) {
        const T* __restrict next = o + (e + 1) * R;
        T* __restrict cur = o + e * R;
        const T we = w[b * M + e];
        cur[0] = 0;
#pragma omp simd
        for (int64_t r = 1; r < R; ++r) {
          const T keep = next[r], take = next[r - 1] + we;
          const T hi = keep > take ? keep : take;
          const T gap = keep > take ? take - keep : keep - take;
          cur[r] = hi + std::log1p(std::exp(gap));
        }
      }
    }
  });
}

template <typename T>
static void unfill(const T* __restrict table, const T* __restrict w, const T* __restrict grad, T* __restrict grad_w,
                   int64_t B, int64_t M, int64_t R) {
  at::parallel_for(0, B, 1, [&](int64_t b_begin, int64_t b_end) {
    std::vector<T> acc(R), nacc(R), take_weight(R);
    for (int64_t b = b_begin; b < b_end; ++b) {
      const T* t = table + b * (M + 1) * R;
      const T* g = grad + b * (M + 1) * R;
      for (int64_t r = 0; r < R; ++r) acc[r] = g[r];
      for (int64_t e = 0; e < M; ++e) {
        const T* __restrict cur = t + e * R;
        const T* __restrict next = cur + R;
        const T* __restrict gnext = g + (e + 1) * R;
        const T we = w[b * M + e];
        T gw = 0;
        nacc[0] = gnext[0];
#pragma omp simd
        for (int64_t r = 1; r < R; ++r) {
          nacc[r] = gnext[r] + acc[r] * std::exp(next[r] - cur[r]);
          take_weight[r] = acc[r] * std::exp(next[r - 1] + we - cur[r]);
        }
        for (int64_t r = 1; r < R; ++r) {
          nacc[r - 1] += take_weight[r];
          gw += take_weight[r];
        }
        grad_w[b * M + e] = gw;
        std::swap(acc, nacc);
      }
    }
  });
}

torch::Tensor suffix_log_esp_backward(torch::Tensor table, torch::Tensor weights, torch::Tensor grad) {
  TORCH_CHECK(table.dim() == 3 && weights.dim() == 2 && grad.sizes() == table.sizes(),
              "table (B, M + 1, R), weights (B, M) and grad (B, M + 1, R) expected");
  TORCH_CHECK(table.is_contiguous() && weights.is_contiguous() && grad.is_contiguous() && table.device().is_cpu(),
              "contiguous CPU tensors expected");
  const int64_t B = weights.size(0), M = weights.size(1), R = table.size(2);
  auto grad_w = torch::empty({B, M}, weights.options());
  AT_DISPATCH_FLOATING_TYPES(weights.scalar_type(), "suffix_log_esp_backward", [&] {
    unfill<scalar_t>(table.data_ptr<scalar_t>(), weights.data_ptr<scalar_t>(), grad.data_ptr<scalar_t>(),
                     grad_w.data_ptr<scalar_t>(), B, M, R);
  });
  return grad_w;
}

torch::Tensor suffix_log_esp(torch::Tensor weights, int64_t r_max, double log_zero) {
  TORCH_CHECK(weights.dim() == 2 && weights.device().is_cpu() && weights.is_contiguous(),
              "weights must be a contiguous (B, M) CPU tensor");
  const int64_t B = weights.size(0), M = weights.size(1), R = r_max + 1;
  auto out = torch::empty({B, M + 1, R}, weights.options());
  AT_DISPATCH_FLOATING_TYPES(weights.scalar_type(), "suffix_log_esp", [&] {
    fill<scalar_t>(weights.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), B, M, R, (scalar_t)log_zero);
  });
  return out;
}
"""

_EXTENSION = NativeExtension(
    _SOURCE,
    ["suffix_log_esp", "suffix_log_esp_backward"],
    vectorised_build_options("graphgen_esp_kernel_v2"),
    env_var="GRAPHGEN_ESP_KERNEL",
    description="C++ suffix table of HiGen's coordinated blocks",
)


def esp_kernel():
    """The compiled extension, or ``None`` (no compiler here, or ``GRAPHGEN_ESP_KERNEL=0``)."""
    return _EXTENSION.load()


def kernel_suffix_log_esp(weights: torch.Tensor, r_max: int, log_zero: float) -> torch.Tensor | None:
    """The table ``(B, M + 1, r_max + 1)`` from log-weights ``(B, M)`` (``log_zero`` where a pair
    is not valid), or ``None`` without the compiled kernel."""
    kernel = esp_kernel()
    if kernel is None:
        return None
    return kernel.suffix_log_esp(weights.contiguous(), int(r_max), float(log_zero))


class _SuffixLogEsp(torch.autograd.Function):
    """The table with the C++ forward and backward (module docstring); first derivatives only."""

    @staticmethod
    def forward(ctx, weights: torch.Tensor, r_max: int, log_zero: float, kernel):
        weights = weights.contiguous()
        table = kernel.suffix_log_esp(weights, int(r_max), float(log_zero))
        ctx.save_for_backward(weights, table)
        ctx.kernel = kernel
        return table

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad: torch.Tensor):
        weights, table = ctx.saved_tensors
        return ctx.kernel.suffix_log_esp_backward(table, weights, grad.contiguous()), None, None, None


def differentiable_suffix_log_esp(weights: torch.Tensor, r_max: int, log_zero: float) -> torch.Tensor | None:
    """:func:`kernel_suffix_log_esp` that autograd differentiates (the C++ backward), or ``None``
    without the compiled kernel."""
    kernel = esp_kernel()
    if kernel is None:
        return None
    return _SuffixLogEsp.apply(weights, r_max, log_zero, kernel)
