#include "model/nn/layers/conv2d.hpp"


#include "model/nn/layer_registry.hpp"

namespace nn {

Conv2D::Conv2D(Shape input_shape, std::size_t filters, std::size_t kernel, std::size_t stride, Padding padding,
               ConvAlgorithm algorithm)
    : Layer(std::move(input_shape)),
      g_(conv_geometry(input_shape_, filters, kernel, stride, padding)),
      engine_(make_conv_engine(g_, algorithm)) {
  output_shape_ = {g_.out_h, g_.out_w, g_.filters};
}

void Conv2D::allocate() {
  if (weights_.dimension() != 0) return;  // a default xarray is a 0-d scalar, not an empty tensor
  weights_ = Tensor::from_shape({g_.kernel, g_.kernel, g_.in_c, g_.filters});
  weights_.fill(0);
  bias_ = Tensor::from_shape({g_.filters});
  bias_.fill(0);
  kernel_grad_ = weights_;
  bias_grad_ = bias_;
}

void Conv2D::initialize(std::mt19937_64& rng) {
  allocate();
  glorot_uniform(weights_, g_.patch(), g_.kernel * g_.kernel * g_.filters, rng);
  bias_.fill(0);
}

double Conv2D::forward_flops() const { return direct_forward_flops(g_); }

double Conv2D::training_flops(bool input_gradient) const { return engine_->training_flops(input_gradient); }

void Conv2D::forward(const Tensor& x, Tensor& y, const PassContext&) { forward_then(x, y, {}); }

void Conv2D::forward_then(const Tensor& x, Tensor& y, const SliceHook& after_slice) {
  allocate();
  ensure_shape(y, batch_shape(x.shape()[0], output_shape_));
  engine_->forward(x, weights_, bias_, y, after_slice);
}

void Conv2D::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor& dx, bool want_dx) {
  backward_from(x, dy, dx, want_dx, {});
}

void Conv2D::backward_from(const Tensor& x, const Tensor& dy, Tensor& dx, bool want_dx,
                           const SliceGradient& gradient_of) {
  allocate();
  if (want_dx) ensure_shape(dx, batch_shape(x.shape()[0], input_shape_));
  engine_->backward(x, dy, weights_, kernel_grad_, bias_grad_, want_dx ? &dx : nullptr, gradient_of);
}

namespace {

LayerSpec conv2d_spec() {
  LayerSpec spec;
  spec.type = "conv2d";
  spec.summary = "2-D convolution over NHWC input, kernel (kh, kw, in, out) as Keras; Glorot-uniform, zero bias";
  spec.params = {
      pipeline::required_param("filters", pipeline::ParamType::Int, "output channels").min(1),
      pipeline::required_param("kernel", pipeline::ParamType::Int, "kernel height and width").min(1),
      pipeline::int_param("stride", 1, "step in both directions").min(1),
      pipeline::string_param("padding", "valid", "'same' keeps ceil(in / stride) (TensorFlow's rule)")
          .one_of({"valid", "same"}),
      pipeline::string_param("algorithm", "auto",
                             "auto: Winograd (F(4x4,5x5) or F(2x2,5x5)) for 5x5/1 with 8+ input channels, "
                             "direct for up to 48 filters, else im2col + GEMM")
          .one_of({"auto", "im2col", "winograd"}),
  };
  spec.create = [](const Shape& input, const pipeline::Params& p) {
    const std::string algorithm = p.get_string("algorithm");
    return std::make_unique<Conv2D>(input, static_cast<std::size_t>(p.get_int("filters")),
                                    static_cast<std::size_t>(p.get_int("kernel")),
                                    static_cast<std::size_t>(p.get_int("stride")),
                                    p.get_string("padding") == "same" ? Padding::Same : Padding::Valid,
                                    algorithm == "winograd" ? ConvAlgorithm::Winograd
                                    : algorithm == "im2col" ? ConvAlgorithm::Im2col
                                                            : ConvAlgorithm::Auto);
  };
  return spec;
}
}  // namespace

}  // namespace nn

PIPELINE_REGISTER_LAYER(nn::conv2d_spec())
