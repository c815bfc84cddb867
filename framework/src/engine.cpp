// Pipeline::run: the validated pipeline as a oneTBB flow graph.
//
//   input_node (all sources, epoch by epoch, in chunks of items) → limiter_node → router → per-source broadcast
//     → transforms: function_node (unlimited concurrency when the stage is parallel), item by item over a chunk
//     → processors: sequencer_node (restores the deterministic order) → serial multifunction_node
//
// Every chunk leaving the sources holds a retire token; the limiter admits a new chunk only when a token is
// released (the chunk, or whatever a processor built from it, has been fully consumed), so memory stays
// bounded however fast the sources are.
#include <signal.h>

#include <oneapi/tbb/info.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <regex>

#include "engine_messages.hpp"
#include "output_lock.hpp"
#include "run_state.hpp"
#include "pipeline/pipeline.hpp"

namespace pipeline {

using namespace engine;

namespace {

std::atomic<bool> g_stop_requested{false};

// The sources in stage order, and what the driver needs to number their items.
struct SourceTable {
  std::vector<Source*> sources;
  std::vector<std::size_t> nodes;               // the stage index of each source
  std::vector<std::string> streams;             // stable storage behind Message::stream
  std::vector<std::vector<int>> order_slots;    // per source: the processors' order slots its items carry
};

SourceTable collect_sources(const std::vector<StageNode>& stages) {
  SourceTable table;
  std::vector<std::size_t> source_index(stages.size(), 0);
  for (std::size_t i = 0; i < stages.size(); ++i)
    if (stages[i].spec->kind == StageKind::Source) {
      source_index[i] = table.sources.size();
      table.sources.push_back(static_cast<Source*>(stages[i].stage.get()));
      table.nodes.push_back(i);
      table.streams.push_back(table.sources.back()->stream());
    }
  table.order_slots.resize(table.sources.size());
  for (const auto& node : stages)
    if (node.spec->kind == StageKind::Processor && node.domain == kDriverDomain)
      for (std::size_t o : node.origins) table.order_slots[source_index[o]].push_back(node.order_slot);
  return table;
}

// Messages in flight: the configured buffer of items in chunks, one end marker per source, and what processors may
// hold back (their inputs may straddle one more chunk than they fill).
std::size_t in_flight_limit(const std::vector<StageNode>& stages, const PipelineConfig& config, std::size_t sources,
                            std::size_t chunk) {
  const auto chunks = [chunk](std::size_t items) { return (items + chunk - 1) / chunk; };
  std::size_t limit = chunks(static_cast<std::size_t>(config.buffer)) + sources;
  for (const auto& node : stages)
    if (node.spec->kind == StageKind::Processor)
      limit += chunks(static_cast<Processor*>(node.stage.get())->max_buffered_inputs()) + 1;
  return limit;
}

Profile take_profile(const std::vector<StageNode>& stages, const std::vector<StageCounters>& counters, int threads,
                     Clock::time_point started) {
  Profile profile;
  profile.threads = threads;
  profile.wall_seconds = std::chrono::duration<double>(Clock::now() - started).count();
  for (std::size_t i = 0; i < stages.size(); ++i) {
    StageProfile sp;
    sp.name = stages[i].name;
    sp.type = stages[i].spec->type;
    sp.parallel = stages[i].spec->parallel;
    sp.items_in = counters[i].items_in.load();
    sp.items_out = counters[i].items_out.load();
    sp.busy_seconds = static_cast<double>(counters[i].busy_ns.load()) * 1e-9;
    profile.stages.push_back(sp);
  }
  return profile;
}

// Runs a stage's call, attributing any exception to the stage.
template <class Action>
void guarded(const StageNode& node, Action&& action) {
  try {
    action();
  } catch (const StageError&) {
    throw;
  } catch (const std::exception& e) {
    throw StageError(node.name, describe_exception(e));
  }
}

std::vector<std::string> processor_names(const std::vector<StageNode>& stages) {
  std::vector<std::string> names;
  for (const auto& node : stages)
    if (node.spec->kind == StageKind::Processor) names.push_back(node.name);
  return names;
}

// Sinks write the run's outputs: with several ranks only rank 0 runs them (the others' results reach it).
bool is_sink(const StageNode& node) { return node.spec->kind == StageKind::Processor && node.spec->output.empty(); }
bool runs_here(const StageNode& node, const RunContext& context) { return context.rank() == 0 || !is_sink(node); }

std::filesystem::path run_state_path(const PipelineConfig& config) {
  return std::filesystem::path(config.output_dir) / "run.state";
}

// Temporary files of writes a killed run left behind (pipeline/files.hpp names them <file>.<pid>.<n>.tmp): only in
// the output folder and two levels of folders below (logs/<run>/), and only when their writer is gone, so that a user's own
// file of a similar name, or a live writer's temporary, is never touched.
void remove_stale_temporaries(const std::filesystem::path& output_dir) {
  static const std::regex temporary(R"(.*\.([0-9]+)\.[0-9]+\.tmp)");
  std::error_code ec;
  std::vector<std::filesystem::path> stale;
  for (auto it = std::filesystem::recursive_directory_iterator(output_dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it.depth() >= 2) it.disable_recursion_pending();
    std::smatch m;
    const std::string name = it->path().filename().string();
    if (!it->is_regular_file(ec) || !std::regex_match(name, m, temporary)) continue;
    const auto pid = static_cast<pid_t>(std::stoll(m[1].str()));
    if (::kill(pid, 0) != 0 && errno == ESRCH) stale.push_back(it->path());
  }
  for (const auto& path : stale) std::filesystem::remove(path, ec);
}

// --resume: rank 0 reads the run state (it alone writes one) and every rank restores its processors from the same
// bytes; the state must come from this pipeline.
RunState shared_run_state(const PipelineConfig& config, Communicator& ranks) {
  const std::filesystem::path path = run_state_path(config);
  std::string bytes, error;
  if (ranks.rank() == 0) {
    try {
      if (!std::filesystem::exists(path))
        throw std::runtime_error("--resume: nothing to resume in " + config.output_dir + " (no run.state: a run saves "
                                 "it at the end of every epoch; has this run finished one?)");
      bytes = encode_run_state(load_run_state(path));
    } catch (const std::exception& e) {
      error = e.what();
      if (error.rfind("--resume", 0) != 0) error = "--resume: " + error;
    }
  }
  if (ranks.size() > 1) {
    const std::string shared = ranks.broadcast(error.empty() ? "+" + bytes : "-" + error);
    if (shared[0] == '-' && ranks.rank() != 0) throw ReportedByRankZero();
    bytes = shared.substr(1);
  }
  if (!error.empty()) throw JobWideError(config.name, error);
  return decode_run_state(bytes, path.string());
}

void restore_run(std::vector<StageNode>& stages, const PipelineConfig& config, RunContext& context,
                 RunJournal& journal) {
  const std::filesystem::path path = run_state_path(config);
  RunState state = shared_run_state(config, context.communicator());
  if (state.processors != processor_names(stages)) {
    if (context.rank() != 0) throw ReportedByRankZero();
    std::string saved;
    for (const auto& name : state.processors) saved += (saved.empty() ? "" : ", ") + name;
    throw JobWideError(config.name, "--resume: " + path.string() + " was saved by a pipeline with the processors [" +
                                      saved + "]; resume with the config that run was started with");
  }
  for (auto& node : stages) {
    auto it = state.states.find(node.name);
    if (it == state.states.end() || !runs_here(node, context)) continue;
    guarded(node, [&] { static_cast<Processor*>(node.stage.get())->restore_state(it->second); });
  }
  context.first_epoch = static_cast<int>(state.epochs_done);
  if (context.rank() == 0)
    std::cerr << "resuming '" << config.name << "' after " << state.epochs_done << " complete epoch"
              << (state.epochs_done == 1 ? "" : "s") << (state.mid_epoch ? " and part of the next" : "") << " ("
              << path.string() << ")\n";
  for (auto& node : stages)
    if (runs_here(node, context)) guarded(node, [&] { node.stage->continue_from(context.first_epoch); });
  journal.resume_from(std::move(state));
}

// The input_node's body: walks epoch by epoch, source by source, so the interleaving of streams is fixed; after the
// last epoch (or a stop request) it sends one end-of-stream marker per source.
class Driver {
 public:
  Driver(const std::vector<StageNode>& stages, SourceTable& table, std::vector<StageCounters>& counters,
         ErrorState& errors, std::shared_ptr<Gate> gate, flow::graph& graph, int first_epoch, int epochs,
         std::size_t chunk)
      : stages_(stages), table_(table), counters_(counters), errors_(errors), gate_(std::move(gate)), graph_(graph),
        epoch_(first_epoch), epochs_(epochs), chunk_(chunk) {}

