#pragma once
// Per-slice partial gradients of a convolution's kernel and bias, summed in slice order (the same sums on any
// number of threads).
#include <vector>

#include "model/nn/aligned.hpp"
#include "model/nn/layer.hpp"

namespace nn {

class TaskGradients {
 public:
  // Room for the slices of a batch of `batch` samples, `kernel_values` and `filters` floats each.
  void prepare(std::size_t batch, std::size_t kernel_values, std::size_t filters);
  float* kernel(std::size_t task) { return kernel_[task].data(); }
  float* bias(std::size_t task) { return bias_[task].data(); }
  // Σ over the prepared slices into kernel_sum (kernel_values floats) and bias_sum (filters floats).
  void reduce(float* kernel_sum, float* bias_sum) const;

 private:
  std::size_t tasks_ = 0, kernel_values_ = 0, filters_ = 0;
  std::vector<AlignedFloats> kernel_, bias_;
};

// bias_grad (filters floats) = Σ over rows of grad_out (rows × filters).
void sum_bias_gradient(const float* grad_out, std::size_t rows, std::size_t filters, float* bias_grad);

}  // namespace nn
