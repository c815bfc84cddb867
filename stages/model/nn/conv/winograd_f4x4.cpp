#include "model/nn/conv/winograd_f4x4.hpp"

#include <algorithm>
#include <vector>

#include "model/nn/conv/winograd_kernel_transform.hpp"

namespace nn {

namespace {

constexpr std::size_t kTile = 8, kPositions = 64, kKernel = 5;

// G for the points 0, 1, -1, 1/2, -1/2, 2, -2, ∞, each row divided by the factor that made Bᵀ's row integers
// (18, 45/16 and 360; winograd4_passes.hpp).
constexpr double kG[kTile][kKernel] = {{1, 0, 0, 0, 0},
                                       {1. / 18, 1. / 18, 1. / 18, 1. / 18, 1. / 18},
                                       {1. / 18, -1. / 18, 1. / 18, -1. / 18, 1. / 18},
                                       {16. / 45, 8. / 45, 4. / 45, 2. / 45, 1. / 45},
                                       {16. / 45, -8. / 45, 4. / 45, -2. / 45, 1. / 45},
                                       {1. / 360, 2. / 360, 4. / 360, 8. / 360, 16. / 360},
                                       {1. / 360, -2. / 360, 4. / 360, -8. / 360, 16. / 360},
                                       {0, 0, 0, 0, 1}};

std::size_t tiles_of(std::size_t size, std::size_t tile) { return (size + tile - 1) / tile; }

}  // namespace

WinogradF4x4::WinogradF4x4(const ConvGeometry& g, const simd::Kernels& kernels)
    : plan_(winograd_plan(g, kernels, 4)),
      kernels_(&kernels),
      u_(kPositions * g.in_c * plan_.k_pad, 0.0f),
      ut_(kPositions * g.filters * plan_.c_pad, 0.0f) {}

bool WinogradF4x4::saves_products(const ConvGeometry& g) {
  return tiles_of(g.out_h, 4) * tiles_of(g.out_w, 4) * 64 < tiles_of(g.out_h, 2) * tiles_of(g.out_w, 2) * 36;
}

void WinogradF4x4::set_kernel(const float* kernel) {
  const std::size_t c_n = plan_.in_c, k_n = plan_.filters, kp = plan_.k_pad;
  std::fill(u_.begin(), u_.end(), 0.0f);
  transform_kernel(kG, kernel, c_n, k_n, kp, u_.data());  // U = G g Gᵀ
  transpose_positions(u_.data(), kPositions, c_n, k_n, kp, plan_.c_pad, ut_.data());
}

void WinogradF4x4::forward(const float* x, std::size_t samples, const float* bias, float* y) const {
  kernels_->winograd4_forward(plan_, x, samples, u_.data(), bias, y, thread_scratch(plan_, scratch_));
}

void WinogradF4x4::input_gradient(const float* dy, std::size_t samples, float* dx) const {
  kernels_->winograd4_input_gradient(plan_, dy, samples, ut_.data(), dx, thread_scratch(plan_, scratch_));
}

}  // namespace nn
