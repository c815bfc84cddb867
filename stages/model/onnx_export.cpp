#include "model/onnx_export.hpp"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>
#include <stdexcept>

#include "pipeline/files.hpp"

namespace stages {
namespace {

using Ints = std::vector<std::int64_t>;

class OnnxGraph {
 public:
  explicit OnnxGraph(onnx::GraphProto& graph) : graph_(graph) {}

  onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& inputs, const std::string& output) {
    onnx::NodeProto& n = *graph_.add_node();
    n.set_op_type(op);
    n.set_name(output);
    for (const auto& i : inputs) n.add_input(i);
    n.add_output(output);
    return n;
  }
  static void ints(onnx::NodeProto& n, const std::string& name, const Ints& values) {
    onnx::AttributeProto& a = *n.add_attribute();
    a.set_name(name);
    a.set_type(onnx::AttributeProto::INTS);
    for (auto v : values) a.add_ints(v);
  }
  static void integer(onnx::NodeProto& n, const std::string& name, std::int64_t value) {
    onnx::AttributeProto& a = *n.add_attribute();
    a.set_name(name);
    a.set_type(onnx::AttributeProto::INT);
    a.set_i(value);
  }
  static void real(onnx::NodeProto& n, const std::string& name, float value) {
    onnx::AttributeProto& a = *n.add_attribute();
    a.set_name(name);
    a.set_type(onnx::AttributeProto::FLOAT);
    a.set_f(value);
  }
  // A weight tensor; `values` row-major in `dims`.
  std::string initializer(const std::string& name, const Ints& dims, const std::vector<float>& values) {
    onnx::TensorProto& t = *graph_.add_initializer();
    t.set_name(name);
    t.set_data_type(onnx::TensorProto::FLOAT);
    for (auto d : dims) t.add_dims(d);
    t.set_raw_data(std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
    return name;
  }
  void value_info(onnx::ValueInfoProto& v, const std::string& name, const nn::Shape& sample) {
    v.set_name(name);
    auto& tensor = *v.mutable_type()->mutable_tensor_type();
    tensor.set_elem_type(onnx::TensorProto::FLOAT);
    tensor.mutable_shape()->add_dim()->set_dim_param("batch");
    for (std::size_t d : sample) tensor.mutable_shape()->add_dim()->set_dim_value(static_cast<std::int64_t>(d));
  }

 private:
  onnx::GraphProto& graph_;
};

std::vector<float> values_of(const nn::Tensor& t) { return {t.data(), t.data() + t.size()}; }

// (kh, kw, in, out) -> ONNX's (out, in, kh, kw).
std::vector<float> conv_kernel_oihw(const nn::Tensor& k) {
  const std::size_t kh = k.shape()[0], kw = k.shape()[1], in = k.shape()[2], out = k.shape()[3];
  std::vector<float> w(k.size());
  for (std::size_t y = 0; y < kh; ++y)
    for (std::size_t x = 0; x < kw; ++x)
      for (std::size_t i = 0; i < in; ++i)
        for (std::size_t o = 0; o < out; ++o) w[((o * in + i) * kh + y) * kw + x] = k.data()[((y * kw + x) * in + i) * out + o];
  return w;
}

// TensorFlow's 'same': the output is ceil(in / stride); the padding's odd pixel goes to the end.
Ints conv_pads(const LayerRecord& layer, std::int64_t kernel, std::int64_t stride) {
  if (layer.option("padding", "valid") != "same") return {0, 0, 0, 0};
  auto total = [&](std::int64_t in) {
    const std::int64_t out = (in + stride - 1) / stride;
    return std::max<std::int64_t>(0, (out - 1) * stride + kernel - in);
  };
  const std::int64_t h = total(static_cast<std::int64_t>(layer.input_shape[0]));
  const std::int64_t w = total(static_cast<std::int64_t>(layer.input_shape[1]));
  return {h / 2, w / 2, h - h / 2, w - w / 2};
}

const std::vector<std::string> kExportable = {"conv2d", "dense", "relu", "max_pool2d", "avg_pool2d", "flatten",
                                               "dropout", "batch_norm", "softmax"};

// Adds layer i's nodes reading `x`; returns the tensor it outputs. `nchw` tracks the layout of 4-D tensors.
std::string lower_layer(OnnxGraph& g, const LayerRecord& layer, nn::Layer* impl, std::size_t index, const std::string& x,
                        bool& nchw) {
  const std::string& t = layer.type;
  const std::string out = layer.name;
  std::vector<nn::Parameter> params = impl ? impl->parameters() : std::vector<nn::Parameter>{};
  if (t == "conv2d") {
    const std::int64_t k = layer.int_option("kernel", 1), s = layer.int_option("stride", 1);
    const auto& kernel = *params.at(0).value;
    const std::string w = g.initializer(out + ".kernel", {static_cast<std::int64_t>(kernel.shape()[3]),
                                                          static_cast<std::int64_t>(kernel.shape()[2]), k, k},
                                        conv_kernel_oihw(kernel));
    const std::string b = g.initializer(out + ".bias", {static_cast<std::int64_t>(params.at(1).value->size())},
                                        values_of(*params.at(1).value));
    auto& n = g.node("Conv", {x, w, b}, out);
    OnnxGraph::ints(n, "kernel_shape", {k, k});
    OnnxGraph::ints(n, "strides", {s, s});
    OnnxGraph::ints(n, "pads", conv_pads(layer, k, s));
    return out;
  }
  if (t == "max_pool2d" || t == "avg_pool2d") {
    const std::int64_t p = layer.int_option("pool", 2), stride = layer.int_option("stride", 0);
    auto& n = g.node(t == "max_pool2d" ? "MaxPool" : "AveragePool", {x}, out);
    OnnxGraph::ints(n, "kernel_shape", {p, p});
    OnnxGraph::ints(n, "strides", {stride ? stride : p, stride ? stride : p});
    return out;
  }
  if (t == "relu") return g.node("Relu", {x}, out).output(0);
  if (t == "softmax") return x;  // the network's end: written once, as the output
  if (t == "dropout") return x;  // the identity at inference
  if (t == "flatten") {
    std::string in = x;
    if (nchw) {  // back to NHWC first: our flatten orders the values (height, width, channel)
      OnnxGraph::ints(g.node("Transpose", {x}, out + ".nhwc"), "perm", {0, 2, 3, 1});
      in = out + ".nhwc";
      nchw = false;
    }
    OnnxGraph::integer(g.node("Flatten", {in}, out), "axis", 1);
    return out;
  }
  if (t == "dense") {
    const auto& kernel = *params.at(0).value;
    const std::string w = g.initializer(out + ".kernel", {static_cast<std::int64_t>(kernel.shape()[0]),
                                                          static_cast<std::int64_t>(kernel.shape()[1])}, values_of(kernel));
    const std::string b = g.initializer(out + ".bias", {static_cast<std::int64_t>(params.at(1).value->size())},
                                        values_of(*params.at(1).value));
    return g.node("Gemm", {x, w, b}, out).output(0);
  }
  if (t == "batch_norm") {
    const auto state = impl->state();
    const std::int64_t c = static_cast<std::int64_t>(params.at(0).value->size());
    std::vector<std::string> inputs{x};
    for (const auto& p : params) inputs.push_back(g.initializer(out + "." + p.name, {c}, values_of(*p.value)));
    for (const auto& [name, tensor] : state) inputs.push_back(g.initializer(out + "." + name, {c}, values_of(*tensor)));
    const double epsilon = std::stod(layer.option("epsilon", "1e-3"));
    OnnxGraph::real(g.node("BatchNormalization", inputs, out), "epsilon", static_cast<float>(epsilon));
    return out;
  }
  throw std::logic_error("layer " + std::to_string(index) + " (" + t + "): no ONNX lowering");
}

}  // namespace

void check_onnx_exportable(const ModelRecord& record) {
  for (std::size_t i = 0; i < record.layers().size(); ++i) {
    const std::string& type = record.layers()[i].type;
    if (std::find(kExportable.begin(), kExportable.end(), type) != kExportable.end()) continue;
    std::string known;
    for (const auto& k : kExportable) known += (known.empty() ? "" : ", ") + k;
    throw std::runtime_error("layer " + std::to_string(i) + " (" + type + ") cannot be exported to ONNX: there is no "
                             "ONNX form for its type (exportable layer types: " + known + ")");
  }
}

std::string onnx_model_bytes(const ModelRecord& record, nn::Sequential& network, const std::string& producer_version) {
  check_onnx_exportable(record);
  onnx::ModelProto model;
  model.set_ir_version(7);  // the IR of opset 13
  model.set_producer_name("pipeline");
  model.set_producer_version(producer_version);
  auto& opset = *model.add_opset_import();
  opset.set_domain("");
  opset.set_version(kOnnxOpset);
  onnx::GraphProto& graph = *model.mutable_graph();
  graph.set_name("sequential");
  OnnxGraph g(graph);
  g.value_info(*graph.add_input(), "input", record.input_shape());
  std::string x = "input";
  bool nchw = false;
  if (record.input_shape().size() == 3) {  // images: NHWC in, NCHW for ONNX's convolutions and pooling
    OnnxGraph::ints(g.node("Transpose", {x}, "input.nchw"), "perm", {0, 3, 1, 2});
    x = "input.nchw";
    nchw = true;
  }
  for (std::size_t i = 0; i < record.layers().size(); ++i)
    x = lower_layer(g, record.layers()[i], i < network.size() ? &network.layer(i) : nullptr, i, x, nchw);
  if (nchw) throw std::runtime_error("the network ends with an image-shaped output; ONNX export needs flat logits");
  OnnxGraph::integer(g.node("Softmax", {x}, "probabilities"), "axis", -1);
  g.value_info(*graph.add_output(), "probabilities", network.output_shape());
  try {
    onnx::checker::check_model(model);
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(), onnx::ShapeInferenceOptions{true, 1, false});
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("the ONNX model failed ONNX's own check (a bug in the exporter): ") + e.what());
  }
  return model.SerializeAsString();
}

void write_onnx_model(const ModelRecord& record, nn::Sequential& network, const std::filesystem::path& path,
                      const std::string& producer_version) {
  pipeline::write_file_atomically(path, onnx_model_bytes(record, network, producer_version));
}

}  // namespace stages
