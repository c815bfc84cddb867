#include "model/nn/conv/winograd_conv.hpp"

#include <algorithm>
#include <cstring>

#include "model/nn/parallel.hpp"

namespace nn {

WinogradConv::WinogradConv(const ConvGeometry& geometry, const simd::Kernels& kernels)
    : g_(geometry),
      winograd_(geometry, kernels, Winograd5x5::tile4_saves_products(geometry) ? 4 : 2),
      transformed_gradient_(winograd_.kernel_gradient_size()) {}

std::string WinogradConv::name() const {
  const std::string tile = std::to_string(winograd_.tile());
  return "winograd F(" + tile + "x" + tile + ",5x5), " + winograd_.kernel_name() + " kernels";
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

}  // namespace

// Under the lock, as inference passes run at once; only the transform: a pass waiting on the lock inside another's
// parallel loop would deadlock.
void WinogradConv::take_kernel(const Tensor& kernel) {
  const std::lock_guard<std::mutex> lock(kernel_mutex_);
  if (changed(transformed_kernel_, kernel)) winograd_.set_kernel(kernel.data());
}

// Training and inference alike: the backward pass reads x and dy, not how y was computed.
void WinogradConv::forward(const Tensor& x, const Tensor& kernel, const Tensor& bias, Tensor& y,
                           const SliceHook& after_slice) {
  take_kernel(kernel);
  const std::size_t out_size = g_.out_pixels() * g_.filters;
  for_each_slice(x.shape()[0], kSamplesPerTask, [&](std::size_t, std::size_t first, std::size_t last) {
    winograd_.forward(x.data() + first * g_.in_size(), last - first, bias.data(), y.data() + first * out_size);
    if (after_slice) after_slice(first, last);
  });
}

// The transform is linear: the slices' kernel gradients are summed in the transformed domain, brought back once.
void WinogradConv::backward(const Tensor& x, const Tensor& dy, const Tensor& kernel, Tensor& kernel_grad,
                            Tensor& bias_grad, Tensor* dx, const SliceGradient& gradient_of) {
  const std::size_t out_pixels = g_.out_pixels(), values = transformed_gradient_.size();
  task_gradients_.prepare(x.shape()[0], values, g_.filters);
  if (dx) take_kernel(kernel);  // the kernel gradient reads x and dy only
  for_each_slice(x.shape()[0], kSamplesPerTask, [&](std::size_t task, std::size_t first, std::size_t last) {
    const float* grad_out = gradient_of ? gradient_of(first, last) : dy.data() + first * out_pixels * g_.filters;
    float* du = task_gradients_.kernel(task);
    std::fill(du, du + values, 0.0f);
    winograd_.backward(x.data() + first * g_.in_size(), grad_out, last - first, du,
                       dx ? dx->data() + first * g_.in_size() : nullptr);
    sum_bias_gradient(grad_out, (last - first) * out_pixels, g_.filters, task_gradients_.bias(task));
  });
  task_gradients_.reduce(transformed_gradient_.data(), bias_grad.data());
  winograd_.kernel_gradient(transformed_gradient_.data(), kernel_grad.data());
}

// Per tile and channel pair, the products (F(2x2): 36 per 2x2 tile, F(4x4): 64 per 4x4 tile); per tile and
// channel, the 1-D transforms at 5 operations per value they output. With n = tile + 4: Bᵀ d B (and B dv Bᵀ) 2n²
// values, Aᵀ m A tile·(n + tile), A dy Aᵀ n·(n + tile). The backward pass transforms d and dy once for dU and dL/dx.
double WinogradConv::training_flops(bool input_gradient) const {
  const std::size_t tile = winograd_.tile(), side = tile + 4;
  const double tiles = static_cast<double>(((g_.out_h + tile - 1) / tile) * ((g_.out_w + tile - 1) / tile));
  const double c = static_cast<double>(g_.in_c), k = static_cast<double>(g_.filters);
  const double products = 2.0 * static_cast<double>(side * side) * c * k;
  const double input_transform = c * static_cast<double>(2 * side * side * 5);
  const double forward = products + input_transform + k * static_cast<double>(tile * (side + tile) * 5);
  const double kernel_gradient = products + input_transform + k * static_cast<double>(side * (side + tile) * 5);
  return tiles * (forward + kernel_gradient + (input_gradient ? products + input_transform : 0));
}

}  // namespace nn
