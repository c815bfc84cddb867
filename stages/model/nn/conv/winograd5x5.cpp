#include "model/nn/conv/winograd5x5.hpp"

#include <algorithm>
#include <stdexcept>

#include "model/nn/conv/winograd_kernel_transform.hpp"

namespace nn {

namespace {

// G for F(2x2, 5x5)'s points 0, 1, -1, 1/2, -2, ∞, each row divided by the factor that made Bᵀ's row integers (in
// winograd_passes.hpp, with the Aᵀ that goes with it). In double, as two_sided_transform.
constexpr double kG2[6][5] = {{1. / 2, 0, 0, 0, 0},
                              {1. / 6, 1. / 6, 1. / 6, 1. / 6, 1. / 6},
                              {1. / 6, -1. / 6, 1. / 6, -1. / 6, 1. / 6},
                              {16. / 15, 8. / 15, 4. / 15, 2. / 15, 1. / 15},
                              {1. / 30, -2. / 30, 4. / 30, -8. / 30, 16. / 30},
                              {0, 0, 0, 0, 1. / 2}};

// G for F(4x4, 5x5)'s points 0, 1, -1, 1/2, -1/2, 2, -2, ∞, each row divided by the factor that made Bᵀ's row
// integers (18, 45/16 and 360; winograd4_passes.hpp).
constexpr double kG4[8][5] = {{1, 0, 0, 0, 0},
                              {1. / 18, 1. / 18, 1. / 18, 1. / 18, 1. / 18},
                              {1. / 18, -1. / 18, 1. / 18, -1. / 18, 1. / 18},
                              {16. / 45, 8. / 45, 4. / 45, 2. / 45, 1. / 45},
                              {16. / 45, -8. / 45, 4. / 45, -2. / 45, 1. / 45},
                              {1. / 360, 2. / 360, 4. / 360, 8. / 360, 16. / 360},
                              {1. / 360, -2. / 360, 4. / 360, -8. / 360, 16. / 360},
                              {0, 0, 0, 0, 1}};

std::size_t tiles_of(std::size_t size, std::size_t tile) { return (size + tile - 1) / tile; }

simd::WinogradPlan checked_plan(const ConvGeometry& g, const simd::Kernels& kernels, std::size_t tile) {
  if (tile != 2 && tile != 4)
    throw std::invalid_argument("Winograd 5x5: output tiles of 2 or 4, not " + std::to_string(tile));
  return winograd_plan(g, kernels, tile);
}

// Calls `use` with the G of `tile`'s points: the transform templates take G's size at compile time.
template <class Use>
void with_g(std::size_t tile, Use use) {
  if (tile == 4)
    use(kG4);
  else
    use(kG2);
}

}  // namespace

Winograd5x5::Winograd5x5(const ConvGeometry& g, const simd::Kernels& kernels, std::size_t tile)
    : plan_(checked_plan(g, kernels, tile)),
      kernels_(&kernels),
      forward_pass_(tile == 4 ? kernels.winograd4_forward : kernels.winograd_forward),
      backward_pass_(tile == 4 ? kernels.winograd4_backward : kernels.winograd_backward),
      u_(positions() * g.in_c * plan_.k_pad, 0.0f),
      ut_(positions() * g.filters * plan_.c_pad, 0.0f) {}

bool Winograd5x5::tile4_saves_products(const ConvGeometry& g) {
  return tiles_of(g.out_h, 4) * tiles_of(g.out_w, 4) * 64 < tiles_of(g.out_h, 2) * tiles_of(g.out_w, 2) * 36;
}

void Winograd5x5::set_kernel(const float* kernel) {
  const std::size_t c_n = plan_.in_c, k_n = plan_.filters, kp = plan_.k_pad;
  std::fill(u_.begin(), u_.end(), 0.0f);
  with_g(plan_.tile, [&](const auto& G) { transform_kernel(G, kernel, c_n, k_n, kp, u_.data()); });  // U = G g Gᵀ
  transpose_positions(u_.data(), positions(), c_n, k_n, kp, plan_.c_pad, ut_.data());
}

void Winograd5x5::kernel_gradient(const float* du, float* dkernel) const {
  with_g(plan_.tile, [&](const auto& G) {
    kernel_gradient_from_transformed(G, du, plan_.in_c, plan_.filters, plan_.k_pad, dkernel);
  });
}

void Winograd5x5::forward(const float* x, std::size_t samples, const float* bias, float* y) const {
  forward_pass_(plan_, x, samples, u_.data(), bias, y, thread_scratch(plan_, scratch_));
}

void Winograd5x5::backward(const float* x, const float* dy, std::size_t samples, float* du, float* dx) const {
  backward_pass_(plan_, x, dy, samples, ut_.data(), du, dx, thread_scratch(plan_, scratch_));
}

}  // namespace nn
