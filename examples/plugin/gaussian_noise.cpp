// A user-defined stage in its own file: adds Gaussian noise to training tensors (a simple augmentation). The
// plugin (plugin.cpp) registers its spec, which makes `type: gaussian_noise` usable in any config that loads it.
#include <random>
#include <set>

#include "common/random.hpp"
#include "common/samples.hpp"
#include "pipeline/registry.hpp"
#include "specs.hpp"

namespace examples {

class GaussianNoise : public pipeline::Transform {
 public:
  explicit GaussianNoise(const pipeline::Params& p) : stddev_(static_cast<float>(p.get_float("stddev"))) {
    for (const auto& s : p.get_node("streams")) streams_.insert(s.as<std::string>());
  }
  void prepare(const pipeline::RunContext& context) override { seed_ = context.seed; }

  pipeline::Payload apply(const pipeline::Payload& input, std::string_view stream) const override {
    if (!streams_.count(std::string(stream))) return input;
    return with_noise(input.get<stages::TensorSample>());
  }
  // When no other stage sees the input, its tensor is taken instead of copied.
  pipeline::Payload apply_moved(pipeline::Payload&& input, std::string_view stream) const override {
    if (!streams_.count(std::string(stream))) return std::move(input);
    return with_noise(std::move(input).take<stages::TensorSample>());
  }

 private:
  pipeline::Payload with_noise(stages::TensorSample out) const {
    // Seeded per sample and epoch, so results do not depend on which thread ran it.
    std::mt19937_64 rng(stages::mix_seed(seed_, stages::mix_seed(static_cast<std::uint64_t>(out.epoch),
                                                                 static_cast<std::uint64_t>(out.index))));
    std::normal_distribution<float> noise(0.0f, stddev_);
    for (auto& v : out.x) v += noise(rng);
    return pipeline::Payload::of(std::move(out));
  }

  float stddev_;
  std::set<std::string> streams_;
  std::uint64_t seed_ = 0;
};

pipeline::StageSpec gaussian_noise_spec() {
  using namespace pipeline;
  StageSpec spec;
  spec.type = "gaussian_noise";
  spec.summary = "Example transform: adds N(0, stddev²) noise to each value of the listed streams.";
  spec.kind = StageKind::Transform;
  spec.parallel = true;
  spec.input = stages::kTensorType;
  spec.output = stages::kTensorType;
  spec.params = {float_param("stddev", 0.1, "standard deviation of the noise").min(0),
                 yaml_param("streams", ParamType::List, "[train]", "streams to add noise to")};
  spec.create = [](const Params& p) { return std::make_unique<GaussianNoise>(p); };
  return spec;
}

}  // namespace examples
