#include "model/nn/conv/winograd5x5.hpp"

#include <algorithm>
#include <cstring>

namespace nn {

namespace {

constexpr std::size_t kTile = 6, kPositions = 36, kKernel = 5;

// G for the points 0, 1, -1, 1/2, -2, ∞, each row divided by the factor that made Bᵀ's row integers (in
// winograd_passes.hpp, with the Aᵀ that goes with it). In double, as the transforms below: U and the kernel
// gradient are rounded to float once, not at every step (their errors fell by 8%; they run once per batch).
constexpr double kG[kTile][kKernel] = {{1. / 2, 0, 0, 0, 0},
                                       {1. / 6, 1. / 6, 1. / 6, 1. / 6, 1. / 6},
                                       {1. / 6, -1. / 6, 1. / 6, -1. / 6, 1. / 6},
                                       {16. / 15, 8. / 15, 4. / 15, 2. / 15, 1. / 15},
                                       {1. / 30, -2. / 30, 4. / 30, -8. / 30, 16. / 30},
                                       {0, 0, 0, 0, 1. / 2}};

// dst(a, b) += Σ_i,j L(a, i) · src(i, j) · L(b, j) over rows of n floats, L being out × in: the separable 2-D
// transform between a 5x5 kernel and its 6x6 Winograd form (either way), for one input channel.
template <class Coefficient, class Source, class Destination>
void two_sided(std::size_t out, std::size_t in, Coefficient L, Source src, Destination dst, std::size_t n,
               std::vector<double>& half) {
  half.assign(out * in * n, 0.0);  // L · src, (out, in)
  std::vector<double> sum(n);
  for (std::size_t a = 0; a < out; ++a)
    for (std::size_t i = 0; i < in; ++i) {
      if (L(a, i) == 0) continue;
      for (std::size_t j = 0; j < in; ++j) {
        const float* from = src(i, j);
        double* to = half.data() + (a * in + j) * n;
        for (std::size_t k = 0; k < n; ++k) to[k] += L(a, i) * static_cast<double>(from[k]);
      }
    }
  for (std::size_t a = 0; a < out; ++a)
    for (std::size_t b = 0; b < out; ++b) {
      float* to = dst(a, b);
      std::fill(sum.begin(), sum.end(), 0.0);
      for (std::size_t j = 0; j < in; ++j) {
        if (L(b, j) == 0) continue;
        const double* from = half.data() + (a * in + j) * n;
        for (std::size_t k = 0; k < n; ++k) sum[k] += L(b, j) * from[k];
      }
      for (std::size_t k = 0; k < n; ++k) to[k] += static_cast<float>(sum[k]);
    }
}

}  // namespace

Winograd5x5::Winograd5x5(const ConvGeometry& g, const simd::Kernels& kernels)
    : plan_{g.in_h,
            g.in_w,
            g.in_c,
            g.filters,
            g.out_h,
            g.out_w,
            g.pad_top,
            g.pad_left,
            (g.out_h + 1) / 2,
            (g.out_w + 1) / 2,
            simd::round_up(g.in_c, kernels.lanes),
            simd::round_up(g.filters, kernels.lanes)},
      kernels_(&kernels),
      u_(kPositions * g.in_c * plan_.k_pad, 0.0f),
      ut_(kPositions * g.filters * plan_.c_pad, 0.0f) {}

void Winograd5x5::set_kernel(const float* kernel) {
  const std::size_t c_n = plan_.in_c, k_n = plan_.filters, kp = plan_.k_pad, cp = plan_.c_pad;
  std::fill(u_.begin(), u_.end(), 0.0f);
  std::vector<double> half;
  for (std::size_t c = 0; c < c_n; ++c)  // U = G g Gᵀ
    two_sided(
        kTile, kKernel, [](std::size_t a, std::size_t i) { return kG[a][i]; },
        [&](std::size_t i, std::size_t j) { return kernel + ((i * kKernel + j) * c_n + c) * k_n; },
        [&](std::size_t a, std::size_t b) { return u_.data() + ((a * kTile + b) * c_n + c) * kp; }, k_n, half);
  for (std::size_t pos = 0; pos < kPositions; ++pos)
    for (std::size_t c = 0; c < c_n; ++c)
      for (std::size_t k = 0; k < k_n; ++k)
        ut_[(pos * k_n + k) * cp + c] = u_[(pos * c_n + c) * kp + k];
}

void Winograd5x5::kernel_gradient(const float* du, float* dkernel) const {
  const std::size_t c_n = plan_.in_c, k_n = plan_.filters, kp = plan_.k_pad;
  std::memset(dkernel, 0, kKernel * kKernel * c_n * k_n * sizeof(float));
  std::vector<double> half;
  for (std::size_t c = 0; c < c_n; ++c)  // dg = Gᵀ dU G
    two_sided(
        kKernel, kTile, [](std::size_t i, std::size_t a) { return kG[a][i]; },
        [&](std::size_t a, std::size_t b) { return du + ((a * kTile + b) * c_n + c) * kp; },
        [&](std::size_t i, std::size_t j) { return dkernel + ((i * kKernel + j) * c_n + c) * k_n; }, k_n, half);
}

simd::WinogradScratch Winograd5x5::scratch() const {
  AlignedFloats& memory = scratch_.local();
  memory.resize(simd::winograd_scratch_floats(plan_));
  return simd::winograd_scratch(plan_, memory.data());
}

void Winograd5x5::forward(const float* x, std::size_t samples, const float* bias, float* y) const {
  kernels_->winograd_forward(plan_, x, samples, u_.data(), bias, y, scratch());
}

void Winograd5x5::backward(const float* x, const float* dy, std::size_t samples, float* du, float* dx) const {
  kernels_->winograd_backward(plan_, x, dy, samples, ut_.data(), du, dx, scratch());
}

}  // namespace nn
