#pragma once
// The separable 2-D transform between a 5x5 kernel and its Winograd form (G g Gᵀ, or back: Gᵀ dU G), in double:
// U and the kernel gradient are rounded to float once, not at every step (their errors fell by 8%); it runs once
// per batch, not per tile. And U transposed position by position, for dL/dx.
#include <algorithm>
#include <cstddef>
#include <vector>

namespace nn {

// dst(a, b) += Σ_i,j L(a, i) · src(i, j) · L(b, j) over rows of n floats, L being out × in, for one input channel.
// `half` is working memory.
template <class Coefficient, class Source, class Destination>
void two_sided_transform(std::size_t out, std::size_t in, Coefficient L, Source src, Destination dst, std::size_t n,
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

// u (n·n, in_c, k_pad) = G g Gᵀ for each input channel of a kernel g (5, 5, in_c, filters); G is n × 5. u's
// padding columns are left as they are.
template <std::size_t n>
void transform_kernel(const double (&G)[n][5], const float* kernel, std::size_t in_c, std::size_t filters,
                      std::size_t k_pad, float* u) {
  std::vector<double> half;
  for (std::size_t c = 0; c < in_c; ++c)
    two_sided_transform(
        n, 5, [&](std::size_t a, std::size_t i) { return G[a][i]; },
        [&](std::size_t i, std::size_t j) { return kernel + ((i * 5 + j) * in_c + c) * filters; },
        [&](std::size_t a, std::size_t b) { return u + ((a * n + b) * in_c + c) * k_pad; }, filters, half);
}

// dkernel (5, 5, in_c, filters) = Gᵀ dU G for each input channel of a kernel gradient du (n·n, in_c, k_pad) summed
// in the transformed domain; G is n × 5. dkernel is written whole.
template <std::size_t n>
void kernel_gradient_from_transformed(const double (&G)[n][5], const float* du, std::size_t in_c, std::size_t filters,
                                      std::size_t k_pad, float* dkernel) {
  std::fill(dkernel, dkernel + 25 * in_c * filters, 0.0f);
  std::vector<double> half;
  for (std::size_t c = 0; c < in_c; ++c)
    two_sided_transform(
        5, n, [&](std::size_t i, std::size_t a) { return G[a][i]; },
        [&](std::size_t a, std::size_t b) { return du + ((a * n + b) * in_c + c) * k_pad; },
        [&](std::size_t i, std::size_t j) { return dkernel + ((i * 5 + j) * in_c + c) * filters; }, filters, half);
}

// ut (positions, filters, c_pad) = u (positions, in_c, k_pad) transposed at each position, for dL/dx's products;
// ut's padding columns are left as they are.
inline void transpose_positions(const float* u, std::size_t positions, std::size_t in_c, std::size_t filters,
                                std::size_t k_pad, std::size_t c_pad, float* ut) {
  for (std::size_t pos = 0; pos < positions; ++pos)
    for (std::size_t c = 0; c < in_c; ++c)
      for (std::size_t k = 0; k < filters; ++k) ut[(pos * filters + k) * c_pad + c] = u[(pos * in_c + c) * k_pad + k];
}

}  // namespace nn
