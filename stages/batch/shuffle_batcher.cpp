#include "batch/shuffle_batcher.hpp"

#include <algorithm>

#include <xtensor/xview.hpp>

#include "common/random.hpp"
#include "pipeline/registry.hpp"

namespace stages {

ShuffleBatcher::ShuffleBatcher(const pipeline::Params& p)
    : batch_size_(static_cast<std::size_t>(p.get_int("batch_size"))),
      window_(static_cast<std::size_t>(p.get_int("shuffle_window"))),
      drop_last_(p.get_bool("drop_last")) {
  // Checked with the config (mpirun's rank count is known before any stage is built): a clear error, once.
  ranks_ = static_cast<std::size_t>(pipeline::world().size());
  if (batch_size_ % ranks_ != 0)
    p.fail("batch_size", "the batch of " + std::to_string(batch_size_) + " samples does not divide among the " +
                             std::to_string(ranks_) + " ranks of this job (mpirun -np " + std::to_string(ranks_) +
                             "): batch_size is the whole batch and each rank takes batch_size / ranks; use a multiple "
                             "of " + std::to_string(ranks_));
  share_size_ = batch_size_ / ranks_;
  for (const auto& s : p.get_node("shuffle_streams")) {
    if (!s.IsScalar()) p.fail("shuffle_streams", s, "expected a list of stream names");
    shuffled_streams_.insert(s.Scalar());
  }
}

void ShuffleBatcher::prepare(const pipeline::RunContext& context) {
  seed_ = context.seed;
  ranks_ = static_cast<std::size_t>(context.ranks());
  share_size_ = batch_size_ / ranks_;
}

void ShuffleBatcher::consume(const pipeline::Payload& input, std::string_view stream, pipeline::Emitter& out) {
  const auto& sample = input.get<TensorSample>();
  if (sample.target.size() == 0)
    throw std::runtime_error("sample " + std::to_string(sample.index) + " has no target; put one_hot before the batcher");
  auto it = streams_.find(stream);
  if (it == streams_.end()) it = streams_.emplace(std::string(stream), StreamState{}).first;
  StreamState& state = it->second;
  if (!state.started) {
    state.started = true;
    state.epoch = sample.epoch;
    state.rng.seed(mix_seed(mix_seed(seed_, hash_name(stream)), static_cast<std::uint64_t>(sample.epoch)));
  }
  const bool shuffle = window_ > 0 && shuffled_streams_.count(stream) != 0;
  if (!shuffle) return add_to_batch(state, stream, sample, out);
  if (state.window.size() < window_) {
    state.window.push_back(input);
    return;
  }
  const std::size_t pick = static_cast<std::size_t>(state.rng() % window_);
  add_to_batch(state, stream, state.window[pick].get<TensorSample>(), out);
  state.window[pick] = input;
}

void ShuffleBatcher::add_to_batch(StreamState& state, std::string_view stream, const TensorSample& sample,
                                  pipeline::Emitter& out) {
  if (!state.batch) {
    state.batch = std::make_shared<Batch>();
    Batch& b = *state.batch;
    b.stream = std::string(stream);
    b.epoch = state.epoch;
    b.number = state.batches;
    if (sample.epoch_size > 0) {
      const auto n = static_cast<std::int64_t>(batch_size_);
      b.batches_in_epoch = drop_last_ ? sample.epoch_size / n : (sample.epoch_size + n - 1) / n;
      state.most_batches = b.batches_in_epoch;
    }
    const auto& s = sample.x.shape();
    state.sample_shape = {s[0], s[1], s[2], sample.target.size()};
    b.x = xt::xarray<float>::from_shape({share_size_, s[0], s[1], s[2]});
    b.y = xt::xarray<float>::from_shape({share_size_, sample.target.size()});
    b.names = sample.names;
    b.labels.reserve(share_size_);
    b.indices.reserve(share_size_);
  }
  Batch& b = *state.batch;
  const std::size_t row = b.labels.size();
  const std::size_t x_size = b.x.size() / share_size_, y_size = b.y.shape()[1];
  if (sample.x.size() != x_size || sample.target.size() != y_size)
    throw std::runtime_error("sample " + std::to_string(sample.index) + " has shape differing from the batch's first sample");
  std::copy(sample.x.begin(), sample.x.end(), b.x.data() + row * x_size);
  std::copy(sample.target.begin(), sample.target.end(), b.y.data() + row * y_size);
  b.labels.push_back(sample.label);
  b.indices.push_back(sample.index);
  if (b.labels.size() == share_size_) flush(state, out);
}

void ShuffleBatcher::flush(StreamState& state, pipeline::Emitter& out) {
  if (!state.batch) return;
  Batch& b = *state.batch;
  const std::size_t n = b.labels.size();
  // With N ranks and drop_last, a rank's share can be full where the whole last batch is not: the source's
  // epoch size says how many batches there are.
  if (state.most_batches >= 0 && state.batches >= state.most_batches) {
    state.batch.reset();
    return;
  }
  if (n < share_size_) {
    // Shrink the partial last batch to its real size.
    xt::xarray<float> x = xt::view(b.x, xt::range(0, n), xt::all(), xt::all(), xt::all());
    xt::xarray<float> y = xt::view(b.y, xt::range(0, n), xt::all());
    b.x = std::move(x);
    b.y = std::move(y);
  }
  ++state.batches;
  out.emit(pipeline::Payload(std::shared_ptr<const Batch>(std::move(state.batch))));
  state.batch.reset();
}

// A rank whose share of the epoch made fewer batches than the source's epoch size allows sends empty ones, so
// that every rank takes the same number of steps (each step sums gradients over all of them). Decided from the
// epoch size alone: a collective here could wait on a rank whose model waits on this one.
void ShuffleBatcher::match_other_ranks(StreamState& state, std::string_view stream, int epoch, pipeline::Emitter& out) {
  if (ranks_ == 1) return;
  if (state.most_batches < 0 && state.batches > 0)
    throw std::runtime_error("stream '" + std::string(stream) + "': with " + std::to_string(ranks_) + " ranks the "
                             "batcher needs the epoch size from the source (its samples carry none), to give every "
                             "rank the same number of batches");
  for (; state.batches < state.most_batches; ++state.batches) {
    auto b = std::make_shared<Batch>();
    b->stream = std::string(stream);
    b->epoch = epoch;
    b->number = state.batches;
    b->batches_in_epoch = state.most_batches;
    if (state.sample_shape.size() == 4) {
      const auto& s = state.sample_shape;
      b->x = xt::xarray<float>::from_shape({0, s[0], s[1], s[2]});
      b->y = xt::xarray<float>::from_shape({0, s[3]});
    }
    out.emit(pipeline::Payload(std::shared_ptr<const Batch>(std::move(b))));
  }
}

void ShuffleBatcher::on_stream_end(std::string_view stream, int epoch, pipeline::Emitter& out) {
  auto it = streams_.find(stream);
  if (it == streams_.end()) it = streams_.emplace(std::string(stream), StreamState{}).first;  // an empty epoch
  StreamState& state = it->second;
  // Drain the window in random order.
  while (!state.window.empty()) {
    const std::size_t pick = static_cast<std::size_t>(state.rng() % state.window.size());
    add_to_batch(state, stream, state.window[pick].get<TensorSample>(), out);
    state.window[pick] = std::move(state.window.back());
    state.window.pop_back();
  }
  const bool none_full = ranks_ == 1 ? state.batch && state.batch->labels.size() < share_size_ : state.most_batches == 0;
  if (state.batch && drop_last_ && state.batches == 0 && none_full)
    throw std::runtime_error("stream '" + std::string(stream) + "' has " + std::to_string(state.batch->labels.size()) +
                             " samples in epoch " + std::to_string(epoch + 1) + ", fewer than batch_size " +
                             std::to_string(batch_size_) + ", and drop_last drops them all: no batch at all (lower "
                             "batch_size or set drop_last: false)");
  if (state.batch && (!drop_last_ || state.batch->labels.size() == share_size_)) flush(state, out);
  match_other_ranks(state, stream, epoch, out);
  streams_.erase(it);
}

static pipeline::StageSpec shuffle_batcher_spec() {
  using namespace pipeline;
  StageSpec spec;
  spec.type = "shuffle_batcher";
  spec.summary = "Stacks labeled tensors into (N,H,W,C) batches; optional streaming shuffle window. For a "
                 "whole-epoch shuffle set shuffle: true on the source.";
  spec.kind = StageKind::Processor;
  spec.input = kLabeledTensorType;
  spec.output = kBatchType;
  spec.params = {
      int_param("batch_size", 128, "samples per batch").min(1).max(1 << 20),
      bool_param("drop_last", false, "drop the last batch of an epoch when it is smaller than batch_size"),
      int_param("shuffle_window", 0, "streaming shuffle buffer in samples (0 = keep the source's order)").min(0).max(10000000),
      yaml_param("shuffle_streams", ParamType::List, "[train]", "streams the window shuffles; others keep their order"),
  };
  spec.create = [](const Params& p) { return std::make_unique<ShuffleBatcher>(p); };
  return spec;
}

}  // namespace stages

PIPELINE_REGISTER_STAGE(stages::shuffle_batcher_spec())
