#pragma once
// Building a pipeline in C++ instead of YAML. The result goes through the same validation as a config file;
// errors name the stage and the parameter ("<api>" stands for the file).
//
//   pipeline::PipelineBuilder b("mlp");
//   b.epochs(2).seed(7);
//   b.stage("train", "idx_reader").param("images", path).param("labels", path2);
//   b.stage("scale", "scale").input("train");
//   pipeline::Pipeline p = b.build();
#include <yaml-cpp/yaml.h>

#include <string>

#include "pipeline/pipeline.hpp"

namespace pipeline {

class PipelineBuilder {
 public:
  class StageRef {
   public:
    template <class T>
    StageRef& param(const std::string& name, const T& value) {
      return param_node(name, YAML::Node(value));
    }
    // A structured value written as YAML, e.g. param_yaml("layers", "[flatten, {dense: {units: 10}}]").
    StageRef& param_yaml(const std::string& name, const std::string& yaml);
    StageRef& input(const std::string& name);

   private:
    friend class PipelineBuilder;
    StageRef(PipelineConfig& config, std::size_t index) : config_(config), index_(index) {}
    StageRef& param_node(const std::string& name, YAML::Node value);
    PipelineConfig& config_;
    std::size_t index_;
  };

  explicit PipelineBuilder(std::string name);
  PipelineBuilder& seed(std::uint64_t seed);
  PipelineBuilder& epochs(int epochs);
  PipelineBuilder& threads(int threads);
  PipelineBuilder& output_dir(std::string dir);
  StageRef stage(const std::string& name, const std::string& type);
  Pipeline build() const;

 private:
  PipelineConfig config_;
};

}  // namespace pipeline
