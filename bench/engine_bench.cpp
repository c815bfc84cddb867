// The engine's own cost per item and node kind: pipelines of stages that do nothing (a counting source, identity
// transforms, relaying processors, a counting sink), timed end to end, once with items sent one by one (chunk 1)
// and once in the default chunks. Per node kind: (time with four more nodes of that kind - time without) / 4.
//
//   build/bench/engine_bench [--items N] [--repeats R] [--threads T]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/config.hpp"
#include "pipeline/pipeline.hpp"
#include "pipeline/registry.hpp"

namespace {

constexpr const char* kItemType = "bench_item";

struct Item {
  std::uint64_t value;
};

class CountingSource final : public pipeline::Source {
 public:
  explicit CountingSource(std::uint64_t items) : items_(items) {}
  void start_epoch(int) override { next_ = 0; }
  std::optional<pipeline::Payload> next() override {
    if (next_ == items_) return std::nullopt;
    return pipeline::Payload::of(Item{next_++});
  }
  std::string stream() const override { return "train"; }

 private:
  std::uint64_t items_, next_ = 0;
};

class Identity final : public pipeline::Transform {
 public:
  pipeline::Payload apply(const pipeline::Payload& input, std::string_view) const override { return input; }
};

class Relay final : public pipeline::Processor {
 public:
  void consume(const pipeline::Payload& input, std::string_view, pipeline::Emitter& out) override { out.emit(input); }
};

class CountingSink final : public pipeline::Processor {
 public:
  void consume(const pipeline::Payload& input, std::string_view, pipeline::Emitter&) override {
    sum_ += input.get<Item>().value;
  }
  void finish(bool, pipeline::Emitter&) override {
    if (sum_ == 0) std::fprintf(stderr, "engine_bench: the sink saw nothing\n");
  }

 private:
  std::uint64_t sum_ = 0;
};

pipeline::StageSpec spec(const std::string& type, pipeline::StageKind kind, std::string input, std::string output,
                         std::function<std::unique_ptr<pipeline::Stage>(const pipeline::Params&)> create) {
  pipeline::StageSpec s;
  s.type = type;
  s.summary = "engine_bench: " + type;
  s.kind = kind;
  s.input = std::move(input);
  s.output = std::move(output);
  s.parallel = kind == pipeline::StageKind::Transform;
  s.create = std::move(create);
  return s;
}

const bool registered = [] {
  using pipeline::StageKind;
  auto& r = pipeline::Registry::instance();
  pipeline::StageSpec source = spec("bench_source", StageKind::Source, "", kItemType, [](const pipeline::Params& p) {
    return std::make_unique<CountingSource>(static_cast<std::uint64_t>(p.get_int("items")));
  });
  source.params = {pipeline::int_param("items", 1000, "items per epoch")};
  r.add(std::move(source));
  r.add(spec("bench_identity", StageKind::Transform, kItemType, kItemType,
             [](const pipeline::Params&) { return std::make_unique<Identity>(); }));
  r.add(spec("bench_relay", StageKind::Processor, kItemType, kItemType,
             [](const pipeline::Params&) { return std::make_unique<Relay>(); }));
  r.add(spec("bench_sink", StageKind::Processor, kItemType, "",
             [](const pipeline::Params&) { return std::make_unique<CountingSink>(); }));
  return true;
}();

// source → `extra` nodes of `type` (none: "") → sink.
std::string config_text(const std::string& type, int extra, long long items, long long chunk, int threads) {
  std::string text = "name: engine_bench\nepochs: 1\nthreads: " + std::to_string(threads) +
                     "\nchunk: " + std::to_string(chunk) + "\noutput_dir: " +
                     (std::filesystem::temp_directory_path() / "engine_bench").string() +
                     "\nstages:\n  source: {type: bench_source, items: " + std::to_string(items) + "}\n";
  std::string previous = "source";
  for (int i = 0; i < extra; ++i) {
    const std::string name = "node" + std::to_string(i);
    text += "  " + name + ": {type: " + type + ", inputs: [" + previous + "]}\n";
    previous = name;
  }
  return text + "  sink: {type: bench_sink, inputs: [" + previous + "]}\n";
}

double median_seconds(const std::string& text, int repeats) {
  std::vector<double> times;
  for (int r = 0; r < repeats; ++r) {
    pipeline::Pipeline p = pipeline::Pipeline::build(pipeline::parse_config(text, "engine_bench"));
    const auto start = std::chrono::steady_clock::now();
    p.run();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  long long items = 1000000;
  int repeats = 5, threads = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--items") items = std::atoll(argv[i + 1]);
    else if (flag == "--repeats") repeats = std::atoi(argv[i + 1]);
    else if (flag == "--threads") threads = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: engine_bench [--items N] [--repeats R] [--threads T]\n");
      return 2;
    }
  }
  if (!registered) return 1;
  std::printf("%lld items, %d threads, medians of %d runs; ns of wall time per item\n\n", items, threads, repeats);
  std::printf("| chunk | source -> sink | per transform node | per processor node | items/s, source -> sink |\n");
  std::printf("| --- | --- | --- | --- | --- |\n");
  for (long long chunk : {1LL, 64LL}) {
    const double base = median_seconds(config_text("", 0, items, chunk, threads), repeats);
    const double transforms = median_seconds(config_text("bench_identity", 4, items, chunk, threads), repeats);
    const double processors = median_seconds(config_text("bench_relay", 4, items, chunk, threads), repeats);
    const double per_item = 1e9 / static_cast<double>(items);
    std::printf("| %lld | %.0f | %.0f | %.0f | %.2fM |\n", chunk, base * per_item, (transforms - base) / 4 * per_item,
                (processors - base) / 4 * per_item, static_cast<double>(items) / base / 1e6);
  }
  return 0;
}
