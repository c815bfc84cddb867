#pragma once
// Our own vector kernels, for shapes where a BLAS call is too small to pay off. Compiled twice, from
// narrow_gemm.inc and winograd5x5_kernels.inc: once for AVX2 + FMA, once for the baseline target; `kernels()`
// picks by the CPU at run time, so one binary runs everywhere and fast where it can.
#include <cstddef>

namespace nn::simd {

struct WinogradPlan {
  std::size_t in_h, in_w, in_c, filters, out_h, out_w, pad_top, pad_left;
  std::size_t tiles_h, tiles_w;
  std::size_t c_pad, k_pad;  // in_c and filters rounded up to a multiple of 8 (one AVX register of floats)
};

// The left operand of narrow_gemm: rows × (outer_count · inner_count), A(r, (o, i)) =
// data[r·row_stride + o·outer_stride + i·inner_stride]. A matrix has outer_count 1; a stride-1 convolution over a
// padded NHWC image has one outer step per kernel row, so it needs no im2col copy.
struct NarrowLhs {
  const float* data;
  std::size_t row_stride, outer_count, outer_stride, inner_count, inner_stride;
};

struct Kernels {
  const char* name;
  // C (rows × 8·vectors) (+)= A · B; row l of B at b + l·bls (l = o·inner_count + i), row r of C at c + r·crs.
  void (*narrow_gemm)(std::size_t rows, std::size_t vectors, const NarrowLhs& a, const float* b, std::size_t bls,
                      float* c, std::size_t crs, bool accumulate);
  // One slice of images. Layouts: u, du (36, in_c, k_pad) and ut (36, filters, c_pad: U transposed, for dL/dx),
  // zero-padded; x, y, dy, dx NHWC. `winograd_backward` adds the slice's dL/dU into du and writes dL/dx when dx is
  // not null.
  void (*winograd_forward)(const WinogradPlan&, const float* x, std::size_t samples, const float* u, const float* bias,
                           float* y);
  void (*winograd_backward)(const WinogradPlan&, const float* x, const float* dy, std::size_t samples,
                            const float* ut, float* du, float* dx);
};

const Kernels& avx2_kernels();
const Kernels& portable_kernels();
bool cpu_has_avx2_fma();
// AVX2 where the CPU has it.
const Kernels& kernels();

}  // namespace nn::simd
