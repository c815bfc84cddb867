#include "model/nn/conv/task_gradients.hpp"

#include <vector>

#include "model/nn/kernels/simd_kernels.hpp"
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
  const simd::Kernels& kernels = simd::kernels();
  std::vector<const float*> kernels_of_tasks(tasks_), biases_of_tasks(tasks_);
  for (std::size_t t = 0; t < tasks_; ++t) {
    kernels_of_tasks[t] = kernel_[t].data();
    biases_of_tasks[t] = bias_[t].data();
  }
  for_each_slice(kernel_values_, kValuesPerTask, [&](std::size_t, std::size_t first, std::size_t last) {
    kernels.sum_parts(kernels_of_tasks.data(), tasks_, first, last - first, kernel_sum + first);
  });
  kernels.sum_parts(biases_of_tasks.data(), tasks_, 0, filters_, bias_sum);
}

void sum_bias_gradient(const float* grad_out, std::size_t rows, std::size_t filters, float* bias_grad) {
  simd::kernels().column_sums(grad_out, rows, filters, bias_grad);
}

}  // namespace nn
