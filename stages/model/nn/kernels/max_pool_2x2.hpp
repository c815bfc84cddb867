#pragma once
// 2x2 / stride 2 max pooling over one NHWC image on xsimd: the four candidates of a run of channels are four
// contiguous loads. Included only by kernels_arch.cpp, once per instruction set.
#include <cstddef>
#include <cstring>

#include <xsimd/xsimd.hpp>

namespace nn::simd {

template <class Arch>
class MaxPool2x2 {
  using Vector = xsimd::batch<float, Arch>;
  static constexpr std::size_t kLanes = Vector::size;

 public:
  // y (h/2, w/2, c) and, per output value, the window position (0-3, row-major) of its maximum as a float: the
  // backward pass then reads 2 values per output instead of the 4 inputs again (measured: 30-50% faster).
  // `winner` may be null (inference: no backward pass reads it), and nothing is written there. With `then_relu`,
  // y = max(maximum, 0) and a window whose maximum is not positive has no winner (kNoWinner): the backward pass is
  // then ReLU's and pooling's together.
  static void forward(const float* x, std::size_t h, std::size_t w, std::size_t c, float* y, float* winner,
                      bool then_relu) {
    if (then_relu)
      winner == nullptr ? pool<false, true>(x, h, w, c, y, nullptr) : pool<true, true>(x, h, w, c, y, winner);
    else
      winner == nullptr ? pool<false, false>(x, h, w, c, y, nullptr) : pool<true, false>(x, h, w, c, y, winner);
  }

 private:
  static constexpr float kNoWinner = 4.0f;

  template <bool kWinners, bool kRelu>
  static void pool(const float* x, std::size_t h, std::size_t w, std::size_t c, float* y, float* winner) {
    const std::size_t out_w = w / 2;
    for (std::size_t oh = 0; oh < h / 2; ++oh)
      for (std::size_t ow = 0; ow < out_w; ++ow) {
        const float* a = x + ((2 * oh) * w + 2 * ow) * c;
        const float* window[4] = {a, a + c, a + w * c, a + w * c + c};
        const std::size_t o = (oh * out_w + ow) * c;
        if (c < kLanes) {
          forward_scalar<kWinners, kRelu>(window, c, y + o, winner + o * kWinners);
          continue;
        }
        // Whole registers; the last one overlaps the one before when c is not a multiple of the lanes (computing
        // a few channels twice beats a scalar tail).
        for (std::size_t k = 0; k < c; k += kLanes) {
          const std::size_t at = k + kLanes <= c ? k : c - kLanes;
          Vector best = Vector::load_unaligned(window[0] + at), where(0.0f);
          for (int q = 1; q < 4; ++q) {
            // `candidate > best`, not max(): the first maximum wins and a NaN never replaces it.
            const Vector candidate = Vector::load_unaligned(window[q] + at);
            const auto better = candidate > best;
            best = xsimd::select(better, candidate, best);
            if constexpr (kWinners) where = xsimd::select(better, Vector(static_cast<float>(q)), where);
          }
          if constexpr (kRelu) {
            const auto positive = best > Vector(0.0f);
            best = xsimd::select(positive, best, Vector(0.0f));
            if constexpr (kWinners) where = xsimd::select(positive, where, Vector(kNoWinner));
          }
          best.store_unaligned(y + o + at);
          if constexpr (kWinners) where.store_unaligned(winner + o + at);
        }
      }
  }

 public:
  // dx (h, w, c): dy at each window's maximum, zero elsewhere (all of dx is written).
  static void backward(const float* winner, const float* dy, std::size_t h, std::size_t w, std::size_t c, float* dx) {
    const std::size_t out_w = w / 2;
    if (h % 2 || w % 2) std::memset(dx, 0, h * w * c * sizeof(float));  // rows or columns no window covers
    for (std::size_t oh = 0; oh < h / 2; ++oh)
      for (std::size_t ow = 0; ow < out_w; ++ow) {
        float* a = dx + ((2 * oh) * w + 2 * ow) * c;
        float* window[4] = {a, a + c, a + w * c, a + w * c + c};
        const std::size_t o = (oh * out_w + ow) * c;
        if (c < kLanes) {
          backward_scalar(winner + o, dy + o, c, window);
          continue;
        }
        for (std::size_t k = 0; k < c; k += kLanes) {
          const std::size_t at = k + kLanes <= c ? k : c - kLanes;  // overlapping last register, as forward
          const Vector where = Vector::load_unaligned(winner + o + at), g = Vector::load_unaligned(dy + o + at);
          for (int q = 0; q < 4; ++q)
            xsimd::select(where == Vector(static_cast<float>(q)), g, Vector(0.0f)).store_unaligned(window[q] + at);
        }
      }
  }

 private:
  template <bool kWinners, bool kRelu>
  static void forward_scalar(const float* const (&window)[4], std::size_t c, float* y, float* winner) {
    for (std::size_t k = 0; k < c; ++k) {
      float best = window[0][k], where = 0.0f;
      for (int q = 1; q < 4; ++q)
        if (window[q][k] > best) best = window[q][k], where = static_cast<float>(q);
      if (kRelu && !(best > 0.0f)) best = 0.0f, where = kNoWinner;
      y[k] = best;
      if constexpr (kWinners) winner[k] = where;
    }
  }

  static void backward_scalar(const float* winner, const float* dy, std::size_t c, float* const (&window)[4]) {
    for (std::size_t k = 0; k < c; ++k)
      for (int q = 0; q < 4; ++q) window[q][k] = winner[k] == static_cast<float>(q) ? dy[k] : 0.0f;
  }
};

}  // namespace nn::simd
