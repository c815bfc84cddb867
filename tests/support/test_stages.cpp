#include "support/test_stages.hpp"

#include <chrono>
#include <stdexcept>
#include <thread>
#include <utility>

#include "pipeline/registry.hpp"

namespace test_stages {

std::atomic<int> live_items{0};
std::atomic<int> max_live_items{0};
std::atomic<int> shared_inputs{0};
std::atomic<int> handed_over_inputs{0};

static void note_live() {
  const int now = ++live_items;
  int seen = max_live_items.load();
  while (now > seen && !max_live_items.compare_exchange_weak(seen, now)) {
  }
}
Tracked::Tracked(int v) : value(v) { note_live(); }
Tracked::Tracked(const Tracked& other) : value(other.value) { note_live(); }
Tracked::~Tracked() { --live_items; }

static std::mutex call_log_mutex;
static std::vector<LoggedCall> call_log;

std::vector<LoggedCall> take_call_log() {
  std::lock_guard<std::mutex> lock(call_log_mutex);
  return std::exchange(call_log, {});
}

static void log_call(char kind, int value) {
  std::lock_guard<std::mutex> lock(call_log_mutex);
  call_log.push_back({kind, value});
}

void reset_counters() {
  live_items = 0;
  max_live_items = 0;
  shared_inputs = 0;
  handed_over_inputs = 0;
}

namespace {

using namespace pipeline;

class Counter : public Source {
 public:
  explicit Counter(const Params& p)
      : count_(static_cast<int>(p.get_int("count"))), stream_(p.get_string("stream")),
        throw_at_(static_cast<int>(p.get_int("throw_at"))) {}
  void start_epoch(int) override { next_ = 0; }
  std::optional<Payload> next() override {
    if (next_ == throw_at_) throw std::runtime_error("counter failed at " + std::to_string(next_));
    if (next_ >= count_) return std::nullopt;
    return Payload::of(Tracked(next_++));
  }
  std::string stream() const override { return stream_; }

 private:
  int count_;
  std::string stream_;
  int throw_at_;
  int next_ = 0;
};

// Doubles the value after a pseudo-random pause, so that parallel tasks finish out of order.
class Jitter : public Transform {
 public:
  explicit Jitter(const Params& p) : throw_at_(static_cast<int>(p.get_int("throw_at"))) {}
  Payload apply(const Payload& input, std::string_view) const override {
    const int v = input.get<Tracked>().value;
    if (v == throw_at_) throw std::runtime_error("jitter cannot take " + std::to_string(v));
    std::this_thread::sleep_for(std::chrono::microseconds((v * 7919) % 300));
    return Payload::of(Tracked(v * 2));
  }

 private:
  int throw_at_;
};

// Adds one, taking its input where the engine hands it over; counts which way each input came.
class Taker : public Transform {
 public:
  Payload apply(const Payload& input, std::string_view) const override {
    ++shared_inputs;
    return Payload::of(Tracked(input.get<Tracked>().value + 1));
  }
  Payload apply_moved(Payload&& input, std::string_view) const override {
    ++handed_over_inputs;
    Tracked taken = std::move(input).take<Tracked>();
    taken.value += 1;
    return Payload::of(std::move(taken));
  }
};

// Passes its input on, logging each prefetch hint and each apply (take_call_log).
class PrefetchLog : public Transform {
 public:
  Payload apply(const Payload& input, std::string_view) const override {
    log_call('a', input.get<Tracked>().value);
    return input;
  }
  void prefetch(const Payload& input) const override { log_call('p', input.get<Tracked>().value); }
};

// Emits the sum of each pair of inputs (a stand-in for a batcher); an odd one out is flushed at stream end.
class Pairs : public Processor {
 public:
  void consume(const Payload& input, std::string_view, Emitter& out) override {
    if (pending_) {
      out.emit(Payload::of(Tracked(*pending_ + input.get<Tracked>().value)));
      pending_.reset();
    } else {
      pending_ = input.get<Tracked>().value;
    }
  }
  void on_stream_end(std::string_view, int, Emitter& out) override {
    if (pending_) out.emit(Payload::of(Tracked(*pending_)));
    pending_.reset();
  }
  std::size_t max_buffered_inputs() const override { return 1; }

