#pragma once
// How a convolution computes: one class per algorithm behind this interface (Caffe's GetConvolutionLayer picks an
// engine per layer the same way), chosen in one place, make_conv_engine(), which holds the `auto` rule. Every
// engine splits the batch into fixed slices (kSamplesPerTask) and sums their gradients in slice order, so results
// are bit-identical on any number of threads.
#include <functional>
#include <memory>
#include <string>

#include "model/nn/conv/conv_geometry.hpp"
#include "model/nn/tensor.hpp"

namespace nn {

// Auto: Winograd for 5x5 stride-1 kernels with 8+ input channels, else the direct kernel for up to 48 filters,
// else im2col + SGEMM. Im2col forces the last; Winograd throws where it does not apply. All agree to float rounding.
enum class ConvAlgorithm { Auto, Im2col, Winograd };

// Work on the samples [first, last) of one task, run by the task's thread while their data is in its cache: the
// pooling after a convolution, which Sequential fuses with it (conv_relu_pool.hpp). May be empty.
using SliceHook = std::function<void(std::size_t first, std::size_t last)>;
// dL/dy of a task's samples [first, last), packed, computed by the task's thread when it asks (the fused pooling's
// backward pass) in memory of that thread's, valid for the rest of the task. Empty: dy is the tensor passed.
using SliceGradient = std::function<const float*(std::size_t first, std::size_t last)>;

class ConvEngine {
 public:
  virtual ~ConvEngine() = default;
  // "winograd F(2x2,5x5), avx512 kernels", "direct, avx2 kernels" or "im2col + SGEMM", for the model summary.
  virtual std::string name() const = 0;
  // y (N, out_h, out_w, filters) = x * kernel + bias; kernel (k, k, in_c, filters). Training and inference alike.
  // Calls may run at once, each on its own x and y (Layer::predicts_concurrently): what an engine caches of the
  // kernel it updates under a lock.
  // `after_slice` runs on each task's samples once their y is written.
  virtual void forward(const Tensor& x, const Tensor& kernel, const Tensor& bias, Tensor& y,
                       const SliceHook& after_slice) = 0;
  // Sets kernel_grad and bias_grad; writes dL/dx into *dx (already shaped like x) when dx is not null. Each task
  // reads its dy from `gradient_of` when that is not empty (and then never reads `dy`).
  virtual void backward(const Tensor& x, const Tensor& dy, const Tensor& kernel, Tensor& kernel_grad, Tensor& bias_grad,
                        Tensor* dx, const SliceGradient& gradient_of) = 0;
  // Floating-point operations one training step performs per image, forward and backward (with dL/dx when
  // input_gradient): the arithmetic the algorithm really does (Winograd: fewer multiplies than the direct form).
  virtual double training_flops(bool input_gradient) const { return direct_training_flops(geometry(), input_gradient); }
  virtual const ConvGeometry& geometry() const = 0;
};

// The engine for `algorithm` on this geometry; std::invalid_argument when Winograd is asked where it does not apply.
std::unique_ptr<ConvEngine> make_conv_engine(const ConvGeometry& geometry, ConvAlgorithm algorithm);

}  // namespace nn
