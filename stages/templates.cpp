// The starter configs `pipeline init` writes: each validates and runs as written (tests/e2e/cli_test.cpp).
#include "pipeline/templates.hpp"

namespace {

const char* kClassifier = R"(# A classifier on IDX (MNIST-format) data: LeNet as in the classic Keras example.
# Run:  pipeline run THIS_FILE         Check: pipeline validate THIS_FILE
# Every stage type and its parameters: pipeline stages [TYPE]; the model's layers: pipeline stages sequential.

name: my_classifier          # names the run; outputs go to runs/<name>
seed: 42                     # weights, shuffling and augmentation all derive from it
epochs: 20
threads: 0                   # 0 = every core
# output_dir: runs/${name}   # where model.ckpt, history.csv, report.html and logs/ go
# save_every: 1              # epochs between saves of the state `pipeline run --resume` continues from
# class_names: [zero, one, two, three, four, five, six, seven, eight, nine]
vars:                        # ${data_dir} below; change here or with --set vars.data_dir=PATH
  data_dir: data/mnist

stages:                      # name: {type: TYPE, inputs: [names], parameters...}; data flows along inputs
  train_data:
    type: idx_reader
    split: train             # the stream this source produces: train is trained on, others evaluated
    shuffle: true            # a new permutation every epoch
    images: ${data_dir}/train-images-idx3-ubyte.gz
    labels: ${data_dir}/train-labels-idx1-ubyte.gz
  test_data:
    type: idx_reader
    split: test
    images: ${data_dir}/t10k-images-idx3-ubyte.gz
    labels: ${data_dir}/t10k-labels-idx1-ubyte.gz
  scale:   {type: scale, inputs: [train_data, test_data]}   # pixels 0..255 -> 0..1
  onehot:  {type: one_hot, inputs: [scale]}
  batches: {type: shuffle_batcher, inputs: [onehot], batch_size: 128}
  model:
    type: sequential
    inputs: [batches]
    input_shape: [28, 28, 1]
    layers:                  # {type: {options}} or a bare type
      - conv2d: {filters: 20, kernel: 5, padding: same}
      - relu
      - max_pool2d: {pool: 2}
      - conv2d: {filters: 50, kernel: 5, padding: same}
      - relu
      - max_pool2d: {pool: 2}
      - flatten
      - dense: {units: 500}
      - relu
      - dense: {units: 10}
      - softmax              # fused with the cross-entropy loss
    optimizer: {type: sgd, learning_rate: 0.01}   # or {type: adam, learning_rate: 0.001}
  console:     {type: console, inputs: [model]}   # Keras-style epoch lines and the final report
  history:     {type: history, inputs: [model]}   # history.csv / history.json
  tensorboard: {type: tensorboard, inputs: [model]}
  report:      {type: html_report, inputs: [model]}
)";

const char* kData = R"(# The data stages alone: reads IDX data, scales, one-hot encodes and batches it, and counts what arrives.
# Useful to check a data set or a data pipeline before any model. Run: pipeline run THIS_FILE

name: my_data
seed: 42
epochs: 2
vars:
  data_dir: data/mnist

stages:
  train_data:
    type: idx_reader
    split: train
    shuffle: true
    images: ${data_dir}/train-images-idx3-ubyte.gz
    labels: ${data_dir}/train-labels-idx1-ubyte.gz
  test_data:
    type: idx_reader
    split: test
    images: ${data_dir}/t10k-images-idx3-ubyte.gz
    labels: ${data_dir}/t10k-labels-idx1-ubyte.gz
  scale:   {type: scale, inputs: [train_data, test_data]}
  onehot:  {type: one_hot, inputs: [scale]}
  batches: {type: shuffle_batcher, inputs: [onehot], batch_size: 128}
  count:   {type: count, inputs: [batches]}   # one line per epoch: batches per stream
)";

[[maybe_unused]] const bool classifier = pipeline::add_config_template(
    {"classifier", "LeNet on IDX (MNIST-format) data, every sink (the default)", kClassifier});
[[maybe_unused]] const bool data = pipeline::add_config_template(
    {"data", "the data stages alone, counting batches per epoch", kData});

}  // namespace
