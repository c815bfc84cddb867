#pragma once
#include <optional>

#include "model/nn/layer.hpp"
#include <oneapi/tbb/enumerable_thread_specific.h>

#include "model/nn/aligned.hpp"
#include "model/nn/kernels/simd_kernels.hpp"
#include "model/nn/winograd5x5.hpp"

namespace nn {

enum class Padding { Same, Valid };
// Auto: Winograd for 5x5 stride-1 kernels with 8+ input channels, else the direct kernel for up to 48 filters,
// else im2col + SGEMM. Im2col forces the last; Winograd throws where it does not apply. All agree to float rounding.
enum class ConvAlgorithm { Auto, Im2col, Winograd };

// 2-D convolution over NHWC input, kernel laid out (kh, kw, in, out) as in Keras, by the algorithm above.
class Conv2D : public Layer {
 public:
  Conv2D(Shape input_shape, std::size_t filters, std::size_t kernel, std::size_t stride, Padding padding,
         ConvAlgorithm algorithm = ConvAlgorithm::Auto);
  // "winograd F(2x2,5x5), avx512 kernels", "direct, avx2 kernels" or "im2col + SGEMM".
  std::string implementation() const override;
  std::string type() const override { return "conv2d"; }
  void forward(const Tensor& x, Tensor& y, const PassContext& context) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx, bool want_dx) override;
  std::vector<Parameter> parameters() override {
    return {{"kernel", &weights_, &kernel_grad_}, {"bias", &bias_, &bias_grad_}};
  }
  void initialize(std::mt19937_64& rng) override;
  double forward_flops() const override;

 private:
  void im2col(const float* x, std::size_t samples, float* cols) const;
  void col2im(const float* cols, std::size_t samples, float* dx) const;
  void forward_winograd(const Tensor& x, Tensor& y);
  void backward_winograd(const Tensor& x, const Tensor& dy, Tensor& dx, bool want_dx);
  void forward_direct(const Tensor& x, Tensor& y);
  void backward_direct(const Tensor& x, const Tensor& dy);  // parameters' gradients only
  const float* padded_image(const float* image, AlignedFloats& buffer) const;
  void sum_bias_gradient(const float* grad_out, std::size_t rows, float* bias_grad) const;
  void reduce_chunk_gradients(std::size_t tasks, std::size_t kernel_values, float* kernel_sum);

  std::size_t in_h_, in_w_, in_c_, filters_, ksize_, stride_;
  std::size_t out_h_, out_w_, pad_top_, pad_left_;
  std::size_t patch_;  // kernel * kernel * in_c
  Tensor weights_, bias_, kernel_grad_, bias_grad_;
  std::vector<AlignedFloats> chunk_kernel_grads_, chunk_bias_grads_;
  std::optional<Winograd5x5> winograd_;
  AlignedFloats winograd_kernel_grad_;
  // Few filters (LeNet's conv1: 20): a direct convolution in our narrow kernel, on a zero-bordered copy of each
  // image, beats im2col + OpenBLAS, whose copies and small-matrix overheads dominate at these sizes.
  static constexpr std::size_t kDirectMaxFilters = 48;
  const simd::Kernels* direct_ = nullptr;
  std::size_t filters_pad_, padded_h_, padded_w_;  // filters in whole vector registers; the zero-bordered image
  // Per thread, reused from call to call: im2col columns, a zero-bordered image, dL/dy widened to whole registers.
  struct Scratch {
    AlignedFloats cols, image, wide;
  };
  mutable oneapi::tbb::enumerable_thread_specific<Scratch> scratch_;
};

}  // namespace nn
