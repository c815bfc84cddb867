#pragma once
#include "common/samples.hpp"
#include "pipeline/params.hpp"
#include "pipeline/stage.hpp"

namespace stages {

class ScaleTransform : public pipeline::Transform {
 public:
  explicit ScaleTransform(const pipeline::Params& params);
  pipeline::Payload apply(const pipeline::Payload& input, std::string_view stream) const override;
  void prefetch(const pipeline::Payload& input) const override;

 private:
  float factor_, mean_, std_;
};

}  // namespace stages
