#pragma once
// The ranks of a run that `mpirun` started, and the collectives stages need between them. Without mpirun the
// world is one rank and every collective returns its input. A stage that communicates from its own thread takes
// its own channel(), so that the collectives of different stages never interleave on one MPI communicator (MPI
// requires every rank to issue a communicator's collectives in the same order).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace pipeline {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Element-wise sum over the ranks, in place. The reduction's order is fixed by the rank count and the length
  // alone, so every rank gets the same bits and a rerun the same result.
  virtual void sum(float* data, std::size_t n) = 0;
  virtual void sum(double* data, std::size_t n) = 0;
  virtual std::int64_t max(std::int64_t value) = 0;
  virtual std::int64_t min(std::int64_t value) = 0;
  // Rank 0 gets every rank's bytes in rank order; the other ranks get an empty vector.
  virtual std::vector<std::string> gather(const std::string& bytes) = 0;
  // Every rank gets every rank's bytes in rank order.
  virtual std::vector<std::string> all_gather(const std::string& bytes) = 0;
  // Every rank gets rank 0's bytes.
  virtual std::string broadcast(const std::string& bytes) = 0;
  // An independent channel to the same ranks, for collectives issued from another thread.
  virtual std::unique_ptr<Communicator> channel() = 0;
};

// The single-rank world of a process run without mpirun.
class SoloCommunicator : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void sum(float*, std::size_t) override {}
  void sum(double*, std::size_t) override {}
  std::int64_t max(std::int64_t value) override { return value; }
  std::int64_t min(std::int64_t value) override { return value; }
  std::vector<std::string> gather(const std::string& bytes) override { return {bytes}; }
  std::vector<std::string> all_gather(const std::string& bytes) override { return {bytes}; }
  std::string broadcast(const std::string& bytes) override { return bytes; }
  std::unique_ptr<Communicator> channel() override { return std::make_unique<SoloCommunicator>(); }
};

// The process's world: one rank unless start_world() joined an MPI job.
Communicator& world();

// Joins the MPI job when the process was started by mpirun (or another MPI launcher), else keeps the solo world.
// Call once from main(); the returned guard finalizes MPI when it goes out of scope.
class WorldGuard {
 public:
  WorldGuard() = default;
  WorldGuard(WorldGuard&&) noexcept;
  ~WorldGuard();

 private:
  friend WorldGuard start_world(int& argc, char**& argv);
  bool finalize_ = false;
};
WorldGuard start_world(int& argc, char**& argv);

// True when this process was launched as one rank of an MPI job (mpirun's environment is set).
bool launched_by_mpi();

// How many ranks of the job run on this machine (they share its cores); 1 without mpirun.
int ranks_on_this_machine();

// Ends every rank of the job at once (after a failure on this rank), with `code` as the exit status.
[[noreturn]] void abort_world(int code);

}  // namespace pipeline
