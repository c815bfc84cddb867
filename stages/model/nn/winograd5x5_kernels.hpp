#pragma once
// The per-slice work of Winograd5x5, compiled twice from winograd5x5_kernels.inc: once for AVX2+FMA and once for
// the baseline x86-64 (or any other) target, picked at run time. Small fixed shapes (20 input channels, 50
// filters) make BLAS calls per tile position too small to pay off, so the 36 products run in our own register-
// blocked kernel on tile blocks that stay in L2 from transform to product to inverse transform.
#include <cstddef>

namespace nn::winograd {

struct Plan {
  std::size_t in_h, in_w, in_c, filters, out_h, out_w, pad_top, pad_left;
  std::size_t tiles_h, tiles_w;
  std::size_t c_pad, k_pad;  // in_c and filters rounded up to a multiple of 8 (one AVX register of floats)
};

// Layouts: u, du (36, in_c, k_pad) and ut (36, filters, c_pad) with zero padding; x, y, dy, dx NHWC.
struct Kernels {
  const char* name;
  void (*forward)(const Plan&, const float* x, std::size_t samples, const float* u, const float* bias, float* y);
  // Adds this slice's dL/dU into du; writes dL/dx when dx is not null.
  void (*backward)(const Plan&, const float* x, const float* dy, std::size_t samples, const float* u,
                   const float* ut, float* du, float* dx);
};

const Kernels& avx2_kernels();
const Kernels& portable_kernels();
bool cpu_has_avx2_fma();

}  // namespace nn::winograd
