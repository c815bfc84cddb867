#include "sink/tensorboard.hpp"

#include <unistd.h>

#include <chrono>
#include <iostream>

#include "common/output_file.hpp"
#include "common/png.hpp"
#include "pipeline/registry.hpp"
#include "sink/keras_model_json.hpp"
#include "sink/tensorboard_graph.hpp"

namespace stages {
namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

TensorBoardSink::TensorBoardSink(const pipeline::Params& p)
    : logdir_param_(p.get_string("logdir")),
      write_graph_(p.get_bool("write_graph")),
      write_images_(p.get_bool("write_images")),
      histogram_freq_(static_cast<int>(p.get_int("histogram_freq"))),
      history_(p.get_string("train_stream")) {}

std::vector<std::filesystem::path> TensorBoardSink::output_files(const std::filesystem::path& output_dir) const {
  return {output_path(logdir_param_, output_dir, "logs")};  // the folder: its event files are this sink's
}

void TensorBoardSink::prepare(const pipeline::RunContext& context) {
  logdir_ = output_path(logdir_param_, context.output_dir, "logs");
  char host[256] = "localhost";
  gethostname(host, sizeof host - 1);
  // The pid, as TensorFlow does: a file name unique per writer.
  file_name_ = "events.out.tfevents." + std::to_string(static_cast<long long>(now_seconds())) + "." + host + "." +
               std::to_string(::getpid()) + ".pipeline";
  for (const char* run : {"train", "validation"}) ensure_writable_folder(logdir_ / run / file_name_);
  // A new run replaces the event files an earlier run in its own (locked) output folder wrote, as it replaces
  // history.csv: one run's curves per logdir. A logdir elsewhere may be shared by runs: nothing is removed there.
  // A resumed run continues its files instead (restore_state).
  const auto relative = std::filesystem::weakly_canonical(logdir_).lexically_relative(
      std::filesystem::weakly_canonical(context.output_dir));
  const bool inside_output = !relative.empty() && *relative.begin() != "..";
  if (!context.resuming && inside_output) remove_earlier_event_files();
  history_.start();
}

void TensorBoardSink::remove_earlier_event_files() const {
  std::error_code ec;
  for (const auto& folder : std::filesystem::directory_iterator(logdir_, ec)) {
    if (!folder.is_directory(ec)) continue;
    for (const auto& file : std::filesystem::directory_iterator(folder.path(), ec)) {
      const std::string name = file.path().filename().string();
      if (name.rfind("events.out.tfevents.", 0) == 0 && name.size() > 9 && name.substr(name.size() - 9) == ".pipeline")
        std::filesystem::remove(file.path(), ec);
    }
  }
}

std::optional<std::string> TensorBoardSink::save_state(bool mid_epoch) {
  if (mid_epoch) return std::nullopt;
  pipeline::StateWriter w;
  w.u64(graph_written_ ? 1 : 0);
  w.u64(files_.size());
  for (const auto& [run, path] : files_) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) throw std::runtime_error("cannot read the size of " + path.string() + ": " + ec.message());
    w.str(run).str(path.string()).u64(size);
  }
  return w.take();
}

void TensorBoardSink::restore_state(const std::string& state) {
  pipeline::StateReader r(state);
  const bool graph_written = r.u64() != 0;
  std::map<std::string, std::filesystem::path> files;
  for (std::size_t n = r.count(24); n > 0; --n) {
    const std::string run = r.str();
    const std::filesystem::path path = r.str();
    const std::uint64_t size = r.u64();
    std::error_code ec;
    const auto now = std::filesystem::file_size(path, ec);
    if (ec || now < size)
      throw std::runtime_error("cannot resume the event file " + path.string() + ": it is " +
                               (ec ? "gone (" + ec.message() + ")" : "shorter than when the run state was saved"));
    std::filesystem::resize_file(path, size);
    files[run] = path;
  }
  r.expect_end();
  files_ = std::move(files);
  graph_written_ = graph_written;
}

void TensorBoardSink::append(const std::string& run, const std::string& records) {
  // Event files are appended record by record, as TensorFlow does; TensorBoard reads complete records only.
  pipeline::append_to_file(files_.at(run), records);
}

void TensorBoardSink::open_run(const std::string& run, double wall_time, std::map<std::string, std::string>& records) {
  if (files_.count(run)) return;
  files_[run] = logdir_ / run / file_name_;
  ensure_writable_folder(files_[run]);
  records[run] += tfrecord(event_file_version(wall_time));  // a run's file starts with it, as TensorFlow's
}

