#pragma once
// What the Winograd kernels need to know of a convolution (its geometry, padded to the build's vector registers,
// in tiles of `tile` outputs a side), and each thread's working memory for it.
#include <cstddef>

#include <oneapi/tbb/enumerable_thread_specific.h>

#include "model/nn/aligned.hpp"
#include "model/nn/conv/conv_geometry.hpp"
#include "model/nn/kernels/simd_kernels.hpp"

namespace nn {

inline simd::WinogradPlan winograd_plan(const ConvGeometry& g, const simd::Kernels& kernels, std::size_t tile) {
  return {g.in_h,
          g.in_w,
          g.in_c,
          g.filters,
          g.out_h,
          g.out_w,
          g.pad_top,
          g.pad_left,
          (g.out_h + tile - 1) / tile,
          (g.out_w + tile - 1) / tile,
          simd::round_up(g.in_c, kernels.lanes),
          simd::round_up(g.filters, kernels.lanes),
          tile};
}

using WinogradMemory = oneapi::tbb::enumerable_thread_specific<AlignedFloats>;

// The calling thread's buffers for `plan`, allocated on its first call and reused.
inline simd::WinogradScratch thread_scratch(const simd::WinogradPlan& plan, WinogradMemory& memory) {
  AlignedFloats& mine = memory.local();
  mine.resize(simd::winograd_scratch_floats(plan));
  return simd::winograd_scratch(plan, mine.data());
}

}  // namespace nn
