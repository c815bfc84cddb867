#include "model/nn/gemm.hpp"

#include <cblas.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace nn {

void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
          std::size_t lda, const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc) {
  if (m == 0 || n == 0) return;
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              static_cast<blasint>(m), static_cast<blasint>(n), static_cast<blasint>(k), alpha, a,
              static_cast<blasint>(lda), b, static_cast<blasint>(ldb), beta, c, static_cast<blasint>(ldc));
}

void use_single_threaded_blas() { openblas_set_num_threads(1); }

// A core forced by the environment is named as such: a machine's profile may pin an older core (seen: Haswell on an
// AVX-512 CPU, for which OpenBLAS itself picks Cooperlake and runs dense layers 1.8x faster).
std::string blas_description() {
  const char* forced = std::getenv("OPENBLAS_CORETYPE");
  return std::string("BLAS: OpenBLAS (") + openblas_get_config() + "), core " + openblas_get_corename() +
         (forced != nullptr ? std::string(" (set by OPENBLAS_CORETYPE=") + forced + ")" : "") + ", " +
         std::to_string(openblas_get_num_threads()) + " thread(s)";
}

std::size_t openblas_core_lanes(const std::string& core) {
  std::string name(core);
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char ch) { return std::tolower(ch); });
  for (const char* avx512 : {"skylakex", "cooperlake", "sapphirerapids"})
    if (name == avx512) return 16;
  for (const char* avx : {"haswell", "zen", "sandybridge", "bulldozer", "piledriver", "steamroller", "excavator"})
    if (name == avx) return 8;
  return 4;
}

std::size_t blas_lanes() { return openblas_core_lanes(openblas_get_corename()); }

}  // namespace nn