// Keras writes the graph to the train run when training begins.
void TensorBoardSink::write_graph(const ModelRecord& model) {
  const double t = now_seconds();
  std::map<std::string, std::string> records;
  open_run("train", t, records);
  records["train"] += tfrecord(event_graph(t, graph_def_bytes(model)));
  records["train"] += tfrecord(event_keras_model(t, keras_model_json(model)));
  append("train", records["train"]);
  graph_written_ = true;
}

void TensorBoardSink::consume(const pipeline::Payload& input, std::string_view, pipeline::Emitter&) {
  const auto& result = input.get<BatchResult>();
  history_.add(result);
  if (!model_ && result.model) {
    model_ = result.model;
    if (write_images_ || histogram_freq_ > 0) model_->want_weights();
  }
  if (model_ && write_graph_ && !graph_written_) write_graph(*model_);
}

// Keras' _log_weights: a histogram of every weight every histogram_freq epochs (epochs 1, 1 + N, ...); and with
// write_images, every weight as an image at each epoch's end. Appended record by record: an image of the dense
// kernel is a megabyte, and a few of them in one string would raise the run's peak memory for nothing.
void TensorBoardSink::write_weights(const WeightsSnapshot& weights, int epoch, std::int64_t step, double wall_time) {
  if (histogram_freq_ > 0 && epoch % histogram_freq_ == 0) {
    std::size_t k = 0;
    for (const LayerRecord& layer : model_->layers())
      for (const ParameterRecord& p : layer.parameters) {
        const std::vector<float>& w = weights.values.at(k++);
        append("train", tfrecord(event_histogram(wall_time, step, weight_tag(layer, p), make_histogram(w.data(), w.size()))));
      }
  }
  if (write_images_)
    for (const WeightImage& image : weight_images(*model_, weights))
      append("train", tfrecord(event_image(wall_time, step, image, encode_png_gray(image.pixels.data(), image.width, image.height))));
}

void TensorBoardSink::on_epoch_end(int epoch, pipeline::Emitter&) {
  if (!history_.close_epoch()) return;
  const EpochRow& row = history_.rows().back();
  const double t = now_seconds();
  const std::int64_t step = row.epoch - 1;  // Keras logs epoch summaries at step = epoch index
  std::map<std::string, std::string> records;
  for (const auto& [stream, stats] : row.streams) {
    const bool train = stream == history_.train_stream();
    // A single evaluated stream is "validation", as in Keras; several keep their names.
    const std::string run = train ? "train" : (history_.prefix(stream) == "val_" ? "validation" : stream);
    open_run(run, t, records);
    records[run] += tfrecord(event_scalar(t, step, "epoch_loss", static_cast<float>(stats.loss())));
    records[run] += tfrecord(event_scalar(t, step, "epoch_accuracy", static_cast<float>(stats.accuracy())));
    if (train) records[run] += tfrecord(event_scalar(t, step, "epoch_learning_rate", static_cast<float>(row.learning_rate)));
  }
  std::shared_ptr<const WeightsSnapshot> weights;
  if (write_images_ || histogram_freq_ > 0) {
    weights = model_ ? model_->take_weights(epoch) : nullptr;
    if (weights) {
      open_run("train", t, records);
    } else if (!warned_no_weights_) {
      warned_no_weights_ = true;
      std::cerr << "tensorboard: warning: write_images and histogram_freq need the model's weights, and the results "
                   "reaching this sink carry none (is a `sequential` model stage upstream?)\n";
    }
  }
  for (const auto& [run, data] : records) append(run, data);
  if (weights) write_weights(*weights, epoch, step, t);
}

static pipeline::StageSpec tensorboard_spec() {
  using namespace pipeline;
  StageSpec spec;
  spec.type = "tensorboard";
  spec.summary = "Sink: TensorBoard event files as Keras' TensorBoard callback writes them: logdir/train and "
                 "logdir/validation with epoch_loss, epoch_accuracy, epoch_learning_rate; the model graph; weight "
                 "images and histograms.";
  spec.kind = StageKind::Processor;
  spec.input = kBatchResultType;
  spec.params = {
      string_param("logdir", "", "log folder for `tensorboard --logdir` (default <output_dir>/logs)"),
      string_param("train_stream", "train", "the stream logged as the train run"),
      bool_param("write_graph", true, "the model's graph for the Graphs tab (op graph and Keras' conceptual graph)"),
      bool_param("write_images", false, "every weight as an image at each epoch's end (Images tab)"),
      int_param("histogram_freq", 0, "histograms of every weight every N epochs (Histograms and Distributions "
                                     "tabs; 0 = none)").min(0),
  };
  spec.create = [](const Params& p) { return std::make_unique<TensorBoardSink>(p); };
  return spec;
}

}  // namespace stages

PIPELINE_REGISTER_STAGE(stages::tensorboard_spec())
