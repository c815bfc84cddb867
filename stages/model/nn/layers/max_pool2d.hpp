#pragma once
#include <atomic>
#include <cstdint>

#include <oneapi/tbb/enumerable_thread_specific.h>

#include "model/nn/aligned.hpp"
#include "model/nn/kernels/simd_kernels.hpp"
#include "model/nn/layer.hpp"
#include "model/nn/layers/pool_geometry.hpp"

namespace nn {

// Max pooling over NHWC windows ('valid': windows that do not fit are dropped, as Keras' default).
class MaxPool2D : public Layer {
 public:
  MaxPool2D(Shape input_shape, std::size_t pool, std::size_t stride);
  std::string type() const override { return "max_pool2d"; }
  bool predicts_by_slices() const override { return true; }
  bool predicts_concurrently() const override { return true; }
  void forward(const Tensor& x, Tensor& y, const PassContext& context) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx, bool want_dx) override;
  std::string implementation() const override;
  // ReLU on the pooled values in the same pass, for a ReLU that Sequential runs after this layer (pool_before_relu):
  // the winners then carry ReLU's gradient too, so that backward() takes the ReLU's output gradient. False, with
  // nothing done, where this layer cannot (windows other than 2x2/2).
  bool forward_then_relu(const Tensor& x, Tensor& y, const PassContext& context);
  bool relu_fused() const { return relu_fused_.load(std::memory_order_relaxed); }
  // The 2x2/2 kernel's passes by samples, for the tasks of the convolution before this layer to run on their own
  // samples (conv_relu_pool.hpp): start_* once per batch, then *_samples on each [first, last); forward_then_relu()
  // and backward() split up. start_* return false where this layer has no kernel (windows other than 2x2/2);
  // start_backward() first finds the winners again from x after an inference pass, as backward() does.
  bool start_forward_then_relu(std::size_t batch, bool training, Tensor& y);
  void forward_samples(const Tensor& x, Tensor& y, std::size_t first, std::size_t last, bool training,
                       bool then_relu);
  bool start_backward(const Tensor& x);
  void backward_samples(const Tensor& dy, float* dx, std::size_t first, std::size_t last) const;  // dx: `first` on
  // backward_samples into the calling thread's own buffer (samples packed), valid until its next call.
  const float* backward_samples_here(const Tensor& dy, std::size_t first, std::size_t last);

 private:
  void forward_general(const Tensor& x, Tensor& y, bool keep_argmax);
  void backward_general(const Tensor& dy, Tensor& dx);

  PoolGeometry g_;
  // The common 2x2/2 case runs in our vector kernel; the general loop is plain code.
  const simd::Kernels* kernels_ = nullptr;
  AlignedFloats winner_;               // 2x2 kernel: per output element, the window position of the maximum
  std::vector<std::uint32_t> argmax_;  // general loop: per output element, flat input offset within its sample
  // Whether the last forward pass kept them (a training one); a backward pass after an inference one finds them
  // again from x. Atomic: inference passes may run at once (predicts_concurrently).
  std::atomic<bool> winners_kept_{false};
  std::atomic<bool> relu_fused_{false};  // whether the last forward pass was forward_then_relu()
  oneapi::tbb::enumerable_thread_specific<AlignedFloats> samples_dx_;  // backward_samples_here()'s
};

}  // namespace nn
