// The model in TensorBoard and the report: the model record, histograms, weight images, the Keras config, the op
// graph, the tensorboard sink writing them (decoded with the protoc-generated classes of TensorBoard's messages), and
// the HTML report's model section.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "event.pb.h"
#include "graph.pb.h"
#include "model/model_config.hpp"
#include "model/results.hpp"
#include "sink/histogram.hpp"
#include "sink/html_report.hpp"
#include "sink/keras_model_json.hpp"
#include "sink/layer_graph_svg.hpp"
#include "sink/tensorboard.hpp"
#include "sink/tensorboard_graph.hpp"
#include "sink/weight_images.hpp"
#include "support/files.hpp"
#include "support/null_emitter.hpp"
#include "support/params.hpp"

using namespace stages;
using testing_support::NullEmitter;
using testing_support::TempDir;

namespace {


const char* kSmallNet =
    "[{conv2d: {filters: 4, kernel: 3, padding: same}}, relu, {max_pool2d: {pool: 2}}, flatten, "
    "{dense: {units: 3}}, softmax]";

std::shared_ptr<ModelRecord> small_model() {
  NetworkSpec spec = build_network(kSmallNet, {8, 8, 1});
  spec.network->initialize(7);
  return make_model_record(*spec.network, spec.written);
}

// Weights whose k-th value of parameter p is p + k / 1000 (distinct, known).
std::shared_ptr<WeightsSnapshot> known_weights(const ModelRecord& model, int epoch) {
  auto w = std::make_shared<WeightsSnapshot>();
  w->epoch = epoch;
  std::size_t p = 0;
  for (const LayerRecord& layer : model.layers())
    for (const ParameterRecord& parameter : layer.parameters) {
      std::vector<float> values(nn::shape_size(parameter.shape));
      for (std::size_t k = 0; k < values.size(); ++k) values[k] = static_cast<float>(p) + static_cast<float>(k) / 1000.0f;
      w->values.push_back(std::move(values));
      ++p;
    }
  return w;
}

std::vector<tensorboard::Event> read_events(const std::filesystem::path& folder) {
  std::vector<tensorboard::Event> events;
  for (const auto& f : std::filesystem::directory_iterator(folder)) {
    std::ifstream in(f.path(), std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    const std::string bytes = s.str();
    for (std::size_t pos = 0; pos + 12 <= bytes.size();) {
      std::uint64_t length = 0;
      std::memcpy(&length, bytes.data() + pos, 8);
      tensorboard::Event e;
      EXPECT_TRUE(e.ParseFromString(bytes.substr(pos + 12, length)));
      events.push_back(e);
      pos += 16 + length;
    }
  }
  return events;
}

BatchResult result_with(std::shared_ptr<const ModelRecord> model, const std::string& stream, int epoch) {
  BatchResult r;
  r.stream = stream;
  r.training = stream == "train";
  r.epoch = epoch;
  r.epochs = 2;
  r.loss = 0.5;
  r.labels = {0, 1};
  r.predicted = {0, 0};
  r.indices = {0, 1};
  r.correct = 1;
  r.probabilities = xt::zeros<float>({std::size_t{2}, std::size_t{3}});
  r.model = std::move(model);
  return r;
}

void run_epoch(pipeline::Processor& sink, const std::shared_ptr<ModelRecord>& model, int epoch) {
  NullEmitter out;
  model->publish(known_weights(*model, epoch));
  sink.consume(pipeline::Payload::of(result_with(model, "train", epoch)), "train", out);
  sink.on_stream_end("train", epoch, out);
  sink.consume(pipeline::Payload::of(result_with(model, "test", epoch)), "test", out);
  sink.on_stream_end("test", epoch, out);
  sink.on_epoch_end(epoch, out);
}

pipeline::RunContext context_in(const TempDir& dir) {
  pipeline::RunContext c;
  c.pipeline_name = "synthetic";
  c.epochs = 2;
  c.output_dir = dir.path() / "out";
  return c;
}

}  // namespace

TEST(ModelRecord, LayersWithKerasNamesShapesAndOptionsAndTheLastEpochsWeights) {
  const auto model = small_model();
  ASSERT_EQ(model->layers().size(), 6u);
  EXPECT_EQ(model->layers()[0].name, "conv2d");
  EXPECT_EQ(model->layers()[5].name, "softmax");
  EXPECT_EQ(model->layers()[0].parameters[0].shape, (nn::Shape{3, 3, 1, 4}));
  EXPECT_EQ(model->layers()[2].output_shape, (nn::Shape{4, 4, 4}));
  EXPECT_EQ(model->parameter_count(), 4u * 9 + 4 + 64 * 3 + 3);
  const auto& options = model->layers()[0].options;
  EXPECT_NE(std::find(options.begin(), options.end(), std::make_pair(std::string("stride"), std::string("1"))),
            options.end()) << "defaults filled in";
  EXPECT_EQ(unique_layer_names({"relu", "dense", "relu", "relu"}), (std::vector<std::string>{"relu", "dense", "relu_1", "relu_2"}));
  const auto unread = small_model();
  unread->publish(known_weights(*unread, 0));
  unread->publish(known_weights(*unread, 1));
  unread->want_weights();
  EXPECT_EQ(unread->take_weights(0), nullptr) << "unclaimed at the next publication: dropped";
  EXPECT_EQ(unread->take_weights(1), nullptr) << "nobody asked before epoch 1's: not kept";
  EXPECT_FALSE(model->weights_wanted());
  model->publish(known_weights(*model, 0));  // the first epoch's are kept for a reader that comes late
  model->want_weights();
  ASSERT_NE(model->take_weights(0), nullptr);
  model->want_weights();  // two readers now
  EXPECT_TRUE(model->weights_wanted());
  for (int e = 1; e < 4; ++e) model->publish(known_weights(*model, e));
  ASSERT_NE(model->take_weights(2), nullptr);  // reader 1 takes epoch 2 (and lets epoch 1 go)
  ASSERT_NE(model->take_weights(1), nullptr) << "reader 2 has not taken epoch 1 yet";
  EXPECT_EQ(model->take_weights(2)->epoch, 2);
  EXPECT_EQ(model->take_weights(2), nullptr) << "both readers took epoch 2: gone";
  EXPECT_EQ(model->take_weights(3)->epoch, 3);
}

TEST(Histogram, TensorFlowsBucketEdgesAndEveryValueCountedOnce) {
  const auto& limits = default_bucket_limits();
  ASSERT_EQ(limits.size() % 2, 1u);
  EXPECT_EQ(limits.front(), -DBL_MAX);
  EXPECT_EQ(limits.back(), DBL_MAX);
  EXPECT_EQ(limits[limits.size() / 2], 0.0);
  EXPECT_DOUBLE_EQ(limits[limits.size() / 2 + 1], 1e-12);
  EXPECT_DOUBLE_EQ(limits[limits.size() / 2 + 2], 1.1e-12);
  const std::vector<float> values{-1.0f, 0.0f, 0.0f, 0.5f, 1e-13f, 3.0f, NAN, 1e30f};
  const Histogram h = make_histogram(values.data(), values.size());
  EXPECT_EQ(h.num, 7) << "NaN has no bucket";
  EXPECT_EQ(h.min, -1.0);
  EXPECT_EQ(h.max, static_cast<double>(1e30f));
  EXPECT_NEAR(h.sum, -1 + 0.5 + 3 + 1e-13 + static_cast<double>(1e30f), 1e18);
  double total = 0;
  for (std::size_t i = 0; i < h.bucket.size(); ++i) {
    total += h.bucket[i];
    const double lower = i == 0 ? -DBL_MAX : h.bucket_limit[i - 1];
    double expect = 0;
    for (float v : values) expect += !std::isnan(v) && v >= lower && v < h.bucket_limit[i];
    EXPECT_EQ(h.bucket[i], expect) << "bucket " << i << " [" << lower << ", " << h.bucket_limit[i] << ")";
    if (i > 0) {
      EXPECT_FALSE(h.bucket[i] == 0 && h.bucket[i - 1] == 0) << "runs of empty buckets are merged";
    }
  }
  EXPECT_EQ(total, 7);
  EXPECT_LT(h.bucket.size(), 20u);
}

TEST(WeightImages, ConvKernelsSideBySideDenseAcrossBiasAsAColumn) {
  const auto model = small_model();
  auto weights = known_weights(*model, 0);
  std::vector<float>& kernel = weights->values[0];  // (3, 3, 1, 4)
  std::fill(kernel.begin(), kernel.end(), 0.0f);
  kernel[(1 * 3 + 2) * 4 + 3] = 2.0f;   // y 1, x 2, filter 3: the largest: white
  kernel[(0 * 3 + 0) * 4 + 1] = -2.0f;  // y 0, x 0, filter 1: black
  const std::vector<WeightImage> images = weight_images(*model, *weights);
  ASSERT_EQ(images.size(), 4u);
  const WeightImage& k = images[0];
  EXPECT_EQ(k.tag, "conv2d/kernel_0/image");
  const std::uint32_t zoom = 6;  // 3 pixels enlarged to at least 16
  EXPECT_EQ(k.width, 4 * 3 * zoom + 3);
  EXPECT_EQ(k.height, 3 * zoom);
  auto at = [&](const WeightImage& im, std::uint32_t x, std::uint32_t y) { return im.pixels[y * im.width + x]; };
  EXPECT_EQ(at(k, 3 * (3 * zoom + 1) + 2 * zoom, 1 * zoom), 255);
  EXPECT_EQ(at(k, 1 * (3 * zoom + 1), 0), 0);
  EXPECT_EQ(at(k, 0, 0), 128) << "zero is mid-grey";
  EXPECT_EQ(at(k, 3 * zoom, 0), 255) << "a white line between kernels";
  const WeightImage& dense = images[2];  // (64, 3): drawn across, 64 wide and 3 tall (its long side needs no zoom)
  EXPECT_EQ(dense.tag, "dense/kernel_0/image");
  EXPECT_EQ(dense.width, 64u);
  EXPECT_EQ(dense.height, 3u);
  const std::vector<float>& d = weights->values[2];
  const float scale = *std::max_element(d.begin(), d.end());
  EXPECT_EQ(at(dense, 10, 2), std::lround(127.5 + 127.5 * d[10 * 3 + 2] / scale));
  const WeightImage& bias = images[3];
  EXPECT_EQ(bias.width, 6u);  // 3 values, a column enlarged to 18 pixels
  EXPECT_EQ(bias.height, 18u);
}

TEST(KerasModelJson, SequentialConfigAsKerasWritesIt) {
  const auto json = nlohmann::json::parse(keras_model_json(*small_model()));
  EXPECT_EQ(json["class_name"], "Sequential");
  const auto& layers = json["config"]["layers"];
  std::vector<std::string> classes, names;
  for (const auto& l : layers) classes.push_back(l["class_name"]), names.push_back(l["config"]["name"]);
  EXPECT_EQ(classes, (std::vector<std::string>{"InputLayer", "Conv2D", "ReLU", "MaxPooling2D", "Flatten", "Dense", "Softmax"}));
  EXPECT_EQ(names, (std::vector<std::string>{"input", "conv2d", "relu", "max_pool2d", "flatten", "dense", "softmax"}));
  EXPECT_EQ(layers[0]["config"]["batch_input_shape"], nlohmann::json::parse("[null, 8, 8, 1]"));
  EXPECT_EQ(layers[1]["config"]["kernel_size"], nlohmann::json::parse("[3, 3]"));
  EXPECT_EQ(layers[1]["config"]["padding"], "same");
  EXPECT_EQ(layers[3]["config"]["strides"], nlohmann::json::parse("[2, 2]"));
  EXPECT_EQ(layers[5]["config"]["units"], 3);
  EXPECT_EQ(layers[5]["config"]["dtype"], "float32");
}

TEST(TensorBoardGraph, LayersAsNameScopesWithOpsAndOutputShapes) {
  tensorboard::GraphDef graph;
  ASSERT_TRUE(graph.ParseFromString(graph_def_bytes(*small_model())));
  std::map<std::string, const tensorboard::NodeDef*> nodes;
  for (const auto& n : graph.node()) nodes[n.name()] = &n;
  for (const auto& n : graph.node())
    for (const auto& input : n.input()) EXPECT_TRUE(nodes.count(input)) << n.name() << " reads " << input;
  ASSERT_TRUE(nodes.count("conv2d/Conv2D") && nodes.count("dense/MatMul") && nodes.count("softmax/Softmax"));
  const auto& conv = *nodes["conv2d/Conv2D"];
  EXPECT_EQ(conv.op(), "Conv2D");
  EXPECT_EQ(conv.input(1), "conv2d/kernel");
  EXPECT_EQ(conv.attr().at("padding").s(), "SAME");
  const auto& shape = nodes["max_pool2d/MaxPool"]->attr().at("_output_shapes").list().shape(0);
  std::vector<long long> dims;
  for (const auto& d : shape.dim()) dims.push_back(d.size());
  EXPECT_EQ(dims, (std::vector<long long>{-1, 4, 4, 4}));
  EXPECT_EQ(nodes["flatten/Reshape"]->input(0), "max_pool2d/MaxPool");
  EXPECT_EQ(nodes["softmax/Softmax"]->input(0), "dense/BiasAdd");
}

TEST(TensorBoard, GraphOnceHistogramsEveryNEpochsImagesEveryEpoch) {
  TempDir dir;
  const auto model = small_model();
  TensorBoardSink sink(params_for("tensorboard", "{write_images: true, histogram_freq: 2}"));
  sink.prepare(context_in(dir));
  run_epoch(sink, model, 0);
  const std::string state = *sink.save_state(false);
  run_epoch(sink, model, 1);
  auto count = [](const std::vector<tensorboard::Event>& events, const std::string& kind, std::int64_t step) {
    int n = 0;
    for (const auto& e : events) {
      if (kind == "graph") n += e.what_case() == tensorboard::Event::kGraphDef;
      for (const auto& v : e.summary().value())
        n += e.step() == step && ((kind == "histo" && v.has_histo()) || (kind == "image" && v.has_image()) ||
                                  (kind == "keras" && v.tag() == "keras"));
    }
    return n;
  };
  auto events = read_events(dir.path() / "out/logs/train");
  EXPECT_EQ(count(events, "graph", 0), 1);
  EXPECT_EQ(count(events, "keras", 0), 1);
  EXPECT_EQ(count(events, "histo", 0), 4) << "epoch 1 (index 0): a histogram per parameter";
  EXPECT_EQ(count(events, "histo", 1), 0) << "histogram_freq 2: not at epoch 2";
  EXPECT_EQ(count(events, "image", 0), 4);
  EXPECT_EQ(count(events, "image", 1), 4);
  for (const auto& e : events)
    for (const auto& v : e.summary().value())
      if (v.has_histo() && v.tag() == "dense/bias_0") {
        EXPECT_EQ(v.histo().num(), 3);
      }
  EXPECT_EQ(read_events(dir.path() / "out/logs/validation").size(), 5u) << "the version, two scalars per epoch";

  // Resumed after epoch 1: the graph is not written again.
  TensorBoardSink resumed(params_for("tensorboard", "{write_images: true, histogram_freq: 2}"));
  auto context = context_in(dir);
  context.resuming = true;
  resumed.prepare(context);
  resumed.restore_state(state);
  run_epoch(resumed, model, 1);
  EXPECT_EQ(count(read_events(dir.path() / "out/logs/train"), "graph", 0), 1);
}

TEST(TensorBoard, WeightOptionsWithoutAModelWarnOnce) {
  TempDir dir;
  TensorBoardSink sink(params_for("tensorboard", "{histogram_freq: 1}"));
  sink.prepare(context_in(dir));
  NullEmitter out;
  testing::internal::CaptureStderr();
  for (int epoch = 0; epoch < 2; ++epoch) {
    sink.consume(pipeline::Payload::of(result_with(nullptr, "train", epoch)), "train", out);
    sink.on_epoch_end(epoch, out);
  }
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("histogram_freq need the model's weights"), std::string::npos) << err;
  EXPECT_EQ(err.find("warning", err.find("warning") + 1), std::string::npos) << "once: " << err;
}

