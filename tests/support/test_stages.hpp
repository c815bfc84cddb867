#pragma once
// Tiny stages for testing the engine: integers flow from a counter source through transforms to a recorder.
#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/stage.hpp"

namespace test_stages {

// Every live item is counted, so tests can check how many are in flight at once.
struct Tracked {
  int value;
  explicit Tracked(int v);
  Tracked(const Tracked& other);
  ~Tracked();
};
extern std::atomic<int> live_items;
extern std::atomic<int> max_live_items;
// How test_taker received its inputs: through apply (shared) or apply_moved (handed over).
extern std::atomic<int> shared_inputs;
extern std::atomic<int> handed_over_inputs;
void reset_counters();
// What test_prefetch_log was asked, in order: 'p' for prefetch(value), 'a' for apply(value).
struct LoggedCall {
  char kind;
  int value;
};
std::vector<LoggedCall> take_call_log();

// Events a recorder saw, in order: "d:<stream>:<value>", "end:<stream>:<epoch>", "epoch:<e>", "finish[:interrupted]".
class Recorder : public pipeline::Processor {
 public:
  explicit Recorder(int sleep_us) : sleep_us_(sleep_us) {}
  void consume(const pipeline::Payload& input, std::string_view stream, pipeline::Emitter&) override;
  void on_stream_end(std::string_view stream, int epoch, pipeline::Emitter&) override;
  void on_epoch_end(int epoch, pipeline::Emitter&) override;
  void finish(bool interrupted, pipeline::Emitter&) override;
  std::vector<std::string> events;
  std::vector<int> values;

 private:
  int sleep_us_;
};

// Sums every value it sees over the whole run and keeps that sum in the run state (a durable stage).
class Summer : public pipeline::Processor {
 public:
  void consume(const pipeline::Payload& input, std::string_view, pipeline::Emitter&) override;
  void on_epoch_end(int epoch, pipeline::Emitter&) override;
  std::optional<std::string> save_state(bool mid_epoch) override;
  void restore_state(const std::string& state) override;
  long long sum = 0;
  int epochs_seen = 0;
  std::vector<int> restored_epochs;  // epochs_seen values handed back by restore_state
};

}  // namespace test_stages
