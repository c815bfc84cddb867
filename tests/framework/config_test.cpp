#include <gtest/gtest.h>

#include "pipeline/config.hpp"
#include "support/config_helpers.hpp"

using pipeline::parse_config;

TEST(Config, ParsesTopLevelSettingsStagesAndInputs) {
  const auto c = parse_config(R"(
name: demo
seed: 7
epochs: 3
threads: 1
buffer: 64
stages:
  src: {type: test_counter, count: 5}
  sink: {type: test_recorder, inputs: [src]}
)", "demo.yaml");
  EXPECT_EQ(c.name, "demo");
  EXPECT_EQ(c.seed, 7u);
  EXPECT_EQ(c.epochs, 3);
  EXPECT_EQ(c.threads, 1);
  EXPECT_EQ(c.buffer, 64);
  EXPECT_EQ(c.output_dir, "runs/demo");
  ASSERT_EQ(c.stages.size(), 2u);
  EXPECT_EQ(c.stages[0].name, "src");
  EXPECT_EQ(c.stages[0].params.at("count").value.as<int>(), 5);
  EXPECT_EQ(c.stages[0].params.at("count").where.line, 8);
  ASSERT_EQ(c.stages[1].inputs.size(), 1u);
  EXPECT_EQ(c.stages[1].inputs[0].name, "src");
  EXPECT_EQ(c.stages[1].inputs[0].where.line, 9);
}

TEST(Config, SubstitutesVariablesIncludingName) {
  const auto c = parse_config(R"(
name: run1
vars: {dir: /data}
output_dir: out/${name}
stages:
  src: {type: test_counter, stream: "${dir}/x-${name}"}
)", "v.yaml");
  EXPECT_EQ(c.output_dir, "out/run1");
  EXPECT_EQ(c.stages[0].params.at("stream").value.as<std::string>(), "/data/x-run1");
}

TEST(Config, UndefinedVariableNamesItsLine) {
  expect_config_error("stages:\n  src: {type: test_counter, stream: \"${nope}\"}\n", 2, 37, "undefined variable '${nope}'");
}

TEST(Config, OverridesSetStageParamsTopLevelAndVars) {
  const auto c = parse_config(R"(
epochs: 1
vars: {d: a}
stages:
  src: {type: test_counter, count: 5, stream: "${d}"}
)", "o.yaml", {"src.count=9", "epochs=4", "vars.d=b", "src.nested.deep=1"});
  EXPECT_EQ(c.epochs, 4);
  EXPECT_EQ(c.stages[0].params.at("count").value.as<int>(), 9);
  EXPECT_EQ(c.stages[0].params.at("count").where.file, "--set src.count=9");
  EXPECT_EQ(c.stages[0].params.at("stream").value.as<std::string>(), "b");
  EXPECT_EQ(c.stages[0].params.at("nested").value["deep"].as<int>(), 1);
}

TEST(Config, BadOverridesAreErrors) {
  expect_config_error("stages:\n  src: {type: test_counter}\n", 0, -1, "no stage named 'srx' (did you mean 'src'?)",
                      {"srx.count=1"});
  expect_config_error("stages:\n  src: {type: test_counter}\n", 0, -1, "expected --set KEY=VALUE", {"src.count"});
  expect_config_error("stages:\n  src: {type: test_counter}\n", 0, -1, "not a top-level setting", {"bogus=1"});
}

TEST(Config, InvalidYamlReportsItsPosition) {
  expect_config_error("stages:\n  src: {type: test_counter\n  x: 1\n", -1, -1, "invalid YAML");
}

TEST(Config, StructuralErrorsNameTheLine) {
  expect_config_error("- a\n- b\n", 1, 1, "a pipeline config is a map");
  expect_config_error("name: x\n", 1, 1, "missing 'stages:'");
  expect_config_error("stages:\n  src: {count: 1}\n", 2, 3, "missing 'type:'");
  expect_config_error("stagez: {}\n", 1, 1, "unknown top-level key 'stagez' (did you mean 'stages'?)");
  expect_config_error("epochs: 0\nstages:\n  a: {type: test_counter}\n", 1, 9, "'epochs' must be at least 1");
  expect_config_error("seed: abc\nstages:\n  a: {type: test_counter}\n", 1, 7, "'seed' must be a non-negative integer");
  expect_config_error("stages:\n  9bad: {type: test_counter}\n", 2, 3, "a stage name is letters");
}

TEST(Config, DuplicateKeysAreErrorsAtTopLevelAndInsideStages) {
  expect_config_error("epochs: 2\nstages:\n  s: {type: test_counter}\nepochs: 3\n", 4, 1,
                      "duplicate key 'epochs' (first at line 1)");
  expect_config_error("stages:\n  s:\n    type: test_counter\n    count: 3\n    count: 4\n", 5, 5,
                      "duplicate key 'count' (first at line 4)");
  expect_config_error("vars: {a: 1, a: 2}\nstages:\n  s: {type: test_counter}\n", 1, 14, "duplicate key 'a'");
}

