// scale: uint8 image → float tensor (height, width, channels), x = (pixel * factor - mean) / std.
#include "transform/scale.hpp"

#include <array>

#include <xtensor/xadapt.hpp>
#include <xtensor/xnoalias.hpp>

#include "pipeline/registry.hpp"

namespace stages {

ScaleTransform::ScaleTransform(const pipeline::Params& p)
    : factor_(static_cast<float>(p.get_float("factor"))),
      mean_(static_cast<float>(p.get_float("mean"))),
      std_(static_cast<float>(p.get_float("std"))) {
  if (std_ <= 0) p.fail("std", "must be positive");
}

pipeline::Payload ScaleTransform::apply(const pipeline::Payload& input, std::string_view) const {
  const auto& image = input.get<ImageSample>();
  TensorSample* sample = nullptr;
  pipeline::Payload made = pipeline::Payload::make(sample);
  TensorSample& out = *sample;
  out.index = image.index;
  out.epoch = image.epoch;
  out.epoch_size = image.epoch_size;
  out.label = image.label;
  out.names = image.names;
  out.x = SampleTensor<3>::from_shape({image.rows, image.cols, image.channels});
  const float a = factor_ / std_, b = -mean_ / std_;
  const std::size_t n = image.size();
  const auto pixels = xt::adapt(image.pixels(), n, xt::no_ownership(), std::array<std::size_t, 1>{n});
  auto values = xt::adapt(out.x.data(), n, xt::no_ownership(), std::array<std::size_t, 1>{n});
  xt::noalias(values) = xt::cast<float>(pixels) * a + b;
  return made;
}

// The images of a shuffled epoch lie anywhere in the data set: without this, scale waited on memory for most of
// its time (bench/README.md, section 10).
void ScaleTransform::prefetch(const pipeline::Payload& input) const {
  if (!input.holds<ImageSample>()) return;
  const auto& image = input.get<ImageSample>();
  constexpr std::size_t kCacheLine = 64;
  const std::uint8_t* pixels = image.pixels();
  for (std::size_t line = 0; line < image.size(); line += kCacheLine) __builtin_prefetch(pixels + line);
}

static pipeline::StageSpec scale_spec() {
  using namespace pipeline;
  StageSpec spec;
  spec.type = "scale";
  spec.summary = "Transform: uint8 image to float32 tensor (H, W, C; NHWC once batched) scaled by factor, "
                 "then (x - mean) / std.";
  spec.kind = StageKind::Transform;
  spec.parallel = true;
  spec.input = kImageType;
  spec.output = kTensorType;
  spec.params = {
      float_param("factor", 1.0 / 255.0, "multiplies every pixel first"),
      float_param("mean", 0.0, "subtracted after scaling (e.g. 0.1307 for MNIST)"),
      float_param("std", 1.0, "divides after subtracting the mean (e.g. 0.3081 for MNIST)"),
  };
  spec.create = [](const Params& p) { return std::make_unique<ScaleTransform>(p); };
  return spec;
}

}  // namespace stages

PIPELINE_REGISTER_STAGE(stages::scale_spec())
