#include "sink/metrics.hpp"

#include <cstdio>
#include <stdexcept>

#include <xtensor/xmath.hpp>
#include <xtensor/xview.hpp>

namespace stages {

void StreamStats::add(const BatchResult& r) {
  loss_sum += r.loss * static_cast<double>(r.size());
  samples += r.size();
  correct += r.correct;
  ++batches;
  learning_rate = r.learning_rate;
}

void StreamStats::save(pipeline::StateWriter& w) const {
  w.f64(loss_sum).u64(samples).u64(correct).u64(batches).f64(learning_rate);
}

StreamStats StreamStats::load(pipeline::StateReader& r) {
  StreamStats s;
  s.loss_sum = r.f64();
  s.samples = r.u64();
  s.correct = r.u64();
  s.batches = r.u64();
  s.learning_rate = r.f64();
  return s;
}

void ConfusionMatrix::save(pipeline::StateWriter& w) const {
  w.u64(classes_);
  for (std::uint64_t count : counts_) w.u64(count);
}

ConfusionMatrix ConfusionMatrix::load(pipeline::StateReader& r) {
  const std::size_t classes = r.count(8);
  if (classes * classes > r.remaining() / 8) throw pipeline::StateError("damaged: bad class count");
  ConfusionMatrix m(classes);
  for (std::uint64_t& count : m.counts_) count = r.u64();
  return m;
}

void ConfusionMatrix::add(int truth, int predicted) {
  if (truth < 0 || predicted < 0 || static_cast<std::size_t>(truth) >= classes_ ||
      static_cast<std::size_t>(predicted) >= classes_)
    throw std::out_of_range("confusion matrix: class " + std::to_string(truth) + "/" + std::to_string(predicted) +
                            " outside 0.." + std::to_string(classes_ - 1));
  ++counts_(static_cast<std::size_t>(truth), static_cast<std::size_t>(predicted));
}

void ConfusionMatrix::add(const BatchResult& r) {
  for (std::size_t i = 0; i < r.size(); ++i) add(r.labels[i], r.predicted[i]);
}

std::uint64_t ConfusionMatrix::total() const { return xt::sum(counts_)(); }

ClassScores ConfusionMatrix::scores(std::size_t cls) const {
  const std::uint64_t tp = at(cls, cls), predicted = xt::sum(xt::col(counts_, static_cast<std::ptrdiff_t>(cls)))(),
                      actual = xt::sum(xt::row(counts_, static_cast<std::ptrdiff_t>(cls)))();
  ClassScores s;
  s.support = actual;
  s.precision = predicted ? static_cast<double>(tp) / static_cast<double>(predicted) : 0.0;
  s.recall = actual ? static_cast<double>(tp) / static_cast<double>(actual) : 0.0;
  s.f1 = s.precision + s.recall > 0 ? 2 * s.precision * s.recall / (s.precision + s.recall) : 0.0;
  return s;
}

double ConfusionMatrix::accuracy() const {
  const std::uint64_t tp = classes_ ? xt::sum(xt::diagonal(counts_))() : 0, n = total();
  return n ? static_cast<double>(tp) / static_cast<double>(n) : 0.0;
}

std::string ConfusionMatrix::report(int digits) const {
  std::string out;
  char line[200];
  const int width = digits + 6;
  std::snprintf(line, sizeof line, "%12s %*s %*s %*s %*s\n\n", "", width, "precision", width, "recall", width,
                "f1-score", width, "support");
  out += line;
  double macro[3] = {0, 0, 0}, weighted[3] = {0, 0, 0};
  const std::uint64_t n = total();
  for (std::size_t k = 0; k < classes_; ++k) {
    const ClassScores s = scores(k);
    std::snprintf(line, sizeof line, "%12zu %*.*f %*.*f %*.*f %*zu\n", k, width, digits, s.precision, width, digits,
                  s.recall, width, digits, s.f1, width, s.support);
    out += line;
    macro[0] += s.precision;
    macro[1] += s.recall;
    macro[2] += s.f1;
    const double w = static_cast<double>(s.support);
    weighted[0] += s.precision * w;
    weighted[1] += s.recall * w;
    weighted[2] += s.f1 * w;
  }
  const double c = classes_ ? static_cast<double>(classes_) : 1.0, total_w = n ? static_cast<double>(n) : 1.0;
  std::snprintf(line, sizeof line, "\n%12s %*s %*s %*.*f %*llu\n", "accuracy", width, "", width, "", width, digits,
                accuracy(), width, static_cast<unsigned long long>(n));
  out += line;
  std::snprintf(line, sizeof line, "%12s %*.*f %*.*f %*.*f %*llu\n", "macro avg", width, digits, macro[0] / c, width,
                digits, macro[1] / c, width, digits, macro[2] / c, width, static_cast<unsigned long long>(n));
  out += line;
  std::snprintf(line, sizeof line, "%12s %*.*f %*.*f %*.*f %*llu\n", "weighted avg", width, digits, weighted[0] / total_w,
                width, digits, weighted[1] / total_w, width, digits, weighted[2] / total_w, width,
                static_cast<unsigned long long>(n));
  out += line;
  return out;
}

std::string ConfusionMatrix::table() const {
  std::string out = "true\\pred";
  char cell[32];
  for (std::size_t k = 0; k < classes_; ++k) {
    std::snprintf(cell, sizeof cell, " %6zu", k);
    out += cell;
  }
  out += "\n";
  for (std::size_t t = 0; t < classes_; ++t) {
    std::snprintf(cell, sizeof cell, "%9zu", t);
    out += cell;
    for (std::size_t p = 0; p < classes_; ++p) {
      std::snprintf(cell, sizeof cell, " %6llu", static_cast<unsigned long long>(at(t, p)));
      out += cell;
    }
    out += "\n";
  }
  return out;
}

void EpochTracker::add(const BatchResult& r) {
  current_[r.stream].add(r);
  if (r.training) return;
  auto it = confusion_.find(r.stream);
  if (it == confusion_.end()) it = confusion_.emplace(r.stream, ConfusionMatrix(r.probabilities.shape()[1])).first;
  it->second.add(r);
}

std::map<std::string, StreamStats> EpochTracker::close_epoch() {
  std::map<std::string, StreamStats> done;
  done.swap(current_);
  if (!confusion_.empty()) {
    last_confusion_.swap(confusion_);
    confusion_.clear();
  }
  return done;
}

}  // namespace stages
