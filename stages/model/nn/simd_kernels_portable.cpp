// The kernels built for the baseline target, for CPUs without AVX2 + FMA; and the choice between the two builds.
#include "model/nn/narrow_gemm.inc"
#include "model/nn/winograd5x5_kernels.inc"

namespace nn::simd {

const Kernels& portable_kernels() {
  static const Kernels kernels{"portable", &::product, &::winograd_forward, &::winograd_backward};
  return kernels;
}

bool cpu_has_avx2_fma() {
#if defined(__x86_64__) || defined(__i386__)
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

const Kernels& kernels() {
  static const Kernels& chosen = cpu_has_avx2_fma() ? avx2_kernels() : portable_kernels();
  return chosen;
}

}  // namespace nn::simd
