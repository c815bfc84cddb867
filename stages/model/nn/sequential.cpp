#include "model/nn/sequential.hpp"

#include <algorithm>
#include <cstdio>
#include <new>
#include <stdexcept>

#include <oneapi/tbb/task_arena.h>

#include "model/nn/conv_relu_pool.hpp"
#include "model/nn/parallel.hpp"
#include "model/nn/pool_before_relu.hpp"
#include "pipeline/files.hpp"

namespace nn {

void Sequential::add(std::unique_ptr<Layer> layer) { layers_.push_back(std::move(layer)); }

void Sequential::initialize(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    try {
      layers_[i]->initialize(rng);
    } catch (const std::bad_alloc&) {
      throw std::runtime_error("layer " + std::to_string(i) + " (" + layers_[i]->type() + "): out of memory for its " +
                               std::to_string(layers_[i]->parameter_count()) + " parameters (" +
                               pipeline::human_bytes(4.0 * static_cast<double>(layers_[i]->parameter_count())) +
                               " of weights, as much again for their gradients)");
    }
  }
}

// The caller's x is the first layer's input as it is (no copy); it must outlive backward().
const Tensor& Sequential::forward(const Tensor& x, const PassContext& context) {
  input_ = &x;
  pass_.outputs.resize(layers_.size());
  gradients_.resize(layers_.size());
  const bool by_parts = !context.training && predicts_by_parts(x.shape()[0]);
  std::size_t front = 0;
  activations_kept_ = !by_parts && slice_of_front(x.shape()[0], context, front) == 0;
  return by_parts ? predict_by_parts(x, context) : run_pass(x, pass_, context);
}

std::size_t Sequential::slice_of_front(std::size_t batch, const PassContext& context, std::size_t& front) const {
  front = context.training ? 0 : sliced_front();
  const std::size_t slice = front == 0 ? 0 : images_per_slice(front);
  return batch > slice ? slice : 0;
}

const Tensor& Sequential::run_pass(const Tensor& x, PassBuffers& buffers, const PassContext& context) {
  std::size_t front = 0;
  const std::size_t slice = slice_of_front(x.shape()[0], context, front);
  if (slice == 0) return run_layers(0, layers_.size(), x, buffers.outputs, context);
  predict_front_by_slices(x, front, slice, buffers, context);
  return run_layers(front, layers_.size(), buffers.outputs[front - 1], buffers.outputs, context);
}

const Tensor& Sequential::run_layers(std::size_t first, std::size_t last, const Tensor& x,
                                     std::vector<Tensor>& outputs, const PassContext& context) {
  for (std::size_t i = first; i < last; ++i) {
    const Tensor& input = i == first ? x : outputs[i - 1];
    if (i + 2 < last && fused_with_pooling(i) &&
        conv_relu_pool_forward(*layers_[i], *layers_[i + 2], input, outputs[i], outputs[i + 2],
                               context_of(i + 2, context))) {
      i += 2;  // the ReLU and the pooling are done too
      continue;
    }
    if (i + 1 < last && swapped_with_next(i)) {  // pooling on ReLU's input, then ReLU on the pooled values
      pool_then_relu(*layers_[i + 1], input, outputs[i + 1], context_of(i + 1, context));
      ++i;
      continue;
    }
    layers_[i]->forward(input, outputs[i], context_of(i, context));
  }
  return last == first ? x : outputs[last - 1];
}

std::size_t Sequential::sliced_front() const {
  std::size_t front = 0;
  while (front < layers_.size() && layers_[front]->predicts_by_slices()) ++front;
  while (front > 0 && swapped_with_next(front - 1)) --front;  // a swapped pair runs whole or not at all
  return front;
}

// A slice's largest activation about fills a core's L2 cache (1-2 MB): 32 images of LeNet's conv1 output (62.7 KB
// an image). train_bench's inference, AMD EPYC Zen 5, 5 rounds, medians in img/s: 1 thread 11359 unsliced, 12315
// in slices of 16, 12349 of 32, 11813 of 64; 2 threads 25278, 26822, 26341, 26101. Whole multiples of
// kSamplesPerTask, so that the layers' tasks group the samples as they would unsliced.
std::size_t Sequential::images_per_slice(std::size_t front) const {
  constexpr std::size_t kSliceBytes = std::size_t{2} << 20;
  std::size_t largest = shape_size(input_shape_);
  for (std::size_t i = 0; i < front; ++i) largest = std::max(largest, shape_size(layers_[i]->output_shape()));
  const std::size_t images = kSliceBytes / (sizeof(float) * largest);
  return std::max(kSamplesPerTask, images - images % kSamplesPerTask);
}