  Message operator()(oneapi::tbb::flow_control& control) {
    std::size_t k = source_;
    try {
      if (errors_.failed()) return stop(control);
      if (!ending_ && (g_stop_requested.load() || epoch_ >= epochs_)) {
        ending_ = true;
        interrupted_ = epoch_ < epochs_;
      }
      Message m;
      if (ending_) {
        if (ends_sent_ == table_.sources.size()) return stop(control);
        k = ends_sent_++;
        m.kind = Kind::EndOfStream;
        m.interrupted = interrupted_;
        m.epoch = std::max(0, std::min(epoch_, epochs_ - 1));
      } else {
        m = next_item(k);
      }
      number(m, k);
      return m;
    } catch (const std::exception& e) {
      errors_.record(stages_[table_.nodes[k]].name, describe_exception(e), graph_);
      return stop(control);
    }
  }

 private:
  static Message stop(oneapi::tbb::flow_control& control) {
    control.stop();
    Message m;
    m.kind = Kind::Dropped;
    return m;
  }

  // The next chunk of source k's items, or its end-of-epoch marker (then the next source, or the next epoch, follows).
  Message next_item(std::size_t k) {
    BusyTimer timer(counters_[table_.nodes[k]]);
    if (!epoch_started_) {
      table_.sources[k]->start_epoch(epoch_);
      epoch_started_ = true;
      source_ended_ = false;
    }
    Message m;
    m.epoch = epoch_;
    if (!source_ended_) {
      Items items;
      items.reserve(chunk_);
      while (items.size() < chunk_) {
        std::optional<Payload> item = table_.sources[k]->next();
        if (!item) {
          source_ended_ = true;  // its end marker follows this chunk
          break;
        }
        items.push_back(std::move(*item));
      }
      if (!items.empty()) {
        counters_[table_.nodes[k]].items_out += items.size();
        m.kind = Kind::Data;
        m.items = make_chunk(std::move(items));
        return m;
      }
    }
    m.kind = Kind::EndOfEpoch;
    epoch_started_ = false;
    if (++source_ == table_.sources.size()) {
      source_ = 0;
      ++epoch_;
    }
    return m;
  }

