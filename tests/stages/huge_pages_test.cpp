// A data set read whole into memory lands on memory marked for transparent huge pages (its random reads each
// epoch would otherwise miss the TLB on nearly every sample), reserved once rather than regrown.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

#include "common/huge_pages.hpp"
#include "io/idx_file.hpp"
#include "support/files.hpp"

namespace {

bool transparent_huge_pages_available() {
  std::ifstream setting("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  return std::getline(setting, line) && line.find("[never]") == std::string::npos;
}

// The VmFlags line of the mapping holding `address`, from /proc/self/smaps ("hg": marked MADV_HUGEPAGE).
std::string vm_flags_of(const void* address) {
  const auto at = reinterpret_cast<std::uintptr_t>(address);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    std::uintptr_t begin = 0, end = 0;
    char dash = 0;
    std::istringstream range(line);
    if (range >> std::hex >> begin >> dash >> end && dash == '-') {
      inside = begin <= at && at < end;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return "no mapping";
}

bool marked_for_huge_pages(const void* address) {
  std::istringstream flags(vm_flags_of(address));
  std::string flag;
  while (flags >> flag)
    if (flag == "hg") return true;
  return false;
}

}  // namespace

TEST(HugePages, ALargeReservationIsMarkedAndASmallOneIsNot) {
  if (!transparent_huge_pages_available()) GTEST_SKIP() << "the kernel has no transparent huge pages";
  std::vector<std::uint8_t> large, small;
  stages::reserve_on_huge_pages(large, std::size_t{32} << 20);
  stages::reserve_on_huge_pages(small, std::size_t{64} << 10);
  EXPECT_TRUE(large.empty());
  EXPECT_GE(large.capacity(), std::size_t{32} << 20);
  EXPECT_TRUE(marked_for_huge_pages(large.data() + (std::size_t{16} << 20))) << vm_flags_of(large.data());
  EXPECT_FALSE(marked_for_huge_pages(small.data())) << vm_flags_of(small.data());
}

TEST(HugePages, AnIdxDataSetIsReadIntoMarkedMemoryReservedOnce) {
  if (!transparent_huge_pages_available()) GTEST_SKIP() << "the kernel has no transparent huge pages";
  const std::uint32_t images = 20000;  // 15.7 MB of 28x28 pixels
  const std::vector<std::uint8_t> pixels(std::size_t{images} * 28 * 28, 7);
  const auto array = stages::parse_idx(testing_support::idx_bytes({images, 28, 28}, pixels), "f", 3);
  ASSERT_EQ(array.data.size(), pixels.size());
  EXPECT_EQ(array.data.capacity(), pixels.size());  // reserved from the header, not regrown in steps
  EXPECT_TRUE(marked_for_huge_pages(array.data.data() + pixels.size() / 2)) << vm_flags_of(array.data.data());
}
