#include "model/sequential_stage.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "common/random.hpp"
#include "model/nn/gemm.hpp"
#include "model/onnx_export.hpp"
#include "model/nn/kernels/simd_kernels.hpp"
#include "pipeline/files.hpp"
#include "pipeline/version.hpp"
#include "pipeline/registry.hpp"

namespace stages {

SequentialModel::SequentialModel(const pipeline::Params& p)
    : train_stream_(p.get_string("train_stream")),
      train_(p.get_bool("train")),
      checkpoint_path_(p.get_string("checkpoint")),
      checkpoint_every_(static_cast<int>(p.get_int("checkpoint_every"))),
      load_path_(p.get_string("load")),
      overlap_allreduce_(p.get_bool("overlap_allreduce")) {
  // Shapes and options are checked here; the weights are allocated when prepare() initializes them.
  NetworkSpec network = build_network(p, "layers", parse_shape(p, "input_shape"));
  TrainingSpec training = build_training(p, "optimizer");
  if (!train_ && load_path_.empty()) p.fail("train", "evaluation only (train: false) needs a checkpoint to load (set load: PATH)");
  summary_ = network.network->summary() + "  optimizer: " + training.description + "\n";
  written_layers_ = std::move(network.written);
  trainer_ = std::make_unique<nn::Trainer>(std::move(network.network), std::move(training.optimizer),
                                           std::move(training.schedule), training.learning_rate);
}

std::string SequentialModel::summary() const { return summary_; }

std::vector<std::filesystem::path> SequentialModel::output_files(const std::filesystem::path& output_dir) const {
  if (!train_) return {};
  return {checkpoint_path_.empty() ? output_dir / "model.ckpt" : std::filesystem::path(checkpoint_path_)};
}

void SequentialModel::prepare(const pipeline::RunContext& context) {
  seed_ = context.seed;
  epochs_ = context.epochs;
  trainer_->set_epochs(context.epochs);
  if (checkpoint_path_.empty()) checkpoint_path_ = (context.output_dir / "model.ckpt").string();
  trainer_->network().initialize(mix_seed(seed_, hash_name("weights")));  // the same on every rank
  record_ = make_model_record(trainer_->network(), written_layers_);
  if (context.ranks() > 1) {
    parallel_ = std::make_unique<DataParallel>(context.communicator(), overlap_allreduce_);
    if (train_) trainer_->set_gradient_sync(parallel_->make_gradient_sync());
  }
  // Training continues a loaded checkpoint's epoch count; an evaluation is numbered by its own run.
  if (!load_path_.empty()) {
    const nn::TrainingPosition loaded = load(load_path_);  // loaded whether training or only evaluating
    epoch_offset_ = train_ ? static_cast<int>(loaded.epochs_done) : 0;
  }
  const std::size_t classes = trainer_->network().output_shape()[0];
  if (!context.class_names.empty() && context.class_names.size() != classes)
    throw std::runtime_error("class_names names " + std::to_string(context.class_names.size()) +
                             " classes but the model outputs " + std::to_string(classes));
  // Fail before training, not after it, when the checkpoint cannot be written.
  if (train_ && reports()) pipeline::ensure_writable_folder(checkpoint_path_);
}

nn::Checkpoint SequentialModel::make_checkpoint() {
  nn::TrainingPosition position;
  position.epochs_done = static_cast<std::uint64_t>(run_epochs_done_ + epoch_offset_);
  position.run_epochs_done = static_cast<std::uint64_t>(run_epochs_done_);
  position.seed = seed_;
  position.partial_epoch = trained_;
  return trainer_->snapshot(std::move(position));
}

nn::TrainingPosition SequentialModel::load(const std::string& path) {
  return trainer_->restore(nn::load_checkpoint(path), path);
}

std::optional<std::string> SequentialModel::save_state(bool) {
  if (!train_) return std::nullopt;
  const std::vector<std::uint8_t> bytes = nn::encode_checkpoint(make_checkpoint());
  return std::string(bytes.begin(), bytes.end());
}

void SequentialModel::restore_state(const std::string& state) {
  if (!train_) return;
  const std::string name = "the run state's model checkpoint";
  const nn::TrainingPosition position =
      trainer_->restore(nn::decode_checkpoint(std::vector<std::uint8_t>(state.begin(), state.end()), name), name);
  run_epochs_done_ = static_cast<int>(position.run_epochs_done);
  epoch_offset_ = static_cast<int>(position.epochs_done) - run_epochs_done_;
  replay_ = position.partial_epoch;
  replay_epoch_ = run_epochs_done_;
}

void SequentialModel::save() { nn::save_checkpoint(make_checkpoint(), checkpoint_path_); }

void SequentialModel::check_batch(const Batch& b) const {
  if (b.size() == 0) return;  // a rank's empty share of a data-parallel batch
  const nn::Sequential& network = trainer_->network();
  const auto& shape = network.input_shape();
  if (b.x.size() / std::max<std::size_t>(1, b.size()) != nn::shape_size(shape))
    throw std::runtime_error("batch of samples shaped " +
                             nn::shape_string(nn::Shape(b.x.shape().begin() + 1, b.x.shape().end())) +
                             " does not fit the model's input_shape " + nn::shape_string(shape));
  if (b.y.shape()[1] != network.output_shape()[0])
    throw std::runtime_error("targets have " + std::to_string(b.y.shape()[1]) + " classes but the model outputs " +
                             std::to_string(network.output_shape()[0]));
}

BatchResult SequentialModel::result_of(const Batch& b, std::string_view stream, bool training, int epoch) {
  BatchResult r;
  r.stream = std::string(stream);
  r.training = training;
  r.epoch = epoch;
  r.epochs = epochs_ + epoch_offset_;
  r.batch = b.number;
  auto known = batches_per_epoch_.find(r.stream);
  r.batches_per_epoch = b.batches_in_epoch > 0 ? b.batches_in_epoch : known == batches_per_epoch_.end() ? 0 : known->second;
  batches_seen_[r.stream] = b.number + 1;
  r.labels = b.labels;
  r.indices = b.indices;
  r.model = record_;
  r.names = b.names;
  return r;
}

nn::StepResult SequentialModel::step(const Batch& b, std::string_view stream, bool training, int epoch) {
  try {
    if (!training) return trainer_->evaluate(b.x, b.y, epoch);
    std::uint64_t seed = mix_seed(mix_seed(seed_, static_cast<std::uint64_t>(epoch)), static_cast<std::uint64_t>(b.number));
    if (!parallel_) return trainer_->train(b.x, b.y, epoch, seed);
    // Each rank draws its own share's randomness (dropout); the loss is the whole batch's mean.
    seed = mix_seed(seed, static_cast<std::uint64_t>(parallel_->rank()));
    return trainer_->train(b.x, b.y, epoch, seed, parallel_->batch_rows(b.size()));
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(std::string(e.what()) + ", at epoch " + std::to_string(epoch + 1) + ", batch " +
                             std::to_string(b.number + 1) + " of stream '" + std::string(stream) + "'");
  }
}

void SequentialModel::consume(const pipeline::Payload& input, std::string_view stream, pipeline::Emitter& out) {
  const Batch& b = input.get<Batch>();
  const bool training = train_ && stream == train_stream_;
  const int epoch = b.epoch + epoch_offset_;
  check_batch(b);
  BatchResult r = result_of(b, stream, training, epoch);
  if (training && b.epoch == replay_epoch_ && static_cast<std::size_t>(b.number) < replay_.size()) {
    // Trained on before the interruption: report what it gave then, do not train twice.
    const nn::BatchRecord& t = replay_[static_cast<std::size_t>(b.number)];
    trained_.push_back(t);
    r.loss = t.loss;
    r.correct = t.correct;
    r.learning_rate = t.learning_rate;
    out.emit(pipeline::Payload::of(std::move(r)));
    return;
  }
  const nn::StepResult result = step(b, stream, training, epoch);
  r.loss = result.loss;
  r.correct = result.correct;
  r.learning_rate = result.learning_rate;
  r.predicted = result.predicted;
  r.probabilities = *result.probabilities;
  r.inputs = std::shared_ptr<const Batch>(std::make_shared<pipeline::Payload>(input), &b);
  if (parallel_) parallel_->combine(r, result, b);
  if (training) trained_.push_back(nn::BatchRecord{r.loss, r.correct, r.learning_rate});
  r.finished = std::chrono::steady_clock::now();
  // Every rank emits (its inputs' flow-control tokens ride on what it emits); only rank 0's sinks run.
  out.emit(pipeline::Payload::of(std::move(r)));
}

void SequentialModel::on_epoch_end(int epoch, pipeline::Emitter&) {
  if (train_ && batches_seen_.count(train_stream_) == 0) {
    std::string seen;
    for (const auto& [stream, n] : batches_seen_) seen += (seen.empty() ? "" : ", ") + stream;
    throw std::runtime_error("epoch " + std::to_string(epoch + epoch_offset_ + 1) + " trained on no batch: no batch of "
                             "the train stream '" + train_stream_ + "' reached the model (" +
                             (seen.empty() ? "no stream did" : "streams seen: " + seen) +
                             "); check the sources and train_stream");
  }
  if (parallel_ && train_) parallel_->agree_on_weights(trainer_->network(), epoch + epoch_offset_);
  for (const auto& [stream, n] : batches_seen_) batches_per_epoch_[stream] = n;
  batches_seen_.clear();
  trained_.clear();
  run_epochs_done_ = epoch + 1;
  if (reports() && (record_->weights_wanted() || run_epochs_done_ == 1)) publish_weights(epoch);  // see publish()
  if (train_ && reports() && checkpoint_every_ > 0 && run_epochs_done_ % checkpoint_every_ == 0 &&
      run_epochs_done_ < epochs_)
    save();
}

void SequentialModel::publish_weights(int epoch) const {
  auto snapshot = std::make_shared<WeightsSnapshot>();
  snapshot->epoch = epoch;
  for (const nn::Parameter& p : trainer_->network().parameters())
    snapshot->values.emplace_back(p.value->data(), p.value->data() + p.value->size());
  record_->publish(std::move(snapshot));
}

// The checkpoint: --checkpoint, else the one this config's run writes (or, evaluating, the one it loads).
void SequentialModel::export_to(const pipeline::ExportRequest& request) {
  std::string path = request.checkpoint;
  if (path.empty()) path = !train_ ? load_path_ : !checkpoint_path_.empty() ? checkpoint_path_ : (request.context.output_dir / "model.ckpt").string();
  trainer_->network().initialize(0);
  const auto record = make_model_record(trainer_->network(), written_layers_);
  check_onnx_exportable(*record);
  if (!std::filesystem::exists(path))
    throw std::runtime_error("no checkpoint at " + path + " to export: train first (pipeline run " +
                             request.context.config_file + "), or name one with --checkpoint PATH");
  load(path);
  write_onnx_model(*record, trainer_->network(), request.output, pipeline::version());
}

void SequentialModel::finish(bool interrupted, pipeline::Emitter&) {
  if (!train_ || !reports()) return;
  if (const nn::GradientSync* sync = trainer_->gradient_sync(); sync != nullptr && sync->steps() > 0) {
    const double steps = static_cast<double>(sync->steps());
    char line[320];
    std::snprintf(line, sizeof line, "model: data-parallel on %d ranks; rank 0's all-reduce per step: %s, %.2f ms "
                  "summing, %.2f ms of it not hidden by the backward pass (%s)\n", parallel_->ranks(),
                  pipeline::human_bytes(static_cast<double>(sync->bytes()) / steps).c_str(),
                  1e3 * sync->sum_seconds() / steps, 1e3 * sync->wait_seconds() / steps,
                  sync->overlaps() ? "overlapped" : "summed after it");
    std::cout << line;
  }
  save();
  if (interrupted)
    std::cerr << "model: interrupted; saved the model after " << run_epochs_done_ + epoch_offset_ << " complete epoch(s)"
              << (trained_.empty() ? "" : " and " + std::to_string(trained_.size()) + " batches") << " to "
              << checkpoint_path_ << "\n";
}

static pipeline::StageSpec sequential_spec() {
  using namespace pipeline;
  StageSpec spec;
  spec.type = "sequential";
  spec.summary = "Model: a stack of layers from the config (listed below) trained with softmax cross-entropy; "
                 "evaluates every stream but the train stream.";
  spec.kind = StageKind::Processor;
  spec.input = kBatchType;
  spec.output = kBatchResultType;
  spec.combines_ranks = true;  // rank 0's results hold every rank's rows
  spec.params = {
      yaml_param("input_shape", ParamType::List, "[28, 28, 1]", "shape of one sample (height, width, channels)"),
      required_param("layers", ParamType::List, "the layers, e.g. [{conv2d: {filters: 20, kernel: 5}}, relu, ...]"),
      yaml_param("optimizer", ParamType::Map, "{type: sgd, learning_rate: 0.01}",
                 "{type: NAME, options}: an optimizer below, with an optional schedule: {type: NAME, options}"),
      string_param("train_stream", "train", "the stream trained on; every other stream is evaluated"),
      bool_param("train", true, "false: only evaluate (needs load)"),
      string_param("load", "", "checkpoint to start from (weights, optimizer state, epochs done)"),
      string_param("checkpoint", "", "where to save the model (default: <output_dir>/model.ckpt)"),
      int_param("checkpoint_every", 0, "also save every N epochs (0 = only at the end)").min(0),
      bool_param("overlap_allreduce", true, "mpirun -np N: sum each layer's gradients over the ranks while the "
                                            "backward pass goes on (false: after it)"),
  };
  spec.create = [](const Params& p) { return std::make_unique<SequentialModel>(p); };
  spec.details = describe_model_options;
  return spec;
}

}  // namespace stages

PIPELINE_REGISTER_STAGE(stages::sequential_spec())
namespace {
// The BLAS a run uses: single-threaded, as the Trainer sets it (TBB owns the cores; see nn/gemm.hpp).
[[maybe_unused]] const bool blas_version_line = pipeline::add_version_line([] {
  nn::use_single_threaded_blas();
  return nn::blas_description();
}, "sequential");
[[maybe_unused]] const bool kernels_version_line = pipeline::add_version_line([] {
  return std::string("vector kernels: ") + nn::simd::kernels().name + " (this CPU runs " +
         nn::simd::kernel_names(nn::simd::runnable_kernels()) +
         "; PIPELINE_SIMD picks another); convolutions: Winograd (F(4x4,5x5) or F(2x2,5x5)) for 5x5/1 with 8+ "
         "input channels, direct for up to 48 filters, else im2col + BLAS";
}, "sequential");
}  // namespace