TEST(LayerGraphSvg, TableAndDrawingOfEveryLayer) {
  const auto model = small_model();
  const std::string table = html_layer_table(*model), svg = svg_layer_graph(*model);
  EXPECT_NE(table.find("<td>dense (dense)</td><td>(None, 3)</td><td>195</td>"), std::string::npos) << table;
  EXPECT_NE(table.find("fused with the cross-entropy loss"), std::string::npos);
  std::size_t boxes = 0;
  for (std::size_t at = svg.find("<g class=\"layer\">"); at != std::string::npos; at = svg.find("<g class=\"layer\">", at + 1)) ++boxes;
  EXPECT_EQ(boxes, 7u);  // the input and six layers
  EXPECT_NE(svg.find("conv2d (conv2d)"), std::string::npos);
}

// A run killed after saving its last epoch's state, before writing its outputs, resumes with no epoch left: no
// result reaches the report, which must still draw the model from its saved state.
TEST(HtmlReport, ARunResumedAfterItsLastEpochWritesTheSameReport) {
  TempDir dir;
  const auto model = small_model();
  HtmlReportSink straight(params_for("html_report", ""));
  straight.prepare(context_in(dir));
  for (int epoch = 0; epoch < 2; ++epoch) run_epoch(straight, model, epoch);
  const std::string state = *straight.save_state(false);
  HtmlReportSink resumed(params_for("html_report", ""));
  auto context = context_in(dir);
  context.resuming = true;
  resumed.prepare(context);
  resumed.restore_state(state);
  resumed.continue_from(2);
  const std::string html = resumed.render(pipeline::Profile{}, false);
  EXPECT_NE(html.find("<h2>Model</h2>"), std::string::npos);
  EXPECT_NE(html.find("conv2d (conv2d)"), std::string::npos);
  const std::regex finished("<tr><td>finished</td><td>[^<]*</td></tr>");
  EXPECT_EQ(std::regex_replace(html, finished, ""), std::regex_replace(straight.render(pipeline::Profile{}, false), finished, ""));
}
