#pragma once
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/samples.hpp"
#include "pipeline/params.hpp"
#include "pipeline/stage.hpp"

namespace stages {

// Stacks samples into batches. A whole-epoch uniform shuffle is the source's job (idx_reader shuffle: true,
// no extra memory); `shuffle_window` adds a streaming shuffle (tf.data-style buffer) for sources that cannot
// permute, holding at most that many samples.
class ShuffleBatcher : public pipeline::Processor {
 public:
  explicit ShuffleBatcher(const pipeline::Params& params);
  void prepare(const pipeline::RunContext& context) override;
  void consume(const pipeline::Payload& input, std::string_view stream, pipeline::Emitter& out) override;
  void on_stream_end(std::string_view stream, int epoch, pipeline::Emitter& out) override;
  std::size_t max_buffered_inputs() const override { return batch_size_ + window_; }

 private:
  struct StreamState {
    bool started = false;
    int epoch = 0;
    std::int64_t batches = 0;
    std::mt19937_64 rng;
    std::vector<pipeline::Payload> window;  // the samples themselves are shared, not copied
    std::shared_ptr<Batch> batch;
    std::int64_t most_batches = -1;  // from the source's epoch size, when known
    std::vector<std::size_t> sample_shape;
  };
  void add_to_batch(StreamState& state, std::string_view stream, const TensorSample& sample, pipeline::Emitter& out);
  void flush(StreamState& state, pipeline::Emitter& out);
  void match_other_ranks(StreamState& state, std::string_view stream, int epoch, pipeline::Emitter& out);

  std::size_t batch_size_;   // of the whole batch; each of N ranks stacks batch_size / N samples
  std::size_t ranks_;
  std::size_t share_size_;
  std::size_t window_;
  bool drop_last_;
  std::set<std::string, std::less<>> shuffled_streams_;
  std::uint64_t seed_ = 0;
  std::map<std::string, StreamState, std::less<>> streams_;
};

}  // namespace stages
