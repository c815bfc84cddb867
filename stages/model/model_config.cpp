#include "model/model_config.hpp"

#include <unistd.h>

#include <yaml-cpp/yaml.h>

#include <stdexcept>

#include "model/nn/layer_registry.hpp"
#include "pipeline/files.hpp"

namespace stages {
namespace {

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// The spec registered as `type`, or an error at `where` naming the closest known type.
template <class Registry>
const auto& find_spec(const std::string& type, const std::string& kind, const pipeline::Params& parent,
                      const std::string& parameter, const YAML::Node& where) {
  const auto* spec = Registry::instance().find(type);
  if (spec) return *spec;
  const std::vector<std::string> known = Registry::instance().names();
  const std::string hint = pipeline::closest_match(type, known);
  parent.fail(parameter, where,
              "unknown " + kind + " type '" + type + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                  "; known: " + join(known) + " (see `pipeline stages sequential`)");
}

// node[key] when node is a map that has it, else an undefined node (yaml-cpp's own answer for a missing key of a
// const map is an invalid node that throws when asked anything but IsDefined).
YAML::Node child(const YAML::Node& node, const char* key) {
  if (!node.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  const YAML::Node value = node[key];
  return value.IsDefined() ? value : YAML::Node(YAML::NodeType::Undefined);
}

// A layer entry: `relu` or `{conv2d: {filters: 20, ...}}`.
std::pair<std::string, YAML::Node> layer_entry(const YAML::Node& entry, std::size_t i, const pipeline::Params& parent,
                                               const std::string& parameter) {
  if (entry.IsScalar()) return {entry.Scalar(), YAML::Node()};
  if (entry.IsMap() && entry.size() == 1 && entry.begin()->first.IsScalar())
    return {entry.begin()->first.Scalar(), entry.begin()->second};
  parent.fail(parameter, entry,
              "layer " + std::to_string(i) + ": write a layer as {type: {options}} or as a bare type name");
}

// A value as YAML text on one line: `5`, `same`, `[1, 2]`.
std::string yaml_text(const YAML::Node& node) {
  YAML::Emitter out;
  out.SetSeqFormat(YAML::Flow);
  out.SetMapFormat(YAML::Flow);
  out << node;
  return out.c_str();
}

LayerOptions layer_options(const std::string& type, const std::vector<pipeline::ParamSpec>& specs,
                           const pipeline::Params& options) {
  LayerOptions written{type, {}};
  for (const pipeline::ParamSpec& spec : specs)
    if (options.has(spec.name)) written.options.emplace_back(spec.name, yaml_text(options.get_node(spec.name)));
  return written;
}

}  // namespace

nn::Shape parse_shape(const pipeline::Params& parent, const std::string& parameter) {
  const YAML::Node node = parent.get_node(parameter);
  if (!node.IsSequence() || node.size() == 0)
    parent.fail(parameter, node, "a shape is a list of positive sizes, e.g. [28, 28, 1]");
  nn::Shape shape;
  for (const auto& d : node) {
    long long v = 0;
    try {
      v = d.as<long long>();
    } catch (const YAML::Exception&) {
      parent.fail(parameter, d, "a shape is a list of positive sizes, e.g. [28, 28, 1]");
    }
    if (v <= 0) parent.fail(parameter, d, "shape sizes must be positive");
    shape.push_back(static_cast<std::size_t>(v));
  }
  return shape;
}

// A layer whose weights alone (with their gradients and an optimizer's state: 3 copies) exceed the machine's
// memory can never train: said now, naming the layer and the bytes, not as an allocation failure later.
void check_fits_in_memory(const nn::Layer& layer, const std::string& what, const pipeline::Params& parent,
                          const std::string& parameter, const YAML::Node& node) {
  const double bytes = 3.0 * static_cast<double>(layer.parameter_count()) * sizeof(float);
  const double memory = static_cast<double>(::sysconf(_SC_PHYS_PAGES)) * static_cast<double>(::sysconf(_SC_PAGE_SIZE));
  if (memory > 0 && bytes > memory)
    parent.fail(parameter, node,
                what + ": its " + std::to_string(layer.parameter_count()) + " parameters need " +
                    pipeline::human_bytes(bytes) + " (weights, gradients, optimizer state), more than this machine's " +
                    pipeline::human_bytes(memory) + " of memory");
}

NetworkSpec build_network(const pipeline::Params& parent, const std::string& parameter, const nn::Shape& input_shape) {
  const YAML::Node layers = parent.get_node(parameter);
  if (!layers.IsSequence() || layers.size() == 0) parent.fail(parameter, layers, "must be a non-empty list of layers");
  NetworkSpec spec;
  spec.network = std::make_unique<nn::Sequential>(input_shape);
  nn::Shape shape = input_shape;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const auto [type, options_node] = layer_entry(layers[i], i, parent, parameter);
    const std::string what = "layer " + std::to_string(i) + " (" + type + ")";
    const nn::LayerSpec& layer_spec = find_spec<nn::LayerRegistry>(type, "layer", parent, parameter, layers[i]);
    const pipeline::Params options = pipeline::resolve_options(layer_spec.params, options_node, what, parent, parameter);
    if (spec.ends_with_softmax) parent.fail(parameter, layers[i], what + ": softmax must be the last layer");
    spec.written.push_back(layer_options(type, layer_spec.params, options));
    if (layer_spec.fused_with_loss) {
      if (shape.size() != 1)
        parent.fail(parameter, layers[i], what + ": needs a flat input, got " + nn::shape_string(shape));
      spec.ends_with_softmax = true;
      continue;
    }
    std::unique_ptr<nn::Layer> layer;
    try {
      layer = layer_spec.create(shape, options);
    } catch (const std::invalid_argument& e) {
      parent.fail(parameter, layers[i], what + ": " + e.what());
    }
    check_fits_in_memory(*layer, what, parent, parameter, layers[i]);
    shape = layer->output_shape();
    spec.network->add(std::move(layer));
  }
  if (spec.network->output_shape().size() != 1)
    parent.fail(parameter, layers,
                "the last layer's output must be flat (classes,), got " +
                    nn::shape_string(spec.network->output_shape()) + "; add flatten and dense layers");
  return spec;
}

NetworkSpec build_network(const std::string& layers_yaml, const nn::Shape& input_shape) {
  const pipeline::Params parent("layers", "<layers>", {{"layers", {YAML::Load(layers_yaml), {"<layers>", 1, 1}}}});
  return build_network(parent, "layers", input_shape);
}

TrainingSpec build_training(const pipeline::Params& parent, const std::string& parameter) {
  const YAML::Node node = parent.get_node(parameter);
  const YAML::Node given = child(node, "type");
  const std::string type = given.IsScalar() ? given.Scalar() : "sgd";
  const nn::OptimizerSpec& optimizer =
      find_spec<nn::OptimizerRegistry>(type, "optimizer", parent, parameter, given.IsDefined() ? given : node);
  const pipeline::Params options =
      pipeline::resolve_options(optimizer.params, node, "optimizer (" + type + ")", parent, parameter, {"type"});
  TrainingSpec spec;
  spec.optimizer = optimizer.create(options);
  spec.learning_rate = options.get_float("learning_rate");
  spec.description = spec.optimizer->description(spec.learning_rate);
  const YAML::Node schedule_node = child(node, "schedule");
  const YAML::Node given_type = child(schedule_node, "type"), warmup = child(schedule_node, "warmup_epochs");
  if (schedule_node.IsMap() && schedule_node.size() > (warmup.IsDefined() ? 1u : 0u) && !given_type.IsDefined())
    parent.fail(parameter, schedule_node,
                "schedule: missing 'type' (known: " + join(nn::ScheduleRegistry::instance().names()) +
                    "), e.g. {type: step, step_epochs: 10, gamma: 0.5}");
  const std::string kind = given_type.IsScalar() ? given_type.Scalar() : "constant";
  const nn::ScheduleSpec& schedule = find_spec<nn::ScheduleRegistry>(kind, "schedule", parent, parameter,
                                                                     given_type.IsDefined() ? given_type : schedule_node);
  spec.schedule = schedule.create(pipeline::resolve_options(schedule.params, schedule_node, "schedule (" + kind + ")",
                                                            parent, parameter, {"type", "warmup_epochs"}));
  if (warmup.IsDefined()) {
    int epochs = -1;
    if (!warmup.IsScalar() || !YAML::convert<int>::decode(warmup, epochs) || epochs < 0)
      parent.fail(parameter, warmup, "schedule: warmup_epochs must be a whole number of epochs >= 0, got '" +
                                         (warmup.IsScalar() ? warmup.Scalar() : std::string("a list or map")) + "'");
    if (epochs > 0) {
      spec.schedule = std::make_unique<nn::WarmUp>(std::move(spec.schedule), epochs);
      spec.description += " warmup_epochs=" + std::to_string(epochs);
    }
  }
  if (kind != "constant") spec.description += " schedule=" + kind;
  return spec;
}

std::string describe_model_options() {
  std::string out = "  layers (in `layers:`, as {type: {options}} or a bare type):\n";
  for (const nn::LayerSpec* s : nn::LayerRegistry::instance().all())
    out += "    " + s->type + ": " + s->summary + "\n" + pipeline::describe_params(s->params, "        ");
  out += "  optimizers (`optimizer: {type: ..., options}`):\n";
  for (const nn::OptimizerSpec* s : nn::OptimizerRegistry::instance().all())
    out += "    " + s->type + ": " + s->summary + "\n" + pipeline::describe_params(s->params, "        ");
  out += "  schedules (`optimizer: {schedule: {type: ..., options}}`; any of them takes warmup_epochs: N, a linear\n"
         "  warm-up to its rate over the first N epochs, for large batches with a learning rate scaled up with them):\n";
  for (const nn::ScheduleSpec* s : nn::ScheduleRegistry::instance().all())
    out += "    " + s->type + ": " + s->summary + "\n" + pipeline::describe_params(s->params, "        ");
  return out;
}

}  // namespace stages
