// The world of an MPI job: Open MPI (Debian's libopenmpi-dev) behind pipeline::Communicator.
// The C API only: Open MPI's deprecated C++ bindings are neither wanted nor linked.
#define OMPI_SKIP_MPICXX 1
#include <mpi.h>

#include <chrono>
#include <climits>
#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <thread>

#include "pipeline/communicator.hpp"
#include "pipeline/version.hpp"

namespace pipeline {
namespace {

// MPI counts are ints: longer buffers go in slices of this many elements.
constexpr std::size_t kSlice = std::size_t{1} << 28;

// Waits for a collective without holding a core: Open MPI's blocking calls spin, and a rank waiting for a slower
// one (or the gradient thread waiting for the next layer's peer) would take the core its own computation needs
// (2 cores, 2 ranks). Polls, yielding the core to any other thread that is ready to run.
void complete(MPI_Request& request) {
  int done = 0;
  for (int polls = 0;; ++polls) {
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (done) return;
    if (polls >= 32) std::this_thread::yield();
  }
}

class MpiCommunicator : public Communicator {
 public:
  MpiCommunicator(MPI_Comm comm, bool owned) : comm_(comm), owned_(owned) {
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
  }
  ~MpiCommunicator() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (owned_ && !finalized) MPI_Comm_free(&comm_);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void sum(float* data, std::size_t n) override { sum_in_place(data, n, MPI_FLOAT); }
  void sum(double* data, std::size_t n) override { sum_in_place(data, n, MPI_DOUBLE); }
  std::int64_t max(std::int64_t value) override { return reduce(value, MPI_MAX); }
  std::int64_t min(std::int64_t value) override { return reduce(value, MPI_MIN); }
  std::vector<std::string> gather(const std::string& bytes) override { return collect(bytes, false); }
  std::vector<std::string> all_gather(const std::string& bytes) override { return collect(bytes, true); }

  std::string broadcast(const std::string& bytes) override {
    auto length = static_cast<std::uint64_t>(bytes.size());
    MPI_Request request;
    MPI_Ibcast(&length, 1, MPI_UINT64_T, 0, comm_, &request);
    complete(request);
    std::string out = rank_ == 0 ? bytes : std::string(length, '\0');
    for (std::size_t at = 0; at < out.size(); at += kSlice) {
      MPI_Ibcast(out.data() + at, static_cast<int>(std::min(kSlice, out.size() - at)), MPI_BYTE, 0, comm_, &request);
      complete(request);
    }
    return out;
  }

  std::unique_ptr<Communicator> channel() override {
    MPI_Comm copy;
    MPI_Comm_dup(comm_, &copy);
    return std::make_unique<MpiCommunicator>(copy, true);
  }

 private:
  void sum_in_place(void* data, std::size_t n, MPI_Datatype type) {
    int element = 0;
    MPI_Type_size(type, &element);
    auto* bytes = static_cast<char*>(data);
    for (std::size_t at = 0; at < n; at += kSlice) {
      MPI_Request request;
      MPI_Iallreduce(MPI_IN_PLACE, bytes + at * static_cast<std::size_t>(element),
                     static_cast<int>(std::min(kSlice, n - at)), type, MPI_SUM, comm_, &request);
      complete(request);
    }
  }

  std::int64_t reduce(std::int64_t value, MPI_Op op) {
    std::int64_t out = 0;
    MPI_Request request;
    MPI_Iallreduce(&value, &out, 1, MPI_INT64_T, op, comm_, &request);
    complete(request);
    return out;
  }

  std::vector<std::string> collect(const std::string& bytes, bool everyone) {
    if (bytes.size() > static_cast<std::size_t>(INT_MAX))
      throw std::length_error("cannot gather " + std::to_string(bytes.size()) + " bytes from one rank (over 2 GiB)");
    const int length = static_cast<int>(bytes.size());
    const bool receives = everyone || rank_ == 0;
    std::vector<int> lengths(static_cast<std::size_t>(size_)), offsets(static_cast<std::size_t>(size_));
    MPI_Request request;
    if (everyone) MPI_Iallgather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, comm_, &request);
    else MPI_Igather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, 0, comm_, &request);
    complete(request);
    std::size_t total = 0;
    for (std::size_t r = 0; r < lengths.size(); ++r) {
      if (total > static_cast<std::size_t>(INT_MAX)) throw std::length_error("cannot gather over 2 GiB in one call");
      offsets[r] = static_cast<int>(total);
      total += static_cast<std::size_t>(lengths[r]);
    }
    std::string all(receives ? total : 0, '\0');
    if (everyone)
      MPI_Iallgatherv(bytes.data(), length, MPI_BYTE, all.data(), lengths.data(), offsets.data(), MPI_BYTE, comm_,
                      &request);
    else
      MPI_Igatherv(bytes.data(), length, MPI_BYTE, all.data(), lengths.data(), offsets.data(), MPI_BYTE, 0, comm_,
                   &request);
    complete(request);
    std::vector<std::string> out;
    if (!receives) return out;
    for (std::size_t r = 0; r < lengths.size(); ++r)
      out.push_back(all.substr(static_cast<std::size_t>(offsets[r]), static_cast<std::size_t>(lengths[r])));
    return out;
  }

  MPI_Comm comm_;
  bool owned_;
  int rank_ = 0, size_ = 1;
};

std::unique_ptr<Communicator>& world_slot() {
  static std::unique_ptr<Communicator> world = std::make_unique<SoloCommunicator>();
  return world;
}

// The MPI library, and how this process runs: one line of --version and of every run's banner.
[[maybe_unused]] const bool mpi_version_line = add_version_line([] {
  char text[MPI_MAX_LIBRARY_VERSION_STRING] = {};
  int length = 0;
  MPI_Get_library_version(text, &length);
  std::string library(text, static_cast<std::size_t>(length));
  library = library.substr(0, library.find_first_of(",\n"));
  const int ranks = world().size();
  return "MPI: " + library + (ranks > 1 ? " (this run: " + std::to_string(ranks) + " ranks)"
                                        : " (one process; mpirun -np N runs N ranks)");
});

}  // namespace

Communicator& world() { return *world_slot(); }

bool launched_by_mpi() {
  for (const char* variable : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (std::getenv(variable) != nullptr) return true;
  return false;
}

int ranks_on_this_machine() {
  if (world().size() == 1) return 1;
  for (const char* variable : {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS"})
    if (const char* value = std::getenv(variable)) {
      const int n = std::atoi(value);
      if (n > 0) return n;
    }
  return 1;
}

WorldGuard start_world(int& argc, char**& argv) {
  WorldGuard guard;
  if (!launched_by_mpi()) return guard;
  int provided = 0;
  // Gradient buckets are all-reduced from a thread of their own while the backward pass goes on.
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  guard.finalize_ = true;
  if (provided < MPI_THREAD_MULTIPLE) {
    std::cerr << "error: this MPI library does not support MPI_THREAD_MULTIPLE, which pipeline needs to "
                 "all-reduce gradients while the backward pass goes on\n";
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  world_slot() = std::make_unique<MpiCommunicator>(MPI_COMM_WORLD, false);
  return guard;
}

WorldGuard::WorldGuard(WorldGuard&& other) noexcept : finalize_(other.finalize_) { other.finalize_ = false; }

WorldGuard::~WorldGuard() {
  if (!finalize_) return;
  world_slot() = std::make_unique<SoloCommunicator>();
  MPI_Finalize();
}

void abort_world(int code) {
  std::cerr.flush();
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized && world().size() > 1) MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

}  // namespace pipeline
