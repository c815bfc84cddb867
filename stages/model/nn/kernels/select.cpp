// Which kernel build runs. CPU features come from GCC's __builtin_cpu_supports, which also asks the OS (XCR0)
// whether it saves the AVX and AVX-512 registers; xsimd 8.1's own detection (xsimd::available_architectures) does
// not, reads AVX from the wrong CPUID leaf, and its dispatcher cannot be capped by PIPELINE_SIMD.
#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "model/nn/kernels/simd_kernels.hpp"

namespace nn::simd {

// One per copy of kernels_arch.cpp the build made (stages/CMakeLists.txt).
#if defined(PIPELINE_KERNELS_X86)
const Kernels& kernels_avx512();
const Kernels& kernels_avx2();
#endif
const Kernels& kernels_sse2();

namespace {

struct Build {
  const Kernels& (*table)();
  bool (*cpu_runs)();
};

const std::vector<Build>& builds() {
  static const std::vector<Build> all = {
#if defined(PIPELINE_KERNELS_X86)
      {&kernels_avx512,
       [] {
         return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512cd") &&
                __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma");
       }},
      {&kernels_avx2, [] { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }},
#endif
      {&kernels_sse2, [] { return true; }},
  };
  return all;
}

const Kernels& choose() {
  const std::vector<const Kernels*> runnable = runnable_kernels();
  const char* wanted = std::getenv("PIPELINE_SIMD");
  if (wanted == nullptr || *wanted == '\0') return *runnable.front();
  for (const Kernels* k : runnable)
    if (wanted == std::string(k->name)) return *k;
  std::vector<const Kernels*> built;
  for (const Build& b : builds()) built.push_back(&b.table());
  for (const Kernels* k : built)
    if (wanted == std::string(k->name))
      throw std::runtime_error(std::string("PIPELINE_SIMD=") + wanted + ": this CPU cannot run the " + wanted +
                               " kernels; it runs " + kernel_names(runnable));
  throw std::runtime_error(std::string("PIPELINE_SIMD=") + wanted + ": no such kernel build; built: " +
                           kernel_names(built));
}

// AMD's family 19h (Zen 3 and Zen 4; of them only Zen 4 has AVX-512) runs a 512-bit operation as two 256-bit
// halves: the avx512 build's wider padding (LeNet's 50 filters in 64 lanes instead of 56, 20 channels in 32 instead
// of 24) then costs time without buying any; its avx2 build trains 8-16% faster (bench/README.md, "Session 11").
bool splits_512_bit_operations() {
#if defined(PIPELINE_KERNELS_X86)
  return __builtin_cpu_is("amdfam19h");
#else
  return false;
#endif
}

}  // namespace

std::vector<const Kernels*> prefer_256_bit_vectors(std::vector<const Kernels*> builds) {
  const auto named = [&](const char* name) {
    return std::find_if(builds.begin(), builds.end(), [&](const Kernels* k) { return std::string(k->name) == name; });
  };
  const auto wide = named("avx512"), narrow = named("avx2");
  if (wide != builds.end() && narrow != builds.end() && wide < narrow) std::rotate(wide, narrow, narrow + 1);
  return builds;
}

std::vector<const Kernels*> runnable_kernels() {
  std::vector<const Kernels*> out;
  for (const Build& b : builds())
    if (b.cpu_runs()) out.push_back(&b.table());
  return splits_512_bit_operations() ? prefer_256_bit_vectors(std::move(out)) : out;
}

const Kernels& kernels() {
  static const Kernels& chosen = choose();
  return chosen;
}

std::string kernel_names(const std::vector<const Kernels*>& list) {
  std::string out;
  for (const Kernels* k : list) out += (out.empty() ? "" : ", ") + std::string(k->name);
  return out;
}

}  // namespace nn::simd
