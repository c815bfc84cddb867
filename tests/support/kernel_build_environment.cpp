// Skips every test of a run whose PIPELINE_SIMD names a kernel build this CPU cannot run (ctest's layers_on_*
// entries), instead of failing each layer test with the same error; any other PIPELINE_SIMD error fails.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "model/nn/kernels/simd_kernels.hpp"

namespace {

class KernelBuildEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    try {
      const nn::simd::Kernels& chosen = nn::simd::kernels();
      std::printf("vector kernels: %s\n", chosen.name);
    } catch (const std::runtime_error& e) {
      // Only a CPU without that instruction set is a reason to skip; a misspelled build must fail.
      if (std::string(e.what()).find("this CPU cannot run") == std::string::npos) FAIL() << e.what();
      GTEST_SKIP() << e.what();
    }
  }
};

[[maybe_unused]] ::testing::Environment* const environment =
    ::testing::AddGlobalTestEnvironment(new KernelBuildEnvironment);

}  // namespace
