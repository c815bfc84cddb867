// one_hot: attaches the target vector for a label; label smoothing is available as a parameter.
#include "transform/one_hot.hpp"

#include "pipeline/registry.hpp"

namespace stages {

OneHotTransform::OneHotTransform(const pipeline::Params& p) : classes_(static_cast<int>(p.get_int("classes"))) {
  const auto smoothing = static_cast<float>(p.get_float("label_smoothing"));
  on_value_ = 1.0f - smoothing + smoothing / static_cast<float>(classes_);
  off_value_ = smoothing / static_cast<float>(classes_);
}

pipeline::Payload OneHotTransform::apply(const pipeline::Payload& input, std::string_view stream) const {
  TensorSample out = input.get<TensorSample>();
  set_target(out, stream);
  return pipeline::Payload::of(std::move(out));
}

pipeline::Payload OneHotTransform::apply_moved(pipeline::Payload&& input, std::string_view stream) const {
  if (auto* sample = input.edit<TensorSample>()) {
    set_target(*sample, stream);
    return std::move(input);
  }
  return apply(input, stream);
}

void OneHotTransform::set_target(TensorSample& sample, std::string_view stream) const {
  if (sample.label == kUnlabeled) {  // nothing to learn from or score: a zero target
    sample.target = xt::zeros<float>({static_cast<std::size_t>(classes_)});
    return;
  }
  if (sample.label < 0 || sample.label >= classes_)
    throw std::runtime_error("sample " + std::to_string(sample.index) + " of stream '" + std::string(stream) +
                             "' has label " + std::to_string(sample.label) + ", outside 0.." +
                             std::to_string(classes_ - 1));
  sample.target = SampleTensor<1>::from_shape({static_cast<std::size_t>(classes_)});
  sample.target.fill(off_value_);
  sample.target(static_cast<std::size_t>(sample.label)) = on_value_;
}

static pipeline::StageSpec one_hot_spec() {
  using namespace pipeline;
  StageSpec spec;
  spec.type = "one_hot";
  spec.summary = "Transform: attaches the one-hot target vector of the sample's label.";
  spec.kind = StageKind::Transform;
  spec.parallel = true;
  spec.input = kTensorType;
  spec.output = kLabeledTensorType;
  spec.params = {
      int_param("classes", 10, "length of the target vector; labels must lie in 0..classes-1").min(1),
      float_param("label_smoothing", 0.0, "spreads this much probability mass evenly over all classes").min(0).max(1),
  };
  spec.create = [](const Params& p) { return std::make_unique<OneHotTransform>(p); };
  return spec;
}

}  // namespace stages

PIPELINE_REGISTER_STAGE(stages::one_hot_spec())
