#include "pipeline/builder.hpp"

namespace pipeline {

namespace {
SourceLocation api_location(const std::string& what) { return SourceLocation{"<api> " + what, 0, 0}; }
}  // namespace

PipelineBuilder::PipelineBuilder(std::string name) {
  config_.file = "<api>";
  config_.name = std::move(name);
  config_.output_dir = "runs/" + config_.name;
}

PipelineBuilder& PipelineBuilder::seed(std::uint64_t seed) {
  config_.seed = seed;
  return *this;
}

PipelineBuilder& PipelineBuilder::epochs(int epochs) {
  if (epochs < 1) throw ConfigError(api_location("epochs"), "", "'epochs' must be at least 1");
  config_.epochs = epochs;
  return *this;
}

PipelineBuilder& PipelineBuilder::threads(int threads) {
  if (threads < 0) throw ConfigError(api_location("threads"), "", "'threads' must be >= 0");
  config_.threads = threads;
  return *this;
}

PipelineBuilder& PipelineBuilder::output_dir(std::string dir) {
  config_.output_dir = std::move(dir);
  return *this;
}

PipelineBuilder::StageRef PipelineBuilder::stage(const std::string& name, const std::string& type) {
  StageConfig stage;
  stage.name = name;
  stage.type = type;
  stage.where = api_location("stage " + name);
  stage.type_where = stage.where;
  config_.stages.push_back(std::move(stage));
  return StageRef(config_, config_.stages.size() - 1);
}

PipelineBuilder::StageRef& PipelineBuilder::StageRef::param_node(const std::string& name, YAML::Node value) {
  StageConfig& stage = config_.stages[index_];
  stage.params[name] = ParamEntry{std::move(value), api_location(stage.name + "." + name)};
  return *this;
}

PipelineBuilder::StageRef& PipelineBuilder::StageRef::param_yaml(const std::string& name, const std::string& yaml) {
  try {
    return param_node(name, YAML::Load(yaml));
  } catch (const YAML::Exception& e) {
    throw ConfigError(api_location(config_.stages[index_].name + "." + name), config_.stages[index_].name,
                      "invalid YAML: " + e.msg);
  }
}

PipelineBuilder::StageRef& PipelineBuilder::StageRef::input(const std::string& name) {
  StageConfig& stage = config_.stages[index_];
  stage.inputs.push_back(InputRef{name, api_location(stage.name + " input " + name)});
  return *this;
}

Pipeline PipelineBuilder::build() const {
  PipelineConfig config = config_;
  YAML::Node root;
  root["name"] = config.name;
  root["seed"] = config.seed;
  root["epochs"] = config.epochs;
  for (const auto& stage : config.stages) {
    YAML::Node node;
    node["type"] = stage.type;
    for (const auto& in : stage.inputs) node["inputs"].push_back(in.name);
    for (const auto& [name, entry] : stage.params) node[name] = entry.value;
    root["stages"][stage.name] = node;
  }
  config.resolved_text = YAML::Dump(root);
  return Pipeline::build(std::move(config));
}

}  // namespace pipeline
