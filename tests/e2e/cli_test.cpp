// The `pipeline` executable as a user runs it: exit codes, messages, shipped configs, a real training run.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>

#include "support/files.hpp"
#include "support/run_pipeline.hpp"

using namespace testing_support;

namespace {

std::string mnist_vars() { return " --set vars.data_dir=" + mnist_dir(); }

// Sanitized runs (PIPELINE_TEST_LIGHT=1, 15-25 times slower) read 500 images a split where a test checks
// behaviour, not learning (as tests/support/light.py does for the scripts).
std::string light_limits() {
  const char* light = std::getenv("PIPELINE_TEST_LIGHT");
  return light && std::string(light) == "1" ? " --set train_data.limit=500 --set test_data.limit=500" : "";
}

}  // namespace

TEST(Cli, HelpVersionAndBadUsage) {
  auto help = run("--help");
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.output.find("usage: pipeline"), std::string::npos);
  auto version = run("--version");
  EXPECT_EQ(version.code, 0);
  EXPECT_NE(version.output.find("BLAS: OpenBLAS"), std::string::npos) << version.output;
  {  // a core pinned by the environment is named as such
    const char* before = std::getenv("OPENBLAS_CORETYPE");
    const std::string saved = before ? before : "";
    ::setenv("OPENBLAS_CORETYPE", "Sandybridge", 1);
    const auto pinned = run("--version");
    before ? ::setenv("OPENBLAS_CORETYPE", saved.c_str(), 1) : ::unsetenv("OPENBLAS_CORETYPE");
    EXPECT_NE(pinned.output.find("core Sandybridge (set by OPENBLAS_CORETYPE=Sandybridge)"), std::string::npos)
        << pinned.output;
  }
  EXPECT_EQ(run("").code, 2);
  EXPECT_EQ(run("fly").code, 2);
  EXPECT_EQ(run("run").code, 2);
  EXPECT_EQ(run("run configs/lenet_mnist.yaml --threads zero").code, 2);
  EXPECT_EQ(run("run configs/lenet_mnist.yaml --bogus").code, 2);
}

TEST(Cli, PipelineSimdPicksTheKernelBuildOrSaysWhyNot) {
  const auto baseline = run("--version", "PIPELINE_SIMD=sse2");
  EXPECT_EQ(baseline.code, 0);
  EXPECT_NE(baseline.output.find("vector kernels: sse2 (this CPU runs "), std::string::npos) << baseline.output;
  const auto summary = run("validate configs/lenet_mnist_quick.yaml" + mnist_vars(), "PIPELINE_SIMD=sse2");
  EXPECT_EQ(summary.code, 0) << summary.output;
  EXPECT_NE(summary.output.find("direct, sse2 kernels"), std::string::npos) << "the model summary names the build";
  const auto bogus = run("validate configs/lenet_mnist_quick.yaml" + mnist_vars(), "PIPELINE_SIMD=avx9");
  EXPECT_EQ(bogus.code, 2);
  EXPECT_NE(bogus.output.find("PIPELINE_SIMD=avx9: no such kernel build; built: "), std::string::npos) << bogus.output;
}

TEST(Cli, StagesSequentialListsEveryLayerOptimizerAndScheduleWithOptions) {
  const auto r = run("stages sequential");
  EXPECT_EQ(r.code, 0);
  for (const char* expected :
       {"  layers (in `layers:`", "    conv2d: ", "        filters          int     (required)", "{auto|im2col|winograd}",
        "    dense: ", "        units ", "    dropout: ", "    max_pool2d: ", "    softmax: ", "  optimizers",
        "    adam: ", "        epsilon ", "    sgd: ", "        nesterov ", "  schedules", "    cosine: ",
        "        min_learning_rate ", "    step: ", "        step_epochs "})
    EXPECT_NE(r.output.find(expected), std::string::npos) << expected << "\n" << r.output;
}

TEST(Cli, StagesListsEveryStageWithParametersLikeGstInspect) {
  auto r = run("stages");
  ASSERT_EQ(r.code, 0);
  for (const char* type : {"idx_reader", "scale", "one_hot", "shuffle_batcher", "augment", "sequential", "console", "count"})
    EXPECT_NE(r.output.find(std::string(type) + "  ("), std::string::npos) << type;
  EXPECT_NE(r.output.find("batch_size       int     128"), std::string::npos) << r.output;
  auto one = run("stages one_hot");
  EXPECT_EQ(one.code, 0);
  EXPECT_EQ(one.output.find("idx_reader"), std::string::npos);
  EXPECT_EQ(run("stages one_hto").code, 2);
}

TEST(Cli, EveryShippedConfigValidates) {
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(PIPELINE_SOURCE_DIR "/configs")) {
    if (entry.path().extension() != ".yaml") continue;
    auto r = run("validate " + entry.path().string());
    EXPECT_EQ(r.code, 0) << entry.path() << "\n" << r.output;
    ++checked;
  }
  EXPECT_GE(checked, 2);
}

