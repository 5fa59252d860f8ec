"""A C++ loop for the suffix table of elementary symmetric polynomials used while sampling.

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

Sampling only (no autograd). ``GRAPHGEN_ESP_KERNEL=0`` or a failed build keeps the PyTorch loop.
"""

from __future__ import annotations

import torch

from graphgen.native import NativeExtension, vectorised_build_options

__all__ = ["esp_kernel", "kernel_suffix_log_esp"]

_SOURCE = r"""
#include <torch/extension.h>
#include <ATen/Parallel.h>
#include <cmath>

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
    ["suffix_log_esp"],
    vectorised_build_options("graphgen_esp_kernel_v1"),
    env_var="GRAPHGEN_ESP_KERNEL",
    description="C++ suffix table of HiGen's block sampler",
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
