// What moving data between the machine's two cores costs, the limit under the data stages and the scaling figures:
// the round trip of one cache line between two threads pinned to different CPUs, and a sample-sized buffer
// (28x28 floats, 3136 bytes) written on one core and read on the other through a ring of reused buffers (as scale
// hands its samples to the batcher), against the same write and read on one core.
//
//   build/bench/core_handoff [--samples N] [--repeats R]
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr std::size_t kFloats = 28 * 28, kRing = 64;
using Clock = std::chrono::steady_clock;

std::string cpu_name() {
  std::ifstream info("/proc/cpuinfo");
  std::string line, name = "unknown CPU", family, model;
  while (std::getline(info, line)) {
    const auto value = line.substr(line.find(':') + 2 <= line.size() ? line.find(':') + 2 : line.size());
    if (line.rfind("model name", 0) == 0 && name == "unknown CPU") name = value;
    if (line.rfind("cpu family", 0) == 0 && family.empty()) family = value;
    if (line.rfind("model\t", 0) == 0 && model.empty()) model = value;
  }
  return name + " (family " + family + " model " + model + ")";
}

// The first two CPUs this process may run on.
std::vector<int> two_cpus() {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof allowed, &allowed) == 0)
    for (int c = 0; c < CPU_SETSIZE && cpus.size() < 2; ++c)
      if (CPU_ISSET(c, &allowed)) cpus.push_back(c);
  return cpus;
}

void pin_to(int cpu) {
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  pthread_setaffinity_np(pthread_self(), sizeof one, &one);
}

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Nanoseconds per round trip of one cache line: each side waits for the other's last write.
double round_trip_ns(int a, int b, long trips) {
  alignas(64) std::atomic<long> turn{0};
  std::thread other([&] {
    pin_to(b);
    for (long i = 0; i < trips; ++i) {
      while (turn.load(std::memory_order_acquire) != 2 * i + 1) {}
      turn.store(2 * i + 2, std::memory_order_release);
    }
  });
  pin_to(a);
  const auto start = Clock::now();
  for (long i = 0; i < trips; ++i) {
    turn.store(2 * i + 1, std::memory_order_release);
    while (turn.load(std::memory_order_acquire) != 2 * i + 2) {}
  }
  const double s = seconds_since(start);
  other.join();
  return s * 1e9 / static_cast<double>(trips);
}

struct Ring {
  std::vector<std::uint32_t> slots = std::vector<std::uint32_t>(kRing * kFloats);
  alignas(64) std::atomic<long> written{0};
  alignas(64) std::atomic<long> read{0};
  std::uint32_t* slot(long i) { return slots.data() + static_cast<std::size_t>(i % kRing) * kFloats; }
};

// Words rather than floats, so that both loops vectorise and time the memory, not a chain of float additions.
void write_sample(std::uint32_t* to, long i) {
  for (std::size_t k = 0; k < kFloats; ++k) to[k] = static_cast<std::uint32_t>(i) + static_cast<std::uint32_t>(k);
}

std::uint32_t read_sample(const std::uint32_t* from) {
  std::uint32_t mixed = 0;
  for (std::size_t k = 0; k < kFloats; ++k) mixed ^= from[k];
  return mixed;
}

// Nanoseconds per sample written on `writer`'s CPU and read on `reader`'s (the same CPU: one thread does both).
double handoff_ns(int writer, int reader, long samples, std::uint32_t& checksum) {
  Ring ring;
  if (writer == reader) {
    pin_to(writer);
    const auto start = Clock::now();
    for (long i = 0; i < samples; ++i) {
      write_sample(ring.slot(i), i);
      checksum ^= read_sample(ring.slot(i));
    }
    return seconds_since(start) * 1e9 / static_cast<double>(samples);
  }
  std::uint32_t sum = 0;
  std::thread consumer([&] {
    pin_to(reader);
    for (long i = 0; i < samples; ++i) {
      while (ring.written.load(std::memory_order_acquire) <= i) {}
      sum ^= read_sample(ring.slot(i));
      ring.read.store(i + 1, std::memory_order_release);
    }
  });
  pin_to(writer);
  const auto start = Clock::now();
  for (long i = 0; i < samples; ++i) {
    while (ring.read.load(std::memory_order_acquire) + static_cast<long>(kRing) <= i) {}
    write_sample(ring.slot(i), i);
    ring.written.store(i + 1, std::memory_order_release);
  }
  consumer.join();
  checksum ^= sum;
  return seconds_since(start) * 1e9 / static_cast<double>(samples);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  long samples = 2000000;
  int repeats = 5;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (i + 1 < argc && flag == "--samples") samples = std::atol(argv[i + 1]);
    else if (i + 1 < argc && flag == "--repeats") repeats = std::atoi(argv[i + 1]);
    else return std::fprintf(stderr, "core_handoff: unknown or incomplete option %s\n", flag.c_str()), 2;
  }
  const std::vector<int> cpus = two_cpus();
  if (cpus.size() < 2 || samples < 1 || repeats < 1) {
    std::fprintf(stderr, "core_handoff: needs two CPUs to run on, --samples and --repeats of at least 1\n");
    return 2;
  }
  std::vector<double> trips, one_core, two_cores;
  std::uint32_t checksum = 0;
  for (int r = 0; r < repeats; ++r) {
    trips.push_back(round_trip_ns(cpus[0], cpus[1], samples / 10));
    one_core.push_back(handoff_ns(cpus[0], cpus[0], samples, checksum));
    two_cores.push_back(handoff_ns(cpus[0], cpus[1], samples, checksum));
  }
  std::printf("%s, CPUs %d and %d, medians of %d:\n", cpu_name().c_str(), cpus[0], cpus[1], repeats);
  std::printf("  cache-line round trip between the CPUs: %.1f ns\n", median(trips));
  std::printf("  a 3136-byte sample written and read on one CPU: %.1f ns; written on one, read on the other: %.1f ns "
              "(%.2fx)\n", median(one_core), median(two_cores), median(two_cores) / median(one_core));
  return checksum == 0xdeadbeef ? 3 : 0;  // keeps the reads from being optimised away
}