 private:
  std::optional<int> pending_;
};

StageSpec counter_spec() {
  StageSpec s;
  s.type = "test_counter";
  s.summary = "test source: 0..count-1";
  s.kind = StageKind::Source;
  s.output = "int";
  s.params = {int_param("count", 10, "items per epoch").min(0), string_param("stream", "train", "stream name"),
              int_param("throw_at", -1, "throw when about to emit this value")};
  s.create = [](const Params& p) { return std::make_unique<Counter>(p); };
  return s;
}

StageSpec jitter_spec() {
  StageSpec s;
  s.type = "test_jitter";
  s.summary = "test transform: doubles after a random pause";
  s.kind = StageKind::Transform;
  s.parallel = true;
  s.input = "int";
  s.output = "int";
  s.params = {int_param("throw_at", -1, "throw on this input value")};
  s.create = [](const Params& p) { return std::make_unique<Jitter>(p); };
  return s;
}

StageSpec taker_spec() {
  StageSpec s;
  s.type = "test_taker";
  s.summary = "test transform: adds one, taking its input when handed over";
  s.kind = StageKind::Transform;
  s.parallel = true;
  s.input = "int";
  s.output = "int";
  s.create = [](const Params&) { return std::make_unique<Taker>(); };
  return s;
}

StageSpec prefetch_log_spec() {
  StageSpec s;
  s.type = "test_prefetch_log";
  s.summary = "test transform: passes its input on, logging prefetch hints and applies";
  s.kind = StageKind::Transform;
  s.input = "int";
  s.output = "int";
  s.create = [](const Params&) { return std::make_unique<PrefetchLog>(); };
  return s;
}

StageSpec pairs_spec() {
  StageSpec s;
  s.type = "test_pairs";
  s.summary = "test processor: sums pairs";
  s.kind = StageKind::Processor;
  s.input = "int";
  s.output = "int";
  s.create = [](const Params&) { return std::make_unique<Pairs>(); };
  return s;
}

StageSpec recorder_spec() {
  StageSpec s;
  s.type = "test_recorder";
  s.summary = "test sink: records what it sees";
  s.kind = StageKind::Processor;
  s.input = "int";
  s.params = {int_param("sleep_us", 0, "pause per item (a slow consumer)").min(0)};
  s.create = [](const Params& p) { return std::make_unique<Recorder>(static_cast<int>(p.get_int("sleep_us"))); };
  return s;
}

StageSpec summer_spec() {
  StageSpec s;
  s.type = "test_summer";
  s.summary = "test sink: sums its inputs over the run, durably";
  s.kind = StageKind::Processor;
  s.input = "int";
  s.create = [](const Params&) { return std::make_unique<Summer>(); };
  return s;
}

// Declares one output file (writes nothing): for the one-writer-per-file check.
class FileWriter : public Processor {
 public:
  explicit FileWriter(const Params& p) : path_(p.get_string("path")) {}
  void consume(const Payload&, std::string_view, Emitter&) override {}
  std::vector<std::filesystem::path> output_files(const std::filesystem::path&) const override { return {path_}; }

 private:
  std::string path_;
};

StageSpec file_writer_spec() {
  StageSpec s;
  s.type = "test_file_writer";
  s.summary = "test sink: declares an output file";
  s.kind = StageKind::Processor;
  s.input = kAnyType;
  s.params = {required_param("path", ParamType::String, "the file")};
  s.create = [](const Params& p) { return std::make_unique<FileWriter>(p); };
  return s;
}

StageSpec text_source_spec() {
  StageSpec s;
  s.type = "test_text_source";
  s.summary = "test source producing another message type";
  s.kind = StageKind::Source;
  s.output = "text";
  s.create = [](const Params& p) { return std::make_unique<Counter>(p); };
  s.params = {int_param("count", 1, ""), string_param("stream", "train", ""), int_param("throw_at", -1, "")};
  return s;
}

}  // namespace

void Summer::consume(const pipeline::Payload& input, std::string_view, pipeline::Emitter&) {
  sum += input.get<Tracked>().value;
}
void Summer::on_epoch_end(int, pipeline::Emitter&) { ++epochs_seen; }
std::optional<std::string> Summer::save_state(bool mid_epoch) {
  if (mid_epoch) return std::nullopt;
  return std::to_string(sum) + " " + std::to_string(epochs_seen);
}
void Summer::restore_state(const std::string& state) {
  const auto space = state.find(' ');
  sum = std::stoll(state.substr(0, space));
  epochs_seen = std::stoi(state.substr(space + 1));
  restored_epochs.push_back(epochs_seen);
}

void Recorder::consume(const pipeline::Payload& input, std::string_view stream, pipeline::Emitter&) {
  const int v = input.get<Tracked>().value;
  if (sleep_us_) std::this_thread::sleep_for(std::chrono::microseconds(sleep_us_));
  values.push_back(v);
  events.push_back("d:" + std::string(stream) + ":" + std::to_string(v));
}
void Recorder::on_stream_end(std::string_view stream, int epoch, pipeline::Emitter&) {
  events.push_back("end:" + std::string(stream) + ":" + std::to_string(epoch));
}
void Recorder::on_epoch_end(int epoch, pipeline::Emitter&) { events.push_back("epoch:" + std::to_string(epoch)); }
void Recorder::finish(bool interrupted, pipeline::Emitter&) {
  events.push_back(interrupted ? "finish:interrupted" : "finish");
}

}  // namespace test_stages

PIPELINE_REGISTER_STAGE(test_stages::counter_spec())
PIPELINE_REGISTER_STAGE(test_stages::jitter_spec())
PIPELINE_REGISTER_STAGE(test_stages::pairs_spec())
PIPELINE_REGISTER_STAGE(test_stages::taker_spec())
PIPELINE_REGISTER_STAGE(test_stages::prefetch_log_spec())
PIPELINE_REGISTER_STAGE(test_stages::recorder_spec())
PIPELINE_REGISTER_STAGE(test_stages::text_source_spec())
PIPELINE_REGISTER_STAGE(test_stages::summer_spec())
PIPELINE_REGISTER_STAGE(test_stages::file_writer_spec())