  void number(Message& m, std::size_t k) {
    m.origin = static_cast<std::uint32_t>(k);
    m.stream = table_.streams[k];
    for (int slot : table_.order_slots[k]) {
      const auto s = static_cast<std::size_t>(slot);
      m.order[s] = next_[s]++;
    }
    m.retire = std::make_shared<RetireToken>(gate_);
  }

  const std::vector<StageNode>& stages_;
  SourceTable& table_;
  std::vector<StageCounters>& counters_;
  ErrorState& errors_;
  std::shared_ptr<Gate> gate_;
  flow::graph& graph_;
  int epoch_, epochs_;
  std::size_t chunk_;
  std::size_t source_ = 0, ends_sent_ = 0;
  bool epoch_started_ = false, source_ended_ = false, ending_ = false, interrupted_ = false;
  std::array<std::uint64_t, kMaxOrderSlots> next_{};
};

// What a processor node remembers between messages.
struct ProcessorState {
  std::uint64_t next_seq = 0;
  std::vector<std::shared_ptr<const void>> pending;
  std::map<int, std::size_t> stream_ends;  // per epoch
};

// Hands one message to a processor: data, an end of epoch (the epoch ends when every input stream ended it) or an
// end of stream (the run ends for the stage when every input stream ended).
void deliver(Processor& processor, const Message& m, PortEmitter& out, ProcessorState& state,
             std::size_t expected_streams, std::size_t& ends, StageCounters& count, RunJournal& journal,
             const std::string& name, bool active) {
  if (!active) {  // a sink on a rank other than 0: its input ends, nothing else happens
    if (m.kind == Kind::EndOfStream) ++ends;
    return;
  }
  switch (m.kind) {
    case Kind::Data: {
      std::size_t consumed = 0;
      const auto add = [&] { count.items_in += consumed; };
      try {
        for (const Payload& item : *m.items) {
          ++consumed;
          processor.consume(item, m.stream, out);
        }
      } catch (...) {
        add();
        throw;
      }
      add();
      break;
    }
    case Kind::EndOfEpoch:
      processor.on_stream_end(m.stream, m.epoch, out);
      if (++state.stream_ends[m.epoch] == expected_streams) {
        state.stream_ends.erase(m.epoch);
        processor.on_epoch_end(m.epoch, out);
        if (journal.records()) journal.epoch_ended(name, m.epoch, processor.save_state(false));
      }
      out.send(Kind::EndOfEpoch, false);
      break;
    case Kind::EndOfStream:
      if (++ends == expected_streams) {
        processor.finish(m.interrupted, out);
        if (m.interrupted && journal.records()) journal.interrupted(name, processor.save_state(true));
      }
      out.send(Kind::EndOfStream, m.interrupted);
      break;
    case Kind::Dropped:
      break;
  }
}

// The flow graph of one run: its nodes live here while it runs (inside the run's task arena).
class FlowGraph {
 public:
  FlowGraph(std::vector<StageNode>& stages, std::vector<StageCounters>& counters, std::vector<std::size_t>& ends,
            RunJournal& journal, const RunContext& context)
      : stages_(stages), counters_(counters), ends_(ends), journal_(journal), context_(context),
        outputs_(stages.size()), inputs_(stages.size()) {}

