#include "model/nn/blas_select.hpp"

#include <cblas.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <set>

namespace nn {

CpuFeatures CpuFeatures::detect() {
  CpuFeatures f;
  __builtin_cpu_init();
  f.avx = __builtin_cpu_supports("avx");
  f.avx2 = __builtin_cpu_supports("avx2");
  f.fma = __builtin_cpu_supports("fma");
  f.avx512f = __builtin_cpu_supports("avx512f");
  f.avx512bw = __builtin_cpu_supports("avx512bw");
  f.avx512dq = __builtin_cpu_supports("avx512dq");
  f.avx512vl = __builtin_cpu_supports("avx512vl");
  return f;
}

std::string better_openblas_core(const std::string& current, const CpuFeatures& cpu) {
  // Cores OpenBLAS falls back to when it does not know a CPU; anything else it chose on purpose.
  static const std::set<std::string> fallbacks = {"Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom",
                                                  "Katmai", "Coppermine", "Northwood", "Banias", "unknown"};
  if (!fallbacks.count(current)) return "";
  if (cpu.avx512f && cpu.avx512bw && cpu.avx512dq && cpu.avx512vl) return "SkylakeX";
  if (cpu.avx2 && cpu.fma) return "Haswell";
  if (cpu.avx) return "Sandybridge";
  return "";
}

void use_fast_blas_kernels(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return;
  const std::string better = better_openblas_core(openblas_get_corename(), CpuFeatures::detect());
  if (better.empty()) return;
  ::setenv("OPENBLAS_CORETYPE", better.c_str(), 1);
  ::execv("/proc/self/exe", argv);
  // If the re-exec fails the program goes on with the slow kernels; `pipeline --version` shows which.
  ::unsetenv("OPENBLAS_CORETYPE");
}

}  // namespace nn
