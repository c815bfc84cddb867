#include "model/nn/conv/winograd5x5.hpp"

#include <algorithm>
#include <cstring>

#include "model/nn/conv/winograd_kernel_transform.hpp"

namespace nn {

namespace {

constexpr std::size_t kTile = 6, kPositions = 36, kKernel = 5;

// G for the points 0, 1, -1, 1/2, -2, ∞, each row divided by the factor that made Bᵀ's row integers (in
// winograd_passes.hpp, with the Aᵀ that goes with it). In double, as two_sided_transform.
constexpr double kG[kTile][kKernel] = {{1. / 2, 0, 0, 0, 0},
                                       {1. / 6, 1. / 6, 1. / 6, 1. / 6, 1. / 6},
                                       {1. / 6, -1. / 6, 1. / 6, -1. / 6, 1. / 6},
                                       {16. / 15, 8. / 15, 4. / 15, 2. / 15, 1. / 15},
                                       {1. / 30, -2. / 30, 4. / 30, -8. / 30, 16. / 30},
                                       {0, 0, 0, 0, 1. / 2}};

}  // namespace

Winograd5x5::Winograd5x5(const ConvGeometry& g, const simd::Kernels& kernels)
    : plan_(winograd_plan(g, kernels, 2)),
      kernels_(&kernels),
      u_(kPositions * g.in_c * plan_.k_pad, 0.0f),
      ut_(kPositions * g.filters * plan_.c_pad, 0.0f) {}

void Winograd5x5::set_kernel(const float* kernel) {
  const std::size_t c_n = plan_.in_c, k_n = plan_.filters, kp = plan_.k_pad, cp = plan_.c_pad;
  std::fill(u_.begin(), u_.end(), 0.0f);
  transform_kernel(kG, kernel, c_n, k_n, kp, u_.data());  // U = G g Gᵀ
  transpose_positions(u_.data(), kPositions, c_n, k_n, kp, cp, ut_.data());
}

void Winograd5x5::kernel_gradient(const float* du, float* dkernel) const {
  const std::size_t c_n = plan_.in_c, k_n = plan_.filters, kp = plan_.k_pad;
  std::memset(dkernel, 0, kKernel * kKernel * c_n * k_n * sizeof(float));
  std::vector<double> half;
  for (std::size_t c = 0; c < c_n; ++c)  // dg = Gᵀ dU G
    two_sided_transform(
        kKernel, kTile, [](std::size_t i, std::size_t a) { return kG[a][i]; },
        [&](std::size_t a, std::size_t b) { return du + ((a * kTile + b) * c_n + c) * kp; },
        [&](std::size_t i, std::size_t j) { return dkernel + ((i * kKernel + j) * c_n + c) * k_n; }, k_n, half);
}

void Winograd5x5::forward(const float* x, std::size_t samples, const float* bias, float* y) const {
  kernels_->winograd_forward(plan_, x, samples, u_.data(), bias, y, thread_scratch(plan_, scratch_));
}

void Winograd5x5::backward(const float* x, const float* dy, std::size_t samples, float* du, float* dx) const {
  kernels_->winograd_backward(plan_, x, dy, samples, ut_.data(), du, dx, thread_scratch(plan_, scratch_));
}

}  // namespace nn
