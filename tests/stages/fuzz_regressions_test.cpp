// Every input a fuzzer ever crashed on (tests/fuzz/regressions/<target>/) and every seed, through the same code
// as the fuzz targets: each must end in the target's own error type, never another exception or a crash.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "io/idx_file.hpp"
#include "io/npy_file.hpp"
#include "model/nn/checkpoint.hpp"
#include "pipeline/pipeline.hpp"

namespace {

std::vector<std::pair<std::string, std::vector<std::uint8_t>>> inputs(const std::string& target) {
  std::vector<std::pair<std::string, std::vector<std::uint8_t>>> out;
  for (const char* kind : {"regressions", "corpus"}) {
    const std::filesystem::path dir = std::filesystem::path(PIPELINE_SOURCE_DIR) / "tests/fuzz" / kind / target;
    for (const auto& f : std::filesystem::directory_iterator(dir)) {
      std::ifstream in(f.path(), std::ios::binary);
      out.emplace_back(f.path().string(),
                       std::vector<std::uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
    }
  }
  return out;
}

}  // namespace

TEST(FuzzRegressions, Npy) {
  const auto all = inputs("npy");
  EXPECT_GE(all.size(), 5u);
  for (const auto& [name, bytes] : all) {
    const std::string text(bytes.begin(), bytes.end());
    try {
      stages::parse_npy_images(text, name);
    } catch (const stages::NpyError&) {
    }
    try {
      stages::parse_npy_labels(text, name, 10);
    } catch (const stages::NpyError&) {
    }
  }
}

TEST(FuzzRegressions, Idx) {
  const auto all = inputs("idx");
  EXPECT_GE(all.size(), 5u);
  for (const auto& [name, bytes] : all)
    for (std::size_t dims : {0, 1, 3}) {
      try {
        stages::parse_idx(bytes, name, dims);
      } catch (const stages::IdxError&) {
      }
    }
}

TEST(FuzzRegressions, Config) {
  const auto all = inputs("config");
  EXPECT_GE(all.size(), 4u);
  for (const auto& [name, bytes] : all) {
    try {
      pipeline::Pipeline::build(pipeline::parse_config(std::string(bytes.begin(), bytes.end()), name));
    } catch (const pipeline::ConfigError&) {
    }
  }
}

TEST(FuzzRegressions, Checkpoint) {
  const auto all = inputs("checkpoint");
  EXPECT_GE(all.size(), 2u);
  for (const auto& [name, bytes] : all) {
    try {
      nn::decode_checkpoint(bytes, name);
    } catch (const nn::CheckpointError&) {
    }
  }
}
