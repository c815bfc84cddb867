#pragma once
// Buffers that the vector kernels read a register at a time: aligned to a cache line, so that no 64-byte AVX-512
// load is split across two lines (malloc's 16-byte alignment made AVX-512 Winograd slower than AVX2).
#include <vector>

#include <xsimd/memory/xsimd_aligned_allocator.hpp>

namespace nn {

inline constexpr std::size_t kCacheLine = 64;
using AlignedFloats = std::vector<float, xsimd::aligned_allocator<float, kCacheLine>>;

// Scratch reused from call to call: grown to at least `size` floats, never shrunk.
inline float* at_least(AlignedFloats& buffer, std::size_t size) {
  if (buffer.size() < size) buffer.resize(size);
  return buffer.data();
}

}  // namespace nn
