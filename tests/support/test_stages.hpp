#pragma once
// Tiny stages for testing the engine: integers flow from a counter source through transforms to a recorder.
#include <atomic>
#include <mutex>
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
void reset_counters();

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

}  // namespace test_stages
