#pragma once
// Stride-1 5x5 convolution by Winograd's minimal filtering F(2x2, 5x5) (Lavin & Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2016). A 2x2 output tile costs 36 multiplies per (input, output) channel pair
// instead of 100: 2.8x fewer FLOPs than im2col + GEMM. Gradients use the transposed transforms. Slices of a batch
// share only the transformed kernel, so they run in parallel.
#include <cstddef>
#include <string>
#include <vector>

#include "model/nn/aligned.hpp"
#include "model/nn/conv/conv_geometry.hpp"
#include "model/nn/conv/winograd_plan.hpp"
#include "model/nn/kernels/simd_kernels.hpp"

namespace nn {

class Winograd5x5 {
 public:
  // `kernels`: the build to run (tests pass each one the CPU runs).
  explicit Winograd5x5(const ConvGeometry& geometry, const simd::Kernels& kernels = simd::kernels());
  std::string kernel_name() const { return kernels_->name; }

  // Takes the layer's kernel (5, 5, in_c, filters) for the passes that follow.
  void set_kernel(const float* kernel);
  // Zeroed accumulator for one slice's kernel gradient, in the transformed domain.
  std::size_t kernel_gradient_size() const { return u_.size(); }
  // Brings a sum of slices' accumulators back to the kernel's layout (5, 5, in_c, filters).
  void kernel_gradient(const float* du, float* dkernel) const;

  // One slice of `samples` NHWC images. `forward` writes y (bias added); `backward` adds the slice's gradient into
  // du (kernel_gradient_size() floats) and, when dx is not null, writes dL/dx.
  void forward(const float* x, std::size_t samples, const float* bias, float* y) const;
  void backward(const float* x, const float* dy, std::size_t samples, float* du, float* dx) const;

 private:
  simd::WinogradPlan plan_;
  const simd::Kernels* kernels_;
  AlignedFloats u_, ut_;  // G g Gᵀ as (36, in_c, k_pad) and as (36, filters, c_pad)
  // Per thread: the passes' working memory, about 0.3 MB for LeNet's conv2, reused from call to call.
  mutable WinogradMemory scratch_;
};

}  // namespace nn
