#pragma once
// Stride-1 5x5 convolution by Winograd F(4x4, 5x5): WinogradConv's forward pass and dL/dx. A 4x4 output tile
// costs 64 multiplies per (input, output) channel pair instead of 400 (F(2x2)'s four 2x2 tiles: 144), at a little
// more rounding (winograd4_passes.hpp); the kernel gradient keeps F(2x2, 5x5) (Winograd5x5).
#include <cstddef>
#include <string>

#include "model/nn/aligned.hpp"
#include "model/nn/conv/conv_geometry.hpp"
#include "model/nn/conv/winograd_plan.hpp"
#include "model/nn/kernels/simd_kernels.hpp"

namespace nn {

class WinogradF4x4 {
 public:
  explicit WinogradF4x4(const ConvGeometry& geometry, const simd::Kernels& kernels = simd::kernels());
  // Whether 4x4 tiles multiply less than 2x2 ones on this output (not on outputs of a few pixels, where 4x4 tiles
  // would be mostly padding).
  static bool saves_products(const ConvGeometry& geometry);

  // Takes the layer's kernel (5, 5, in_c, filters) for the passes that follow.
  void set_kernel(const float* kernel);
  // One slice of `samples` NHWC images: y = x * kernel + bias.
  void forward(const float* x, std::size_t samples, const float* bias, float* y) const;
  // The slice's dL/dx (written whole) from its dL/dy.
  void input_gradient(const float* dy, std::size_t samples, float* dx) const;

 private:
  simd::WinogradPlan plan_;
  const simd::Kernels* kernels_;
  AlignedFloats u_, ut_;  // G g Gᵀ as (64, in_c, k_pad) and as (64, filters, c_pad)
  mutable WinogradMemory scratch_;  // per thread, reused
};

}  // namespace nn
