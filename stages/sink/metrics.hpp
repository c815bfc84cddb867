#pragma once
// Metrics built from the model's per-batch results: running epoch statistics and the confusion matrix with
// its per-class report (scikit-learn's classification_report layout).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <xtensor/xbuilder.hpp>
#include <xtensor/xtensor.hpp>

#include "model/results.hpp"
#include "pipeline/state_codec.hpp"

namespace stages {

struct StreamStats {
  double loss_sum = 0;  // sum of per-sample losses
  std::size_t samples = 0;
  std::size_t correct = 0;
  std::size_t batches = 0;
  double learning_rate = 0;
  void add(const BatchResult& r);
  double loss() const { return samples ? loss_sum / static_cast<double>(samples) : 0.0; }
  double accuracy() const { return samples ? static_cast<double>(correct) / static_cast<double>(samples) : 0.0; }
  void save(pipeline::StateWriter& w) const;
  static StreamStats load(pipeline::StateReader& r);
};

struct ClassScores {
  double precision = 0, recall = 0, f1 = 0;
  std::size_t support = 0;
};

// names[k], or k when the classes have no names.
std::string class_label(std::size_t k, const std::vector<std::string>& names);

class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(std::size_t classes = 0)
      : classes_(classes), counts_(xt::zeros<std::uint64_t>({classes, classes})) {}
  void add(int truth, int predicted);
  void add(const BatchResult& r);
  std::size_t classes() const { return classes_; }
  std::uint64_t at(std::size_t truth, std::size_t predicted) const { return counts_(truth, predicted); }
  std::uint64_t total() const;
  // Zero (not NaN) where a class has no predictions or no samples, as scikit-learn's zero_division=0.
  ClassScores scores(std::size_t cls) const;
  // scikit-learn's "macro avg" (unweighted mean over classes) and "weighted avg" (by support); support = all.
  ClassScores macro_average() const;
  ClassScores weighted_average() const;
  double accuracy() const;
  // classification_report; rows named by `names` where given (else the class number).
  std::string report(int digits = 4, const std::vector<std::string>& names = {}) const;
  std::string table(const std::vector<std::string>& names = {}) const;  // the matrix, rows = true class
  void save(pipeline::StateWriter& w) const;
  static ConfusionMatrix load(pipeline::StateReader& r);

 private:
  std::size_t classes_;
  xt::xtensor<std::uint64_t, 2> counts_;  // rows: true class, columns: predicted class
};

// Per stream and epoch: what the console, history and report sinks all need.
class EpochTracker {
 public:
  void add(const BatchResult& r);
  // Closes the epoch: returns its statistics per stream and starts the next.
  std::map<std::string, StreamStats> close_epoch();
  const std::map<std::string, StreamStats>& current() const { return current_; }
  // Confusion matrix of each evaluated (non-training) stream in the current epoch.
  const std::map<std::string, ConfusionMatrix>& confusion() const { return confusion_; }
  const std::map<std::string, ConfusionMatrix>& last_confusion() const { return last_confusion_; }
  void restore_last_confusion(std::map<std::string, ConfusionMatrix> matrices) { last_confusion_ = std::move(matrices); }

 private:
  std::map<std::string, StreamStats> current_;
  std::map<std::string, ConfusionMatrix> confusion_, last_confusion_;
};

}  // namespace stages
