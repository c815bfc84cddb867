#pragma once
// A validated pipeline: stages created from the registry, wired and type-checked. Building one never
// touches data; running it builds the oneTBB flow graph.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/config.hpp"
#include "pipeline/profile.hpp"
#include "pipeline/registry.hpp"

namespace pipeline {

struct StageNode {
  std::string name;
  const StageSpec* spec = nullptr;
  StageConfig config;
  Params params;
  std::unique_ptr<Stage> stage;
  std::vector<std::size_t> inputs;     // indices into Pipeline::stages
  std::vector<std::size_t> consumers;  // indices into Pipeline::stages
  std::string input_type;              // resolved port types
  std::string output_type;
  std::vector<std::size_t> origins;    // source stages upstream (sorted)
  std::size_t domain = 0;              // the stage whose sequence numbers order this stage's input
  int order_slot = -1;                 // processors: which sequence slot of a message orders them
};

struct RunOptions {
  int threads = 0;  // overrides the config when > 0
  bool profile = false;
  bool resume = false;  // continue from <output_dir>/run.state (see Processor::save_state)
  // Called once the run holds its output folder, before any stage prepares (e.g. to print a banner).
  std::function<void()> on_start;
};

class Pipeline {
 public:
  // Validates the whole description (types, parameters, wiring) and creates every stage.
  static Pipeline build(PipelineConfig config);

  const PipelineConfig& config() const { return config_; }
  const std::vector<StageNode>& stages() const { return stages_; }
  // What is valid but probably not meant: no sink at all, or a stage whose output nothing consumes.
  std::vector<std::string> warnings() const;
  // Graphviz DOT of the wired graph.
  std::string to_dot() const;
  // What a run of this config tells its stages (name, seed, output folder, class names), before it starts.
  RunContext context() const;
  // Runs to completion; throws StageError for the first stage that failed.
  Profile run(const RunOptions& options = {});
  // Convenience for tests and embedding: the stage object of a named node.
  Stage& stage(const std::string& name);

  Pipeline(Pipeline&&) noexcept;
  Pipeline& operator=(Pipeline&&) noexcept;
  ~Pipeline();

 private:
  Pipeline() = default;
  PipelineConfig config_;
  std::vector<StageNode> stages_;
};

// Requests a clean stop of running pipelines (used by the signal handler).
void request_stop();
void clear_stop_request();
const std::atomic<bool>& stop_flag();

}  // namespace pipeline
