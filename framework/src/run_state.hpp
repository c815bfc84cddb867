#pragma once
// The run state (<output_dir>/run.state): what `pipeline run --resume` continues from. It is written when every
// processor has ended an epoch, holding each one's state at that epoch's end, so the model, the optimizer and
// every sink's records are one consistent unit; a kill at any instant leaves either the previous run state or
// the new one, never a mix.
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace pipeline {

struct RunState {
  std::uint64_t epochs_done = 0;  // complete epochs (engine numbering: the epoch the run continues from)
  bool mid_epoch = false;         // saved by an interrupted run: some stages hold part of epoch `epochs_done`
  std::vector<std::string> processors;           // every processor of the pipeline, stateful or not
  std::map<std::string, std::string> states;     // per stage name
};

std::string encode_run_state(const RunState& state);
RunState decode_run_state(const std::string& bytes, const std::string& name);
RunState load_run_state(const std::filesystem::path& path);

// Collects the processors' states as they end epochs (from their own threads) and writes the run state when
// all of them ended one.
class RunJournal {
 public:
  // `records` false: this process keeps no record (an MPI rank other than 0); nothing is asked or written.
  RunJournal(std::filesystem::path path, std::vector<std::string> processors, int save_every, int epochs,
             bool records = true);
  bool records() const { return records_; }
  void epoch_ended(const std::string& stage, int epoch, std::optional<std::string> state);
  // An interrupted run: a stage's state after finish(true), when it can resume mid-epoch.
  void interrupted(const std::string& stage, std::optional<std::string> state);
  // After an interrupted run's last message: writes the committed states with the mid-epoch ones on top.
  void write_interrupted();
  // Continues a resumed run's record.
  void resume_from(RunState state);

  int saves() const { return saves_; }
  double save_seconds() const { return save_seconds_; }
  std::uint64_t last_bytes() const { return last_bytes_; }

 private:
  void write(std::uint64_t epochs_done, const std::string& encoded);

  std::filesystem::path path_;
  std::vector<std::string> processors_;
  int save_every_, epochs_;
  bool records_;
  std::mutex mutex_;        // the states below
  std::mutex write_mutex_;  // one write at a time, in epoch order
  std::map<int, std::pair<std::size_t, std::map<std::string, std::string>>> pending_;  // per epoch: ended, states
  RunState committed_;
  std::map<std::string, std::string> mid_epoch_;
  std::uint64_t written_epochs_ = 0;
  int saves_ = 0;
  double save_seconds_ = 0;
  std::uint64_t last_bytes_ = 0;
};

}  // namespace pipeline
