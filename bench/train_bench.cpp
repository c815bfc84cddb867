// Steady-state speed of the LeNet model alone (no data pipeline), as PyTorch is measured with preloaded
// tensors: training and inference images per second at batch 128 (or --batch N), and the machine's SGEMM peak on
// the same threads. Prints one JSON object.
//   build/bench/train_bench [--threads N] [--train-batches N] [--repeats N] [--batch N]
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "model/model_config.hpp"
#include "model/nn/blas_select.hpp"
#include "model/nn/gemm.hpp"
#include "model/nn/optim/sgd.hpp"
#include "model/nn/softmax_cross_entropy.hpp"

namespace {

using Clock = std::chrono::steady_clock;

const char* kLeNet = R"([
  {conv2d: {filters: 20, kernel: 5, padding: same}}, relu, {max_pool2d: {pool: 2}},
  {conv2d: {filters: 50, kernel: 5, padding: same}}, relu, {max_pool2d: {pool: 2}},
  flatten, {dense: {units: 500}}, relu, {dense: {units: 10}}, softmax])";

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Each thread multiplies its own 1024x1024 matrices: the GEMM peak the model's tasks can reach together.
double sgemm_peak(int threads) {
  const std::size_t n = 1024;
  std::vector<std::vector<float>> a(static_cast<std::size_t>(threads), std::vector<float>(n * n, 1.0f)),
      c(static_cast<std::size_t>(threads), std::vector<float>(n * n));
  std::vector<float> b(n * n, 0.5f);
  const int reps = 6;
  const auto start = Clock::now();
  oneapi::tbb::parallel_for(0, threads, [&](int t) {
    for (int r = 0; r < reps; ++r)
      nn::gemm(false, false, n, n, n, 1.0f, a[static_cast<std::size_t>(t)].data(), n, b.data(), n, 0.0f,
               c[static_cast<std::size_t>(t)].data(), n);
  });
  return 2.0 * n * n * n * reps * threads / seconds_since(start) / 1e9;
}

// Median time to predict one image (batch 1), as a service answering one request would.
double single_image_latency_ms(nn::Sequential& net) {
  nn::Tensor image = nn::Tensor::from_shape({1, 28, 28, 1});
  std::mt19937_64 rng(5);
  std::vector<double> times;
  for (int i = 0; i < 520; ++i) {
    for (auto& v : image) v = std::uniform_real_distribution<float>(0, 1)(rng);
    const auto start = Clock::now();
    net.forward(image, {false, 1});
    if (i >= 20) times.push_back(1e3 * seconds_since(start));
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  nn::use_fast_blas_kernels(argv);  // OpenBLAS's kernels as `pipeline` picks them
  int threads = 2, train_batches = 60, repeats = 3, batch_size = 128;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const int value = std::atoi(argv[i + 1]);
    if (flag == "--threads") threads = value;
    else if (flag == "--train-batches") train_batches = value;
    else if (flag == "--repeats") repeats = value;
    else if (flag == "--batch") batch_size = value;
  }
  if (batch_size < 1 || threads < 1) {
    std::fprintf(stderr, "train_bench: --batch and --threads must be at least 1\n");
    return 2;
  }
  nn::use_single_threaded_blas();
  oneapi::tbb::task_arena arena(threads);
  double train_rate = 0, infer_rate = 0, peak = 0, flops_per_image = 0, performed_per_image = 0, latency_ms = 0;
  arena.execute([&] {
    auto spec = stages::build_network(kLeNet, {28, 28, 1});
    nn::Sequential& net = *spec.network;
    net.initialize(1);
    flops_per_image = 3.0 * net.forward_flops();  // the direct form's forward + backward (two products per layer)
    performed_per_image = net.training_flops();    // what the layers' algorithms compute
    nn::Sgd sgd({0.0, false, 0.0});
    const std::size_t batch = static_cast<std::size_t>(batch_size);
    nn::Tensor x = nn::Tensor::from_shape({batch, 28, 28, 1}), y = xt::zeros<float>({batch, std::size_t{10}}), probs, grad;
    std::mt19937_64 rng(3);
    for (auto& v : x) v = std::uniform_real_distribution<float>(0, 1)(rng);
    for (std::size_t i = 0; i < batch; ++i) y(i, i % 10) = 1;
    auto train_step = [&] {
      nn::softmax_cross_entropy(net.forward(x, {true, 1}), y, probs, &grad);
      net.backward(grad);
      sgd.step(net.parameters(), 0.01);
    };
    for (int i = 0; i < 5; ++i) train_step();  // warm-up: buffers allocated, caches hot
    std::vector<double> train, infer;
    for (int r = 0; r < repeats; ++r) {
      auto start = Clock::now();
      for (int i = 0; i < train_batches; ++i) train_step();
      train.push_back(static_cast<double>(train_batches * batch) / seconds_since(start));
      start = Clock::now();
      const int infer_batches = static_cast<int>((10000 + batch - 1) / batch);  // the 10,000-image test set
      for (int i = 0; i < infer_batches; ++i) nn::softmax_cross_entropy(net.forward(x, {false, 1}), y, probs, nullptr);
      infer.push_back(static_cast<double>(infer_batches * batch) / seconds_since(start));
    }
    std::sort(train.begin(), train.end());
    std::sort(infer.begin(), infer.end());
    train_rate = train[train.size() / 2];
    infer_rate = infer[infer.size() / 2];
    latency_ms = single_image_latency_ms(net);
    peak = sgemm_peak(threads);
  });
  std::printf("{\"threads\": %d, \"batch\": %d, \"train_images_per_second\": %.1f, \"inference_images_per_second\": %.1f, "
              "\"train_gflops\": %.2f, \"sgemm_peak_gflops\": %.2f, \"mflop_per_train_image\": %.2f, "
              "\"performed_train_gflops\": %.2f, \"performed_mflop_per_train_image\": %.2f, \"batch1_latency_ms\": %.4f, "
              "\"blas\": \"%s\"}\n",
              threads, batch_size, train_rate, infer_rate, train_rate * flops_per_image / 1e9, peak, flops_per_image / 1e6,
              train_rate * performed_per_image / 1e9, performed_per_image / 1e6, latency_ms,
              nn::blas_description().c_str());
  return 0;
}
