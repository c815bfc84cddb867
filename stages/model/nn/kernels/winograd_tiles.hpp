#pragma once
// The Winograd passes' tiles, for output tiles of side kOut (2 or 4) and a 5x5 kernel: where a tile lies, its
// (kOut + 4)-square input window, the strip of input rows under a run of tiles along a tile row, and the passes
// built on a Passes class's 1-D transforms: forward (apply_bt, apply_at) and backward (apply_bt, apply_a, apply_b).
// Included only by the passes (kernels_arch.cpp, once per instruction set): raw loops, no std templates.
#include <cstddef>
#include <cstring>

#include "model/nn/kernels/simd_kernels.hpp"

namespace nn::simd {

template <std::size_t kOut>
struct WinogradTiles {
  static constexpr std::size_t kIn = kOut + 4;

  struct Position {
    std::size_t sample, ty, tx;
    std::ptrdiff_t ih0(const WinogradPlan& p) const {
      return static_cast<std::ptrdiff_t>(kOut * ty) - static_cast<std::ptrdiff_t>(p.pad_top);
    }
    std::ptrdiff_t iw0(const WinogradPlan& p) const {
      return static_cast<std::ptrdiff_t>(kOut * tx) - static_cast<std::ptrdiff_t>(p.pad_left);
    }
  };

  static Position locate(const WinogradPlan& p, std::size_t tile) {
    const std::size_t per_image = p.tiles_h * p.tiles_w, in_image = tile % per_image;
    return {tile / per_image, in_image / p.tiles_w, in_image % p.tiles_w};
  }

  static bool inside(std::ptrdiff_t i, std::size_t size) { return i >= 0 && i < static_cast<std::ptrdiff_t>(size); }

  // The forward pass by blocks of tiles: each block's input transformed, one narrow product per tile position
  // against U (positions, in_c, k_pad), and the products transformed into y.
  template <class Passes, class Gemm>
  static void forward(const WinogradPlan& p, const float* x, std::size_t samples, const float* u, const float* bias,
                      float* y, const WinogradScratch& s) {
    constexpr std::size_t positions = kIn * kIn, lanes = Gemm::kLanes;
    const std::size_t total = samples * p.tiles_h * p.tiles_w, cp = p.c_pad, kp = p.k_pad;
    for (std::size_t first = 0; first < total; first += kWinogradBlock) {
      const std::size_t tiles = total - first < kWinogradBlock ? total - first : kWinogradBlock;
      transform_input<Passes>(p, x, first, tiles, s);
      for (std::size_t pos = 0; pos < positions; ++pos)
        Gemm::matrix_product(tiles, kp / lanes, p.in_c, s.v + pos * kWinogradBlock * cp, cp, 1, u + pos * p.in_c * kp,
                             kp, s.m + pos * kWinogradBlock * kp, kp, false);
      transform_output<Passes>(p, first, tiles, bias, y, s);
    }
  }

  // Tiles from `at` on that stay in its tile row, at most `left` of them.
  static std::size_t run_length(const WinogradPlan& p, const Position& at, std::size_t left) {
    const std::size_t left_in_row = p.tiles_w - at.tx;
    return left < left_in_row ? left : left_in_row;
  }

  // strip (kIn, width, c_pad) = the input's rows from the tile's first on, columns from its first on, zero outside
  // the image; the padding channels are left as they are (zero).
  static void gather_strip(const WinogradPlan& p, const float* x, const Position& at, std::size_t width,
                           float* strip) {
    const std::size_t c_n = p.in_c, cp = p.c_pad;
    const float* image = x + at.sample * p.in_h * p.in_w * c_n;
    for (std::size_t a = 0; a < kIn; ++a) {
      const std::ptrdiff_t ih = at.ih0(p) + static_cast<std::ptrdiff_t>(a);
      for (std::size_t b = 0; b < width; ++b) {
        const std::ptrdiff_t iw = at.iw0(p) + static_cast<std::ptrdiff_t>(b);
        float* dst = strip + (a * width + b) * cp;
        if (inside(ih, p.in_h) && inside(iw, p.in_w))
          std::memcpy(dst, image + (static_cast<std::size_t>(ih) * p.in_w + static_cast<std::size_t>(iw)) * c_n,
                      c_n * sizeof(float));
        else
          std::memset(dst, 0, c_n * sizeof(float));
      }
    }
  }