TEST(Cli, GraphPrintsDot) {
  auto r = run("graph configs/lenet_mnist.yaml");
  ASSERT_EQ(r.code, 0);
  EXPECT_NE(r.output.find("digraph \"lenet_mnist\""), std::string::npos);
  EXPECT_NE(r.output.find("\"batches\" -> \"model\" [label=\"batch\"]"), std::string::npos) << r.output;
}

TEST(Cli, BadConfigExitsTwoWithFileLineAndStage) {
  TempDir dir;
  std::ofstream(dir.file("bad.yaml")) << "stages:\n  src: {type: idx_reader, images: a, labels: b, limt: 3}\n";
  auto r = run("validate " + dir.file("bad.yaml"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find(dir.file("bad.yaml") + ":2:55: stage 'src': unknown parameter 'limt' (did you mean 'limit'?)"),
            std::string::npos)
      << r.output;
  auto set = run("validate configs/lenet_mnist.yaml --set model.optimizer.learning_rate=fast");
  EXPECT_EQ(set.code, 2);
  EXPECT_NE(set.output.find("stage 'model'"), std::string::npos) << set.output;
  EXPECT_EQ(run("validate /nonexistent.yaml").code, 2);
}

TEST(Cli, CorruptDataExitsOneNamingStageAndFile) {
  TempDir dir;
  write_tiny_mnist(dir.file("whole.gz"), dir.file("train-labels-idx1-ubyte.gz"), 1000, true, 28, 28);
  std::ifstream whole(dir.file("whole.gz"), std::ios::binary);
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(whole)), std::istreambuf_iterator<char>());
  bytes.resize(bytes.size() / 2);  // a download that stopped half way
  write_file(dir.file("train-images-idx3-ubyte.gz"), bytes);
  auto r = run("run configs/lenet_mnist_quick.yaml --set vars.data_dir=" + dir.path().string() +
               " --set output_dir=" + dir.file("out"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("error: stage 'train_data': " + dir.file("train-images-idx3-ubyte.gz") + ": truncated gzip stream"),
            std::string::npos)
      << r.output;
}

TEST(Cli, SmokeTrainingOnRealMnistLearnsAndWritesItsOutputs) {
  REQUIRE_MNIST();
  TempDir dir;
  auto r = run("run configs/lenet_mnist_quick.yaml --profile" + mnist_vars() + " --set output_dir=" + dir.file("out"));
  ASSERT_EQ(r.code, 0) << r.output;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex("Epoch 1/1 - [0-9.]+s - loss: [0-9.]+ - accuracy: [0-9.]+ - "
                                                        "val_loss: [0-9.]+ - val_accuracy: ([0-9.]+)")))
      << r.output;
  EXPECT_GE(std::stod(m[1]), 0.80) << r.output;
  EXPECT_NE(r.output.find("profile:"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(dir.file("out/model.ckpt")));
}

TEST(Cli, SameSeedGivesBitIdenticalModelsOnOneAndTwoThreads) {
  REQUIRE_MNIST();
  TempDir dir;
  std::vector<std::string> models, histories;
  for (const char* threads : {"1", "2"}) {
    const std::string out = dir.file(std::string("t") + threads);
    auto r = run(std::string("run configs/lenet_mnist_quick.yaml --threads ") + threads + mnist_vars() + light_limits() +
                 " --set output_dir=" + out);
    ASSERT_EQ(r.code, 0) << r.output;
    std::ifstream model(out + "/model.ckpt", std::ios::binary);
    models.emplace_back((std::istreambuf_iterator<char>(model)), std::istreambuf_iterator<char>());
    std::ifstream history(out + "/history.csv");
    std::string header, row;
    std::getline(history, header);
    std::getline(history, row);
    histories.push_back(row.substr(0, row.rfind(',')));  // all but the seconds
  }
  EXPECT_GT(models[0].size(), 1000000u);
  EXPECT_TRUE(models[0] == models[1]) << "weights differ between --threads 1 and 2";
  EXPECT_EQ(histories[0], histories[1]);
}

TEST(Cli, UnwritableOutputFolderFailsBeforeTraining) {
  REQUIRE_MNIST();
  auto r = run("run configs/lenet_mnist_quick.yaml" + mnist_vars() + " --set output_dir=/proc/pipeline-cannot-write-here");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("cannot create"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("Epoch 1/1"), std::string::npos) << "failed only after training";
}

