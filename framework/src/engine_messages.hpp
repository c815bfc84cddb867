#pragma once
// The messages of Pipeline::run's flow graph and the small parts that handle them: retire tokens that bound the
// items in flight, the first error, busy-time accounting, and the emitter processors write through.
#include <oneapi/tbb/flow_graph.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "engine_limits.hpp"
#include "pipeline/error.hpp"
#include "pipeline/profile.hpp"
#include "pipeline/stage.hpp"

namespace pipeline::engine {
namespace flow = oneapi::tbb::flow;

using Clock = std::chrono::steady_clock;

enum class Kind : std::uint8_t { Data, EndOfEpoch, EndOfStream, Dropped };

// Data travels in chunks of items (up to the config's `chunk` of a source's, or what a processor emitted while
// handling one message): the graph's per-message cost (a task, a sequencer slot, a retire token) is paid once per
// chunk, while stages still see one item at a time.
using Items = std::vector<Payload>;
// A chunk is created non-const, so that the one transform a chunk goes to alone may move its items
// (Transform::apply_moved); every other reader treats it as const.
inline std::shared_ptr<const Items> make_chunk(Items items) { return std::make_shared<Items>(std::move(items)); }

struct Message {
  Kind kind = Kind::Data;
  bool interrupted = false;
  std::uint32_t origin = 0;  // index of the source the item came from
  int epoch = 0;
  std::string_view stream;
  std::array<std::uint64_t, kMaxOrderSlots> order{};
  std::shared_ptr<const Items> items;  // Data only; never empty
  std::shared_ptr<const void> retire;
};

// Releases one in-flight slot when the last copy of an item (or of what was built from it) goes away.
struct Gate {
  flow::limiter_node<Message>* limiter = nullptr;
  std::atomic<bool> open{true};
};

struct RetireToken {
  std::shared_ptr<Gate> gate;
  explicit RetireToken(std::shared_ptr<Gate> g) : gate(std::move(g)) {}
  ~RetireToken() {
    if (gate->open.load()) gate->limiter->decrementer().try_put(flow::continue_msg());
  }
};

struct TokenBundle {
  std::vector<std::shared_ptr<const void>> tokens;
};

class ErrorState {
 public:
  void record(const std::string& stage, const std::string& message, flow::graph& g) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!failed_) {
        failed_ = true;
        stage_ = stage;
        message_ = message;
      }
    }
    failed_flag_.store(true);
    g.cancel();
  }
  bool failed() const { return failed_flag_.load(); }
  void rethrow() const {
    if (failed_) throw StageError(stage_, message_);
  }

 private:
  std::mutex mutex_;
  bool failed_ = false;
  std::atomic<bool> failed_flag_{false};
  std::string stage_, message_;
};

// Lock-free counters updated from the graph's tasks, added to once per chunk. A cache line each: stages running on
// different threads must not contend for one line (with per-item updates on shared lines, the data-only config ran
// no faster on 2 threads than on 1).
struct alignas(64) StageCounters {
  std::atomic<std::uint64_t> items_in{0};
  std::atomic<std::uint64_t> items_out{0};
  std::atomic<std::uint64_t> busy_ns{0};
};

class BusyTimer {
 public:
  explicit BusyTimer(StageCounters& c) : counters_(c), start_(Clock::now()) {}
  ~BusyTimer() {
    counters_.busy_ns += static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start_).count());
  }

 private:
  StageCounters& counters_;
  Clock::time_point start_;
};

using ProcessorNode = flow::multifunction_node<Message, std::tuple<Message>>;

// Emits on behalf of a processor: gathers what it emits while handling one message into one chunk, numbers its
// output and hands on the retire tokens of consumed inputs.
class PortEmitter final : public Emitter {
 public:
  PortEmitter(ProcessorNode::output_ports_type& ports, const Message& input, std::uint64_t& next_seq,
              std::vector<std::shared_ptr<const void>>& pending, StageCounters& counters)
      : ports_(ports), input_(input), next_seq_(next_seq), pending_(pending), counters_(counters) {}

  void emit(Payload payload) override { gathered_.push_back(std::move(payload)); }

  // A marker follows the data emitted before it.
  void send(Kind kind, bool interrupted) {
    flush();
    put(kind, nullptr, interrupted);
  }

  void flush() {
    if (gathered_.empty()) return;
    counters_.items_out += gathered_.size();
    put(Kind::Data, make_chunk(std::move(gathered_)), false);
    gathered_.clear();
  }

 private:
  void put(Kind kind, std::shared_ptr<const Items> items, bool interrupted) {
    Message out;
    out.kind = kind;
    out.interrupted = interrupted;
    out.epoch = input_.epoch;
    out.stream = input_.stream;
    out.order[0] = next_seq_++;
    out.items = std::move(items);
    if (!pending_.empty()) {
      auto bundle = std::make_shared<TokenBundle>();
      bundle->tokens.swap(pending_);
      out.retire = std::move(bundle);
    }
    std::get<0>(ports_).try_put(out);
  }

  ProcessorNode::output_ports_type& ports_;
  const Message& input_;
  std::uint64_t& next_seq_;
  std::vector<std::shared_ptr<const void>>& pending_;
  StageCounters& counters_;
  Items gathered_;
};

}  // namespace pipeline::engine
