#pragma once
// A layer maps a batch (N, input_shape...) to (N, output_shape...) and back-propagates through it.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "model/nn/tensor.hpp"

namespace nn {

struct Parameter {
  std::string name;  // e.g. "kernel", "bias"
  Tensor* value;
  Tensor* grad;
};

struct PassContext {
  bool training = false;
  std::uint64_t seed = 0;  // per batch; layers with randomness (dropout) derive from it
};

// Samples per parallel task. Fixed (not derived from the thread count) so that every reduction adds the same
// numbers in the same order on 1 or N threads: results are bit-identical across --threads.
inline constexpr std::size_t kSamplesPerTask = 8;

class Layer {
 public:
  explicit Layer(Shape input_shape) : input_shape_(std::move(input_shape)) {}
  virtual ~Layer() = default;
  virtual std::string type() const = 0;
  // How the layer computes, where there is a choice (shown in the model summary); empty otherwise.
  virtual std::string implementation() const { return {}; }
  const Shape& input_shape() const { return input_shape_; }
  const Shape& output_shape() const { return output_shape_; }
  virtual void forward(const Tensor& x, Tensor& y, const PassContext& context) = 0;
  // Given x, y = forward(x) and dL/dy: sets the parameters' gradients and, when `want_dx`, dL/dx.
  virtual void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx, bool want_dx) = 0;
  // Layers with parameters declare their shapes in the constructor and allocate them on first use (initialize,
  // parameters or a pass): building a network to check a config allocates nothing.
  virtual std::vector<Parameter> parameters() { return {}; }
  virtual std::size_t parameter_count() const { return 0; }
  // Tensors the layer keeps that training does not update by gradient (batch_norm's running statistics): saved in
  // checkpoints beside the parameters.
  virtual std::vector<std::pair<std::string, Tensor*>> state() { return {}; }
  virtual void initialize(std::mt19937_64& /*rng*/) {}
  // Multiply-adds ×2 of one sample's forward pass, for FLOP accounting.
  virtual double forward_flops() const { return 0; }
  // What one training step computes per image (forward and backward, dL/dx when input_gradient), as the layer's
  // algorithm does it: twice the forward's products for the gradients, unless the layer knows better.
  virtual double training_flops(bool input_gradient) const { return forward_flops() * (input_gradient ? 3 : 2); }
  // Whether, at inference, a batch may go through the layer in consecutive slices at no loss: each sample's output
  // depends on that sample alone and the work does not gain from a whole batch (Dense's GEMM does, so it says no).
  // Sequential then runs the leading such layers slice by slice, keeping a slice's activations in cache.
  virtual bool predicts_by_slices() const { return false; }
  // Whether forward at inference (context.training false) may run on several threads at once, each call with its
  // own x and y: it writes nothing else but per-thread scratch or state under its own lock. Where every layer
  // says yes, Sequential sends parts of a batch through the whole network one per core.
  virtual bool predicts_concurrently() const { return false; }

 protected:
  Shape input_shape_;
  Shape output_shape_;
};

// Glorot (Xavier) uniform in ±sqrt(6 / (fan_in + fan_out)), Keras' default kernel initializer.
void glorot_uniform(Tensor& t, std::size_t fan_in, std::size_t fan_out, std::mt19937_64& rng);

}  // namespace nn