TEST(Cli, ResumeWithoutRunStateIsAClearError) {
  REQUIRE_MNIST();
  TempDir dir;
  auto r = run("run configs/lenet_mnist_quick.yaml --resume" + mnist_vars() + " --set output_dir=" + dir.file("none"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("nothing to resume in " + dir.file("none") + " (no run.state"), std::string::npos) << r.output;
}

TEST(Cli, DataStagesAloneStreamRealMnistEveryEpoch) {
  REQUIRE_MNIST();
  auto r = run("run configs/mnist_data_only.yaml" + mnist_vars());
  ASSERT_EQ(r.code, 0) << r.output;
  // Two counting sinks: samples after one_hot, and batches (469 + 79 per epoch).
  for (const char* line : {"count_samples: epoch 1: test 10000 train 60000", "count_samples: epoch 2: test 10000 train 60000",
                           "count: epoch 1: test 79 train 469", "count: epoch 2: test 79 train 469"})
    EXPECT_NE(r.output.find(line), std::string::npos) << line << "\n" << r.output;
  // No model: the banner says nothing of BLAS or convolutions.
  EXPECT_EQ(r.output.find("BLAS"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("vector kernels"), std::string::npos) << r.output;
}

TEST(Cli, ASecondRunOnABusyOutputFolderRefusesAtStart) {
  REQUIRE_MNIST();
  TempDir dir;
  const std::string quick = "run " PIPELINE_SOURCE_DIR "/configs/lenet_mnist_quick.yaml" + mnist_vars() +
                            " --set epochs=50 --set output_dir=" +
                            dir.file("out");
  // The first run goes to the background; the second starts once the first holds the folder.
  const std::string first = PIPELINE_BINARY " " + quick + " >/dev/null 2>&1 & first=$!; "
                            "while [ ! -s " + dir.file("out/.pipeline.lock") + " ]; do sleep 0.05; done; ";
  const auto r = run(quick + " 2>&1; code=$?; kill $first; wait $first; exit $code", first);
  EXPECT_EQ(r.code, 1) << "[" << r.output << "]";
  EXPECT_NE(r.output.find("output folder " + dir.file("out") + " is in use by another run (pid "), std::string::npos)
      << r.output;
  EXPECT_EQ(r.output.find("Epoch 1/50"), std::string::npos) << "refused at start, not late";
}

TEST(Cli, SpecialFilesAsConfigFailAtOnce) {
  TempDir dir;
  ASSERT_EQ(::mkfifo(dir.file("fifo.yaml").c_str(), 0600), 0);
  const auto fifo = run("validate " + dir.file("fifo.yaml"), "timeout 20");
  EXPECT_EQ(fifo.code, 2) << "no hang on a FIFO: " << fifo.output;
  EXPECT_NE(fifo.output.find("it is a FIFO (named pipe), not a regular file"), std::string::npos) << fifo.output;
  const auto device = run("run /dev/zero", "timeout 20");
  EXPECT_EQ(device.code, 2) << device.output;
  EXPECT_NE(device.output.find("it is a character device, not a regular file"), std::string::npos) << device.output;
}

TEST(Cli, OutOfMemoryNamesTheLayerNotStdBadAlloc) {
  REQUIRE_MNIST();
#ifdef PIPELINE_TEST_SANITIZED
  GTEST_SKIP() << "a sanitized build reserves terabytes of address space: an address-space limit stops it at start";
#endif
  TempDir dir;
  // 2.9 GiB of weights under a 2 GB address-space limit.
  const auto r = run("run configs/lenet_mnist_quick.yaml" + mnist_vars() + " --set output_dir=" + dir.file("out") +
                         " --set 'model.layers=[flatten, {dense: {units: 1000000}}, softmax]'",
                     "ulimit -v 2000000;");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("layer 1 (dense): out of memory for its 785000000 parameters (2.9 GiB of weights"),
            std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("std::bad_alloc"), std::string::npos) << r.output;
}

TEST(Cli, HelpShowsTheConfigFileLayout) {
  const auto help = run("--help");
  for (const char* part : {"a config file (YAML):", "stages:", "{type: TYPE, inputs: [NAMES]", "vars:", "pipeline init"})
    EXPECT_NE(help.output.find(part), std::string::npos) << part;
  for (const char* verb : {"run --help", "init -h", "validate x.yaml --help"}) {
    const auto r = run(verb);
    EXPECT_EQ(r.code, 0) << verb;
    EXPECT_EQ(r.output, help.output) << verb;
  }
}

TEST(Cli, InitWritesStarterConfigsThatRunAsWritten) {
  REQUIRE_MNIST();
  TempDir dir;
  for (const std::string name : {"classifier", "data"}) {
    const std::string file = dir.file(name + ".yaml");
    const auto written = run("init " + name + " -o " + file);
    ASSERT_EQ(written.code, 0) << written.output;
    EXPECT_EQ(run("init " + name + " -o " + file).code, 2) << "never overwrites";
    const auto ran = run("run " + file + mnist_vars() + " --set epochs=1 --set train_data.limit=512 " +
                         "--set test_data.limit=256 --set output_dir=" + dir.file(name));
    EXPECT_EQ(ran.code, 0) << ran.output;
    EXPECT_EQ(ran.output.find("warning"), std::string::npos) << ran.output;
  }
  const auto list = run("init --list");
  EXPECT_NE(list.output.find("classifier  LeNet"), std::string::npos) << list.output;
  const auto wrong = run("init clasifier");
  EXPECT_EQ(wrong.code, 2);
  EXPECT_NE(wrong.output.find("no template 'clasifier' (did you mean 'classifier'?)"), std::string::npos);
}
