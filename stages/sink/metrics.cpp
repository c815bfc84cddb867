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
  for (std::size_t i = 0; i < r.size(); ++i)
    if (r.labels[i] != kUnlabeled) add(r.labels[i], r.predicted[i]);
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

ClassScores ConfusionMatrix::macro_average() const {
  ClassScores a;
  for (std::size_t k = 0; k < classes_; ++k) {
    const ClassScores s = scores(k);
    a.precision += s.precision;
    a.recall += s.recall;
    a.f1 += s.f1;
  }
  const double c = classes_ ? static_cast<double>(classes_) : 1.0;
  a.precision /= c, a.recall /= c, a.f1 /= c;
  a.support = total();
  return a;
}

ClassScores ConfusionMatrix::weighted_average() const {
  ClassScores a;
  for (std::size_t k = 0; k < classes_; ++k) {
    const ClassScores s = scores(k);
    const double w = static_cast<double>(s.support);
    a.precision += s.precision * w;
    a.recall += s.recall * w;
    a.f1 += s.f1 * w;
  }
  a.support = total();
  const double n = a.support ? static_cast<double>(a.support) : 1.0;
  a.precision /= n, a.recall /= n, a.f1 /= n;
  return a;
}

std::string class_label(std::size_t k, const std::vector<std::string>& names) {
  return k < names.size() ? names[k] : std::to_string(k);
}

std::string ConfusionMatrix::report(int digits, const std::vector<std::string>& names) const {
  std::size_t label_width = 12;
  for (const auto& name : names) label_width = std::max(label_width, name.size());
  const int lw = static_cast<int>(label_width), width = digits + 6;
  std::string out;
  char line[400];
  auto row = [&](const std::string& label, const ClassScores& s) {
    std::snprintf(line, sizeof line, "%*s %*.*f %*.*f %*.*f %*zu\n", lw, label.c_str(), width, digits, s.precision,
                  width, digits, s.recall, width, digits, s.f1, width, s.support);
    out += line;
  };
  std::snprintf(line, sizeof line, "%*s %*s %*s %*s %*s\n\n", lw, "", width, "precision", width, "recall", width,
                "f1-score", width, "support");
  out += line;
  for (std::size_t k = 0; k < classes_; ++k) row(class_label(k, names), scores(k));
  std::snprintf(line, sizeof line, "\n%*s %*s %*s %*.*f %*llu\n", lw, "accuracy", width, "", width, "", width, digits,
                accuracy(), width, static_cast<unsigned long long>(total()));
  out += line;
  row("macro avg", macro_average());
  row("weighted avg", weighted_average());
  return out;
}

std::string ConfusionMatrix::table(const std::vector<std::string>& names) const {
  std::size_t label_width = 9;  // "true\\pred"
  for (const auto& name : names) label_width = std::max(label_width, name.size());
  const int lw = static_cast<int>(label_width);
  char cell[200];
  std::snprintf(cell, sizeof cell, "%-*s", lw, "true\\pred");
  std::string out = cell;
  for (std::size_t k = 0; k < classes_; ++k) {  // columns: names cut to their cell
    std::snprintf(cell, sizeof cell, " %6.6s", class_label(k, names).c_str());
    out += cell;
  }
  out += "\n";
  for (std::size_t t = 0; t < classes_; ++t) {
    std::snprintf(cell, sizeof cell, "%*s", lw, class_label(t, names).c_str());
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
