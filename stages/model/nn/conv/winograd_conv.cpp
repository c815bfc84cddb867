#include "model/nn/conv/winograd_conv.hpp"

#include <algorithm>
#include <cstring>

#include "model/nn/parallel.hpp"

namespace nn {

WinogradConv::WinogradConv(const ConvGeometry& geometry, const simd::Kernels& kernels)
    : g_(geometry), winograd_(geometry, kernels), transformed_gradient_(winograd_.kernel_gradient_size()) {
  if (WinogradF4x4::saves_products(geometry)) predictor_.emplace(geometry, kernels);
}

std::string WinogradConv::name() const {
  return std::string("winograd F(2x2,5x5)") + (predictor_ ? ", F(4x4,5x5) to predict" : "") + ", " +
         winograd_.kernel_name() + " kernels";
}

namespace {

// Whether `kernel` differs from `seen`, the kernel an algorithm last transformed, bit for bit (a NaN weight is no
// change); if so, `seen` takes it. The backward pass and every inference batch after the first see the kernel
// already transformed: comparing is cheaper than transforming again (the transform was 12% of the time to predict
// one image).
bool changed(std::vector<float>& seen, const Tensor& kernel) {
  if (seen.size() == kernel.size() && std::memcmp(kernel.data(), seen.data(), seen.size() * sizeof(float)) == 0)
    return false;
  seen.assign(kernel.begin(), kernel.end());
  return true;
}

// algorithm.forward over the batch's fixed slices, in parallel.
template <class Algorithm>
void forward_by_slices(const Algorithm& algorithm, const ConvGeometry& g, const Tensor& x, const Tensor& bias,
                       Tensor& y) {
  const std::size_t out_size = g.out_pixels() * g.filters;
  for_each_slice(x.shape()[0], kSamplesPerTask, [&](std::size_t, std::size_t first, std::size_t last) {
    algorithm.forward(x.data() + first * g.in_size(), last - first, bias.data(), y.data() + first * out_size);
  });
}

}  // namespace

void WinogradConv::transform_kernel(const Tensor& kernel) {
  const std::lock_guard<std::mutex> lock(kernel_mutex_);
  if (changed(transformed_kernel_, kernel)) winograd_.set_kernel(kernel.data());
}

void WinogradConv::forward(const Tensor& x, const Tensor& kernel, const Tensor& bias, Tensor& y) {
  transform_kernel(kernel);
  forward_by_slices(winograd_, g_, x, bias, y);
}

void WinogradConv::infer(const Tensor& x, const Tensor& kernel, const Tensor& bias, Tensor& y) {
  if (!predictor_) return forward(x, kernel, bias, y);
  {
    const std::lock_guard<std::mutex> lock(kernel_mutex_);
    if (changed(predictor_kernel_, kernel)) predictor_->set_kernel(kernel.data());
  }
  forward_by_slices(*predictor_, g_, x, bias, y);
}

// The transform is linear: the slices' kernel gradients are summed in the transformed domain, brought back once.
void WinogradConv::backward(const Tensor& x, const Tensor& dy, const Tensor& kernel, Tensor& kernel_grad,
                            Tensor& bias_grad, Tensor* dx) {
  const std::size_t out_pixels = g_.out_pixels(), values = transformed_gradient_.size();
  task_gradients_.prepare(x.shape()[0], values, g_.filters);
  transform_kernel(kernel);
  for_each_slice(x.shape()[0], kSamplesPerTask, [&](std::size_t task, std::size_t first, std::size_t last) {
    const float* grad_out = dy.data() + first * out_pixels * g_.filters;
    float* du = task_gradients_.kernel(task);
    std::fill(du, du + values, 0.0f);
    winograd_.backward(x.data() + first * g_.in_size(), grad_out, last - first, du,
                       dx ? dx->data() + first * g_.in_size() : nullptr);
    sum_bias_gradient(grad_out, (last - first) * out_pixels, g_.filters, task_gradients_.bias(task));
  });
  task_gradients_.reduce(transformed_gradient_.data(), bias_grad.data());
  winograd_.kernel_gradient(transformed_gradient_.data(), kernel_grad.data());
}

// Per 2x2 output tile: the 36 products per input channel and filter of each pass (forward, dU, and dL/dx), and the
// transforms, counted as 5 operations per output of a 1-D transform (Bᵀ d B: 12 transforms of 6 values; A dy Aᵀ
// and Aᵀ m A: 2 + 6 or 6 + 2 transforms between 2 and 6 values, taken as 8 of 6; B dv Bᵀ as Bᵀ d B).
double WinogradConv::training_flops(bool input_gradient) const {
  const double tiles = static_cast<double>(((g_.out_h + 1) / 2) * ((g_.out_w + 1) / 2));
  const double c = static_cast<double>(g_.in_c), k = static_cast<double>(g_.filters);
  const double product = 2.0 * 36 * c * k, six_by_six = 12 * 6 * 5, two_by_two = 8 * 6 * 5;
  const double forward = product + c * six_by_six + k * two_by_two;
  const double backward = product + c * six_by_six + k * two_by_two + (input_gradient ? product + c * six_by_six : 0);
  return tiles * (forward + backward);
}

}  // namespace nn