void Sequential::predict_front_by_slices(const Tensor& x, std::size_t front, std::size_t slice, PassBuffers& buffers,
                                         const PassContext& context) {
  const std::size_t batch = x.shape()[0];
  const std::size_t in_size = shape_size(input_shape_), out_size = shape_size(layers_[front - 1]->output_shape());
  Tensor& front_output = buffers.outputs[front - 1];
  ensure_shape(front_output, batch_shape(batch, layers_[front - 1]->output_shape()));
  for (std::size_t first = 0; first < batch; first += slice) {
    const std::size_t n = std::min(slice, batch - first);
    SliceBuffers& slice_buffers = buffers.slices[n == slice ? 0 : 1];
    slice_buffers.outputs.resize(front);
    ensure_shape(slice_buffers.input, batch_shape(n, input_shape_));
    std::copy_n(x.data() + first * in_size, n * in_size, slice_buffers.input.data());
    const Tensor& out = run_layers(0, front, slice_buffers.input, slice_buffers.outputs, context);
    std::copy_n(out.data(), n * out_size, front_output.data() + first * out_size);
  }
}

bool Sequential::predicts_by_parts(std::size_t batch) const {
  const auto concurrent = [](const std::unique_ptr<Layer>& layer) { return layer->predicts_concurrently(); };
  return batch > kImagesPerPart && !layers_.empty() && std::all_of(layers_.begin(), layers_.end(), concurrent);
}

// Each part stays on the core that takes it: the layers by turns would hand every activation between the cores
// (which a host may place far apart), and wait at each layer for the slower core. Isolated: a core waiting inside
// its part's layers takes no other part, so each thread's buffers serve one part at a time (memory grows with the
// threads, not the batch). Parts have a fixed size, so results do not depend on the thread count.
const Tensor& Sequential::predict_by_parts(const Tensor& x, const PassContext& context) {
  const std::size_t batch = x.shape()[0], in_size = shape_size(input_shape_), out_size = shape_size(output_shape());
  parameters();  // allocates any parameters not yet allocated, before the parts share them
  Tensor& logits = pass_.outputs.back();
  ensure_shape(logits, batch_shape(batch, output_shape()));
  for_each_slice(batch, kImagesPerPart, [&](std::size_t, std::size_t first, std::size_t last) {
    oneapi::tbb::this_task_arena::isolate([&] {
      PassBuffers& part = parts_.local();
      part.outputs.resize(layers_.size());
      ensure_shape(part.input, batch_shape(last - first, input_shape_));
      std::copy_n(x.data() + first * in_size, (last - first) * in_size, part.input.data());
      const Tensor& out = run_pass(part.input, part, context);
      std::copy_n(out.data(), (last - first) * out_size, logits.data() + first * out_size);
    });
  });
  return logits;
}

void Sequential::backward(const Tensor& grad_logits, const std::function<void(Layer&)>& layer_done) {
  if (!activations_kept_)
    throw std::logic_error("Sequential::backward: the last forward pass kept no activations (at inference a batch of "
                           "more than one slice goes by slices or parts); run forward with training true first");
  for (std::size_t i = layers_.size(); i-- > 0;) {
    const Tensor& dy = i + 1 == layers_.size() ? grad_logits : gradients_[i + 1];
    if (i >= 2 && fused_with_pooling(i - 2) &&
        conv_relu_pool_backward(*layers_[i - 2], *layers_[i], input_of(i - 2), pass_.outputs[i - 2], dy,
                                gradients_[i - 2], i - 2 > 0)) {
      if (layer_done)
        for (std::size_t done = i + 1; done-- > i - 2;) layer_done(*layers_[done]);
      i -= 2;  // the ReLU and the convolution are done too
      continue;
    }
    if (i > 0 && swapped_with_next(i - 1)) {  // ReLU's gradient on the pooled values, then pooling's
      pool_then_relu_backward(*layers_[i], input_of(i - 1), pass_.outputs[i], dy, gradients_[i], gradients_[i - 1],
                              i - 1 > 0);
      if (layer_done) {
        layer_done(*layers_[i]);
        layer_done(*layers_[i - 1]);
      }
      --i;  // the ReLU is done too
      continue;
    }
    layers_[i]->backward(input_of(i), pass_.outputs[i], dy, gradients_[i], i > 0);
    if (layer_done) layer_done(*layers_[i]);
  }
}

