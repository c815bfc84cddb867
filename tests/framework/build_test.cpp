// Every validation error names the file, line and column, and the stage.
#include <gtest/gtest.h>

#include "support/config_helpers.hpp"

TEST(Validate, UnknownStageTypeListsKnownTypes) {
  expect_config_error("stages:\n  src: {type: test_countr}\n", 2, 15, "unknown stage type 'test_countr' (did you mean 'test_counter'?)");
  expect_config_error("stages:\n  src: {type: test_countr}\n", 2, 15, "known types: ");
}

TEST(Validate, UnknownParameterSuggestsTheNearestOne) {
  expect_config_error("stages:\n  src: {type: test_counter, cuont: 3}\n", 2, 36, "unknown parameter 'cuont' (did you mean 'count'?)");
}

TEST(Validate, MissingRequiredParameter) {
  expect_config_error("stages:\n  src: {type: idx_reader, labels: x}\n", 2, 3, "missing required parameter 'images'");
}

TEST(Validate, WrongTypeAndRange) {
  expect_config_error("stages:\n  src: {type: test_counter, count: many}\n", 2, 36, "expected an integer, got 'many'");
  expect_config_error("stages:\n  src: {type: test_counter, count: -1}\n", 2, 36, "must be >= 0");
  expect_config_error("stages:\n  src: {type: test_counter, count: [1]}\n", 2, 36, "expected an integer, got a list");
  expect_config_error("stages:\n  s: {type: test_counter}\n  r: {type: test_recorder, inputs: s, sleep_us: 1.5}\n", 3, 49,
                      "expected an integer");
}

TEST(Validate, WrongTypeFromOverrideNamesTheOverride) {
  try {
    pipeline::Pipeline::build(
        pipeline::parse_config("stages:\n  src: {type: test_counter}\n", "t.yaml", {"src.count=lots"}));
    FAIL();
  } catch (const pipeline::ConfigError& e) {
    EXPECT_EQ(e.where().file, "--set src.count=lots");
    EXPECT_EQ(e.stage(), "src");
  }
}

TEST(Validate, DanglingInput) {
  expect_config_error("stages:\n  src: {type: test_counter}\n  sink: {type: test_recorder, inputs: [scr]}\n", 3, 40,
                      "input 'scr' is not a stage (did you mean 'src'?)");
}

TEST(Validate, MissingInputsAndSourceWithInputs) {
  expect_config_error("stages:\n  sink: {type: test_recorder}\n", 2, 3, "missing 'inputs:'");
  expect_config_error("stages:\n  a: {type: test_counter}\n  b: {type: test_counter, inputs: [a]}\n", 3, 36, "is a source and takes no inputs");
}

TEST(Validate, Cycle) {
  expect_config_error(R"(stages:
  src: {type: test_counter}
  a: {type: test_jitter, inputs: [src, b]}
  b: {type: test_jitter, inputs: [a]}
  sink: {type: test_recorder, inputs: [b]}
)", 3, 3, "form a cycle");
}

TEST(Validate, TypeMismatchBetweenConnectedStages) {
  expect_config_error("stages:\n  t: {type: test_text_source}\n  sink: {type: test_recorder, inputs: [t]}\n", 3, 40,
                      "type mismatch: 't' (test_text_source) produces text but test_recorder consumes int");
}

TEST(Validate, SinkCannotFeedAStage) {
  expect_config_error(R"(stages:
  src: {type: test_counter}
  sink: {type: test_recorder, inputs: [src]}
  more: {type: test_recorder, inputs: [sink]}
)", 4, 40, "is a sink");
}

TEST(Validate, DuplicateDeliveryIsRejected) {
  expect_config_error(R"(stages:
  src: {type: test_counter}
  a: {type: test_jitter, inputs: [src]}
  b: {type: test_jitter, inputs: [src]}
  sink: {type: test_recorder, inputs: [a, b]}
)", 5, 43, "would arrive twice");
}

TEST(Validate, MergingDifferentOrderDomainsIsRejected) {
  expect_config_error(R"(stages:
  src: {type: test_counter}
  p: {type: test_pairs, inputs: [src]}
  sink: {type: test_recorder, inputs: [p, src]}
)", 4, 43, "ordered by different stages");
}

TEST(Validate, SameStageNameTwice) {
  // yaml-cpp keeps the first of duplicate keys; the second definition is an error rather than silently lost.
  expect_config_error("stages:\n  a: {type: test_counter}\n  a: {type: test_counter}\n", 3, 3,
                      "duplicate key 'a' (first at line 2)");
}

TEST(Validate, ValidPipelineResolvesTypesOriginsAndDefaults) {
  auto p = pipeline::Pipeline::build(pipeline::parse_config(R"(stages:
  train: {type: test_counter}
  test: {type: test_counter, stream: test}
  j: {type: test_jitter, inputs: [train, test]}
  sink: {type: test_recorder, inputs: [j]}
)", "ok.yaml"));
  ASSERT_EQ(p.stages().size(), 4u);
  EXPECT_EQ(p.stages()[2].output_type, "int");
  EXPECT_EQ(p.stages()[3].origins.size(), 2u);
  EXPECT_EQ(p.stages()[0].params.get_int("count"), 10);
  const std::string dot = p.to_dot();
  EXPECT_NE(dot.find("\"train\" -> \"j\""), std::string::npos) << dot;
  EXPECT_NE(dot.find("\"j\" -> \"sink\""), std::string::npos) << dot;
}

TEST(Validate, WarnsWhenNothingRecordsTheResults) {
  auto none = pipeline::Pipeline::build(pipeline::parse_config(
      "stages:\n  src: {type: test_counter}\n  j: {type: test_jitter, inputs: src}\n", "w.yaml"));
  const auto warnings = none.warnings();
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_EQ(warnings[0], "stage 'j' produces int but no stage takes it as input: its output is dropped");
  EXPECT_NE(warnings[1].find("the pipeline has no sink"), std::string::npos);
  auto fine = pipeline::Pipeline::build(pipeline::parse_config(
      "stages:\n  src: {type: test_counter}\n  sink: {type: test_recorder, inputs: src}\n", "w.yaml"));
  EXPECT_TRUE(fine.warnings().empty());
}
