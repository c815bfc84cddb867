// augment: random affine jitter of training images, the heavy parallel stage that runs beside training.
#include "transform/augment.hpp"

#include <cmath>
#include <random>

#include "common/random.hpp"
#include "pipeline/registry.hpp"

namespace stages {

ImageSample random_affine(const ImageSample& input, const AffineJitter& jitter, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto uniform = [&](double half_width) {
    // 53 random bits → [-1, 1), independent of the standard library's distribution code.
    const double u = static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0);
    return (2.0 * u - 1.0) * half_width;
  };
  const double angle = uniform(jitter.rotation_degrees) * M_PI / 180.0;
  const double zoom = 1.0 + uniform(jitter.zoom_fraction);
  const double shift_y = uniform(jitter.shift_fraction) * input.rows;
  const double shift_x = uniform(jitter.shift_fraction) * input.cols;

  ImageSample out = input;
  auto pixels = std::make_shared<std::vector<std::uint8_t>>(input.size());
  const std::uint8_t* src = input.pixels();
  const double cy = (input.rows - 1) / 2.0, cx = (input.cols - 1) / 2.0;
  // Inverse map: for each output pixel, where it comes from in the input.
  const double c = std::cos(angle) / zoom, s = std::sin(angle) / zoom;
  const std::size_t channels = input.channels;
  for (std::uint32_t y = 0; y < input.rows; ++y) {
    for (std::uint32_t x = 0; x < input.cols; ++x) {
      const double dy = y - cy - shift_y, dx = x - cx - shift_x;
      const double sy = c * dy - s * dx + cy;
      const double sx = s * dy + c * dx + cx;
      const double fy = std::floor(sy), fx = std::floor(sx);
      const double wy = sy - fy, wx = sx - fx;
      const long y0 = static_cast<long>(fy), x0 = static_cast<long>(fx);
      for (std::size_t ch = 0; ch < channels; ++ch) {
        auto at = [&](long yy, long xx) -> double {
          if (yy < 0 || xx < 0 || yy >= static_cast<long>(input.rows) || xx >= static_cast<long>(input.cols)) return 0.0;
          return src[(static_cast<std::size_t>(yy) * input.cols + static_cast<std::size_t>(xx)) * channels + ch];
        };
        const double v = (1 - wy) * ((1 - wx) * at(y0, x0) + wx * at(y0, x0 + 1)) +
                         wy * ((1 - wx) * at(y0 + 1, x0) + wx * at(y0 + 1, x0 + 1));
        (*pixels)[(static_cast<std::size_t>(y) * input.cols + x) * channels + ch] =
            static_cast<std::uint8_t>(std::lround(std::clamp(v, 0.0, 255.0)));
      }
    }
  }
  out.storage = std::move(pixels);
  out.offset = 0;
  return out;
}

AugmentTransform::AugmentTransform(const pipeline::Params& p) {
  jitter_.rotation_degrees = p.get_float("rotation");
  jitter_.shift_fraction = p.get_float("shift");
  jitter_.zoom_fraction = p.get_float("zoom");
  const YAML::Node streams = p.get_node("streams");
  for (const auto& s : streams) {
    if (!s.IsScalar()) p.fail("streams", s, "expected a list of stream names");
    streams_.insert(s.Scalar());
  }
}

pipeline::Payload AugmentTransform::apply(const pipeline::Payload& input, std::string_view stream) const {
  if (streams_.find(stream) == streams_.end()) return input;  // e.g. the test split passes untouched
  const auto& image = input.get<ImageSample>();
  const std::uint64_t seed =
      mix_seed(mix_seed(seed_, hash_name(stream)), mix_seed(static_cast<std::uint64_t>(image.epoch),
                                                             static_cast<std::uint64_t>(image.index)));
  return pipeline::Payload::of(random_affine(image, jitter_, seed));
}

static pipeline::StageSpec augment_spec() {
  using namespace pipeline;
  StageSpec spec;
  spec.type = "augment";
  spec.summary = "Transform: random rotation, zoom and shift of each image, seeded per sample and epoch; "
                 "other streams pass unchanged.";
  spec.kind = StageKind::Transform;
  spec.parallel = true;
  spec.input = kImageType;
  spec.output = kImageType;
  spec.params = {
      float_param("rotation", 10.0, "maximum rotation in degrees (uniform in ±rotation)").min(0).max(180),
      float_param("shift", 0.1, "maximum shift as a fraction of the image size").min(0).max(1),
      float_param("zoom", 0.1, "maximum zoom change (uniform scale in 1±zoom)").min(0).max(0.9),
      yaml_param("streams", ParamType::List, "[train]", "streams to augment; others pass unchanged"),
  };
  spec.create = [](const Params& p) { return std::make_unique<AugmentTransform>(p); };
  return spec;
}

}  // namespace stages

PIPELINE_REGISTER_STAGE(stages::augment_spec())
