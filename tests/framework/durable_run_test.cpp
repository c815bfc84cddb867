// Durable runs: the run state written at every epoch's end, --resume from it, one run per output folder, one
// writer per file.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "pipeline/pipeline.hpp"
#include "output_lock.hpp"
#include "pipeline/files.hpp"
#include "pipeline/state_codec.hpp"
#include "run_state.hpp"
#include "support/config_helpers.hpp"
#include "support/files.hpp"
#include "support/test_stages.hpp"

using pipeline::Pipeline;
using testing_support::TempDir;
using test_stages::Summer;

namespace {

const char* kSumming = R"(
stages:
  src: {type: test_counter, count: 10}
  sum: {type: test_summer, inputs: [src]}
)";

Pipeline build(const TempDir& dir, int epochs, const char* yaml = kSumming) {
  return Pipeline::build(pipeline::parse_config(
      yaml, "durable.yaml", {"output_dir=" + dir.path().string(), "epochs=" + std::to_string(epochs)}));
}

long long sum_after(Pipeline& p) { return dynamic_cast<Summer&>(p.stage("sum")).sum; }

}  // namespace

TEST(DurableRun, ResumeContinuesFromTheLastSavedEpoch) {
  TempDir straight, resumed;
  auto whole = build(straight, 4);
  whole.run();
  // A run that ended after 2 epochs (as a killed one would have saved them), continued to 4.
  auto first = build(resumed, 2);
  first.run();
  auto second = build(resumed, 4);
  pipeline::RunOptions options;
  options.resume = true;
  second.run(options);
  EXPECT_EQ(dynamic_cast<Summer&>(second.stage("sum")).restored_epochs, std::vector<int>{2});
  EXPECT_EQ(dynamic_cast<Summer&>(second.stage("sum")).epochs_seen, 4);
  EXPECT_EQ(sum_after(second), sum_after(whole));
  EXPECT_EQ(sum_after(whole), 4 * 45);
}

TEST(DurableRun, EveryEpochIsSavedByDefaultAndSaveEveryThinsIt) {
  TempDir dir;
  auto p = build(dir, 5);
  EXPECT_EQ(p.run().state_saves, 5);
  auto q = Pipeline::build(pipeline::parse_config(
      kSumming, "durable.yaml", {"output_dir=" + dir.path().string(), "epochs=5", "save_every=2"}));
  EXPECT_EQ(q.run().state_saves, 3) << "epochs 2 and 4, and the last";
  const pipeline::RunState state = pipeline::load_run_state(dir.path() / "run.state");
  EXPECT_EQ(state.epochs_done, 5u);
  EXPECT_EQ(state.states.at("sum"), "225 5");
}

TEST(DurableRun, AFreshRunNeverResumesAnOldRunState) {
  TempDir dir;
  auto old_run = build(dir, 3);
  old_run.run();
  auto fresh = build(dir, 1);
  fresh.run();
  EXPECT_EQ(sum_after(fresh), 45);
  EXPECT_EQ(pipeline::load_run_state(dir.path() / "run.state").epochs_done, 1u);
}

TEST(DurableRun, ResumeRefusesDamagedOrForeignState) {
  TempDir dir;
  auto p = build(dir, 2);
  p.run();
  pipeline::RunOptions resume;
  resume.resume = true;
  // Another pipeline (another set of processors) cannot continue this one's state.
  auto other = Pipeline::build(pipeline::parse_config(
      "stages:\n  src: {type: test_counter}\n  total: {type: test_summer, inputs: [src]}\n", "other.yaml",
      {"output_dir=" + dir.path().string()}));
  try {
    other.run(resume);
    ADD_FAILURE() << "resumed another pipeline's state";
  } catch (const pipeline::StageError& e) {
    EXPECT_NE(std::string(e.what()).find("was saved by a pipeline with the processors [sum]"), std::string::npos) << e.what();
  }
  // One flipped byte: the checksum catches it.
  const auto path = dir.path() / "run.state";
  std::string bytes = pipeline::read_regular_file(path, "test", 1 << 20);
  bytes[bytes.size() / 2] ^= 0x40;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  auto again = build(dir, 2);
  try {
    again.run(resume);
    ADD_FAILURE() << "resumed from a damaged run state";
  } catch (const pipeline::StageError& e) {
    EXPECT_NE(std::string(e.what()).find("damaged (checksum mismatch)"), std::string::npos) << e.what();
  }
}

TEST(DurableRun, DecodingTruncatedStateNeverCrashes) {
  pipeline::RunState state;
  state.epochs_done = 3;
  state.processors = {"a", "b"};
  state.states = {{"a", std::string(100, 'x')}, {"b", "y"}};
  const std::string bytes = pipeline::encode_run_state(state);
  const pipeline::RunState back = pipeline::decode_run_state(bytes, "s");
  EXPECT_EQ(back.states, state.states);
  EXPECT_EQ(back.processors, state.processors);
  for (std::size_t n = 0; n < bytes.size(); ++n)
    EXPECT_THROW(pipeline::decode_run_state(bytes.substr(0, n), "s"), pipeline::StateError) << "length " << n;
}

TEST(OutputLock, ASecondRunOnTheSameFolderIsRefused) {
  TempDir dir;
  // A slow run in a child process holds the folder; this process then tries to run there too.
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const pipeline::OutputLock lock(dir.path(), "holder");
    (void)!::write(ready[1], "x", 1);
    ::sleep(30);
    ::_exit(0);
  }
  char c;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  auto p = build(dir, 1);
  try {
    p.run();
    ADD_FAILURE() << "two runs shared an output folder";
  } catch (const pipeline::StageError& e) {
    EXPECT_NE(std::string(e.what()).find("is in use by another run (pid " + std::to_string(child) + ")"),
              std::string::npos) << e.what();
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  auto after = build(dir, 1);  // the lock dies with its holder, even killed
  EXPECT_NO_THROW(after.run());
}

TEST(SingleWriter, TwoStagesWritingOneFileIsAConfigError) {
  expect_config_error("stages:\n  src: {type: test_counter}\n  a: {type: test_file_writer, inputs: src, path: out.txt}\n"
                      "  b: {type: test_file_writer, inputs: src, path: ./out.txt}\n",
                      4, 3, "which stage 'a' writes too");
  expect_config_error("output_dir: o\nstages:\n  src: {type: test_counter}\n"
                      "  a: {type: test_file_writer, inputs: src, path: o/run.state}\n",
                      4, 3, "which the run itself (its resumable state) writes too");
}

TEST(DurableRun, StaleTemporariesOfDeadWritersAreRemovedAndNothingElse) {
  TempDir dir;
  const auto write = [](const std::filesystem::path& path) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << "x";
  };
  const auto dead = dir.path() / "history.csv.999999999.3.tmp";           // no such process
  const auto deeper = dir.path() / "logs" / "train" / "ev.999999999.1.tmp";
  const auto live = dir.path() / ("history.csv." + std::to_string(::getpid()) + ".9.tmp");  // a live writer's
  const auto users = dir.path() / "notes.tmp";
  const auto too_deep = dir.path() / "a" / "b" / "c" / "x.999999999.1.tmp";
  for (const auto& path : {dead, deeper, live, users, too_deep}) write(path);
  auto p = build(dir, 1);
  p.run();
  EXPECT_FALSE(std::filesystem::exists(dead));
  EXPECT_FALSE(std::filesystem::exists(deeper));
  EXPECT_TRUE(std::filesystem::exists(live));
  EXPECT_TRUE(std::filesystem::exists(users));
  EXPECT_TRUE(std::filesystem::exists(too_deep));
}
