#include "sink/tensorboard_graph.hpp"

#include <initializer_list>

#include "graph.pb.h"
#include "sink/proto_bytes.hpp"

namespace stages {
namespace {

using tensorboard::AttrValue;
using tensorboard::NodeDef;

void set_shape(tensorboard::TensorShapeProto& proto, const std::vector<long long>& dims) {
  for (long long d : dims) proto.add_dim()->set_size(d);
}

std::vector<long long> batch_of(const nn::Shape& sample) {
  std::vector<long long> dims{-1};
  for (std::size_t d : sample) dims.push_back(static_cast<long long>(d));
  return dims;
}

std::vector<long long> dims_of(const nn::Shape& shape) { return {shape.begin(), shape.end()}; }

void ints(NodeDef& node, const std::string& name, std::initializer_list<long long> values) {
  for (long long v : values) (*node.mutable_attr())[name].mutable_list()->add_i(v);
}

class GraphBuilder {
 public:
  NodeDef& add(const std::string& name, const std::string& op, std::vector<std::string> inputs,
               const std::vector<long long>& output_shape) {
    NodeDef& node = *graph_.add_node();
    node.set_name(name);
    node.set_op(op);
    for (auto& input : inputs) node.add_input(std::move(input));
    set_shape(*(*node.mutable_attr())["_output_shapes"].mutable_list()->add_shape(), output_shape);
    if (op != "Placeholder" && op != "VariableV2" && op != "Const") (*node.mutable_attr())["T"].set_type(tensorboard::DT_FLOAT);
    return node;
  }
  std::string variable(const std::string& name, const nn::Shape& shape) {
    NodeDef& node = add(name, "VariableV2", {}, dims_of(shape));
    (*node.mutable_attr())["dtype"].set_type(tensorboard::DT_FLOAT);
    set_shape(*(*node.mutable_attr())["shape"].mutable_shape(), dims_of(shape));
    return name;
  }
  std::string layer(const LayerRecord& layer, const std::string& input);
  tensorboard::GraphDef& graph() { return graph_; }

 private:
  std::string weighted(const LayerRecord& layer, const std::string& input, const std::string& op);
  tensorboard::GraphDef graph_;
};

// conv2d and dense: the operation on the kernel, then BiasAdd; each parameter a variable in the layer's scope.
std::string GraphBuilder::weighted(const LayerRecord& layer, const std::string& input, const std::string& op) {
  const std::string& n = layer.name;
  std::vector<std::string> variables;
  for (const ParameterRecord& p : layer.parameters) variables.push_back(variable(n + "/" + p.name, p.shape));
  const auto out = batch_of(layer.output_shape);
  NodeDef& main = add(n + "/" + op, op, {input, variables.at(0)}, out);
  if (op == "Conv2D") {
    const long long s = layer.int_option("stride", 1);
    ints(main, "strides", {1, s, s, 1});
    ints(main, "dilations", {1, 1, 1, 1});
    (*main.mutable_attr())["padding"].set_s(layer.option("padding", "valid") == "same" ? "SAME" : "VALID");
    (*main.mutable_attr())["data_format"].set_s("NHWC");
  } else {
    (*main.mutable_attr())["transpose_a"].set_b(false);
    (*main.mutable_attr())["transpose_b"].set_b(false);
  }
  if (variables.size() < 2) return main.name();
  NodeDef& bias = add(n + "/BiasAdd", "BiasAdd", {main.name(), variables[1]}, out);
  (*bias.mutable_attr())["data_format"].set_s("NHWC");
  return bias.name();
}

std::string GraphBuilder::layer(const LayerRecord& layer, const std::string& input) {
  const std::string& t = layer.type;
  const std::string& n = layer.name;
  const auto out = batch_of(layer.output_shape);
  if (t == "conv2d") return weighted(layer, input, "Conv2D");
  if (t == "dense") return weighted(layer, input, "MatMul");
  if (t == "relu") return add(n + "/Relu", "Relu", {input}, out).name();
  if (t == "softmax") return add(n + "/Softmax", "Softmax", {input}, out).name();
  if (t == "max_pool2d" || t == "avg_pool2d") {
    const long long p = layer.int_option("pool", 2), stride = layer.int_option("stride", 0), s = stride ? stride : p;
    NodeDef& node = add(n + (t == "max_pool2d" ? "/MaxPool" : "/AvgPool"), t == "max_pool2d" ? "MaxPool" : "AvgPool",
                        {input}, out);
    ints(node, "ksize", {1, p, p, 1});
    ints(node, "strides", {1, s, s, 1});
    (*node.mutable_attr())["padding"].set_s("VALID");
    (*node.mutable_attr())["data_format"].set_s("NHWC");
    return node.name();
  }
  if (t == "flatten") {
    NodeDef& shape = add(n + "/Const", "Const", {}, {2});
    (*shape.mutable_attr())["dtype"].set_type(tensorboard::DT_INT32);
    tensorboard::TensorProto& value = *(*shape.mutable_attr())["value"].mutable_tensor();
    value.set_dtype(tensorboard::DT_INT32);
    set_shape(*value.mutable_tensor_shape(), {2});
    value.add_int_val(-1);
    value.add_int_val(static_cast<int>(layer.output_shape.at(0)));
    NodeDef& reshape = add(n + "/Reshape", "Reshape", {input, shape.name()}, out);
    (*reshape.mutable_attr())["Tshape"].set_type(tensorboard::DT_INT32);
    return reshape.name();
  }
  // Any other layer (batch_norm, dropout, a plugin's): one operation named after its type, fed its parameters.
  std::vector<std::string> inputs{input};
  for (const ParameterRecord& p : layer.parameters) inputs.push_back(variable(n + "/" + p.name, p.shape));
  NodeDef& node = add(n + "/" + t, t, std::move(inputs), out);
  for (const auto& [key, text] : layer.options) (*node.mutable_attr())[key].set_s(text);
  return node.name();
}

}  // namespace

std::string graph_def_bytes(const ModelRecord& model) {
  GraphBuilder builder;
  NodeDef& input = builder.add("input", "Placeholder", {}, batch_of(model.input_shape()));
  (*input.mutable_attr())["dtype"].set_type(tensorboard::DT_FLOAT);
  set_shape(*(*input.mutable_attr())["shape"].mutable_shape(), batch_of(model.input_shape()));
  std::string tensor = input.name();
  for (const LayerRecord& layer : model.layers()) tensor = builder.layer(layer, tensor);
  builder.graph().mutable_versions()->set_producer(22);
  return deterministic_bytes(builder.graph());
}

}  // namespace stages
