// Pipeline::run: the validated pipeline as a oneTBB flow graph.
//
//   input_node (all sources, epoch by epoch) → limiter_node → router → per-source broadcast
//     → transforms: function_node (unlimited concurrency when the stage is parallel)
//     → processors: sequencer_node (restores the deterministic order) → serial multifunction_node
//
// Every item leaving the sources holds a retire token; the limiter admits a new item only when a token is
// released (the item, or whatever a processor built from it, has been fully consumed), so memory stays
// bounded however fast the sources are.
#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/info.h>

#include <array>
#include <chrono>
#include <mutex>

#include "engine_limits.hpp"
#include "pipeline/pipeline.hpp"

namespace pipeline {
namespace flow = oneapi::tbb::flow;

namespace {

std::atomic<bool> g_stop_requested{false};

using Clock = std::chrono::steady_clock;

enum class Kind : std::uint8_t { Data, EndOfEpoch, EndOfStream, Dropped };

struct Message {
  Kind kind = Kind::Data;
  bool interrupted = false;
  std::uint32_t origin = 0;  // index of the source the item came from
  int epoch = 0;
  std::string_view stream;
  std::array<std::uint64_t, kMaxOrderSlots> order{};
  Payload payload;
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

// Emits on behalf of a processor: numbers its output and hands on the retire tokens of consumed inputs.
class PortEmitter final : public Emitter {
 public:
  PortEmitter(ProcessorNode::output_ports_type& ports, const Message& input, std::uint64_t& next_seq,
              std::vector<std::shared_ptr<const void>>& pending, StageCounters& counters)
      : ports_(ports), input_(input), next_seq_(next_seq), pending_(pending), counters_(counters) {}

  void emit(Payload payload) override { send(Kind::Data, std::move(payload), false); }

  void send(Kind kind, Payload payload, bool interrupted) {
    Message out;
    out.kind = kind;
    out.interrupted = interrupted;
    out.epoch = input_.epoch;
    out.stream = input_.stream;
    out.order[0] = next_seq_++;
    out.payload = std::move(payload);
    if (!pending_.empty()) {
      auto bundle = std::make_shared<TokenBundle>();
      bundle->tokens.swap(pending_);
      out.retire = std::move(bundle);
    }
    if (kind == Kind::Data) ++counters_.items_out;
    std::get<0>(ports_).try_put(out);
  }

