#pragma once
// Convolution as im2col + GEMM: each output pixel's taps copied into a row, one GEMM per slice of images through
// xtensor-blas. Works for any geometry; the exact path (kernel gradient rounding as a plain sum).
#include <oneapi/tbb/enumerable_thread_specific.h>

#include "model/nn/aligned.hpp"
#include "model/nn/conv/conv_engine.hpp"
#include "model/nn/conv/task_gradients.hpp"

namespace nn {

class Im2colConv : public ConvEngine {
 public:
  explicit Im2colConv(const ConvGeometry& geometry) : g_(geometry) {}
  std::string name() const override { return "im2col + SGEMM"; }
  void forward(const Tensor& x, const Tensor& kernel, const Tensor& bias, Tensor& y,
               const SliceHook& after_slice) override;
  void backward(const Tensor& x, const Tensor& dy, const Tensor& kernel, Tensor& kernel_grad, Tensor& bias_grad,
                Tensor* dx, const SliceGradient& gradient_of) override;
  const ConvGeometry& geometry() const override { return g_; }
  // dL/dx alone of `samples` samples (dy and dx packed), on the calling thread: for the direct engine's tasks,
  // which compute the parameters' gradients their own way.
  void input_gradient_samples(const float* dy, std::size_t samples, const Tensor& kernel, float* dx);

 private:
  void im2col(const float* x, std::size_t samples, float* cols) const;
  void col2im(const float* cols, std::size_t samples, float* dx) const;

  ConvGeometry g_;
  TaskGradients task_gradients_;
  mutable oneapi::tbb::enumerable_thread_specific<AlignedFloats> columns_;  // per thread, reused
};

}  // namespace nn
