#pragma once
// Data sets held whole in memory and read in a new random order every epoch: on 4 KB pages nearly every sample
// costs a TLB miss, a page walk that a hypervisor makes two-dimensional; on 2 MB pages MNIST's 47 MB take 24 TLB
// entries (the data-only config: +4-10% on the AMD EPYC Zen 5, bench/README.md section 10, session 15).
#include <cstddef>
#include <cstdint>
#include <vector>

namespace stages {

// Gives an empty `bytes` room for `capacity` bytes, marked for transparent huge pages before anything touches
// them (Linux's madvise(MADV_HUGEPAGE); elsewhere, or with huge pages turned off, an ordinary reservation).
void reserve_on_huge_pages(std::vector<std::uint8_t>& bytes, std::size_t capacity);

}  // namespace stages