 private:
  ProcessorNode::output_ports_type& ports_;
  const Message& input_;
  std::uint64_t& next_seq_;
  std::vector<std::shared_ptr<const void>>& pending_;
  StageCounters& counters_;
};

}  // namespace

void request_stop() { g_stop_requested.store(true); }
void clear_stop_request() { g_stop_requested.store(false); }
const std::atomic<bool>& stop_flag() { return g_stop_requested; }

Profile Pipeline::run(const RunOptions& options) {
  const int threads = options.threads > 0 ? options.threads
                      : config_.threads > 0 ? config_.threads
                                            : oneapi::tbb::info::default_concurrency();
  std::vector<StageCounters> counters(stages_.size());
  const auto started = Clock::now();
  auto snapshot = [&] {
    Profile profile;
    profile.threads = threads;
    profile.wall_seconds = std::chrono::duration<double>(Clock::now() - started).count();
    for (std::size_t i = 0; i < stages_.size(); ++i) {
      StageProfile sp;
      sp.name = stages_[i].name;
      sp.type = stages_[i].spec->type;
      sp.parallel = stages_[i].spec->parallel;
      sp.items_in = counters[i].items_in.load();
      sp.items_out = counters[i].items_out.load();
      sp.busy_seconds = static_cast<double>(counters[i].busy_ns.load()) * 1e-9;
      profile.stages.push_back(sp);
    }
    return profile;
  };
  RunContext context;
  context.pipeline_name = config_.name;
  context.config_file = config_.file;
  context.config_text = config_.resolved_text;
  context.seed = config_.seed;
  context.epochs = config_.epochs;
  context.threads = threads;
  context.output_dir = config_.output_dir;
  context.stop_requested = &g_stop_requested;
  context.profile = snapshot;

  auto guarded = [](const StageNode& node, auto&& action) {
    try {
      action();
    } catch (const StageError&) {
      throw;
    } catch (const std::exception& e) {
      throw StageError(node.name, e.what());
    }
  };
  for (auto& node : stages_) guarded(node, [&] { node.stage->prepare(context); });
  if (options.resume) {
    std::optional<int> resume_epoch;
    std::string authority;
    for (auto& node : stages_) {
      std::optional<int> epoch;
      guarded(node, [&] { epoch = node.stage->restore(context); });
      if (!epoch) continue;
      if (resume_epoch && *resume_epoch != *epoch)
        throw StageError(node.name, "its checkpoint continues from epoch " + std::to_string(*epoch + 1) + " but '" +
                                        authority + "' continues from epoch " + std::to_string(*resume_epoch + 1));
      resume_epoch = epoch;
      authority = node.name;
    }
    if (!resume_epoch)
      throw StageError(config_.name, "--resume: no stage found a checkpoint to resume from (has this run saved one?)");
    context.first_epoch = *resume_epoch;
    for (auto& node : stages_) guarded(node, [&] { node.stage->continue_from(*resume_epoch); });
  }

  std::vector<Source*> sources;
  std::vector<std::size_t> source_nodes;
  std::vector<std::string> stream_names;  // stable storage behind Message::stream
  for (std::size_t i = 0; i < stages_.size(); ++i)
    if (stages_[i].spec->kind == StageKind::Source) {
      sources.push_back(static_cast<Source*>(stages_[i].stage.get()));
      source_nodes.push_back(i);
      stream_names.push_back(sources.back()->stream());
    }
  std::vector<std::size_t> source_index(stages_.size(), 0);
  for (std::size_t k = 0; k < source_nodes.size(); ++k) source_index[source_nodes[k]] = k;

  // For each source: the order slots (of processors in the sources' domain) its items must be numbered for.
  std::vector<std::vector<int>> slots_of_source(sources.size());
  std::size_t in_flight_limit = static_cast<std::size_t>(config_.buffer) + sources.size();
  for (const auto& node : stages_) {
    if (node.spec->kind != StageKind::Processor) continue;
    in_flight_limit += static_cast<Processor*>(node.stage.get())->max_buffered_inputs();
    if (node.domain != kDriverDomain) continue;
    for (std::size_t o : node.origins) slots_of_source[source_index[o]].push_back(node.order_slot);
  }

  oneapi::tbb::task_arena arena(threads);
  std::vector<std::size_t> ends_received(stages_.size(), 0);
  arena.execute([&] {
    flow::graph g;
    ErrorState errors;
    auto gate = std::make_shared<Gate>();

    // The driver walks epoch by epoch, source by source, so the interleaving of streams is fixed.
    struct DriverState {
      int epoch = 0;  // set to the first epoch below
      std::size_t source = 0;
      bool epoch_started = false;
      bool ending = false;
      bool interrupted = false;
      std::size_t ends_sent = 0;
      std::array<std::uint64_t, kMaxOrderSlots> next{};
    } driver;
    driver.epoch = context.first_epoch;
    const int epochs = config_.epochs;

    flow::input_node<Message> input(g, [&](oneapi::tbb::flow_control& control) -> Message {
      Message m;
      m.kind = Kind::Dropped;
      std::size_t k = driver.source;
      try {
        if (errors.failed()) {
          control.stop();
          return m;
        }
        if (!driver.ending && (g_stop_requested.load() || driver.epoch >= epochs)) {
          driver.ending = true;
          driver.interrupted = driver.epoch < epochs;
        }
        if (driver.ending) {
          if (driver.ends_sent == sources.size()) {
            control.stop();
            return m;
          }
          k = driver.ends_sent++;
          m.kind = Kind::EndOfStream;
          m.interrupted = driver.interrupted;
          m.epoch = std::max(0, std::min(driver.epoch, epochs - 1));
        } else {
          BusyTimer timer(counters[source_nodes[k]]);
          if (!driver.epoch_started) {
            sources[k]->start_epoch(driver.epoch);
            driver.epoch_started = true;
          }
          std::optional<Payload> item = sources[k]->next();
          m.epoch = driver.epoch;
          if (item) {
            m.kind = Kind::Data;
            m.payload = std::move(*item);
            ++counters[source_nodes[k]].items_out;
          } else {
            m.kind = Kind::EndOfEpoch;
            driver.epoch_started = false;
            if (++driver.source == sources.size()) {
              driver.source = 0;
              ++driver.epoch;
            }
          }
        }
        m.origin = static_cast<std::uint32_t>(k);
        m.stream = stream_names[k];
        for (int slot : slots_of_source[k]) {
          const auto s = static_cast<std::size_t>(slot);
          m.order[s] = driver.next[s]++;
        }
        m.retire = std::make_shared<RetireToken>(gate);
      } catch (const std::exception& e) {
        errors.record(stages_[source_nodes[k]].name, e.what(), g);
        m = Message{};
        m.kind = Kind::Dropped;
        control.stop();
      }
      return m;
    });

    flow::limiter_node<Message> limiter(g, in_flight_limit);
    gate->limiter = &limiter;
    flow::make_edge(input, limiter);

    // Per stage, the sender its consumers attach to, and the receiver its producers attach to.
    std::vector<flow::sender<Message>*> outputs(stages_.size(), nullptr);
    std::vector<flow::receiver<Message>*> inputs(stages_.size(), nullptr);
    std::vector<std::unique_ptr<flow::broadcast_node<Message>>> source_outputs;
    std::vector<std::unique_ptr<flow::function_node<Message, Message>>> transform_nodes;
    std::vector<std::unique_ptr<flow::sequencer_node<Message>>> sequencers;
    std::vector<std::unique_ptr<ProcessorNode>> processor_nodes;

    for (std::size_t k = 0; k < sources.size(); ++k) {
      source_outputs.push_back(std::make_unique<flow::broadcast_node<Message>>(g));
      outputs[source_nodes[k]] = source_outputs.back().get();
    }
    flow::function_node<Message, flow::continue_msg> router(
        g, flow::unlimited, [&](const Message& m) -> flow::continue_msg {
          if (m.kind != Kind::Dropped) source_outputs[m.origin]->try_put(m);
          return {};
        });
    flow::make_edge(limiter, router);

    for (std::size_t i = 0; i < stages_.size(); ++i) {
      StageNode& node = stages_[i];
      StageNode* const stage_node = &node;
      StageCounters* const count = &counters[i];
      if (node.spec->kind == StageKind::Transform) {
        auto* transform = static_cast<Transform*>(node.stage.get());
        const std::size_t concurrency = node.spec->parallel ? flow::unlimited : flow::serial;
        transform_nodes.push_back(std::make_unique<flow::function_node<Message, Message>>(
            g, concurrency, [&g, &errors, transform, stage_node, count](Message m) -> Message {
              if (m.kind != Kind::Data || errors.failed()) return m;
              ++count->items_in;
              try {
                BusyTimer timer(*count);
                m.payload = transform->apply(m.payload, m.stream);
                ++count->items_out;
              } catch (const std::exception& e) {
                errors.record(stage_node->name, e.what(), g);
                m.kind = Kind::Dropped;
              }
              return m;
            }));
        inputs[i] = transform_nodes.back().get();
        outputs[i] = transform_nodes.back().get();
      } else if (node.spec->kind == StageKind::Processor) {
        auto* processor = static_cast<Processor*>(node.stage.get());
        const auto slot = static_cast<std::size_t>(node.order_slot);
        sequencers.push_back(std::make_unique<flow::sequencer_node<Message>>(
            g, [slot](const Message& m) -> std::size_t { return m.order[slot]; }));
        struct ProcessorState {
          std::uint64_t next_seq = 0;
          std::vector<std::shared_ptr<const void>> pending;
          std::map<int, std::size_t> stream_ends;  // per epoch
        };
        auto state = std::make_shared<ProcessorState>();
        const std::size_t expected_streams = node.origins.size();
        const bool keeps_tokens = !node.consumers.empty();
        std::size_t* const ends = &ends_received[i];
        processor_nodes.push_back(std::make_unique<ProcessorNode>(
            g, flow::serial,
            [&g, &errors, processor, state, expected_streams, keeps_tokens, stage_node, count, ends](
                const Message& m, ProcessorNode::output_ports_type& ports) {
              if (m.kind == Kind::Dropped || errors.failed()) return;
              if (keeps_tokens && m.retire) state->pending.push_back(m.retire);
              PortEmitter out(ports, m, state->next_seq, state->pending, *count);
              try {
                BusyTimer timer(*count);
                switch (m.kind) {
                  case Kind::Data:
                    ++count->items_in;
                    processor->consume(m.payload, m.stream, out);
                    break;
                  case Kind::EndOfEpoch:
                    processor->on_stream_end(m.stream, m.epoch, out);
                    if (++state->stream_ends[m.epoch] == expected_streams) {
                      state->stream_ends.erase(m.epoch);
                      processor->on_epoch_end(m.epoch, out);
                    }
                    out.send(Kind::EndOfEpoch, {}, false);
                    break;
                  case Kind::EndOfStream:
                    if (++*ends == expected_streams) processor->finish(m.interrupted, out);
                    out.send(Kind::EndOfStream, {}, m.interrupted);
                    break;
                  case Kind::Dropped:
                    break;
                }
              } catch (const std::exception& e) {
                errors.record(stage_node->name, e.what(), g);
              }
            }));
        flow::make_edge(*sequencers.back(), *processor_nodes.back());
        inputs[i] = sequencers.back().get();
        outputs[i] = &flow::output_port<0>(*processor_nodes.back());
      }
    }
    for (std::size_t i = 0; i < stages_.size(); ++i)
      for (std::size_t c : stages_[i].consumers) flow::make_edge(*outputs[i], *inputs[c]);

    input.activate();
    g.wait_for_all();
    gate->open.store(false);
    errors.rethrow();
  });

  for (std::size_t i = 0; i < stages_.size(); ++i) {
    const StageNode& node = stages_[i];
    if (node.spec->kind == StageKind::Processor && ends_received[i] != node.origins.size())
      throw StageError(node.name, "the pipeline stopped before this stage saw the end of its input (" +
                                      std::to_string(ends_received[i]) + " of " +
                                      std::to_string(node.origins.size()) + " streams ended)");
  }
  return snapshot();
}

Stage& Pipeline::stage(const std::string& name) {
  for (auto& node : stages_)
    if (node.name == name) return *node.stage;
  throw std::out_of_range("no stage named '" + name + "'");
}

Pipeline::Pipeline(Pipeline&&) noexcept = default;
Pipeline& Pipeline::operator=(Pipeline&&) noexcept = default;
Pipeline::~Pipeline() = default;

}  // namespace pipeline