TEST(Config, VariablesMayUseVariablesButNotThemselves) {
  const auto config = pipeline::parse_config(
      "vars: {root: /data, images: \"${root}/img\", file: \"${images}/x.gz\"}\nname: n\n"
      "stages:\n  s: {type: test_counter, stream: \"${file}-${name}\"}\n", "t.yaml");
  EXPECT_EQ(config.stages[0].params.at("stream").value.Scalar(), "/data/img/x.gz-n");
  expect_config_error("vars: {a: \"x${a}\"}\nstages:\n  s: {type: test_counter}\n", 1, 11,
                      "variable 'a' refers to itself: ${a} -> ${a}");
  expect_config_error("vars: {a: \"${b}\", b: \"${c}\", c: \"${a}\"}\nstages:\n  s: {type: test_counter}\n", -1, -1,
                      "refers to itself: ${a} -> ${b} -> ${c} -> ${a}");
}

TEST(Config, RunNameMustNameAFolder) {
  expect_config_error("name: \"\"\nstages:\n  s: {type: test_counter}\n", 1, 7, "'name' is empty");
  expect_config_error("name: \"  \"\nstages:\n  s: {type: test_counter}\n", 1, 7, "'name' is empty");
  expect_config_error("name: a/b\nstages:\n  s: {type: test_counter}\n", 1, 7, "must not contain '/'");
}

TEST(Config, DeepNestingIsNamedAsSuch) {
  const std::string deep = "stages:\n  s: {type: test_counter, x: " + std::string(3000, '[') + std::string(3000, ']') + "}\n";
  expect_config_error(deep, 2, -1, "nested more than");
}

TEST(Config, FilesThatCannotBeReadSayWhy) {
  try {
    pipeline::load_config("/nonexistent/pipeline.yaml");
    ADD_FAILURE();
  } catch (const pipeline::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot open (No such file or directory)"), std::string::npos) << e.what();
  }
  try {
    pipeline::load_config("/dev/zero");
    ADD_FAILURE();
  } catch (const pipeline::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("it is a character device, not a regular file"), std::string::npos) << e.what();
  }
}

TEST(Config, ABufferLargerThanMemoryCouldHoldIsRefused) {
  expect_config_error("buffer: 100000000\nstages:\n  s: {type: test_counter}\n", 1, 9,
                      "'buffer' of 100000000 items in flight could hold more than memory; at most 1048576");
}

TEST(Config, ClassNamesAreAListOfDistinctNames) {
  const auto config = pipeline::parse_config("class_names: [cat, dog]\nstages:\n  s: {type: test_counter}\n", "t.yaml");
  EXPECT_EQ(config.class_names, (std::vector<std::string>{"cat", "dog"}));
  expect_config_error("class_names: cat\nstages:\n  s: {type: test_counter}\n", 1, 14, "must be a list of names");
  expect_config_error("class_names: [cat, cat]\nstages:\n  s: {type: test_counter}\n", 1, 20,
                      "class name 'cat' appears twice");
  expect_config_error("class_names: [cat, \"\"]\nstages:\n  s: {type: test_counter}\n", 1, 20,
                      "a class name must be a non-empty string");
}

TEST(Config, InputIsNotAnAliasOfInputs) {
  expect_config_error("stages:\n  a: {type: test_counter}\n  b: {type: test_recorder, input: a}\n", 3, 28,
                      "'input' is not a stage key: write 'inputs: a'");
}

TEST(Config, ChunkIsAPositiveNumberOfItems) {
  EXPECT_EQ(pipeline::parse_config("stages:\n  s: {type: test_counter}\n", "x.yaml").chunk, 64);
  EXPECT_EQ(pipeline::parse_config("chunk: 1\nstages:\n  s: {type: test_counter}\n", "x.yaml").chunk, 1);
  expect_config_error("chunk: 0\nstages:\n  s: {type: test_counter}\n", 1, 8,
                      "'chunk' must be between 1 and 4096 items (default 64)");
  expect_config_error("stages:\n  s: {type: test_counter}\nchunk: 5000\n", 3, 8,
                      "'chunk' must be between 1 and 4096 items (default 64)");
}

TEST(Config, ABadTopLevelSettingFromSetNamesTheSet) {
  for (const char* set : {"chunk=0", "buffer=0", "epochs=two"}) {
    try {
      pipeline::parse_config("stages:\n  s: {type: test_counter}\n", "x.yaml", {set});
      FAIL() << set << " should be refused";
    } catch (const pipeline::ConfigError& e) {
      EXPECT_EQ(std::string(e.what()).rfind(std::string("--set ") + set + ": ", 0), 0u) << e.what();
    }
  }
}
