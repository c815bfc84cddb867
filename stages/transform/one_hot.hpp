#pragma once
#include "common/samples.hpp"
#include "pipeline/params.hpp"
#include "pipeline/stage.hpp"

namespace stages {

class OneHotTransform : public pipeline::Transform {
 public:
  explicit OneHotTransform(const pipeline::Params& params);
  pipeline::Payload apply(const pipeline::Payload& input, std::string_view stream) const override;

 private:
  int classes_;
  float on_value_, off_value_;
};

}  // namespace stages
