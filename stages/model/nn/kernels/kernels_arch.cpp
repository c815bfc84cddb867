// The kernel table for one instruction set. The build compiles this one source once per instruction set, each
// copy with its own -m flags and PIPELINE_KERNEL_ARCH (stages/CMakeLists.txt). Only raw pointers and xsimd cross
// this file: no std container or xtensor template is instantiated here, so no function compiled for AVX-512 can
// be picked by the linker for code that runs on a CPU without it.
#include <xsimd/xsimd.hpp>

#include "model/nn/kernels/max_pool_2x2.hpp"
#include "model/nn/kernels/narrow_gemm.hpp"
#include "model/nn/kernels/ordered_sums.hpp"
#include "model/nn/kernels/simd_kernels.hpp"
#include "model/nn/kernels/winograd4_passes.hpp"
#include "model/nn/kernels/winograd_passes.hpp"

#if !defined(PIPELINE_KERNEL_ARCH)
#error "PIPELINE_KERNEL_ARCH names the instruction set: avx512, avx2 or sse2 (stages/CMakeLists.txt)"
#endif

namespace nn::simd {

namespace {
#define PIPELINE_ARCH_avx512 xsimd::avx512bw
#define PIPELINE_ARCH_avx2 xsimd::fma3<xsimd::avx2>
#define PIPELINE_ARCH_sse2 xsimd::default_arch  // sse2 on x86-64; the baseline of other CPUs
#define PIPELINE_ARCH_OF(name) PIPELINE_ARCH_##name
#define PIPELINE_ARCH_TYPE(name) PIPELINE_ARCH_OF(name)
#define PIPELINE_STRING(name) #name
#define PIPELINE_NAME(name) PIPELINE_STRING(name)
#define PIPELINE_TABLE_OF(name) kernels_##name
#define PIPELINE_TABLE(name) PIPELINE_TABLE_OF(name)

using Arch = PIPELINE_ARCH_TYPE(PIPELINE_KERNEL_ARCH);
static_assert(Arch::supported(), "the compiler flags for this copy do not enable its instruction set");
}  // namespace

const Kernels& PIPELINE_TABLE(PIPELINE_KERNEL_ARCH)() {
  static const Kernels table{PIPELINE_NAME(PIPELINE_KERNEL_ARCH), xsimd::batch<float, Arch>::size,
                             &NarrowGemm<Arch>::product,          &WinogradPasses<Arch>::forward,
                             &WinogradPasses<Arch>::backward,     &Winograd4x4Passes<Arch>::forward,
                             &Winograd4x4Passes<Arch>::backward,
                             &MaxPool2x2<Arch>::forward,          &MaxPool2x2<Arch>::backward,
                             &OrderedSums<Arch>::column_sums,     &OrderedSums<Arch>::sum_parts};
  return table;
}

}  // namespace nn::simd
