#pragma once
// Per-stage counters the engine keeps for every stage, printed by `--profile`.
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace pipeline {

struct StageProfile {
  std::string name;
  std::string type;
  bool parallel = false;
  std::uint64_t items_in = 0;
  std::uint64_t items_out = 0;
  double busy_seconds = 0;  // summed over threads for parallel stages
};

struct Profile {
  double wall_seconds = 0;
  int threads = 0;
  std::vector<StageProfile> stages;
  int state_saves = 0;             // run states written (see Processor::save_state)
  double state_save_seconds = 0;   // their encoding and writing, flushed to the disk
  std::uint64_t state_bytes = 0;   // the last one's size
  std::string table() const;
};

// Lock-free counters updated from the graph's tasks, added to once per chunk. A cache line each: stages running on
// different threads must not contend for one line (with per-item updates on shared lines, the data-only config ran
// no faster on 2 threads than on 1).
struct alignas(64) StageCounters {
  std::atomic<std::uint64_t> items_in{0};
  std::atomic<std::uint64_t> items_out{0};
  std::atomic<std::uint64_t> busy_ns{0};
};

}  // namespace pipeline