  // s.v (kIn², kWinogradBlock tiles, c_pad) = Bᵀ d B of each zero-padded input tile (Passes::apply_bt: kIn rows to
  // kIn): position-major, so that each position's products read and write their rows contiguously (tile-major,
  // F(4x4)'s rows on AVX-512 lay 8 KB apart, all in one set of the L1 cache).
  // Neighbouring tiles of a tile row overlap by 4 columns, so the block goes by runs of tiles along a row: their
  // strip of kIn input rows is gathered once and transformed down each of its columns once (for a row of 7 2x2
  // tiles 18 column transforms, not 42), then along each tile's rows.
  template <class Passes>
  static void transform_input(const WinogradPlan& p, const float* x, std::size_t first_tile, std::size_t tiles,
                              const WinogradScratch& s) {
    const std::size_t cp = p.c_pad, position_stride = kWinogradBlock * cp, row = kIn * position_stride;
    std::memset(s.tile, 0, winograd_strip_floats(p) * sizeof(float));  // channel padding stays zero
    for (std::size_t t = 0; t < tiles;) {
      const Position at = locate(p, first_tile + t);
      const std::size_t run = run_length(p, at, tiles - t), width = kOut * run + 4;
      gather_strip(p, x, at, width, s.tile);
      for (std::size_t w = 0; w < width; ++w)
        Passes::apply_bt(s.tile + w * cp, width * cp, s.tmp + w * cp, width * cp, cp);
      for (std::size_t i = 0; i < run; ++i) {
        float* out = s.v + (t + i) * cp;
        for (std::size_t a = 0; a < kIn; ++a)
          Passes::apply_bt(s.tmp + (a * width + kOut * i) * cp, cp, out + a * row, position_stride, cp);
      }
      t += run;
    }
  }

  // s.m (kIn², kWinogradBlock tiles, k_pad) → y: Aᵀ m A + bias, cropped to the output (Passes::apply_at: kIn rows
  // to kOut).
  template <class Passes>
  static void transform_output(const WinogradPlan& p, std::size_t first_tile, std::size_t tiles, const float* bias,
                               float* y, const WinogradScratch& s) {
    const std::size_t kp = p.k_pad, position_stride = kWinogradBlock * kp, row = kIn * kp;
    float* quad = s.tile;
    for (std::size_t t = 0; t < tiles; ++t) {
      const float* in = s.m + t * kp;
      for (std::size_t b = 0; b < kIn; ++b)
        Passes::apply_at(in + b * position_stride, kIn * position_stride, s.tmp + b * kp, row, kp);
      for (std::size_t i = 0; i < kOut; ++i) Passes::apply_at(s.tmp + i * row, kp, quad + kOut * i * kp, kp, kp);
      write_output(p, locate(p, first_tile + t), quad, bias, y);
    }
  }

  // The backward pass by blocks of tiles: each block's input (Bᵀ d B) and output gradient (A dy Aᵀ) transformed
  // once, then per tile position dU (positions, in_c, k_pad) += vᵀ · dm, summed over the block, and, when dx is not
  // null, dv = dm · Uᵀ (ut: positions, filters, c_pad) transformed back and added into dx (written whole).
  template <class Passes, class Gemm>
  static void backward(const WinogradPlan& p, const float* x, const float* dy, std::size_t samples, const float* ut,
                       float* du, float* dx, const WinogradScratch& s) {
    constexpr std::size_t positions = kIn * kIn, lanes = Gemm::kLanes;
    const std::size_t total = samples * p.tiles_h * p.tiles_w, cp = p.c_pad, kp = p.k_pad;
    if (dx) std::memset(dx, 0, samples * p.in_h * p.in_w * p.in_c * sizeof(float));
    for (std::size_t first = 0; first < total; first += kWinogradBlock) {
      const std::size_t tiles = total - first < kWinogradBlock ? total - first : kWinogradBlock;
      transform_input<Passes>(p, x, first, tiles, s);
      transform_output_gradient<Passes>(p, dy, first, tiles, s);
      for (std::size_t pos = 0; pos < positions; ++pos) {
        float* v_pos = s.v + pos * kWinogradBlock * cp;
        const float* dm_pos = s.m + pos * kWinogradBlock * kp;
        Gemm::matrix_product(p.in_c, kp / lanes, tiles, v_pos, 1, cp, dm_pos, kp, du + pos * p.in_c * kp, kp, true);
        if (dx)  // v_pos is spent: it takes dv_pos
          Gemm::matrix_product(tiles, cp / lanes, p.filters, dm_pos, kp, 1, ut + pos * p.filters * cp, cp, v_pos, cp,
                               false);
      }
      if (dx) transform_input_gradient<Passes>(p, first, tiles, dx, s);
    }
  }

