#pragma once
#include "common/samples.hpp"
#include "pipeline/params.hpp"
#include "pipeline/stage.hpp"

namespace stages {

class OneHotTransform : public pipeline::Transform {
 public:
  explicit OneHotTransform(const pipeline::Params& params);
  pipeline::Payload apply(const pipeline::Payload& input, std::string_view stream) const override;
  // The input is edited in place: its image is not copied (a 28x28 copy was a third of the stage's time) and
  // no new payload is made.
  pipeline::Payload apply_moved(pipeline::Payload&& input, std::string_view stream) const override;

 private:
  void set_target(TensorSample& sample, std::string_view stream) const;
  int classes_;
  float on_value_, off_value_;
};

}  // namespace stages
