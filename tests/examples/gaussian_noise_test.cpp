#include <gtest/gtest.h>

#include <cmath>

// The example stage (examples/plugin/gaussian_noise.cpp), loaded with its plugin (leaky_relu_test.cpp loads it).
#include "common/samples.hpp"
#include "pipeline/plugins.hpp"
#include "pipeline/registry.hpp"
#include "support/params.hpp"


TEST(GaussianNoiseExample, IsRegisteredAddsSeededNoiseToTrainOnly) {
  const auto* spec = pipeline::Registry::instance().find("gaussian_noise");
  ASSERT_NE(spec, nullptr);
  auto stage = spec->create(params_for("gaussian_noise", "{stddev: 0.5}"));
  auto& noise = dynamic_cast<pipeline::Transform&>(*stage);
  pipeline::RunContext context;
  context.seed = 9;
  noise.prepare(context);
  stages::TensorSample s;
  s.index = 3;
  s.x = xt::zeros<float>({std::size_t{50}, std::size_t{50}, std::size_t{1}});
  const auto input = pipeline::Payload::of(s);
  const auto a = noise.apply(input, "train").get<stages::TensorSample>();
  const auto b = noise.apply(input, "train").get<stages::TensorSample>();
  EXPECT_EQ(a.x, b.x) << "same sample and seed, same noise";
  double sum = 0, sq = 0;
  for (float v : a.x) sum += v, sq += v * v;
  const double mean = sum / 2500, stddev = std::sqrt(sq / 2500 - mean * mean);
  EXPECT_NEAR(mean, 0.0, 0.05);
  EXPECT_NEAR(stddev, 0.5, 0.05);
  EXPECT_EQ(noise.apply(input, "test").get<stages::TensorSample>().x, s.x) << "test stream untouched";
}
