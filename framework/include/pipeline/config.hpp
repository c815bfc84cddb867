#pragma once
// YAML → a pipeline description with source locations kept for every value, so that any later error can
// point at the line that caused it. Variables (${name}) and --set overrides are applied here.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "pipeline/error.hpp"
#include "pipeline/params.hpp"
#include "pipeline/plugins.hpp"

namespace pipeline {

struct InputRef {
  std::string name;
  SourceLocation where;
};

struct StageConfig {
  std::string name;
  std::string type;
  SourceLocation where;       // of the stage's entry
  SourceLocation type_where;  // of its `type:` value
  std::vector<InputRef> inputs;
  std::map<std::string, ParamEntry> params;
};

struct PipelineConfig {
  std::string file;
  std::string name = "pipeline";
  std::uint64_t seed = 42;
  int epochs = 1;
  int threads = 0;            // 0: all cores
  long long buffer = 1024;    // items in flight between the sources and the last stage
  long long chunk = 64;       // items per message from a source (at most buffer / 8 of them)
  std::string output_dir;     // default: runs/<name>
  std::vector<std::string> class_names;  // names of the classes 0..n-1, for reports (empty: numbers)
  SourceLocation class_names_where;
  int save_every = 1;         // epochs between run-state saves (0: only at the end and when interrupted)
  std::vector<PluginRef> plugins;  // loaded before the stages are built
  std::vector<StageConfig> stages;  // in file order
  std::string resolved_text;  // the config after variables and overrides, for reports
};

// Parses a config file. `overrides` are "key=value" strings from --set.
PipelineConfig load_config(const std::string& path, const std::vector<std::string>& overrides = {});
// Same from text; `file` names it in error messages.
PipelineConfig parse_config(const std::string& text, const std::string& file,
                            const std::vector<std::string>& overrides = {});

}  // namespace pipeline
