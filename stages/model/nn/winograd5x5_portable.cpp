// The Winograd kernels built for the baseline target, for CPUs without AVX2 + FMA.
#include "model/nn/winograd5x5_kernels.inc"

namespace nn::winograd {

const Kernels& portable_kernels() {
  static const Kernels kernels{"portable", &::forward, &::backward};
  return kernels;
}

bool cpu_has_avx2_fma() {
#if defined(__x86_64__) || defined(__i386__)
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

}  // namespace nn::winograd
