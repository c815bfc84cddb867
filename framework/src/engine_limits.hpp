#pragma once
#include <cstddef>
#include <limits>

namespace pipeline {
// The sources form one ordering domain; every processor starts a domain of its own.
inline constexpr std::size_t kDriverDomain = std::numeric_limits<std::size_t>::max();
// Stateful stages fed (through transforms) by the sources each need a sequence slot in every message.
inline constexpr std::size_t kMaxOrderSlots = 8;
}  // namespace pipeline
