#pragma once
// "batch_result": what the model stage emits per batch, for metrics and report sinks.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "common/samples.hpp"
#include "model/model_record.hpp"

namespace stages {

struct BatchResult {
  std::string stream;
  bool training = false;   // weights were updated with this batch
  int epoch = 0;           // 0-based
  int epochs = 1;          // of the run
  std::int64_t batch = 0;  // batch number within the stream's epoch
  std::int64_t batches_per_epoch = 0;  // 0 when unknown
  double loss = 0;         // mean over the batch
  std::size_t correct = 0;
  double learning_rate = 0;
  std::vector<int> predicted, labels;
  std::vector<std::int64_t> indices;
  xt::xtensor<float, 2> probabilities;  // (N, classes)
  std::shared_ptr<const Batch> inputs;  // the batch itself (e.g. to show misclassified images)
  std::chrono::steady_clock::time_point finished{};  // when the model had the result (epoch times)
  std::shared_ptr<const ModelRecord> model;
  std::shared_ptr<const SampleNames> names;  // names of the samples by index (image files), when the source has them  // the layers, and the weights at each epoch's end
  std::size_t size() const { return labels.size(); }
};

inline constexpr const char* kBatchResultType = "batch_result";

}  // namespace stages
