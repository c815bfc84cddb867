#pragma once
// Memory for the values that travel between stages. Each sample is allocated by one stage and freed by another,
// often on another thread: glibc serialises such frees on its arenas' locks (the data stages ran no faster on 2
// threads than on 1), so the engine takes this memory from oneTBB's scalable allocator, which frees a block
// owned by another thread without a lock. Payload::of uses it; a sample type's buffers may too (PayloadAllocator).
#include <cstddef>
#include <new>

namespace pipeline {

// Aligned as malloc's blocks (16 bytes); throws std::bad_alloc when memory runs out.
void* allocate_payload_memory(std::size_t bytes);
void free_payload_memory(void* block) noexcept;

// A standard allocator over that memory, for containers inside payloads (e.g. a sample's xtensor buffer).
template <class T>
struct PayloadAllocator {
  using value_type = T;
  PayloadAllocator() = default;
  template <class U>
  PayloadAllocator(const PayloadAllocator<U>&) noexcept {}  // NOLINT: rebinding is implicit by design

  T* allocate(std::size_t n) {
    static_assert(alignof(T) <= 16, "payload memory is aligned to 16 bytes");
    if (n > static_cast<std::size_t>(-1) / sizeof(T)) throw std::bad_array_new_length();
    return static_cast<T*>(allocate_payload_memory(n * sizeof(T)));
  }
  void deallocate(T* block, std::size_t) noexcept { free_payload_memory(block); }

  template <class U>
  bool operator==(const PayloadAllocator<U>&) const noexcept { return true; }
  template <class U>
  bool operator!=(const PayloadAllocator<U>&) const noexcept { return false; }
};

}  // namespace pipeline
