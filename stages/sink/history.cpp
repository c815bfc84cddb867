#include "sink/history.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/number_text.hpp"
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
  const auto& names = context_.class_names;
  for (std::size_t i = 0; i < r.size(); ++i) {
    predictions_ += r.stream + "," + std::to_string(r.indices[i]) + "," + std::to_string(r.labels[i]) + "," +
                    std::to_string(r.predicted[i]);
    if (!names.empty())
      predictions_ += "," + (r.labels[i] == kUnlabeled ? std::string() : csv_field(class_label(static_cast<std::size_t>(r.labels[i]), names))) + "," +
                      csv_field(class_label(static_cast<std::size_t>(r.predicted[i]), names));
    for (std::size_t k = 0; k < r.probabilities.shape()[1]; ++k) predictions_ += "," + shortest_text(r.probabilities(i, k));
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
  for (const auto& row : history_.rows()) {
    out += std::to_string(row.epoch - 1);  // CSVLogger counts epochs from 0
    // Values at full precision, as CSVLogger writes repr(float).
    for (const auto& n : names) out += "," + shortest_text(history_.metric(row, n));
    out += "," + shortest_text(row.learning_rate) + "," + shortest_text(row.seconds) + "\n";
  }
  return out;
}

namespace {

nlohmann::ordered_json scores_json(const ClassScores& s) {
  return {{"precision", s.precision}, {"recall", s.recall}, {"f1-score", s.f1}, {"support", s.support}};
}

// scikit-learn's classification_report(output_dict=True) layout, plus the confusion matrix.
nlohmann::ordered_json report_json(const ConfusionMatrix& matrix, const std::vector<std::string>& names) {
  nlohmann::ordered_json report, classes = nlohmann::ordered_json::array();
  for (std::size_t k = 0; k < matrix.classes(); ++k) {
    nlohmann::ordered_json row = {{"class", k}};
    if (k < names.size()) row["name"] = names[k];
    row.update(scores_json(matrix.scores(k)));
    classes.push_back(row);
  }
  report["classes"] = classes;
  report["accuracy"] = matrix.accuracy();
  report["macro avg"] = scores_json(matrix.macro_average());
  report["weighted avg"] = scores_json(matrix.weighted_average());
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (std::size_t t = 0; t < matrix.classes(); ++t) {
    nlohmann::ordered_json row = nlohmann::ordered_json::array();
    for (std::size_t p = 0; p < matrix.classes(); ++p) row.push_back(matrix.at(t, p));
    rows.push_back(row);
  }
  report["confusion_matrix"] = rows;
  return report;
}

}  // namespace

std::string HistorySink::json(bool finished, bool interrupted) const {
  nlohmann::ordered_json j;
  j["name"] = context_.pipeline_name;
  j["config_file"] = context_.config_file;
  j["seed"] = context_.seed;
  j["epochs"] = context_.epochs;
  j["threads"] = context_.threads;
  j["versions"] = {{"pipeline", pipeline::version()}, {"build", pipeline::version_lines()}};
  j["finished"] = finished;
  j["interrupted"] = interrupted;
  if (!context_.class_names.empty()) j["class_names"] = context_.class_names;
  const auto names = history_.metric_names();
  j["history"] = nlohmann::ordered_json::array();
  for (const auto& row : history_.rows()) {
    nlohmann::ordered_json r = {{"epoch", row.epoch - 1}};  // counted from 0, as history.csv and Keras' History
    for (const auto& n : names) r[n] = history_.metric(row, n);
    r["lr"] = row.learning_rate;
    r["seconds"] = row.seconds;
    j["history"].push_back(r);
  }
  if (!history_.rows().empty()) {
    nlohmann::ordered_json last;
    for (const auto& n : names) last[n] = history_.metric(history_.rows().back(), n);
    j["final"] = last;
  }
  j["classification_report"] = nlohmann::ordered_json::object();
  for (const auto& [stream, matrix] : history_.last_confusion())
    j["classification_report"][stream] = report_json(matrix, context_.class_names);
  j["config"] = context_.config_text;
  return j.dump(2) + "\n";
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
  if (!context_.class_names.empty()) header += ",label_name,predicted_name";
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
