#include "sink/console.hpp"

#include <unistd.h>

#include "pipeline/registry.hpp"

namespace stages {

ConsoleSink::ConsoleSink(const pipeline::Params& p, std::FILE* out)
    : out_(out),
      report_(p.get_bool("report")),
      log_every_(p.get_int("log_every")),
      history_(p.get_string("train_stream")) {
  const std::string progress = p.get_string("progress");
  live_ = progress == "bar" || (progress == "auto" && isatty(fileno(out_)));
}

void ConsoleSink::prepare(const pipeline::RunContext& context) {
  epochs_ = context.epochs;
  class_names_ = context.class_names;
  epoch_start_ = std::chrono::steady_clock::now();
  history_.start();
}

void ConsoleSink::progress(const BatchResult& r) {
  const StreamStats& s = running_[r.stream];
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start_).count();
  const double rate = seconds > 0 ? static_cast<double>(s.samples) / seconds : 0.0;
  std::string count = std::to_string(s.batches);
  if (r.batches_per_epoch > 0) count += "/" + std::to_string(r.batches_per_epoch);
  if (live_) {
    std::string bar;
    if (r.batches_per_epoch > 0) {
      const int width = 30;
      const int filled = static_cast<int>(width * static_cast<double>(s.batches) / static_cast<double>(r.batches_per_epoch));
      bar = "[" + std::string(static_cast<std::size_t>(std::min(filled, width)), '=') +
            std::string(static_cast<std::size_t>(width - std::min(filled, width)), '.') + "] ";
    }
    std::string eta;
    if (r.batches_per_epoch > 0 && s.batches > 0) {
      const double left = seconds / static_cast<double>(s.batches) * static_cast<double>(r.batches_per_epoch - static_cast<std::int64_t>(s.batches));
      char buf[32];
      std::snprintf(buf, sizeof buf, " - ETA %.0fs", std::max(0.0, left));
      eta = buf;
    }
    std::fprintf(out_, "\r\033[K%s %s%s - %.0f img/s - loss: %.4f - accuracy: %.4f%s", r.stream.c_str(), bar.c_str(),
                 count.c_str(), rate, s.loss(), s.accuracy(), eta.c_str());
    std::fflush(out_);
    line_open_ = true;
  } else if (log_every_ > 0 && static_cast<long long>(s.batches) % log_every_ == 0) {
    std::fprintf(out_, "  %s batch %s - %.0f img/s - loss: %.4f - accuracy: %.4f\n", r.stream.c_str(), count.c_str(), rate,
                 s.loss(), s.accuracy());
    std::fflush(out_);
  }
}

void ConsoleSink::consume(const pipeline::Payload& input, std::string_view, pipeline::Emitter&) {
  const auto& r = input.get<BatchResult>();
  epochs_ = std::max(epochs_, r.epochs);  // a resumed run counts the epochs of its checkpoint too
  history_.add(r);
  running_[r.stream].add(r);
  progress(r);
}

std::string ConsoleSink::epoch_line(const EpochRow& row, int epochs, const EpochHistory& history) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "Epoch %d/%d - %.1fs", row.epoch, epochs, row.seconds);
  std::string line = buf;
  auto append = [&](const std::string& stream, const StreamStats& s) {
    const std::string prefix = history.prefix(stream);
    std::snprintf(buf, sizeof buf, " - %sloss: %.4f - %saccuracy: %.4f", prefix.c_str(), s.loss(), prefix.c_str(), s.accuracy());
    line += buf;
  };
  if (auto it = row.streams.find(history.train_stream()); it != row.streams.end()) append(it->first, it->second);
  for (const auto& [stream, s] : row.streams)
    if (stream != history.train_stream()) append(stream, s);
  return line;
}

void ConsoleSink::on_epoch_end(int, pipeline::Emitter&) {
  epoch_start_ = std::chrono::steady_clock::now();
  running_.clear();
  if (!history_.close_epoch()) return;
  last_epoch_ = history_.rows().back().epoch - 1;
  if (line_open_) std::fputs("\r\033[K", out_);
  line_open_ = false;
  std::fprintf(out_, "%s\n", epoch_line(history_.rows().back(), epochs_, history_).c_str());
  std::fflush(out_);
}

void ConsoleSink::finish(bool interrupted, pipeline::Emitter&) {
  if (line_open_) std::fputs("\n", out_);
  if (interrupted) std::fprintf(out_, "(interrupted after %d complete epoch(s))\n", last_epoch_ + 1);
  if (!report_) return;
  for (const auto& [stream, matrix] : history_.last_confusion()) {
    std::fprintf(out_, "\nClassification report (%s, epoch %d):\n\n%s\nConfusion matrix (rows: true class, columns: predicted):\n%s",
                 stream.c_str(), last_epoch_ + 1, matrix.report(4, class_names_).c_str(), matrix.table(class_names_).c_str());
  }
  std::fflush(out_);
}

static pipeline::StageSpec console_spec() {
  using namespace pipeline;
  StageSpec spec;
  spec.type = "console";
  spec.summary = "Sink: Keras-style per-epoch lines, a live progress bar on a terminal, and the final "
                 "classification report and confusion matrix.";
  spec.kind = StageKind::Processor;
  spec.input = kBatchResultType;
  spec.params = {
      string_param("progress", "auto", "live progress bar: auto (only on a terminal), bar, or none").one_of({"auto", "bar", "none"}),
      int_param("log_every", 0, "without a live bar, print a plain progress line every N batches (0 = never)").min(0),
      bool_param("report", true, "print the classification report and confusion matrix at the end"),
      string_param("train_stream", "train", "the stream whose metrics have no val_ prefix"),
  };
  spec.create = [](const Params& p) { return std::make_unique<ConsoleSink>(p, stdout); };
  return spec;
}

}  // namespace stages

PIPELINE_REGISTER_STAGE(stages::console_spec())
