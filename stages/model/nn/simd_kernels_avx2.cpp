// The kernels built for AVX2 + FMA (see stages/CMakeLists.txt); used only where the CPU has both.
#include "model/nn/narrow_gemm.inc"
#include "model/nn/winograd5x5_kernels.inc"

namespace nn::simd {

const Kernels& avx2_kernels() {
  static const Kernels kernels{"avx2", &::product, &::winograd_forward, &::winograd_backward};
  return kernels;
}

}  // namespace nn::simd
