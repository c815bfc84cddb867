#pragma once
// Convolution by Winograd for stride-1 5x5 kernels (winograd5x5.hpp), all three passes in 4x4 output tiles where
// they multiply less than 2x2 ones, else in 2x2. Kernel gradients are summed in the transformed domain and brought
// back once per batch.
#include <mutex>
#include <vector>

#include "model/nn/conv/conv_engine.hpp"
#include "model/nn/conv/task_gradients.hpp"
#include "model/nn/conv/winograd5x5.hpp"

namespace nn {

class WinogradConv : public ConvEngine {
 public:
  WinogradConv(const ConvGeometry& geometry, const simd::Kernels& kernels);
  std::string name() const override;
  void forward(const Tensor& x, const Tensor& kernel, const Tensor& bias, Tensor& y,
               const SliceHook& after_slice) override;
  void backward(const Tensor& x, const Tensor& dy, const Tensor& kernel, Tensor& kernel_grad, Tensor& bias_grad,
                Tensor* dx, const SliceGradient& gradient_of) override;
  const ConvGeometry& geometry() const override { return g_; }
  double training_flops(bool input_gradient) const override;

 private:
  // Has winograd_ take `kernel`'s transform unless it is the kernel it last took, bit for bit.
  void take_kernel(const Tensor& kernel);

  ConvGeometry g_;
  Winograd5x5 winograd_;
  std::vector<float> transformed_kernel_;  // the kernel winograd_ holds the transform of
  std::mutex kernel_mutex_;  // over the transform: inference passes may run at once (Layer::predicts_concurrently)
  TaskGradients task_gradients_;
  AlignedFloats transformed_gradient_;
};

}  // namespace nn