  void run(SourceTable& table, std::size_t limit, std::size_t chunk, int first_epoch, int epochs) {
    auto gate = std::make_shared<Gate>();
    flow::input_node<Message> input(g_,
                                    Driver(stages_, table, counters_, errors_, gate, g_, first_epoch, epochs, chunk));
    flow::limiter_node<Message> limiter(g_, limit);
    gate->limiter = &limiter;
    flow::make_edge(input, limiter);
    add_sources(table, limiter);
    for (std::size_t i = 0; i < stages_.size(); ++i) {
      if (stages_[i].spec->kind == StageKind::Transform) add_transform(i);
      if (stages_[i].spec->kind == StageKind::Processor) add_processor(i);
    }
    for (std::size_t i = 0; i < stages_.size(); ++i)
      for (std::size_t c : stages_[i].consumers) flow::make_edge(*outputs_[i], *inputs_[c]);
    input.activate();
    g_.wait_for_all();
    gate->open.store(false);
    errors_.rethrow();
  }

 private:
  // Each source's items leave the limiter through a router to the source's own broadcast node.
  void add_sources(const SourceTable& table, flow::limiter_node<Message>& limiter) {
    for (std::size_t k = 0; k < table.sources.size(); ++k) {
      source_outputs_.push_back(std::make_unique<flow::broadcast_node<Message>>(g_));
      outputs_[table.nodes[k]] = source_outputs_.back().get();
    }
    router_ = std::make_unique<flow::function_node<Message, flow::continue_msg>>(
        g_, flow::unlimited, [this](const Message& m) -> flow::continue_msg {
          if (m.kind != Kind::Dropped) source_outputs_[m.origin]->try_put(m);
          return {};
        });
    flow::make_edge(limiter, *router_);
  }

