#include "pipeline/payload_memory.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <new>

#ifdef PIPELINE_SCALABLE_PAYLOADS
#include <oneapi/tbb/scalable_allocator.h>
#endif

namespace pipeline {
#ifdef PIPELINE_SCALABLE_PAYLOADS
namespace {
// A oneTBB pool that keeps the memory it took: the default one gives a 1 MB region back to the system whenever it
// empties, and on 1 thread, where in-flight samples come and go in chunks, it mapped and faulted in 50 regions an
// epoch (17% slower than glibc). What it keeps is bounded by the items in flight (the config's `buffer`).
void* take_region(std::intptr_t, std::size_t& bytes) { return std::malloc(bytes); }
int give_back_region(std::intptr_t, void* region, std::size_t) {
  std::free(region);
  return 0;
}

rml::MemoryPool* payload_pool() {
  static rml::MemoryPool* const pool = [] {
    const rml::MemPoolPolicy policy(take_region, give_back_region, 0, /*fixedPool=*/false, /*keepAllMemory=*/true);
    rml::MemoryPool* made = nullptr;
    if (rml::pool_create_v1(0, &policy, &made) != rml::POOL_OK) throw std::bad_alloc();
    return made;
  }();
  return pool;
}
}  // namespace
#endif

void* allocate_payload_memory(std::size_t bytes) {
  // More than any object may be (std::allocator's limit): refused here alike in every build (ASan would abort).
  if (bytes > static_cast<std::size_t>(std::numeric_limits<std::ptrdiff_t>::max())) throw std::bad_array_new_length();
  if (bytes == 0) bytes = 1;
#ifdef PIPELINE_SCALABLE_PAYLOADS
  void* block = rml::pool_malloc(payload_pool(), bytes);
#else  // sanitizer builds: the system allocator, which they watch
  void* block = std::malloc(bytes);
#endif
  if (block == nullptr) throw std::bad_alloc();
  return block;
}

void free_payload_memory(void* block) noexcept {
#ifdef PIPELINE_SCALABLE_PAYLOADS
  if (block != nullptr) rml::pool_free(payload_pool(), block);
#else
  std::free(block);
#endif
}

}  // namespace pipeline
