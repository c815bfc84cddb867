#include "model/sequential_stage.hpp"

#include <cmath>
#include <filesystem>
#include <iostream>

#include "common/random.hpp"
#include "model/nn/gemm.hpp"
#include "model/nn/kernels/simd_kernels.hpp"
#include "model/nn/softmax_cross_entropy.hpp"
#include "pipeline/version.hpp"
#include "pipeline/registry.hpp"

namespace stages {

SequentialModel::SequentialModel(const pipeline::Params& p)
    : train_stream_(p.get_string("train_stream")),
      train_(p.get_bool("train")),
      checkpoint_path_(p.get_string("checkpoint")),
      checkpoint_every_(static_cast<int>(p.get_int("checkpoint_every"))),
      load_path_(p.get_string("load")) {
  auto fail_at = [&p](const char* param) {
    return [&p, param](const YAML::Node& where, const std::string& message) { p.fail(param, where, message); };
  };
  const nn::Shape input_shape = parse_shape(p.get_node("input_shape"), fail_at("input_shape"));
  network_ = build_network(p.get_node("layers"), input_shape, fail_at("layers"));
  // The epoch count is only known at run time; the schedule's total is set again in prepare().
  training_ = build_training(p.get_node("optimizer"), 1, fail_at("optimizer"));
  if (!train_ && load_path_.empty()) p.fail("train", "evaluation only (train: false) needs a checkpoint to load (set load: PATH)");
  summary_ = network_.network->summary() + "  optimizer: " + training_.description + "\n";
}

std::string SequentialModel::summary() const { return summary_; }

void SequentialModel::prepare(const pipeline::RunContext& context) {
  nn::use_single_threaded_blas();
  seed_ = context.seed;
  epochs_ = context.epochs;
  training_.schedule.total_epochs = context.epochs;
  if (checkpoint_path_.empty()) checkpoint_path_ = (context.output_dir / "model.ckpt").string();
  network_.network->initialize(mix_seed(seed_, hash_name("weights")));
  if (!load_path_.empty()) {
    load_weights(nn::load_checkpoint(load_path_), load_path_);
    // Training continues the checkpoint's epoch count; an evaluation is numbered by its own run.
    epoch_offset_ = train_ ? epochs_done_in_checkpoint_ : 0;
  }
  if (train_) {
    // Fail before training, not after it, when the checkpoint cannot be written.
    const std::filesystem::path dir = std::filesystem::path(checkpoint_path_).parent_path();
    std::error_code ec;
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
    if (ec) throw std::runtime_error("cannot create checkpoint directory " + dir.string() + ": " + ec.message());
  }
}

nn::Checkpoint SequentialModel::make_checkpoint() {
  nn::Checkpoint c;
  c.header["architecture"] = network_.network->architecture();
  c.header["optimizer"] = training_.optimizer->type();
  c.header["iterations"] = std::to_string(training_.optimizer->iterations);
  c.header["epochs_done"] = std::to_string(run_epochs_done_ + epoch_offset_);
  c.header["run_epochs_done"] = std::to_string(run_epochs_done_);
  c.header["seed"] = std::to_string(seed_);
  std::string partial;
  char buf[96];
  for (const auto& t : trained_) {
    std::snprintf(buf, sizeof buf, "%a,%zu,%a;", t.loss, t.correct, t.learning_rate);
    partial += buf;
  }
  c.header["partial_epoch_batches"] = partial;
  auto parameters = network_.network->parameters();
  for (const auto& p : parameters) c.tensors.emplace_back(p.name, *p.value);
  for (const auto& [name, tensor] : training_.optimizer->state(parameters)) c.tensors.emplace_back(name, *tensor);
  return c;
}

void SequentialModel::load_weights(const nn::Checkpoint& c, const std::string& name) {
  const std::string architecture = network_.network->architecture();
  auto header = [&](const std::string& key) {
    auto it = c.header.find(key);
    if (it == c.header.end()) throw nn::CheckpointError(name + ": checkpoint has no '" + key + "' entry");
    return it->second;
  };
  if (header("architecture") != architecture)
    throw nn::CheckpointError(name + ": checkpoint is of a different network\n  checkpoint: " + header("architecture") +
                              "\n  config:     " + architecture);
  auto parameters = network_.network->parameters();
  for (const auto& p : parameters) {
    const nn::Tensor* t = c.find(p.name);
    if (!t || t->shape() != p.value->shape()) throw nn::CheckpointError(name + ": checkpoint lacks tensor '" + p.name + "' of the right shape");
    *p.value = *t;
  }
  if (header("optimizer") == training_.optimizer->type()) {
    for (auto& [state_name, tensor] : training_.optimizer->state(parameters)) {
      const nn::Tensor* t = c.find(state_name);
      if (!t || t->shape() != tensor->shape()) throw nn::CheckpointError(name + ": checkpoint lacks optimizer state '" + state_name + "'");
      *tensor = *t;
    }
    training_.optimizer->iterations = std::stoull(header("iterations"));
  }
  try {
    epochs_done_in_checkpoint_ = std::stoi(header("epochs_done"));
    run_epochs_in_checkpoint_ = c.header.count("run_epochs_done") ? std::stoi(header("run_epochs_done")) : epochs_done_in_checkpoint_;
  } catch (const std::logic_error&) {
    throw nn::CheckpointError(name + ": checkpoint has a malformed epoch count");
  }
  checkpoint_partial_.clear();
  auto partial = c.header.find("partial_epoch_batches");
  if (partial == c.header.end()) return;
  std::size_t start = 0;
  const std::string& text = partial->second;
  while (start < text.size()) {
    const std::size_t end = text.find(';', start);
    TrainedBatch t;
    char* rest = nullptr;
    const std::string item = text.substr(start, end - start);
    t.loss = std::strtod(item.c_str(), &rest);
    if (*rest != ',') throw nn::CheckpointError(name + ": malformed partial epoch record");
    t.correct = std::strtoull(rest + 1, &rest, 10);
    if (*rest != ',') throw nn::CheckpointError(name + ": malformed partial epoch record");
    t.learning_rate = std::strtod(rest + 1, &rest);
    checkpoint_partial_.push_back(t);
    if (end == std::string::npos) break;
    start = end + 1;
  }
}

std::optional<int> SequentialModel::restore(const pipeline::RunContext&) {
  if (!train_ || !std::filesystem::exists(checkpoint_path_)) return std::nullopt;
  load_weights(nn::load_checkpoint(checkpoint_path_), checkpoint_path_);
  epoch_offset_ = epochs_done_in_checkpoint_ - run_epochs_in_checkpoint_;
  run_epochs_done_ = run_epochs_in_checkpoint_;
  replay_ = checkpoint_partial_;
  replay_epoch_ = run_epochs_done_;
  std::cerr << "model: resuming from " << checkpoint_path_ << " at epoch " << run_epochs_done_ + epoch_offset_ + 1
            << (replay_.empty() ? "" : ", after " + std::to_string(replay_.size()) + " trained batches") << "\n";
  return run_epochs_done_;
}

void SequentialModel::save() { nn::save_checkpoint(make_checkpoint(), checkpoint_path_); }

void SequentialModel::consume(const pipeline::Payload& input, std::string_view stream, pipeline::Emitter& out) {
  const Batch& b = input.get<Batch>();
  const bool training = train_ && stream == train_stream_;
  const int epoch = b.epoch + epoch_offset_;
  const auto& shape = network_.network->input_shape();
  if (b.x.size() / std::max<std::size_t>(1, b.size()) != nn::shape_size(shape))
    throw std::runtime_error("batch of samples shaped (" + std::to_string(b.x.shape()[1]) + ", " + std::to_string(b.x.shape()[2]) +
                             ", " + std::to_string(b.x.shape()[3]) + ") does not fit the model's input_shape " +
                             nn::shape_string(shape));
  if (b.y.shape()[1] != network_.network->output_shape()[0])
    throw std::runtime_error("targets have " + std::to_string(b.y.shape()[1]) + " classes but the model outputs " +
                             std::to_string(network_.network->output_shape()[0]));
  BatchResult r;
  r.stream = std::string(stream);
  r.training = training;
  r.epoch = epoch;
  r.epochs = epochs_ + epoch_offset_;
  r.batch = b.number;
  auto known = batches_per_epoch_.find(r.stream);
  r.batches_per_epoch = known == batches_per_epoch_.end() ? 0 : known->second;
  batches_seen_[r.stream] = b.number + 1;
  r.labels = b.labels;
  r.indices = b.indices;
  if (training && b.epoch == replay_epoch_ && static_cast<std::size_t>(b.number) < replay_.size()) {
    // Trained on before the interruption: report what it gave then, do not train twice.
    const TrainedBatch& t = replay_[static_cast<std::size_t>(b.number)];
    trained_.push_back(t);
    r.loss = t.loss;
    r.correct = t.correct;
    r.learning_rate = t.learning_rate;
    out.emit(pipeline::Payload::of(std::move(r)));
    return;
  }
  nn::ensure_shape(input_, nn::batch_shape(b.size(), shape));
  std::copy(b.x.data(), b.x.data() + b.x.size(), input_.data());
  nn::Tensor targets = b.y;

  nn::PassContext context;
  context.training = training;
  context.seed = mix_seed(mix_seed(seed_, static_cast<std::uint64_t>(epoch)), static_cast<std::uint64_t>(b.number));
  const nn::Tensor& logits = network_.network->forward(input_, context);
  const double rate = training_.schedule.rate(training_.learning_rate, epoch);
  nn::LossResult loss = nn::softmax_cross_entropy(logits, targets, probabilities_, training ? &grad_ : nullptr);
  if (!std::isfinite(loss.loss))
    throw std::runtime_error("loss is " + std::to_string(loss.loss) + " at epoch " + std::to_string(epoch + 1) + ", batch " +
                             std::to_string(b.number + 1) + " of stream '" + std::string(stream) +
                             "'; training diverged: lower the learning rate (now " + std::to_string(rate) + ")");
  if (training) {
    network_.network->backward(grad_);
    training_.optimizer->step(network_.network->parameters(), rate);
    trained_.push_back(TrainedBatch{loss.loss, rate, loss.correct});
  }
  r.loss = loss.loss;
  r.correct = loss.correct;
  r.learning_rate = rate;
  r.predicted = std::move(loss.predicted);
  r.probabilities = xt::xtensor<float, 2>::from_shape({b.size(), probabilities_.shape()[1]});
  std::copy(probabilities_.data(), probabilities_.data() + probabilities_.size(), r.probabilities.data());
  r.inputs = std::shared_ptr<const Batch>(std::make_shared<pipeline::Payload>(input), &b);
  out.emit(pipeline::Payload::of(std::move(r)));
}

void SequentialModel::on_epoch_end(int epoch, pipeline::Emitter&) {
  for (const auto& [stream, n] : batches_seen_) batches_per_epoch_[stream] = n;
  batches_seen_.clear();
  trained_.clear();
  run_epochs_done_ = epoch + 1;
  if (train_ && checkpoint_every_ > 0 && run_epochs_done_ % checkpoint_every_ == 0 && run_epochs_done_ < epochs_) save();
}

void SequentialModel::finish(bool interrupted, pipeline::Emitter&) {
  if (!train_) return;
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
  spec.summary = "Model: a stack of layers from the config (conv2d, max_pool2d, dense, relu, flatten, dropout, "
                 "softmax) trained with softmax cross-entropy; evaluates every stream but the train stream.";
  spec.kind = StageKind::Processor;
  spec.input = kBatchType;
  spec.output = kBatchResultType;
  spec.params = {
      yaml_param("input_shape", ParamType::List, "[28, 28, 1]", "shape of one sample (height, width, channels)"),
      required_param("layers", ParamType::List, "the layers, e.g. [{conv2d: {filters: 20, kernel: 5}}, relu, ...]"),
      yaml_param("optimizer", ParamType::Map, "{type: sgd, learning_rate: 0.01}",
                 "sgd (learning_rate, momentum, nesterov, weight_decay) or adam (learning_rate, beta1, beta2, "
                 "epsilon); optional schedule: {type: constant|step|exponential|cosine, ...}"),
      string_param("train_stream", "train", "the stream trained on; every other stream is evaluated"),
      bool_param("train", true, "false: only evaluate (needs load)"),
      string_param("load", "", "checkpoint to start from (weights, optimizer state, epochs done)"),
      string_param("checkpoint", "", "where to save the model (default: <output_dir>/model.ckpt)"),
      int_param("checkpoint_every", 0, "also save every N epochs (0 = only at the end)").min(0),
  };
  spec.create = [](const Params& p) { return std::make_unique<SequentialModel>(p); };
  return spec;
}

}  // namespace stages

PIPELINE_REGISTER_STAGE(stages::sequential_spec())
namespace {
// TBB owns the cores (see nn::gemm.hpp); set before anything, so --version and the run header tell the truth.
[[maybe_unused]] const bool blas_single_threaded = (nn::use_single_threaded_blas(), true);
[[maybe_unused]] const bool blas_version_line = pipeline::add_version_line([] { return nn::blas_description(); });
[[maybe_unused]] const bool kernels_version_line = pipeline::add_version_line([] {
  return std::string("vector kernels: ") + nn::simd::kernels().name + " (this CPU runs " +
         nn::simd::kernel_names(nn::simd::runnable_kernels()) +
         "; PIPELINE_SIMD picks a lower one); convolutions: Winograd F(2x2,5x5) for 5x5/1 with 8+ input channels, "
         "direct for up to 48 filters, else im2col + BLAS";
});
}  // namespace
