#pragma once
// Per-stage counters the engine keeps for every stage, printed by `--profile`.
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

}  // namespace pipeline
