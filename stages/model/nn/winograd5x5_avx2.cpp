// The Winograd kernels built for AVX2 + FMA (see stages/CMakeLists.txt); used only where the CPU has both.
#include "model/nn/winograd5x5_kernels.inc"

namespace nn::winograd {

const Kernels& avx2_kernels() {
  static const Kernels kernels{"avx2", &::forward, &::backward};
  return kernels;
}

}  // namespace nn::winograd
