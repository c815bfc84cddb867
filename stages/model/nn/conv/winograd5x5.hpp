#pragma once
// Stride-1 5x5 convolution by Winograd's minimal filtering (Lavin & Gray, "Fast Algorithms for Convolutional Neural
// Networks", 2016), in output tiles of 2x2 or 4x4: F(2x2, 5x5) costs 36 multiplies per tile and (input, output)
// channel pair, F(4x4, 5x5) 64, against the direct form's 100 per output pixel. 4x4 tiles round a little more
// (winograd4_passes.hpp); they are worth it where they save products (tile4_saves_products). Gradients use the
// transposed transforms. Slices of a batch share only the transformed kernel, so they run in parallel.
#include <cstddef>
#include <string>

#include "model/nn/aligned.hpp"
#include "model/nn/conv/conv_geometry.hpp"
#include "model/nn/conv/winograd_plan.hpp"
#include "model/nn/kernels/simd_kernels.hpp"

namespace nn {

class Winograd5x5 {
 public:
  // `tile`: the output tile's side, 2 or 4. `kernels`: the build to run (tests pass each one the CPU runs).
  explicit Winograd5x5(const ConvGeometry& geometry, const simd::Kernels& kernels = simd::kernels(),
                       std::size_t tile = 2);
  // Whether 4x4 tiles multiply less than 2x2 ones on this output (not on outputs of a few pixels, where 4x4 tiles
  // would be mostly padding).
  static bool tile4_saves_products(const ConvGeometry& geometry);
  std::size_t tile() const { return plan_.tile; }
  std::string kernel_name() const { return kernels_->name; }

  // Takes the layer's kernel (5, 5, in_c, filters) for the passes that follow.
  void set_kernel(const float* kernel);
  // Zeroed accumulator for one slice's kernel gradient, in the transformed domain.
  std::size_t kernel_gradient_size() const { return u_.size(); }
  // Brings a sum of slices' accumulators back to the kernel's layout (5, 5, in_c, filters), written whole.
  void kernel_gradient(const float* du, float* dkernel) const;

  // One slice of `samples` NHWC images. `forward` writes y (bias added); `backward` adds the slice's gradient into
  // du (kernel_gradient_size() floats) and, when dx is not null, writes dL/dx.
  void forward(const float* x, std::size_t samples, const float* bias, float* y) const;
  void backward(const float* x, const float* dy, std::size_t samples, float* du, float* dx) const;

 private:
  std::size_t positions() const { return (plan_.tile + 4) * (plan_.tile + 4); }

  simd::WinogradPlan plan_;
  const simd::Kernels* kernels_;
  decltype(simd::Kernels::winograd_forward) forward_pass_;  // the kernel build's passes for the tile size
  decltype(simd::Kernels::winograd_backward) backward_pass_;
  AlignedFloats u_, ut_;  // G g Gᵀ as (positions, in_c, k_pad) and as (positions, filters, c_pad)
  // Per thread: the passes' working memory, about 0.3-0.5 MB for LeNet's conv2, reused from call to call.
  mutable WinogradMemory scratch_;
};

}  // namespace nn
