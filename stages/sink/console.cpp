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
  last_result_ = std::chrono::steady_clock::now();
  history_.start();
}

namespace {

// Keras' bar: [=====>........] of `width`, '>' at the head while the epoch goes on.
std::string bar_of(std::int64_t done, std::int64_t total, int width = 30) {
  const auto filled = static_cast<int>(std::min<std::int64_t>(width, width * done / std::max<std::int64_t>(1, total)));
  std::string bar = "[" + std::string(static_cast<std::size_t>(filled), '=');
  if (filled < width) bar += ">" + std::string(static_cast<std::size_t>(width - filled - 1), '.');
  return bar + "]";
}

std::string duration_text(double seconds) {
  char buf[32];
  if (seconds >= 3600) std::snprintf(buf, sizeof buf, "%d:%02d:%02d", static_cast<int>(seconds / 3600),
                                     static_cast<int>(seconds / 60) % 60, static_cast<int>(seconds) % 60);
  else if (seconds >= 60) std::snprintf(buf, sizeof buf, "%d:%02d", static_cast<int>(seconds / 60), static_cast<int>(seconds) % 60);
  else std::snprintf(buf, sizeof buf, "%.0fs", seconds);
  return buf;
}

}  // namespace

void ConsoleSink::progress(const BatchResult& r) {
  const auto now = std::chrono::steady_clock::now();
  const StreamStats& s = running_[r.stream];
  const auto started = stream_start_.emplace(r.stream, last_result_).first->second;
  last_result_ = now;
  const double seconds = std::chrono::duration<double>(now - started).count();
  const double rate = seconds > 0 ? static_cast<double>(s.samples) / seconds : 0.0;
  const double ms_per_step = s.batches ? 1e3 * seconds / static_cast<double>(s.batches) : 0.0;
  const std::int64_t done = static_cast<std::int64_t>(s.batches), total = r.batches_per_epoch;
  std::string count = std::to_string(done) + (total > 0 ? "/" + std::to_string(total) : "");
  char metrics[160];
  std::snprintf(metrics, sizeof metrics, " - %.0fms/step - %.0f img/s - loss: %.4f - accuracy: %.4f", ms_per_step, rate,
                s.loss(), s.accuracy());
  if (live_) {
    if (!epoch_header_printed_) {
      std::fprintf(out_, "%sEpoch %d/%d\n", line_open_ ? "\r\033[K" : "", r.epoch + 1, epochs_);
      epoch_header_printed_ = true;
    }
    std::string head = r.stream + " " + count;
    if (total > 0) {
      const double left = done > 0 ? seconds / static_cast<double>(done) * static_cast<double>(total - done) : 0.0;
      head += " " + bar_of(done, total) + " - " + (done < total ? "ETA: " + duration_text(std::max(0.0, left))
                                                                 : duration_text(seconds));
    }
    std::fprintf(out_, "\r\033[K%s%s", head.c_str(), metrics);
    std::fflush(out_);
    line_open_ = true;
  } else if (log_every_ > 0 && static_cast<long long>(s.batches) % log_every_ == 0) {
    std::fprintf(out_, "  %s batch %s%s\n", r.stream.c_str(), count.c_str(), metrics);
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
  char buf[64];
  std::snprintf(buf, sizeof buf, "Epoch %d/%d - %.1fs", row.epoch, epochs, row.seconds);
  return buf + metrics_text(row, history);
}

std::string ConsoleSink::metrics_text(const EpochRow& row, const EpochHistory& history) {
  std::string line;
  char buf[160];
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

// On a terminal, under the "Epoch n/N" header: Keras' closing line, the full bar with the epoch's time per step.
std::string ConsoleSink::bar_line(const EpochRow& row, const EpochHistory& history) {
  const auto train = row.streams.find(history.train_stream());
  const auto steps = static_cast<std::int64_t>(train != row.streams.end() ? train->second.batches : 0);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%lld/%lld %s - %.1fs %.0fms/step", static_cast<long long>(steps),
                static_cast<long long>(steps), bar_of(steps, steps).c_str(), row.seconds,
                steps ? 1e3 * row.seconds / static_cast<double>(steps) : 0.0);
  return buf + metrics_text(row, history);
}

void ConsoleSink::on_epoch_end(int, pipeline::Emitter&) {
  last_result_ = std::chrono::steady_clock::now();
  running_.clear();
  stream_start_.clear();
  epoch_header_printed_ = false;
  if (!history_.close_epoch()) return;
  last_epoch_ = history_.rows().back().epoch - 1;
  if (line_open_) std::fputs("\r\033[K", out_);
  line_open_ = false;
  const EpochRow& row = history_.rows().back();
  std::fprintf(out_, "%s\n", (live_ ? bar_line(row, history_) : epoch_line(row, epochs_, history_)).c_str());
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

std::optional<std::string> ConsoleSink::save_state(bool mid_epoch) {
  if (mid_epoch) return std::nullopt;  // the model replays the interrupted epoch's results
  pipeline::StateWriter w;
  history_.save(w);
  return w.take();
}

void ConsoleSink::restore_state(const std::string& state) {
  pipeline::StateReader r(state);
  history_.load(r);
  r.expect_end();
  if (!history_.rows().empty()) last_epoch_ = history_.rows().back().epoch - 1;
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
