#pragma once
// Debian's OpenBLAS 0.3.21 (DYNAMIC_ARCH) does not recognise some newer CPUs and silently falls back to its
// SSE3 "Prescott" kernels, several times slower. OpenBLAS reads OPENBLAS_CORETYPE only when it loads, so the
// fix is to run the program again with it set, before any work is done.
#include <string>

namespace nn {

struct CpuFeatures {
  bool avx = false, avx2 = false, fma = false, avx512f = false, avx512bw = false, avx512dq = false, avx512vl = false;
  static CpuFeatures detect();
};

// The OpenBLAS core to use instead of `current`, or "" when `current` is already right for this CPU.
std::string better_openblas_core(const std::string& current, const CpuFeatures& cpu);

// Re-executes the program (same arguments) with OPENBLAS_CORETYPE set when OpenBLAS chose a fallback kernel.
// Does nothing when the user set OPENBLAS_CORETYPE: their choice wins.
void use_fast_blas_kernels(char** argv);

}  // namespace nn
