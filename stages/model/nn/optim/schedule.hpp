#pragma once
// Learning rate per epoch, registered by type name: `schedule: {type: step, step_epochs: 5, gamma: 0.5}`.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/params.hpp"
#include "pipeline/spec_registry.hpp"

namespace nn {

class Schedule {
 public:
  virtual ~Schedule() = default;
  // The rate of 0-based `epoch` of `epochs`, from the optimizer's base rate.
  virtual double rate(double base, int epoch, int epochs) const = 0;
};

// Gradual warm-up (Goyal et al., 2017, for large batches with the linear scaling rule): in epoch e < epochs the
// rate is the wrapped schedule's times (e + 1) / (epochs + 1), rising linearly to it.
class WarmUp : public Schedule {
 public:
  WarmUp(std::unique_ptr<Schedule> then, int epochs) : then_(std::move(then)), epochs_(epochs) {}
  double rate(double base, int epoch, int epochs) const override {
    const double r = then_->rate(base, epoch, epochs);
    return epoch < epochs_ ? r * (epoch + 1) / (epochs_ + 1) : r;
  }

 private:
  std::unique_ptr<Schedule> then_;
  int epochs_;
};

struct ScheduleSpec {
  std::string type;
  std::string summary;
  std::vector<pipeline::ParamSpec> params;
  std::function<std::unique_ptr<Schedule>(const pipeline::Params& options)> create;
};
using ScheduleRegistry = pipeline::SpecRegistry<ScheduleSpec>;

}  // namespace nn

#define PIPELINE_REGISTER_SCHEDULE(spec_expression) PIPELINE_REGISTER_SPEC(::nn::ScheduleRegistry, spec_expression)
