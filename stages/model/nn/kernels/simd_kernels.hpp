#pragma once
// Our own vector kernels, for shapes where a BLAS call is too small to pay off (bench/README.md, section 4):
// the narrow GEMM behind the direct convolution and Winograd's products, Winograd's tile transforms, and 2x2
// max pooling. One source (kernels_arch.cpp) on xsimd::batch, compiled by the build once per instruction set
// (avx512, avx2 + fma, the sse2 baseline); `kernels()` picks the best the CPU runs at run time.
#include <cstddef>
#include <string>
#include <vector>

namespace nn::simd {

struct WinogradPlan {
  std::size_t in_h, in_w, in_c, filters, out_h, out_w, pad_top, pad_left;
  std::size_t tiles_h, tiles_w;  // output tiles down and across: out_h and out_w divided by `tile`, rounded up
  std::size_t c_pad, k_pad;  // in_c and filters rounded up to whole vector registers of the kernels in use
  std::size_t tile = 2;      // output tile side: 2 for F(2x2, 5x5), 4 for F(4x4, 5x5)
};

// Per-thread working memory of the Winograd passes, owned by the caller (winograd_scratch_floats() floats).
struct WinogradScratch {
  float *v, *m, *tile, *tmp;
};

// The left operand of narrow_gemm: rows × (outer_count · inner_count), A(r, (o, i)) =
// data[r·row_stride + o·outer_stride + i·inner_stride]. A matrix has outer_count 1; a stride-1 convolution over a
// padded NHWC image has one outer step per kernel row, so it needs no im2col copy.
struct NarrowLhs {
  const float* data;
  std::size_t row_stride, outer_count, outer_stride, inner_count, inner_stride;
};

// Where narrow_gemm writes C: rows `row_stride` apart, of which `columns` are written (the rest of the last
// register is neither read nor written, so C may be a packed NHWC output). C starts from its own values
// (`accumulate`), from `bias` (a row of lanes·vectors floats, zero-padded) or from zero.
struct NarrowOut {
  float* data;
  std::size_t row_stride, columns;
  bool accumulate;
  const float* bias;
};

struct Kernels {
  const char* name;   // "avx512", "avx2", "sse2"
  std::size_t lanes;  // floats per vector register: operands are padded to multiples of it
  // C (rows × lanes·vectors) (+)= A · B; row l of B (lanes·vectors floats) at b + l·bls, l = o·inner_count + i.
  void (*narrow_gemm)(std::size_t rows, std::size_t vectors, const NarrowLhs& a, const float* b, std::size_t bls,
                      const NarrowOut& c);
  // One slice of images. Layouts: u, du (36, in_c, k_pad) and ut (36, filters, c_pad: U transposed, for dL/dx),
  // zero-padded; x, y, dy, dx NHWC. `winograd_backward` adds the slice's dL/dU into du and writes dL/dx when dx is
  // not null.
  void (*winograd_forward)(const WinogradPlan&, const float* x, std::size_t samples, const float* u, const float* bias,
                           float* y, const WinogradScratch&);
  void (*winograd_backward)(const WinogradPlan&, const float* x, const float* dy, std::size_t samples,
                            const float* ut, float* du, float* dx, const WinogradScratch&);
  // F(4x4, 5x5), alike: u, du (64, in_c, k_pad), ut (64, filters, c_pad); the plan's tile is 4.
  void (*winograd4_forward)(const WinogradPlan&, const float* x, std::size_t samples, const float* u, const float* bias,
                            float* y, const WinogradScratch&);
  void (*winograd4_backward)(const WinogradPlan&, const float* x, const float* dy, std::size_t samples,
                             const float* ut, float* du, float* dx, const WinogradScratch&);
  // 2x2 windows, stride 2, over one (h, w, c) image; y is (h/2, w/2, c). Ties go to the first maximum in
  // row-major window order; `winner` (one float per output value; null at inference, when nothing reads it)
  // records the window position (0-3) the backward pass routes the gradient to. With `then_relu`, y is ReLU of
  // the maxima and a window whose maximum is not positive routes nothing. Backward writes all of dx (zero outside
  // the maxima).
  void (*max_pool_2x2_forward)(const float* x, std::size_t h, std::size_t w, std::size_t c, float* y, float* winner,
                               bool then_relu);
  void (*max_pool_2x2_backward)(const float* winner, const float* dy, std::size_t h, std::size_t w, std::size_t c,
                                float* dx);
  // Sums in a fixed order, the same bits as a plain loop: out (columns) = Σ over m's rows (rows × columns, packed),
  // row after row; out[i] = Σ parts[p][first + i] over the `count` parts in order, i < n.
  void (*column_sums)(const float* m, std::size_t rows, std::size_t columns, float* out);
  void (*sum_parts)(const float* const* parts, std::size_t count, std::size_t first, std::size_t n, float* out);
};

// Winograd tiles per block: the block's transformed input and products (about 280 KB for LeNet's conv2 on AVX2
// with 2x2 tiles, 490 KB with 4x4) stay in L2. A multiple of every row blocking the narrow GEMM uses, so no block
// leaves a remainder.
inline constexpr std::size_t kWinogradBlock = 24;
std::size_t winograd_scratch_floats(const WinogradPlan& plan);
// The input strip of a run of tiles along one tile row (tile + 4 rows, up to tile·min(tiles_w, block) + 4 columns,
// c_pad).
std::size_t winograd_strip_floats(const WinogradPlan& plan);
// Splits winograd_scratch_floats(plan) floats at `memory` into the passes' buffers.
WinogradScratch winograd_scratch(const WinogradPlan& plan, float* memory);
inline std::size_t round_up(std::size_t n, std::size_t lanes) { return (n + lanes - 1) / lanes * lanes; }

// Every build this CPU runs, best first: the widest vectors first, except on CPUs that split 512-bit operations in
// two (AMD Zen 4), where avx2 goes before avx512.
std::vector<const Kernels*> runnable_kernels();
// `builds` (widest first) with avx2 moved before avx512, when both are there; the rest keeps its order.
std::vector<const Kernels*> prefer_256_bit_vectors(std::vector<const Kernels*> builds);
// The build the layers use: the best the CPU runs, or the one named by the environment variable PIPELINE_SIMD
// (avx512, avx2 or sse2) to compare or test another. Throws std::runtime_error, naming the variable, when it
// names no build or one the CPU cannot run.
const Kernels& kernels();
// "avx512, avx2, sse2" for messages and --version.
std::string kernel_names(const std::vector<const Kernels*>& builds);

}  // namespace nn::simd
