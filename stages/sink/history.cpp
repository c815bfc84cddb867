#include "sink/history.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/json_writer.hpp"
#include "common/output_file.hpp"
#include "pipeline/registry.hpp"
#include "pipeline/version.hpp"

namespace stages {

HistorySink::HistorySink(const pipeline::Params& p)
    : csv_param_(p.get_string("csv")),
      json_param_(p.get_string("json")),
      predictions_param_(p.get_string("predictions")),
      write_predictions_(p.get_bool("save_predictions")),
      history_(p.get_string("train_stream")) {}

std::vector<std::filesystem::path> HistorySink::output_files(const std::filesystem::path& output_dir) const {
  std::vector<std::filesystem::path> files = {output_path(csv_param_, output_dir, "history.csv"),
                                              output_path(json_param_, output_dir, "history.json")};
  if (write_predictions_) files.push_back(output_path(predictions_param_, output_dir, "predictions.csv"));
  return files;
}

void HistorySink::prepare(const pipeline::RunContext& context) {
  context_ = context;
  context_.profile = nullptr;
  csv_path_ = output_path(csv_param_, context.output_dir, "history.csv");
  json_path_ = output_path(json_param_, context.output_dir, "history.json");
  predictions_path_ = output_path(predictions_param_, context.output_dir, "predictions.csv");
  ensure_writable_folder(csv_path_);
  ensure_writable_folder(json_path_);
  if (write_predictions_) ensure_writable_folder(predictions_path_);
  history_.start();
}

void HistorySink::consume(const pipeline::Payload& input, std::string_view, pipeline::Emitter&) {
  const auto& r = input.get<BatchResult>();
  history_.add(r);
  if (!write_predictions_ || r.training) return;
  char buf[32];
  for (std::size_t i = 0; i < r.size(); ++i) {
    predictions_ += r.stream + "," + std::to_string(r.indices[i]) + "," + std::to_string(r.labels[i]) + "," +
                    std::to_string(r.predicted[i]);
    for (std::size_t k = 0; k < r.probabilities.shape()[1]; ++k) {
      std::snprintf(buf, sizeof buf, ",%.6g", static_cast<double>(r.probabilities(i, k)));
      predictions_ += buf;
    }
    predictions_ += "\n";
  }
}

std::optional<std::string> HistorySink::save_state(bool mid_epoch) {
  if (mid_epoch) return std::nullopt;  // the model replays the interrupted epoch's results to us
  pipeline::StateWriter w;
  history_.save(w);
  w.str(last_predictions_);
  return w.take();
}

void HistorySink::restore_state(const std::string& state) {
  pipeline::StateReader r(state);
  history_.load(r);
  last_predictions_ = r.str();
  r.expect_end();
  // Rows an interrupted run wrote after its last saved state are dropped here, and written again.
  write_file_atomically(csv_path_, csv());
  write_file_atomically(json_path_, json(false, false));
}

std::string HistorySink::csv() const {
  const auto names = history_.metric_names();
  std::string out = "epoch";
  for (const auto& n : names) out += "," + n;
  out += ",lr,seconds\n";
  char buf[64];
  for (const auto& row : history_.rows()) {
    out += std::to_string(row.epoch - 1);  // CSVLogger counts epochs from 0
    for (const auto& n : names) {
      std::snprintf(buf, sizeof buf, ",%.6f", history_.metric(row, n));
      out += buf;
    }
    std::snprintf(buf, sizeof buf, ",%.6g,%.3f\n", row.learning_rate, row.seconds);
    out += buf;
  }
  return out;
}

std::string HistorySink::json(bool finished, bool interrupted) const {
  JsonWriter w;
  w.begin_object();
  w.field("name", context_.pipeline_name).field("config_file", context_.config_file);
  w.field("seed", static_cast<long long>(context_.seed)).field("epochs", context_.epochs).field("threads", context_.threads);
  w.key("versions").begin_object().field("pipeline", pipeline::version());
  w.key("build").begin_array();
  for (const auto& line : pipeline::version_lines()) w.value(line);
  w.end_array().end_object();
  w.field("finished", finished).field("interrupted", interrupted);
  const auto names = history_.metric_names();
  w.key("history").begin_array();
  for (const auto& row : history_.rows()) {
    w.begin_object().field("epoch", row.epoch);
    for (const auto& n : names) w.field(n, history_.metric(row, n));
    w.field("lr", row.learning_rate).field("seconds", row.seconds).end_object();
  }
  w.end_array();
  if (!history_.rows().empty()) {
    w.key("final").begin_object();
    for (const auto& n : names) w.field(n, history_.metric(history_.rows().back(), n));
    w.end_object();
  }
  w.key("classification_report").begin_object();
  for (const auto& [stream, matrix] : history_.last_confusion()) {
    w.key(stream).begin_object();
    w.key("classes").begin_array();
    for (std::size_t k = 0; k < matrix.classes(); ++k) {
      const ClassScores s = matrix.scores(k);
      w.begin_object().field("class", k).field("precision", s.precision).field("recall", s.recall);
      w.field("f1", s.f1).field("support", s.support).end_object();
    }
    w.end_array();
    w.field("accuracy", matrix.accuracy());
    w.key("confusion_matrix").begin_array();
    for (std::size_t t = 0; t < matrix.classes(); ++t) {
      w.begin_array();
      for (std::size_t p = 0; p < matrix.classes(); ++p) w.value(static_cast<long long>(matrix.at(t, p)));
      w.end_array();
    }
    w.end_array().end_object();
  }
  w.end_object();
  w.field("config", context_.config_text);
  w.end_object();
  return w.str() + "\n";
}

void HistorySink::on_epoch_end(int, pipeline::Emitter&) {
  if (!history_.close_epoch()) return;
  last_predictions_.swap(predictions_);
  predictions_.clear();
  write_file_atomically(csv_path_, csv());
  write_file_atomically(json_path_, json(false, false));
}

void HistorySink::finish(bool interrupted, pipeline::Emitter&) {
  write_file_atomically(csv_path_, csv());
  write_file_atomically(json_path_, json(true, interrupted));
  if (!write_predictions_) return;
  std::string header = "stream,index,label,predicted";
  std::size_t classes = 0;
  for (const auto& [stream, matrix] : history_.last_confusion()) classes = std::max(classes, matrix.classes());
  for (std::size_t k = 0; k < classes; ++k) header += ",p" + std::to_string(k);
  write_file_atomically(predictions_path_, header + "\n" + last_predictions_);
}

static pipeline::StageSpec history_spec() {
  using namespace pipeline;
  StageSpec spec;
  spec.type = "history";
  spec.summary = "Sink: per-epoch history as CSV (Keras CSVLogger layout, plus lr and seconds) and JSON (with "
                 "config, seed, versions, final metrics and report); optional test predictions.";
  spec.kind = StageKind::Processor;
  spec.input = kBatchResultType;
  spec.params = {
      string_param("csv", "", "CSV path (default <output_dir>/history.csv)"),
      string_param("json", "", "JSON path (default <output_dir>/history.json)"),
      bool_param("save_predictions", false, "write index, label, prediction and probabilities of the evaluated streams"),
      string_param("predictions", "", "predictions path (default <output_dir>/predictions.csv)"),
      string_param("train_stream", "train", "the stream whose metrics have no val_ prefix"),
  };
  spec.create = [](const Params& p) { return std::make_unique<HistorySink>(p); };
  return spec;
}

}  // namespace stages

PIPELINE_REGISTER_STAGE(stages::history_spec())
