// The learning-rate schedules, each a class and a registration (per epoch, as Keras' LearningRateScheduler).
#include <algorithm>
#include <cmath>

#include "model/nn/optim/schedule.hpp"

namespace nn {
namespace {

using pipeline::float_param;

class Constant : public Schedule {
 public:
  double rate(double base, int, int) const override { return base; }
};

// base · gamma^⌊epoch / step_epochs⌋
class Step : public Schedule {
 public:
  Step(int step_epochs, double gamma) : step_epochs_(step_epochs), gamma_(gamma) {}
  double rate(double base, int epoch, int) const override { return base * std::pow(gamma_, epoch / step_epochs_); }

 private:
  int step_epochs_;
  double gamma_;
};

// base · gamma^epoch
class Exponential : public Schedule {
 public:
  explicit Exponential(double gamma) : gamma_(gamma) {}
  double rate(double base, int epoch, int) const override { return base * std::pow(gamma_, epoch); }

 private:
  double gamma_;
};

// From base at the first epoch to min_learning_rate at the last, along half a cosine.
class Cosine : public Schedule {
 public:
  explicit Cosine(double min_rate) : min_rate_(min_rate) {}
  double rate(double base, int epoch, int epochs) const override {
    const double progress = epochs > 1 ? static_cast<double>(epoch) / (epochs - 1) : 1.0;
    return min_rate_ + (base - min_rate_) * 0.5 * (1 + std::cos(M_PI * std::min(1.0, progress)));
  }

 private:
  double min_rate_;
};

ScheduleSpec constant_spec() {
  return {"constant", "the base rate every epoch", {}, [](const pipeline::Params&) { return std::make_unique<Constant>(); }};
}
ScheduleSpec step_spec() {
  return {"step",
          "multiplied by gamma every step_epochs epochs",
          // Required, as Keras' decays require theirs: a default would decay at a pace nobody chose.
          {pipeline::required_param("step_epochs", pipeline::ParamType::Int, "epochs between steps").min(1),
           pipeline::required_param("gamma", pipeline::ParamType::Float, "factor at each step").min(0).max(1)},
          [](const pipeline::Params& p) {
            return std::make_unique<Step>(static_cast<int>(p.get_int("step_epochs")), p.get_float("gamma"));
          }};
}
ScheduleSpec exponential_spec() {
  return {"exponential",
          "multiplied by gamma every epoch",
          {pipeline::required_param("gamma", pipeline::ParamType::Float, "factor per epoch").min(0).max(1)},
          [](const pipeline::Params& p) { return std::make_unique<Exponential>(p.get_float("gamma")); }};
}
ScheduleSpec cosine_spec() {
  return {"cosine",
          "cosine decay from the base rate to min_learning_rate at the last epoch",
          {float_param("min_learning_rate", 0.0, "the rate of the last epoch").min(0).max(10)},
          [](const pipeline::Params& p) { return std::make_unique<Cosine>(p.get_float("min_learning_rate")); }};
}

}  // namespace
}  // namespace nn

PIPELINE_REGISTER_SCHEDULE(nn::constant_spec())
PIPELINE_REGISTER_SCHEDULE(nn::step_spec())
PIPELINE_REGISTER_SCHEDULE(nn::exponential_spec())
PIPELINE_REGISTER_SCHEDULE(nn::cosine_spec())