  // s.m (kIn², kWinogradBlock tiles, k_pad) = A dy Aᵀ of each kOut-square output-gradient tile, zero beyond the
  // output's edge (Passes::apply_a: kOut rows to kIn).
  template <class Passes>
  static void transform_output_gradient(const WinogradPlan& p, const float* dy, std::size_t first_tile,
                                        std::size_t tiles, const WinogradScratch& s) {
    const std::size_t k_n = p.filters, kp = p.k_pad, position_stride = kWinogradBlock * kp;
    const std::size_t row = kIn * position_stride;
    float* quad = s.tile;
    std::memset(quad, 0, kOut * kOut * kp * sizeof(float));  // the padding columns stay zero
    for (std::size_t t = 0; t < tiles; ++t) {
      const Position at = locate(p, first_tile + t);
      const float* image = dy + at.sample * p.out_h * p.out_w * k_n;
      for (std::size_t i = 0; i < kOut; ++i)
        for (std::size_t j = 0; j < kOut; ++j) {
          const std::size_t oh = kOut * at.ty + i, ow = kOut * at.tx + j;
          float* dst = quad + (kOut * i + j) * kp;
          if (oh < p.out_h && ow < p.out_w)
            std::memcpy(dst, image + (oh * p.out_w + ow) * k_n, k_n * sizeof(float));
          else
            std::memset(dst, 0, k_n * sizeof(float));
        }
      // tmp (kIn, kOut): each column expanded from kOut to kIn rows; then each row's columns to kIn positions.
      for (std::size_t j = 0; j < kOut; ++j)
        Passes::apply_a(quad + j * kp, kOut * kp, s.tmp + j * kp, kOut * kp, kp);
      float* out = s.m + t * kp;
      for (std::size_t a = 0; a < kIn; ++a)
        Passes::apply_a(s.tmp + kOut * a * kp, kp, out + a * row, position_stride, kp);
    }
  }

  // s.v holds dv (kIn², kWinogradBlock tiles, c_pad) → dx += B dv Bᵀ of each tile (Passes::apply_b: kIn rows to
  // kIn), padding dropped. Overlapping tiles add up.
  template <class Passes>
  static void transform_input_gradient(const WinogradPlan& p, std::size_t first_tile, std::size_t tiles, float* dx,
                                       const WinogradScratch& s) {
    const std::size_t c_n = p.in_c, cp = p.c_pad, position_stride = kWinogradBlock * cp, row = kIn * cp;
    for (std::size_t t = 0; t < tiles; ++t) {
      const Position at = locate(p, first_tile + t);
      const float* in = s.v + t * cp;
      for (std::size_t b = 0; b < kIn; ++b)
        Passes::apply_b(in + b * position_stride, kIn * position_stride, s.tmp + b * cp, row, cp);
      for (std::size_t a = 0; a < kIn; ++a) Passes::apply_b(s.tmp + a * row, cp, s.tile + a * row, cp, cp);
      float* image = dx + at.sample * p.in_h * p.in_w * c_n;
      for (std::size_t a = 0; a < kIn; ++a) {
        const std::ptrdiff_t ih = at.ih0(p) + static_cast<std::ptrdiff_t>(a);
        if (!inside(ih, p.in_h)) continue;
        for (std::size_t b = 0; b < kIn; ++b) {
          const std::ptrdiff_t iw = at.iw0(p) + static_cast<std::ptrdiff_t>(b);
          if (!inside(iw, p.in_w)) continue;
          float* dst = image + (static_cast<std::size_t>(ih) * p.in_w + static_cast<std::size_t>(iw)) * c_n;
          const float* src = s.tile + a * row + b * cp;
          for (std::size_t c = 0; c < c_n; ++c) dst[c] += src[c];
        }
      }
    }
  }

  // The output tile `quad` (kOut, kOut, k_pad) plus bias, cropped to the output, into y.
  static void write_output(const WinogradPlan& p, const Position& at, const float* quad, const float* bias, float* y) {
    const std::size_t k_n = p.filters, kp = p.k_pad;
    float* image = y + at.sample * p.out_h * p.out_w * k_n;
    for (std::size_t i = 0; i < kOut && kOut * at.ty + i < p.out_h; ++i)
      for (std::size_t j = 0; j < kOut && kOut * at.tx + j < p.out_w; ++j) {
        float* dst = image + ((kOut * at.ty + i) * p.out_w + kOut * at.tx + j) * k_n;
        const float* src = quad + (kOut * i + j) * kp;
        for (std::size_t k = 0; k < k_n; ++k) dst[k] = src[k] + bias[k];
      }
  }
};

}  // namespace nn::simd
