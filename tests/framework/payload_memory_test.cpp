// Payload memory: blocks made on one thread and freed on another stay intact and distinct; impossible sizes are an
// out-of-memory error, not a crash.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <new>
#include <thread>
#include <vector>

#include "pipeline/payload_memory.hpp"

namespace {

struct Block {
  unsigned char* bytes;
  std::size_t size;
  unsigned char mark;
};

bool intact(const Block& b) {
  for (std::size_t i = 0; i < b.size; ++i)
    if (b.bytes[i] != b.mark) return false;
  return true;
}

}  // namespace

TEST(PayloadMemory, BlocksMadeOnOneThreadAndFreedOnAnotherStayIntact) {
  // A producer thread fills blocks of the sizes samples have (a few bytes to a few KB); the main thread checks
  // and frees them while the producer makes the next round, as stages on two threads do.
  constexpr int kRounds = 50;
  constexpr std::size_t kBlocks = 200;
  std::vector<std::vector<Block>> rounds(kRounds);
  std::thread producer([&] {
    for (int r = 0; r < kRounds; ++r) {
      auto& made = rounds[static_cast<std::size_t>(r)];
      for (std::size_t i = 0; i < kBlocks; ++i) {
        const std::size_t size = 1 + (i * 977 + static_cast<std::size_t>(r) * 131) % 5000;
        auto* bytes = static_cast<unsigned char*>(pipeline::allocate_payload_memory(size));
        const auto mark = static_cast<unsigned char>(i + static_cast<std::size_t>(r));
        std::memset(bytes, mark, size);
        made.push_back({bytes, size, mark});
      }
    }
  });
  producer.join();
  std::size_t broken = 0;
  for (auto& made : rounds) {
    for (const Block& b : made) broken += intact(b) ? 0 : 1;
    for (const Block& b : made) pipeline::free_payload_memory(b.bytes);
  }
  EXPECT_EQ(broken, 0u) << "blocks overlapped";
  // Freed memory is handed out again, and stays writable.
  std::vector<std::thread> reusers;
  for (int t = 0; t < 2; ++t)
    reusers.emplace_back([] {
      for (int i = 0; i < 10000; ++i) {
        void* block = pipeline::allocate_payload_memory(3136);
        std::memset(block, i & 0xff, 3136);
        pipeline::free_payload_memory(block);
      }
    });
  for (auto& t : reusers) t.join();
}

TEST(PayloadMemory, AnImpossibleSizeIsAnOutOfMemoryError) {
  EXPECT_THROW(pipeline::allocate_payload_memory(std::numeric_limits<std::size_t>::max() - 64), std::bad_alloc);
  EXPECT_THROW(pipeline::allocate_payload_memory(std::numeric_limits<std::size_t>::max() / 2 + 1), std::bad_alloc);
  pipeline::PayloadAllocator<double> doubles;
  EXPECT_THROW(doubles.allocate(std::numeric_limits<std::size_t>::max() / 4), std::bad_array_new_length);
  void* empty = pipeline::allocate_payload_memory(0);  // a valid block of its own
  EXPECT_NE(empty, nullptr);
  pipeline::free_payload_memory(empty);
  pipeline::free_payload_memory(nullptr);
}
