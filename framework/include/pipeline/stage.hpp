#pragma once
// The three kinds of stage a pipeline is made of. Stages never call each other; they only see payloads and
// stream markers, in the order the engine guarantees for their kind.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/communicator.hpp"
#include "pipeline/payload.hpp"
#include "pipeline/profile.hpp"

namespace pipeline {

// What every stage may know about the run it is part of.
struct RunContext {
  std::string pipeline_name;
  std::string config_file;
  std::string config_text;  // the resolved config, for reports
  std::uint64_t seed = 0;
  int epochs = 1;
  int first_epoch = 0;  // > 0 when a run resumes
  bool resuming = false;  // `--resume`: prepare() must keep what the run wrote before (restore_state follows)
  int threads = 1;
  std::filesystem::path output_dir;
  std::vector<std::string> class_names;  // the config's class_names (empty: classes are numbers)
  const std::atomic<bool>* stop_requested = nullptr;  // set on SIGINT/SIGTERM
  bool stopping() const { return stop_requested != nullptr && stop_requested->load(); }
  // The ranks of an MPI job (mpirun); one rank otherwise. Only rank 0 runs the sinks and writes outputs.
  Communicator* comm = nullptr;
  Communicator& communicator() const { return comm != nullptr ? *comm : world(); }
  int rank() const { return communicator().rank(); }
  int ranks() const { return communicator().size(); }
  // The per-stage profile so far; callable only while the run lasts (e.g. from a sink's finish()).
  std::function<Profile()> profile;
};

// `pipeline export`: what to write, and the run context a run of the config would have (its output folder).
struct ExportRequest {
  std::string format;  // e.g. "onnx"
  std::filesystem::path output;
  std::string checkpoint;  // --checkpoint PATH; empty: the stage's own default (e.g. <output_dir>/model.ckpt)
  RunContext context;
};

class Stage {
 public:
  virtual ~Stage() = default;
  // Heavy set-up (I/O, allocation) happens here, not in the constructor, so `pipeline validate` stays cheap.
  virtual void prepare(const RunContext&) {}
  // The files the stage writes, given the run's output folder: two stages writing one file is a config error,
  // found when the pipeline is built.
  virtual std::vector<std::filesystem::path> output_files(const std::filesystem::path& /*output_dir*/) const {
    return {};
  }
  // Optional human-readable description shown by `pipeline validate` and at the start of a run
  // (e.g. a model's layer table).
  virtual std::string summary() const { return {}; }
  // `pipeline run --resume`, after every processor restored its state: the run continues from `epoch`.
  virtual void continue_from(int /*epoch*/) {}
  // A stage holding something a run produced (a model) may write it in formats other tools read, for
  // `pipeline export`: the formats it offers, and the writing (errors as exceptions naming what is wrong).
  virtual std::vector<std::string> export_formats() const { return {}; }
  virtual void export_to(const ExportRequest& /*request*/) {}
};

// Produces the items of one stream (e.g. "train"), once per epoch. Called serially.
class Source : public Stage {
 public:
  virtual void start_epoch(int epoch) = 0;
  virtual std::optional<Payload> next() = 0;
  // The stream's name, carried by every item and marker it produces.
  virtual std::string stream() const = 0;
};

// Stateless one-in, one-out; may run on many threads at once when its spec says `parallel`.
class Transform : public Stage {
 public:
  virtual Payload apply(const Payload& input, std::string_view stream) const = 0;
  // The same, called instead when no other stage sees this input: a transform that edits its input can change
  // it in place (input.edit<T>(), then return the input) or take it (std::move(input).take<T>()) rather than copy
  // it. Must give what apply() gives.
  virtual Payload apply_moved(Payload&& input, std::string_view stream) const { return apply(input, stream); }
  // A hint, called a few items before apply() gets this input: start loading what apply() will read from memory
  // (e.g. __builtin_prefetch over an image's pixels) so that it is in this core's cache by then. Must not throw
  // or change anything.
  virtual void prefetch(const Payload& /*input*/) const {}
};

class Emitter {
 public:
  virtual ~Emitter() = default;
  // Sends a payload downstream on the stream of the input being handled.
  virtual void emit(Payload payload) = 0;
};

// Stateful: sees its inputs one at a time in a deterministic order (the engine restores it), and may emit
// any number of payloads. A sink is a processor whose spec declares no output.
class Processor : public Stage {
 public:
  virtual void consume(const Payload& input, std::string_view stream, Emitter& out) = 0;
  // One stream finished an epoch (e.g. "train" of epoch 3).
  virtual void on_stream_end(std::string_view /*stream*/, int /*epoch*/, Emitter&) {}
  // Every stream feeding this stage finished the epoch.
  virtual void on_epoch_end(int /*epoch*/, Emitter&) {}
  // All streams ended; `interrupted` when the run was stopped early (signal or error elsewhere).
  virtual void finish(bool /*interrupted*/, Emitter&) {}
  // How many inputs the stage may hold before emitting; the engine's in-flight bound must exceed it.
  virtual std::size_t max_buffered_inputs() const { return 0; }

  // Durable runs. When every processor has ended an epoch, the engine writes what each returned here for that
  // epoch into one file (<output_dir>/run.state), and `pipeline run --resume` hands it back to restore_state
  // before the run continues. Asked in the stage's own thread: after on_epoch_end (mid_epoch false), and when
  // a run is interrupted, after finish (mid_epoch true; return nullopt unless the stage can continue from the
  // middle of an epoch, and its end-of-epoch state is kept). Files a stage writes for an epoch must be on disk
  // before it returns that epoch's state: the run state is the record of what is done, and a stage restored
  // from it rewrites or truncates its files to match.
  virtual std::optional<std::string> save_state(bool /*mid_epoch*/) { return std::nullopt; }
  virtual void restore_state(const std::string& /*state*/) {}
};

}  // namespace pipeline
