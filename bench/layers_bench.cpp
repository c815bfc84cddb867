// Forward and backward of each LeNet layer at batch 128, with the shapes of configs/lenet_mnist.yaml.
//   build/bench/layers_bench --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <oneapi/tbb/task_arena.h>

#include <memory>
#include <random>

#include "model/nn/blas_select.hpp"
#include "model/nn/layers/batch_norm.hpp"
#include "model/nn/layers/conv2d.hpp"
#include "model/nn/layers/dense.hpp"
#include "model/nn/layers/dropout.hpp"
#include "model/nn/layers/flatten.hpp"
#include "model/nn/layers/relu.hpp"
#include "model/nn/gemm.hpp"
#include "model/nn/layers/max_pool2d.hpp"

using namespace nn;

namespace {

constexpr std::size_t kBatch = 128;

Tensor random_input(const Shape& shape) {
  Tensor t = Tensor::from_shape(batch_shape(kBatch, shape));
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  for (auto& v : t) v = u(rng);
  return t;
}

template <class Make>
void run_layer(benchmark::State& state, Make make, bool backward, bool want_dx, bool training = false) {
  use_single_threaded_blas();
  oneapi::tbb::task_arena arena(static_cast<int>(state.range(0)));
  std::unique_ptr<Layer> layer = make();
  std::mt19937_64 rng(2);
  layer->initialize(rng);
  Tensor x = random_input(layer->input_shape()), y, dx;
  const PassContext context{training, 1};
  arena.execute([&] { layer->forward(x, y, context); });
  Tensor dy = random_input(layer->output_shape());
  for (auto _ : state) {
    arena.execute([&] {
      if (backward)
        layer->backward(x, y, dy, dx, want_dx);
      else
        layer->forward(x, y, context);
    });
    benchmark::ClobberMemory();
  }
  const double flops = layer->forward_flops() * kBatch * (backward && want_dx ? 2.0 : 1.0);
  state.counters["GFLOP/s"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
  state.counters["img/s"] = benchmark::Counter(kBatch, benchmark::Counter::kIsIterationInvariantRate);
}

// LeNet's first layer needs no dL/dx; the others do.
#define LAYER_BENCH_DX(name, expr, want_dx)                                                                        \
  void name##_forward(benchmark::State& s) { run_layer(s, [] { return std::unique_ptr<Layer>(expr); }, false, want_dx); } \
  void name##_backward(benchmark::State& s) { run_layer(s, [] { return std::unique_ptr<Layer>(expr); }, true, want_dx); } \
  BENCHMARK(name##_forward)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);               \
  BENCHMARK(name##_backward)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond)
#define LAYER_BENCH(name, expr) LAYER_BENCH_DX(name, expr, true)

// conv layers run with the default algorithm (conv1: direct kernel; conv2: Winograd) and with im2col + SGEMM, for
// the ratio; their GFLOP/s count the direct convolution's FLOPs (×2 for backward; ×1 for conv1's, which has no dL/dx).
LAYER_BENCH_DX(conv1, new Conv2D({28, 28, 1}, 20, 5, 1, Padding::Same), false);
LAYER_BENCH_DX(conv1_im2col, new Conv2D({28, 28, 1}, 20, 5, 1, Padding::Same, ConvAlgorithm::Im2col), false);
LAYER_BENCH(relu1, new ReLU({28, 28, 20}));
LAYER_BENCH(pool1, new MaxPool2D({28, 28, 20}, 2, 2));
LAYER_BENCH(conv2, new Conv2D({14, 14, 20}, 50, 5, 1, Padding::Same));
LAYER_BENCH(conv2_im2col, new Conv2D({14, 14, 20}, 50, 5, 1, Padding::Same, ConvAlgorithm::Im2col));
LAYER_BENCH(pool2, new MaxPool2D({14, 14, 50}, 2, 2));
LAYER_BENCH(dense1, new Dense({2450}, 500));
LAYER_BENCH(dense2, new Dense({500}, 10));

// batch_norm after conv1, in training mode (batch statistics).
void bn1_forward(benchmark::State& s) {
  run_layer(s, [] { return std::unique_ptr<Layer>(new BatchNorm({28, 28, 20}, 0.99, 1e-3)); }, false, true, true);
}
void bn1_backward(benchmark::State& s) {
  run_layer(s, [] { return std::unique_ptr<Layer>(new BatchNorm({28, 28, 20}, 0.99, 1e-3)); }, true, true, true);
}
BENCHMARK(bn1_forward)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(bn1_backward)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

// The machine's single-precision GEMM peak as OpenBLAS reaches it, for the % of peak figures.
void sgemm_peak(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::vector<float> a(n * n, 1.0f), b(n * n, 0.5f), c(n * n);
  for (auto _ : state) {
    gemm(false, false, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * n * n * n, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}
BENCHMARK(sgemm_peak)->Arg(1024)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

// OpenBLAS's kernels as `pipeline` picks them (blas_select.hpp), then Google Benchmark's own main.
int main(int argc, char** argv) {
  nn::use_fast_blas_kernels(argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
