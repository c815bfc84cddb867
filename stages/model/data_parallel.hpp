#pragma once
// The model stage's side of a data-parallel run (mpirun -np N): each rank trains on its share of every batch, the
// gradients are summed over the ranks before each update (nn::GradientSync), and rank 0 gets the whole batch's
// results for the sinks: losses and counts summed, rows gathered back into the order a one-process run has.
#include <memory>

#include "model/nn/sequential.hpp"
#include "model/nn/trainer.hpp"
#include "model/results.hpp"
#include "pipeline/communicator.hpp"

namespace stages {

class DataParallel {
 public:
  // `world` is the run's ranks; the metrics and the gradients each get a channel of their own.
  DataParallel(pipeline::Communicator& world, bool overlap);
  int rank() const { return rank_; }
  int ranks() const { return ranks_; }
  std::unique_ptr<nn::GradientSync> make_gradient_sync();

  // The rows of the whole batch, given this rank's share.
  std::size_t batch_rows(std::size_t local_rows);
  // Rank 0: `result` becomes the whole batch's (loss, counts and rows of every rank; the input images too for
  // evaluated batches). Other ranks: sends their share and leaves `result` as it is.
  void combine(BatchResult& result, const nn::StepResult& step, const Batch& batch);
  // End of a training epoch: layer state that training does not sum (batch_norm's running statistics) is
  // averaged over the ranks, then every rank's weights must be the same bits; throws when they are not.
  void agree_on_weights(nn::Sequential& network, int epoch);

 private:
  std::unique_ptr<pipeline::Communicator> metrics_;
  pipeline::Communicator& world_;
  bool overlap_;
  int rank_, ranks_;
};

}  // namespace stages
