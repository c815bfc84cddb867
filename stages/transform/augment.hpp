#pragma once
#include <set>
#include <string>

#include "common/samples.hpp"
#include "pipeline/params.hpp"
#include "pipeline/stage.hpp"

namespace stages {

struct AffineJitter {
  double rotation_degrees = 10;
  double shift_fraction = 0.1;
  double zoom_fraction = 0.1;
};

// Applies a random affine map (rotation, zoom, shift about the image centre) with bilinear sampling;
// pixels mapped from outside the image are 0. Deterministic in `seed`.
ImageSample random_affine(const ImageSample& input, const AffineJitter& jitter, std::uint64_t seed);

class AugmentTransform : public pipeline::Transform {
 public:
  explicit AugmentTransform(const pipeline::Params& params);
  void prepare(const pipeline::RunContext& context) override { seed_ = context.seed; }
  pipeline::Payload apply(const pipeline::Payload& input, std::string_view stream) const override;

 private:
  AffineJitter jitter_;
  std::set<std::string, std::less<>> streams_;
  std::uint64_t seed_ = 0;
};

}  // namespace stages
