#pragma once
// Convolution by Winograd F(2x2, 5x5) (winograd5x5.hpp) for stride-1 5x5 kernels: 36 multiplies per 2x2 output
// tile instead of 100. Kernel gradients are summed in the transformed domain and brought back once per batch.
// Inference takes F(4x4, 5x5) (winograd_f4x4.hpp) where its 4x4 tiles multiply less.
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
  void infer(const Tensor& x, const Tensor& kernel, const Tensor& bias, Tensor& y) override;
  void backward(const Tensor& x, const Tensor& dy, const Tensor& kernel, Tensor& kernel_grad, Tensor& bias_grad,
                Tensor* dx) override;
  const ConvGeometry& geometry() const override { return g_; }
  double training_flops(bool input_gradient) const override;

 private:
  void transform_kernel(const Tensor& kernel);

  ConvGeometry g_;
  Winograd5x5 winograd_;
  std::vector<float> transformed_kernel_;  // the kernel winograd_ holds the transform of
  std::optional<WinogradF4x4> predictor_;  // where it saves products
  std::vector<float> predictor_kernel_;     // the kernel predictor_ holds the transform of
  std::mutex kernel_mutex_;  // over the two above: inference passes may run at once (Layer::predicts_concurrently)
  TaskGradients task_gradients_;
  AlignedFloats transformed_gradient_;
};

}  // namespace nn