PassContext Sequential::context_of(std::size_t layer, const PassContext& context) {
  PassContext layer_context = context;
  layer_context.seed = context.seed ^ (0x9e3779b97f4a7c15ULL * (layer + 1));
  return layer_context;
}

bool Sequential::fused_with_pooling(std::size_t layer) const {
  return layer + 2 < layers_.size() && fuses_conv_relu_pool(*layers_[layer], *layers_[layer + 1], *layers_[layer + 2]);
}

bool Sequential::swapped_with_next(std::size_t layer) const {
  return layer + 1 < layers_.size() && pools_before_relu(*layers_[layer], *layers_[layer + 1]);
}

void Sequential::backward_nothing(const std::function<void(Layer&)>& layer_done) {
  for (std::size_t i = layers_.size(); i-- > 0;) {
    for (const Parameter& p : layers_[i]->parameters()) std::fill(p.grad->begin(), p.grad->end(), 0.0f);
    layer_done(*layers_[i]);
  }
}

std::vector<Parameter> Sequential::parameters() {
  std::vector<Parameter> all;
  for (std::size_t i = 0; i < layers_.size(); ++i)
    for (auto p : layers_[i]->parameters()) {
      p.name = std::to_string(i) + "_" + layers_[i]->type() + "/" + p.name;
      all.push_back(p);
    }
  return all;
}

std::vector<std::pair<std::string, Tensor*>> Sequential::state() {
  std::vector<std::pair<std::string, Tensor*>> all;
  for (std::size_t i = 0; i < layers_.size(); ++i)
    for (auto& [name, tensor] : layers_[i]->state())
      all.emplace_back(std::to_string(i) + "_" + layers_[i]->type() + "/" + name, tensor);
  return all;
}

std::size_t Sequential::parameter_count() const {
  std::size_t n = 0;
  for (auto& layer : layers_) n += layer->parameter_count();
  return n;
}

double Sequential::training_flops() const {
  double flops = 0;
  for (std::size_t i = 0; i < layers_.size(); ++i) flops += layers_[i]->training_flops(i > 0);
  return flops;
}

double Sequential::forward_flops() const {
  double flops = 0;
  for (const auto& layer : layers_) flops += layer->forward_flops();
  return flops;
}

static std::string with_commas(std::size_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string Sequential::summary() {
  std::string out;
  char line[160];
  std::snprintf(line, sizeof line, "  %-4s %-14s %-18s %12s\n", "#", "layer", "output shape", "params");
  out += line;
  std::snprintf(line, sizeof line, "  %-4s %-14s %-18s %12s\n", "", "input", shape_string(input_shape_).c_str(), "");
  out += line;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    std::snprintf(line, sizeof line, "  %-4zu %-14s %-18s %12s", i, layers_[i]->type().c_str(),
                  shape_string(layers_[i]->output_shape()).c_str(), with_commas(layers_[i]->parameter_count()).c_str());
    out += line;
    const std::string how = layers_[i]->implementation();
    out += how.empty() ? "\n" : "   " + how + "\n";
  }
  std::snprintf(line, sizeof line, "  total parameters: %s; forward %.1f MFLOP per sample\n",
                with_commas(parameter_count()).c_str(), forward_flops() / 1e6);
  out += line;
  return out;
}

std::string Sequential::architecture() const {
  std::string out = "input" + shape_string(input_shape_);
  for (const auto& layer : layers_) out += " " + layer->type() + shape_string(layer->output_shape());
  return out;
}

}  // namespace nn
