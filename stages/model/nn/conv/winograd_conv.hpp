#pragma once
// Convolution by Winograd for stride-1 5x5 kernels. The forward pass and dL/dx take F(4x4, 5x5) (winograd_f4x4.hpp:
// 64 multiplies per 4x4 output tile) where its tiles multiply less than F(2x2, 5x5)'s; the kernel gradient takes
// F(2x2, 5x5) (winograd5x5.hpp: 36 per 2x2 tile), which rounds less. Kernel gradients are summed in the transformed
// domain and brought back once per batch.
#include <mutex>
#include <optional>
#include <vector>

#include "model/nn/conv/conv_engine.hpp"
#include "model/nn/conv/task_gradients.hpp"
#include "model/nn/conv/winograd5x5.hpp"
#include "model/nn/conv/winograd_f4x4.hpp"

namespace nn {

class WinogradConv : public ConvEngine {
 public:
  WinogradConv(const ConvGeometry& geometry, const simd::Kernels& kernels);
  std::string name() const override;
  void forward(const Tensor& x, const Tensor& kernel, const Tensor& bias, Tensor& y) override;
  void backward(const Tensor& x, const Tensor& dy, const Tensor& kernel, Tensor& kernel_grad, Tensor& bias_grad,
                Tensor* dx) override;
  const ConvGeometry& geometry() const override { return g_; }
  double training_flops(bool input_gradient) const override;

 private:
  // Has `algorithm` take `kernel`'s transform unless `seen`, the kernel it last took, is the same bit for bit.
  template <class Algorithm>
  void take_kernel(Algorithm& algorithm, std::vector<float>& seen, const Tensor& kernel);

  ConvGeometry g_;
  Winograd5x5 winograd_;
  std::vector<float> transformed_kernel_;  // the kernel winograd_ holds the transform of
  std::optional<WinogradF4x4> forward4_;   // the forward pass and dL/dx, where it saves products
  std::vector<float> forward4_kernel_;      // the kernel forward4_ holds the transform of
  std::mutex kernel_mutex_;  // over the transforms: inference passes may run at once (Layer::predicts_concurrently)
  TaskGradients task_gradients_;
  AlignedFloats transformed_gradient_;
};

}  // namespace nn
