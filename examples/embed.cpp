// Building and running a pipeline from C++ with no YAML file, through the framework's public API.
//   build/examples/embed_example DATA_DIR
#include <iostream>

#include "pipeline/builder.hpp"

int main(int argc, char** argv) {
  const std::string data = argc > 1 ? argv[1] : "data/mnist";
  try {
    pipeline::PipelineBuilder b("embedded_mlp");
    b.seed(1).epochs(2).output_dir("runs/embedded_mlp");
    b.stage("train", "idx_reader")
        .param("split", "train")
        .param("shuffle", true)
        .param("limit", 5000)
        .param("images", data + "/train-images-idx3-ubyte.gz")
        .param("labels", data + "/train-labels-idx1-ubyte.gz");
    b.stage("test", "idx_reader")
        .param("split", "test")
        .param("limit", 2000)
        .param("images", data + "/t10k-images-idx3-ubyte.gz")
        .param("labels", data + "/t10k-labels-idx1-ubyte.gz");
    b.stage("scale", "scale").input("train").input("test");
    b.stage("onehot", "one_hot").input("scale");
    b.stage("batches", "shuffle_batcher").input("onehot").param("batch_size", 64);
    b.stage("model", "sequential")
        .input("batches")
        .param_yaml("layers", "[flatten, {dense: {units: 100}}, relu, {dense: {units: 10}}, softmax]")
        .param_yaml("optimizer", "{type: sgd, learning_rate: 0.05, momentum: 0.9}");
    b.stage("console", "console").input("model").param("report", false);
    pipeline::Pipeline p = b.build();
    const pipeline::Profile profile = p.run();
    std::cout << "ran " << p.stages().size() << " stages in " << profile.wall_seconds << " s\n";
    return 0;
  } catch (const pipeline::ConfigError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
