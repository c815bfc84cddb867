#pragma once
// Seeds derived from (run seed, epoch, sample index, ...) so that randomness never depends on which thread
// ran a task or in which order tasks ran.
#include <cstdint>
#include <string_view>

namespace stages {

inline std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

inline std::uint64_t mix_seed(std::uint64_t a, std::uint64_t b) { return splitmix64(a ^ splitmix64(b)); }

inline std::uint64_t hash_name(std::string_view name) {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (char c : name) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  return h;
}

}  // namespace stages
