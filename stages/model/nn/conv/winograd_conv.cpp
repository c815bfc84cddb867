#include "model/nn/conv/winograd_conv.hpp"

#include <algorithm>
#include <cstring>

#include "model/nn/parallel.hpp"

namespace nn {

WinogradConv::WinogradConv(const ConvGeometry& geometry, const simd::Kernels& kernels)
    : g_(geometry), winograd_(geometry, kernels), transformed_gradient_(winograd_.kernel_gradient_size()) {
  if (WinogradF4x4::saves_products(geometry)) forward4_.emplace(geometry, kernels);
}

std::string WinogradConv::name() const {
  return std::string("winograd ") + (forward4_ ? "F(4x4,5x5), F(2x2,5x5) kernel gradient" : "F(2x2,5x5)") + ", " +
         winograd_.kernel_name() + " kernels";
}

namespace {

// Whether `kernel` differs from `seen`, the kernel an algorithm last transformed, bit for bit (a NaN weight is no
// change); if so, `seen` takes it. Every inference batch after the first sees the kernel already transformed:
// comparing is cheaper than transforming again (the transform was 12% of the time to predict one image).
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

// Under the lock, as inference passes run at once; only the transform: a pass waiting on the lock inside another's
// parallel loop would deadlock.
template <class Algorithm>
void WinogradConv::take_kernel(Algorithm& algorithm, std::vector<float>& seen, const Tensor& kernel) {
  const std::lock_guard<std::mutex> lock(kernel_mutex_);
  if (changed(seen, kernel)) algorithm.set_kernel(kernel.data());
}

// Training and inference alike: the backward pass reads x and dy, not how y was computed.
void WinogradConv::forward(const Tensor& x, const Tensor& kernel, const Tensor& bias, Tensor& y) {
  if (forward4_) {
    take_kernel(*forward4_, forward4_kernel_, kernel);
    return forward_by_slices(*forward4_, g_, x, bias, y);
  }
  take_kernel(winograd_, transformed_kernel_, kernel);
  forward_by_slices(winograd_, g_, x, bias, y);
}

// The transform is linear: the slices' kernel gradients are summed in the transformed domain, brought back once.
void WinogradConv::backward(const Tensor& x, const Tensor& dy, const Tensor& kernel, Tensor& kernel_grad,
                            Tensor& bias_grad, Tensor* dx) {
  const std::size_t out_pixels = g_.out_pixels(), values = transformed_gradient_.size();
  task_gradients_.prepare(x.shape()[0], values, g_.filters);
  if (dx && forward4_)  // the kernel gradient reads x and dy only
    take_kernel(*forward4_, forward4_kernel_, kernel);
  else if (dx)
    take_kernel(winograd_, transformed_kernel_, kernel);
  for_each_slice(x.shape()[0], kSamplesPerTask, [&](std::size_t task, std::size_t first, std::size_t last) {
    const float* grad_out = dy.data() + first * out_pixels * g_.filters;
    float* du = task_gradients_.kernel(task);
    float* grad_in = dx ? dx->data() + first * g_.in_size() : nullptr;
    std::fill(du, du + values, 0.0f);
    winograd_.backward(x.data() + first * g_.in_size(), grad_out, last - first, du, forward4_ ? nullptr : grad_in);
    if (forward4_ && grad_in) forward4_->input_gradient(grad_out, last - first, grad_in);
    sum_bias_gradient(grad_out, (last - first) * out_pixels, g_.filters, task_gradients_.bias(task));
  });
  task_gradients_.reduce(transformed_gradient_.data(), bias_grad.data());
  winograd_.kernel_gradient(transformed_gradient_.data(), kernel_grad.data());
}

// The products per tile and channel pair of each pass (64 per 4x4 tile where F(4x4) runs: the forward pass and
// dL/dx; else 36 per 2x2 tile, as dU always), and the transforms, counted as 5 operations per output of a 1-D
// transform: F(2x2)'s Bᵀ d B as 12 transforms of 6 values, A dy Aᵀ as 8 of 6, B dv Bᵀ as Bᵀ d B; F(4x4)'s Bᵀ d B
// and B dv Bᵀ as 16 of 8, Aᵀ m A as 8 + 4 of 4, A dy Aᵀ as 4 + 8 of 8.
double WinogradConv::training_flops(bool input_gradient) const {
  const double tiles2 = static_cast<double>(((g_.out_h + 1) / 2) * ((g_.out_w + 1) / 2));
  const double tiles4 = static_cast<double>(((g_.out_h + 3) / 4) * ((g_.out_w + 3) / 4));
  const double c = static_cast<double>(g_.in_c), k = static_cast<double>(g_.filters);
  const double product2 = 2.0 * 36 * c * k, input2 = c * 12 * 6 * 5, output2 = k * 8 * 6 * 5;
  const double product4 = 2.0 * 64 * c * k, input4 = c * 16 * 8 * 5;
  const double pass2 = tiles2 * (product2 + input2 + output2);  // F(2x2)'s forward pass, or its kernel gradient
  if (!forward4_) return 2 * pass2 + (input_gradient ? tiles2 * (product2 + input2) : 0);
  const double forward = tiles4 * (product4 + input4 + k * 12 * 4 * 5);
  return forward + pass2 + (input_gradient ? tiles4 * (product4 + input4 + k * 12 * 8 * 5) : 0);
}

}  // namespace nn
