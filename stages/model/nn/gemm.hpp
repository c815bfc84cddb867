#pragma once
// The one raw BLAS call of the network, for operands that are strided blocks of a larger matrix (Dense's kernel
// gradient by rows of the kernel): xtensor-blas would copy such a block first. Contiguous operands go through
// xt::blas::gemm. Row-major C = alpha * op(A) * op(B) + beta * C.
#include <cstddef>
#include <string>

namespace nn {

void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
          std::size_t lda, const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc);

// TBB owns the parallelism (batch chunks run on all cores), so BLAS must not start threads of its own.
void use_single_threaded_blas();
// "OpenBLAS 0.3.21, core Haswell, 1 thread" for the run header and --version.
std::string blas_description();
// Floats per vector register of the kernels OpenBLAS runs (16 for its AVX-512 cores, 8 for the AVX2 ones).
std::size_t blas_lanes();
// From an OpenBLAS core name ("Haswell", "SkylakeX", "Cooperlake", ...).
std::size_t openblas_core_lanes(const std::string& core);

}  // namespace nn
