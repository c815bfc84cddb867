#pragma once
// Convolution computed directly in our narrow vector GEMM (kernels/), for layers with few filters (LeNet's conv1:
// 20): on a zero-bordered copy of each image, the taps of an output row are a strided window the kernel reads in
// place, with no im2col copy; it beats im2col + OpenBLAS, whose copies and small-matrix overheads dominate at these
// sizes. dL/dx, which a first layer does not need, comes from im2col.
#include <oneapi/tbb/enumerable_thread_specific.h>

#include "model/nn/aligned.hpp"
#include "model/nn/conv/im2col_conv.hpp"
#include "model/nn/conv/task_gradients.hpp"
#include "model/nn/kernels/simd_kernels.hpp"

namespace nn {

class DirectConv : public ConvEngine {
 public:
  DirectConv(const ConvGeometry& geometry, const simd::Kernels& kernels);
  std::string name() const override { return std::string("direct, ") + kernels_.name + " kernels"; }
  void forward(const Tensor& x, const Tensor& kernel, const Tensor& bias, Tensor& y,
               const SliceHook& after_slice) override;
  void backward(const Tensor& x, const Tensor& dy, const Tensor& kernel, Tensor& kernel_grad, Tensor& bias_grad,
                Tensor* dx, const SliceGradient& gradient_of) override;
  const ConvGeometry& geometry() const override { return g_; }

 private:
  struct Scratch {  // per thread, reused: a zero-bordered image and dL/dy widened to whole registers
    AlignedFloats image, wide;
  };
  const float* padded_image(const float* image, AlignedFloats& buffer) const;

  ConvGeometry g_;
  const simd::Kernels& kernels_;
  std::size_t filters_pad_, padded_h_, padded_w_;  // filters in whole vector registers; the zero-bordered image
  Im2colConv input_gradient_;
  TaskGradients task_gradients_;
  oneapi::tbb::enumerable_thread_specific<Scratch> scratch_;
};

}  // namespace nn
