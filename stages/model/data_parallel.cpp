#include "model/data_parallel.hpp"

#include <cstring>
#include <stdexcept>

#include "pipeline/state_codec.hpp"

namespace stages {
namespace {

// One rank's share of a batch's results, as sent to rank 0.
struct Share {
  double total_loss = 0;
  std::uint64_t correct = 0, rows = 0, classes = 0, pixels = 0;  // pixels: values per input image, 0 if not sent
  std::vector<int> predicted, labels;
  std::vector<std::int64_t> indices;
  std::vector<float> probabilities, x;
};

template <class T>
void put(pipeline::StateWriter& w, const std::vector<T>& v) {
  w.u64(v.size()).raw(v.data(), v.size() * sizeof(T));
}

template <class T>
std::vector<T> take(pipeline::StateReader& r) {
  std::vector<T> v(r.count(sizeof(T)));
  r.raw(v.data(), v.size() * sizeof(T));
  return v;
}

std::string encode(const Share& s) {
  pipeline::StateWriter w(64 + s.rows * 24 + (s.probabilities.size() + s.x.size()) * sizeof(float));
  w.f64(s.total_loss).u64(s.correct).u64(s.rows).u64(s.classes).u64(s.pixels);
  put(w, s.predicted);
  put(w, s.labels);
  put(w, s.indices);
  put(w, s.probabilities);
  put(w, s.x);
  return w.take();
}

Share decode(const std::string& bytes) {
  pipeline::StateReader r(bytes);
  Share s;
  s.total_loss = r.f64();
  s.correct = r.u64();
  s.rows = r.u64();
  s.classes = r.u64();
  s.pixels = r.u64();
  s.predicted = take<int>(r);
  s.labels = take<int>(r);
  s.indices = take<std::int64_t>(r);
  s.probabilities = take<float>(r);
  s.x = take<float>(r);
  return s;
}

// 64-bit FNV-1a over a tensor's bytes: equal weights give equal hashes on every rank.
std::uint64_t hash_bytes(std::uint64_t h, const void* data, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ULL;
  return h;
}

}  // namespace

DataParallel::DataParallel(pipeline::Communicator& world, bool overlap)
    : metrics_(world.channel()), world_(world), overlap_(overlap), rank_(world.rank()), ranks_(world.size()) {}

std::unique_ptr<nn::GradientSync> DataParallel::make_gradient_sync() {
  std::shared_ptr<pipeline::Communicator> channel = world_.channel();
  return std::make_unique<nn::GradientSync>([channel](float* data, std::size_t n) { channel->sum(data, n); },
                                            overlap_);
}

std::size_t DataParallel::batch_rows(std::size_t local_rows) {
  double rows = static_cast<double>(local_rows);
  metrics_->sum(&rows, 1);
  return static_cast<std::size_t>(rows);
}

void DataParallel::combine(BatchResult& result, const nn::StepResult& step, const Batch& batch) {
  Share mine;
  mine.total_loss = step.total_loss;
  mine.correct = step.correct;
  mine.rows = batch.size();
  mine.classes = step.probabilities->dimension() == 2 ? step.probabilities->shape()[1] : 0;
  mine.predicted = step.predicted;
  mine.labels = batch.labels;
  mine.indices = batch.indices;
  mine.probabilities.assign(step.probabilities->begin(), step.probabilities->end());
  if (!result.training && batch.size() > 0) {
    mine.pixels = batch.x.size() / batch.size();
    mine.x.assign(batch.x.begin(), batch.x.end());
  }
  const std::vector<std::string> all = metrics_->gather(encode(mine));
  if (rank_ != 0) return;
  std::vector<Share> shares;
  std::uint64_t rows = 0, correct = 0, classes = 0, pixels = 0, most = 0;
  double total_loss = 0;
  for (const std::string& bytes : all) {
    shares.push_back(decode(bytes));
    const Share& s = shares.back();
    rows += s.rows, correct += s.correct, total_loss += s.total_loss;
    classes = std::max(classes, s.classes), pixels = std::max(pixels, s.pixels), most = std::max(most, s.rows);
  }
  result.loss = rows > 0 ? total_loss / static_cast<double>(rows) : 0;
  result.correct = correct;
  result.predicted.clear(), result.labels.clear(), result.indices.clear();
  result.probabilities = xt::xtensor<float, 2>::from_shape({rows, classes});
  auto whole = std::make_shared<Batch>();
  if (pixels > 0) {
    auto shape = batch.x.shape();
    shape[0] = rows;
    whole->x = xt::xarray<float>::from_shape(shape);
  }
  // Row j of rank r is row j * ranks + r of the whole batch: the sources deal samples out in turn.
  std::size_t out = 0;
  for (std::size_t j = 0; j < most; ++j)
    for (const Share& s : shares) {
      if (j >= s.rows) continue;
      result.predicted.push_back(s.predicted[j]);
      result.labels.push_back(s.labels[j]);
      result.indices.push_back(s.indices[j]);
      std::copy_n(s.probabilities.data() + j * classes, classes, result.probabilities.data() + out * classes);
      if (pixels > 0) std::copy_n(s.x.data() + j * pixels, pixels, whole->x.data() + out * pixels);
      ++out;
    }
  if (pixels > 0) {
    whole->stream = batch.stream;
    whole->epoch = batch.epoch;
    whole->number = batch.number;
    whole->batches_in_epoch = batch.batches_in_epoch;
    whole->labels = result.labels;
    whole->indices = result.indices;
    result.inputs = whole;
  } else {
    result.inputs = nullptr;  // a training batch's images stay on their ranks
  }
}

void DataParallel::agree_on_weights(nn::Sequential& network, int epoch) {
  for (auto& [name, tensor] : network.state()) {
    metrics_->sum(tensor->data(), tensor->size());
    for (float& v : *tensor) v /= static_cast<float>(ranks_);
  }
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const nn::Parameter& p : network.parameters()) h = hash_bytes(h, p.value->data(), p.value->size() * sizeof(float));
  for (auto& [name, tensor] : network.state()) h = hash_bytes(h, tensor->data(), tensor->size() * sizeof(float));
  std::string mine(sizeof h, '\0');
  std::memcpy(mine.data(), &h, sizeof h);
  const std::vector<std::string> all = metrics_->all_gather(mine);
  for (std::size_t r = 1; r < all.size(); ++r)
    if (all[r] != all[0])
      throw std::runtime_error("after epoch " + std::to_string(epoch + 1) + " the weights of rank " + std::to_string(r) +
                               " differ from rank 0's: the ranks no longer train one model (an MPI reduction that "
                               "is not the same on every rank, or a stage that draws different randomness per rank)");
}

}  // namespace stages
