#include "model/nn/conv/task_gradients.hpp"

#include <xtensor/xreducer.hpp>

#include "model/nn/parallel.hpp"

namespace nn {

void TaskGradients::prepare(std::size_t batch, std::size_t kernel_values, std::size_t filters) {
  tasks_ = (batch + kSamplesPerTask - 1) / kSamplesPerTask;
  if (kernel_values != kernel_values_ || filters != filters_) {
    kernel_.clear();
    bias_.clear();
    kernel_values_ = kernel_values;
    filters_ = filters;
  }
  if (kernel_.size() < tasks_) {
    kernel_.resize(tasks_, AlignedFloats(kernel_values));
    bias_.resize(tasks_, AlignedFloats(filters));
  }
}

void TaskGradients::reduce(float* kernel_sum, float* bias_sum) const {
  constexpr std::size_t kValuesPerTask = 4096;
  for_each_slice(kernel_values_, kValuesPerTask, [&](std::size_t, std::size_t first, std::size_t last) {
    auto sum = flat(kernel_sum + first, last - first);
    sum.fill(0.0f);
    for (std::size_t t = 0; t < tasks_; ++t) xt::noalias(sum) += flat(kernel_[t].data() + first, last - first);
  });
  auto bias = flat(bias_sum, filters_);
  bias.fill(0.0f);
  for (std::size_t t = 0; t < tasks_; ++t) xt::noalias(bias) += flat(bias_[t].data(), filters_);
}

void sum_bias_gradient(const float* grad_out, std::size_t rows, std::size_t filters, float* bias_grad) {
  xt::noalias(flat(bias_grad, filters)) = xt::sum(matrix(grad_out, rows, filters), {0}, xt::evaluation_strategy::immediate);
}

}  // namespace nn