  void add_transform(std::size_t i) {
    const StageNode* node = &stages_[i];
    auto* transform = static_cast<Transform*>(node->stage.get());
    StageCounters* count = &counters_[i];
    const std::size_t concurrency = node->spec->parallel ? flow::unlimited : flow::serial;
    const bool hand_over = receives_alone(i);
    transform_nodes_.push_back(std::make_unique<flow::function_node<Message, Message>>(
        g_, concurrency, [this, transform, node, count, hand_over](Message m) -> Message {
          if (m.kind != Kind::Data || errors_.failed()) return m;
          std::size_t taken = 0, made = 0;
          try {
            BusyTimer timer(*count);
            Items out;
            out.reserve(m.items->size());
            auto& items = const_cast<Items&>(*m.items);  // made by make_chunk; written only when handed over
            for (std::size_t k = 0; k < items.size() && k < kPrefetchDistance; ++k) transform->prefetch(items[k]);
            for (std::size_t k = 0; k < items.size(); ++k) {
              Payload& item = items[k];
              if (k + kPrefetchDistance < items.size()) transform->prefetch(items[k + kPrefetchDistance]);
              ++taken;
              out.push_back(hand_over ? transform->apply_moved(std::move(item), m.stream)
                                      : transform->apply(item, m.stream));
              ++made;
            }
            m.items = make_chunk(std::move(out));
          } catch (const std::exception& e) {
            errors_.record(node->name, describe_exception(e), g_);
            m.kind = Kind::Dropped;
          }
          count->items_in += taken;
          count->items_out += made;
          return m;
        }));
    inputs_[i] = transform_nodes_.back().get();
    outputs_[i] = transform_nodes_.back().get();
  }

  // Whether every stage feeding stage i feeds nothing else: then no other node reads the chunks it receives.
  bool receives_alone(std::size_t i) const {
    for (const StageNode& producer : stages_) {
      const auto& c = producer.consumers;
      if (std::find(c.begin(), c.end(), i) != c.end() && c.size() != 1) return false;
    }
    return true;
  }

  // A sequencer restores the order its processor must see; the processor itself runs serially.
  void add_processor(std::size_t i) {
    const StageNode* node = &stages_[i];
    auto* processor = static_cast<Processor*>(node->stage.get());
    const auto slot = static_cast<std::size_t>(node->order_slot);
    sequencers_.push_back(std::make_unique<flow::sequencer_node<Message>>(
        g_, [slot](const Message& m) -> std::size_t { return m.order[slot]; }));
    auto state = std::make_shared<ProcessorState>();
    const std::size_t expected_streams = node->origins.size();
    const bool keeps_tokens = !node->consumers.empty();
    StageCounters* count = &counters_[i];
    std::size_t* ends = &ends_[i];
    const bool active = runs_here(*node, context_);
    processor_nodes_.push_back(std::make_unique<ProcessorNode>(
        g_, flow::serial,
        [this, processor, state, expected_streams, keeps_tokens, node, count, ends, active](
            const Message& m, ProcessorNode::output_ports_type& ports) {
          if (m.kind == Kind::Dropped || errors_.failed()) return;
          if (keeps_tokens && m.retire) state->pending.push_back(m.retire);
          PortEmitter out(ports, m, state->next_seq, state->pending, *count);
          try {
            BusyTimer timer(*count);
            deliver(*processor, m, out, *state, expected_streams, *ends, *count, journal_, node->name, active);
            out.flush();
          } catch (const std::exception& e) {
            errors_.record(node->name, describe_exception(e), g_);
          }
        }));
    flow::make_edge(*sequencers_.back(), *processor_nodes_.back());
    inputs_[i] = sequencers_.back().get();
    outputs_[i] = &flow::output_port<0>(*processor_nodes_.back());
  }

