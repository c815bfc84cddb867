#pragma once
#include <gtest/gtest.h>

#include <string>

#include "pipeline/pipeline.hpp"

inline pipeline::RunOptions on_threads(int threads) {
  pipeline::RunOptions options;
  options.threads = threads;
  return options;
}

// Builds a pipeline from YAML text; expects a ConfigError at line:col whose text contains `needle`.
inline void expect_config_error(const std::string& yaml, int line, int column, const std::string& needle,
                                const std::vector<std::string>& overrides = {}) {
  try {
    pipeline::Pipeline::build(pipeline::parse_config(yaml, "test.yaml", overrides));
    ADD_FAILURE() << "expected a config error containing '" << needle << "'";
  } catch (const pipeline::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    if (line >= 0) {
      EXPECT_EQ(e.where().line, line) << e.what();
    }
    if (column >= 0) {
      EXPECT_EQ(e.where().column, column) << e.what();
    }
  }
}
