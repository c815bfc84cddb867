#pragma once
#include "model/nn/layer.hpp"

namespace nn {

enum class Padding { Same, Valid };

// 2-D convolution over NHWC input as im2col + GEMM, kernel laid out (kh, kw, in, out) as in Keras.
class Conv2D : public Layer {
 public:
  Conv2D(Shape input_shape, std::size_t filters, std::size_t kernel, std::size_t stride, Padding padding);
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

  std::size_t in_h_, in_w_, in_c_, filters_, ksize_, stride_;
  std::size_t out_h_, out_w_, pad_top_, pad_left_;
  std::size_t patch_;  // kernel * kernel * in_c
  Tensor weights_, bias_, kernel_grad_, bias_grad_;
  std::vector<std::vector<float>> chunk_kernel_grads_, chunk_bias_grads_;
};

}  // namespace nn
