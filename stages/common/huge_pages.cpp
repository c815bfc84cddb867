#include "common/huge_pages.hpp"

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace stages {
namespace {

constexpr std::size_t kHugePage = std::size_t{2} << 20;

// Below this a few ordinary pages do.
constexpr std::size_t kWorthIt = 4 * kHugePage;

void advise_huge_pages(std::uint8_t* begin, std::size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  const auto first = (reinterpret_cast<std::uintptr_t>(begin) + kHugePage - 1) & ~(kHugePage - 1);
  const auto last = (reinterpret_cast<std::uintptr_t>(begin) + bytes) & ~(kHugePage - 1);
  // Fails only where the kernel has no transparent huge pages: the memory then stays on ordinary pages.
  if (first < last) (void)madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
#else
  (void)begin;
  (void)bytes;
#endif
}

}  // namespace

void reserve_on_huge_pages(std::vector<std::uint8_t>& bytes, std::size_t capacity) {
  bytes.reserve(capacity);
  if (capacity >= kWorthIt) advise_huge_pages(bytes.data(), capacity);
}

}  // namespace stages