  std::vector<StageNode>& stages_;
  std::vector<StageCounters>& counters_;
  std::vector<std::size_t>& ends_;
  RunJournal& journal_;
  const RunContext& context_;
  flow::graph g_;
  ErrorState errors_;
  // Per stage, the sender its consumers attach to, and the receiver its producers attach to.
  std::vector<flow::sender<Message>*> outputs_;
  std::vector<flow::receiver<Message>*> inputs_;
  std::unique_ptr<flow::function_node<Message, flow::continue_msg>> router_;
  std::vector<std::unique_ptr<flow::broadcast_node<Message>>> source_outputs_;
  std::vector<std::unique_ptr<flow::function_node<Message, Message>>> transform_nodes_;
  std::vector<std::unique_ptr<flow::sequencer_node<Message>>> sequencers_;
  std::vector<std::unique_ptr<ProcessorNode>> processor_nodes_;
};

// A processor that did not see the end of all its inputs was cut off by a failure elsewhere.
void check_every_processor_ended(const std::vector<StageNode>& stages, const std::vector<std::size_t>& ends) {
  for (std::size_t i = 0; i < stages.size(); ++i) {
    const StageNode& node = stages[i];
    if (node.spec->kind == StageKind::Processor && ends[i] != node.origins.size())
      throw StageError(node.name, "the pipeline stopped before this stage saw the end of its input (" +
                                      std::to_string(ends[i]) + " of " + std::to_string(node.origins.size()) +
                                      " streams ended)");
  }
}

}  // namespace

void request_stop() { g_stop_requested.store(true); }
void clear_stop_request() { g_stop_requested.store(false); }
const std::atomic<bool>& stop_flag() { return g_stop_requested; }

// Threads per process: all cores, shared between the ranks an MPI job runs on this machine.
static int default_threads() {
  return std::max(1, oneapi::tbb::info::default_concurrency() / ranks_on_this_machine());
}

RunContext Pipeline::context() const {
  RunContext context;
  context.pipeline_name = config_.name;
  context.config_file = config_.file;
  context.config_text = config_.resolved_text;
  context.seed = config_.seed;
  context.epochs = config_.epochs;
  context.output_dir = config_.output_dir;
  context.class_names = config_.class_names;
  context.stop_requested = &g_stop_requested;
  context.comm = &world();
  return context;
}

Profile Pipeline::run(const RunOptions& options) {
  const int threads = options.threads > 0   ? options.threads
                      : config_.threads > 0 ? config_.threads
                                            : default_threads();
  std::vector<StageCounters> counters(stages_.size());
  const auto started = Clock::now();
  RunContext context = this->context();
  context.threads = threads;
  context.profile = [&] { return take_profile(stages_, counters, threads, started); };

  // Rank 0 owns the output folder; the other ranks write nothing.
  const bool writer = context.rank() == 0;
  std::optional<OutputLock> lock;
  if (writer) lock.emplace(config_.output_dir, config_.name);
  if (options.on_start) options.on_start();
  RunJournal journal(run_state_path(config_), processor_names(stages_), config_.save_every, config_.epochs, writer);
  if (writer && !options.resume) std::filesystem::remove(run_state_path(config_));  // a fresh run never resumes an old one
  if (writer) remove_stale_temporaries(config_.output_dir);
  context.resuming = options.resume;
  for (auto& node : stages_)
    if (runs_here(node, context)) guarded(node, [&] { node.stage->prepare(context); });
  if (options.resume) restore_run(stages_, config_, context, journal);
  SourceTable sources = collect_sources(stages_);
  const std::size_t chunk = chunk_items(config_.chunk, config_.buffer);
  const std::size_t limit = in_flight_limit(stages_, config_, sources.sources.size(), chunk);
  std::vector<std::size_t> ends_received(stages_.size(), 0);
  oneapi::tbb::task_arena(threads).execute([&] {
    FlowGraph graph(stages_, counters, ends_received, journal, context);
    graph.run(sources, limit, chunk, context.first_epoch, config_.epochs);
  });
  check_every_processor_ended(stages_, ends_received);
  if (g_stop_requested.load()) journal.write_interrupted();
  Profile profile = take_profile(stages_, counters, threads, started);
  profile.state_saves = journal.saves();
  profile.state_save_seconds = journal.save_seconds();
  profile.state_bytes = journal.last_bytes();
  return profile;
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
