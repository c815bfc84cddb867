#pragma once
// Stage types by name, Caffe-style: `type: idx_reader` in a config creates the stage registered as idx_reader.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/params.hpp"
#include "pipeline/spec_registry.hpp"
#include "pipeline/stage.hpp"

namespace pipeline {

enum class StageKind { Source, Transform, Processor };
std::string to_string(StageKind kind);

// Port type names: "" (no port), kAnyType (accepts anything), kSameType (output equals the input's type).
inline constexpr const char* kAnyType = "*";
inline constexpr const char* kSameType = "=";

struct StageSpec {
  std::string type;
  std::string summary;
  StageKind kind = StageKind::Transform;
  std::string input;   // consumed message type; "" for sources
  std::string output;  // produced message type; "" for sinks
  bool parallel = false;  // transforms only: safe to run on many threads at once
  // With several MPI ranks: what the stage emits holds every rank's share (rank 0's copy is whole), as the model's
  // results do. A sink with no such stage upstream sees rank 0's share only (a warning says so).
  bool combines_ranks = false;
  std::vector<ParamSpec> params;
  std::function<std::unique_ptr<Stage>(const Params&)> create;
  // More for `pipeline stages TYPE` to print after the parameters (a model stage lists its layers' options).
  std::function<std::string()> details;
  std::string origin;  // "" built in; else the plugin file it came from (set by the plugin loader)
};

class Registry {
 public:
  static Registry& instance();
  bool add(StageSpec spec);  // returns true so it can initialise a static
  const StageSpec* find(const std::string& type) const;
  std::vector<const StageSpec*> all() const;  // sorted by type name
  std::vector<std::string> names() const;

 private:
  std::map<std::string, StageSpec> specs_;
};

}  // namespace pipeline

#define PIPELINE_CONCAT_INNER(a, b) a##b
#define PIPELINE_CONCAT(a, b) PIPELINE_CONCAT_INNER(a, b)
// One line next to a stage class registers it: PIPELINE_REGISTER_STAGE(make_idx_reader_spec());
#define PIPELINE_REGISTER_STAGE(spec_expression)                                                \
  namespace {                                                                                   \
  [[maybe_unused]] const bool PIPELINE_CONCAT(pipeline_registered_, __LINE__) =                  \
      ::pipeline::Registry::instance().add(spec_expression);                                    \
  }
