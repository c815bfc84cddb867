// Working memory of the Winograd passes (winograd_passes.hpp, winograd4_passes.hpp): a block's transformed input v
// and products m, one tile (or a strip of input rows) and one half-transformed tile (or strip).
#include <algorithm>

#include "model/nn/kernels/simd_kernels.hpp"

namespace nn::simd {

namespace {
struct Sizes {
  std::size_t v, m, tile, tmp;
};
// n = tile + 4: the input tile's side. `tile` holds an input tile (n², dL/dx) or the output tile (tile²); `tmp` an
// input tile half transformed or an output tile half transformed (n·tile).
Sizes sizes(const WinogradPlan& p) {
  const std::size_t strip = winograd_strip_floats(p), n = p.tile + 4, positions = n * n;
  return {kWinogradBlock * positions * p.c_pad, kWinogradBlock * positions * p.k_pad,
          std::max({positions * p.c_pad, p.tile * p.tile * p.k_pad, strip}),
          std::max({positions * p.c_pad, n * p.tile * p.k_pad, strip})};
}
}  // namespace

std::size_t winograd_strip_floats(const WinogradPlan& plan) {
  return (plan.tile + 4) * (plan.tile * std::min(plan.tiles_w, kWinogradBlock) + 4) * plan.c_pad;
}

std::size_t winograd_scratch_floats(const WinogradPlan& plan) {
  const Sizes s = sizes(plan);
  return s.v + s.m + s.tile + s.tmp;
}

WinogradScratch winograd_scratch(const WinogradPlan& plan, float* memory) {
  const Sizes s = sizes(plan);
  return {memory, memory + s.v, memory + s.v + s.m, memory + s.v + s.m + s.tile};
}

}  // namespace nn::simd
