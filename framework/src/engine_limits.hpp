#pragma once
#include <cstddef>
#include <limits>

namespace pipeline {
// The sources form one ordering domain; every processor starts a domain of its own.
inline constexpr std::size_t kDriverDomain = std::numeric_limits<std::size_t>::max();
// Stateful stages fed (through transforms) by the sources each need a sequence slot in every message.
inline constexpr std::size_t kMaxOrderSlots = 8;
}  // namespace pipeline

namespace pipeline::engine {
// How many items ahead of apply() a transform is asked to prefetch (Transform::prefetch): far enough for memory to
// answer, near enough that what arrives is still in cache (4 and 8 measured alike; bench/README.md section 10).
inline constexpr std::size_t kPrefetchDistance = 4;

// Items per chunk a source's data travels in (engine_messages.hpp): the config's `chunk` (default 64, which makes
// the graph's per-message cost small beside the stages' own: bench/engine_bench), but at most an eighth of the
// buffer, so that several chunks are in flight to spread over the threads.
inline std::size_t chunk_items(long long chunk, long long buffer) {
  const long long eighth = buffer > 8 ? buffer / 8 : 1;
  return static_cast<std::size_t>(chunk < eighth ? chunk : eighth);
}
}  // namespace pipeline::engine
