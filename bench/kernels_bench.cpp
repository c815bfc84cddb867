// Every vector-kernel build this CPU runs on LeNet's shapes, one thread: the narrow GEMM as conv1's direct
// convolution and conv2's Winograd products use it, and 2x2 max pooling. Compares instruction sets in one binary.
//   build/bench/kernels_bench --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <random>
#include <string>

#include "model/nn/aligned.hpp"
#include "model/nn/conv/conv_geometry.hpp"
#include "model/nn/conv/winograd_plan.hpp"
#include "model/nn/kernels/simd_kernels.hpp"

using nn::simd::Kernels;

namespace {

nn::AlignedFloats random_floats(std::size_t n) {
  nn::AlignedFloats v(n);
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<float> u(-1, 1);
  for (auto& x : v) x = u(rng);
  return v;
}

// conv1 forward, one output row of one image: 28 pixels × (5 kernel rows × 5 taps) · (25 × filters), written
// packed (20 floats a pixel) from a bias row.
void direct_conv1_row(benchmark::State& state, const Kernels* k) {
  const std::size_t filters = nn::simd::round_up(20, k->lanes), row_floats = 32;
  const auto image = random_floats(32 * row_floats), kernel = random_floats(25 * filters);
  nn::AlignedFloats out(28 * filters);
  for (auto _ : state) {
    k->narrow_gemm(28, filters / k->lanes, {image.data(), 1, 5, row_floats, 5, 1}, kernel.data(), filters,
                   {out.data(), 20, 20, false, kernel.data()});
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["useful GFLOP/s"] =
      benchmark::Counter(2.0 * 28 * 25 * 20, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

// conv2 Winograd forward, one position of one 24-tile block: (24 × 20) · (20 × 50 padded), its rows contiguous as
// the passes lay them out (position-major).
void winograd_conv2_product(benchmark::State& state, const Kernels* k) {
  const std::size_t c_pad = nn::simd::round_up(20, k->lanes), k_pad = nn::simd::round_up(50, k->lanes);
  const auto v = random_floats(24 * c_pad), u = random_floats(20 * k_pad);
  nn::AlignedFloats m(24 * k_pad);
  for (auto _ : state) {
    k->narrow_gemm(24, k_pad / k->lanes, {v.data(), c_pad, 1, 0, 20, 1}, u.data(), k_pad,
                   {m.data(), k_pad, k_pad, false, nullptr});
    benchmark::DoNotOptimize(m.data());
  }
  state.counters["useful GFLOP/s"] =
      benchmark::Counter(2.0 * 24 * 20 * 50, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

// conv2's whole Winograd passes over one task's slice (8 images 14x14x20 → 50 filters, 'same'), each build with
// its own padding: the products, the transforms and their memory traffic together.
struct Conv2Slice {
  static constexpr std::size_t kSamples = 8, kSide = 14, kChannels = 20, kFilters = 50;
  nn::ConvGeometry geometry;
  nn::simd::WinogradPlan plan;
  nn::AlignedFloats x, dy, y, dx, u, ut, du, bias, memory;
  nn::simd::WinogradScratch scratch;
  explicit Conv2Slice(const Kernels* k)
      : geometry(nn::conv_geometry({kSide, kSide, kChannels}, kFilters, 5, 1, nn::Padding::Same)),
        plan(nn::winograd_plan(geometry, *k, 2)),
        x(random_floats(kSamples * kSide * kSide * kChannels)), dy(random_floats(kSamples * kSide * kSide * kFilters)),
        y(dy.size()), dx(x.size()), u(random_floats(36 * kChannels * plan.k_pad)),
        ut(random_floats(36 * kFilters * plan.c_pad)), du(u.size()), bias(random_floats(plan.k_pad)),
        memory(nn::simd::winograd_scratch_floats(plan)), scratch(nn::simd::winograd_scratch(plan, memory.data())) {}
};

void winograd_conv2_forward_slice(benchmark::State& state, const Kernels* k) {
  Conv2Slice s(k);
  for (auto _ : state) {
    k->winograd_forward(s.plan, s.x.data(), Conv2Slice::kSamples, s.u.data(), s.bias.data(), s.y.data(), s.scratch);
    benchmark::DoNotOptimize(s.y.data());
  }
}

// The same slice by F(4x4, 5x5): 16 tiles of 4x4 an image against 49 of 2x2.
struct Conv2Tile4Slice : Conv2Slice {
  nn::simd::WinogradPlan plan4;
  nn::AlignedFloats u4, ut4, du4, memory4;
  nn::simd::WinogradScratch scratch4;
  explicit Conv2Tile4Slice(const Kernels* k)
      : Conv2Slice(k), plan4(nn::winograd_plan(geometry, *k, 4)), u4(random_floats(64 * kChannels * plan4.k_pad)),
        ut4(random_floats(64 * kFilters * plan4.c_pad)), du4(u4.size()),
        memory4(nn::simd::winograd_scratch_floats(plan4)), scratch4(nn::simd::winograd_scratch(plan4, memory4.data())) {}
};

void winograd4_conv2_forward_slice(benchmark::State& state, const Kernels* k) {
  Conv2Tile4Slice s(k);
  for (auto _ : state) {
    k->winograd4_forward(s.plan4, s.x.data(), Conv2Slice::kSamples, s.u4.data(), s.bias.data(), s.y.data(),
                         s.scratch4);
    benchmark::DoNotOptimize(s.y.data());
  }
}

// Training's backward pass, dU and dL/dx together: by F(2x2) (`range(0)` 2) or by F(4x4) (4, as WinogradConv runs
// it on LeNet's conv2).
void winograd_conv2_backward_slice(benchmark::State& state, const Kernels* k) {
  Conv2Tile4Slice s(k);
  const bool tile4 = state.range(0) == 4;
  for (auto _ : state) {
    if (tile4)
      k->winograd4_backward(s.plan4, s.x.data(), s.dy.data(), Conv2Slice::kSamples, s.ut4.data(), s.du4.data(),
                            s.dx.data(), s.scratch4);
    else
      k->winograd_backward(s.plan, s.x.data(), s.dy.data(), Conv2Slice::kSamples, s.ut.data(), s.du.data(),
                           s.dx.data(), s.scratch);
    benchmark::DoNotOptimize(s.dx.data());
  }
}

// The narrow GEMM's cost per block beyond its multiply-adds: 24 rows × 64 columns at depth `range(0)`. conv2's
// Winograd products reduce over 20 input channels or 50 filters; a deep product shows the kernel's own peak.
void narrow_gemm_depth(benchmark::State& state, const Kernels* k) {
  const std::size_t depth = static_cast<std::size_t>(state.range(0)), columns = 64;
  const auto a = random_floats(24 * depth), b = random_floats(depth * columns);
  nn::AlignedFloats c(24 * columns);
  for (auto _ : state) {
    k->narrow_gemm(24, columns / k->lanes, {a.data(), depth, 1, 0, depth, 1}, b.data(), columns,
                   {c.data(), columns, columns, false, nullptr});
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * 24 * static_cast<double>(depth * columns),
                                                 benchmark::Counter::kIsIterationInvariantRate,
                                                 benchmark::Counter::kIs1000);
}

void pool1_image(benchmark::State& state, const Kernels* k) {
  const auto x = random_floats(28 * 28 * 20);
  nn::AlignedFloats y(14 * 14 * 20), winner(y.size()), dx(x.size());
  for (auto _ : state) {
    k->max_pool_2x2_forward(x.data(), 28, 28, 20, y.data(), winner.data(), false);
    k->max_pool_2x2_backward(winner.data(), y.data(), 28, 28, 20, dx.data());
    benchmark::DoNotOptimize(dx.data());
  }
}

const bool registered = [] {
  for (const Kernels* k : nn::simd::runnable_kernels()) {
    const std::string name = k->name;
    benchmark::RegisterBenchmark(("direct_conv1_row/" + name).c_str(), direct_conv1_row, k);
    benchmark::RegisterBenchmark(("winograd_conv2_product/" + name).c_str(), winograd_conv2_product, k);
    benchmark::RegisterBenchmark(("winograd_conv2_forward_slice/" + name).c_str(), winograd_conv2_forward_slice, k);
    benchmark::RegisterBenchmark(("winograd4_conv2_forward_slice/" + name).c_str(), winograd4_conv2_forward_slice, k);
    benchmark::RegisterBenchmark(("winograd_conv2_backward_slice/" + name).c_str(), winograd_conv2_backward_slice, k)
        ->ArgName("tile")
        ->Arg(2)
        ->Arg(4);
    benchmark::RegisterBenchmark(("narrow_gemm_depth/" + name).c_str(), narrow_gemm_depth, k)
        ->ArgName("depth")
        ->Arg(20)
        ->Arg(50)
        ->Arg(1000);
    benchmark::RegisterBenchmark(("pool1_image/" + name).c_str(), pool1_image, k);
  }
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
