// Pipeline::build: everything that can be checked before data flows is checked here.
#include <algorithm>
#include <filesystem>
#include <limits>
#include <map>
#include <set>

#include "engine_limits.hpp"
#include "pipeline/communicator.hpp"
#include "pipeline/pipeline.hpp"

namespace pipeline {
namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

std::vector<std::size_t> topological_order(const std::vector<StageNode>& nodes, const PipelineConfig& config) {
  std::vector<std::size_t> missing_inputs(nodes.size());
  for (std::size_t i = 0; i < nodes.size(); ++i) missing_inputs[i] = nodes[i].inputs.size();
  std::vector<std::size_t> order, ready;
  for (std::size_t i = 0; i < nodes.size(); ++i)
    if (missing_inputs[i] == 0) ready.push_back(i);
  while (!ready.empty()) {
    std::size_t i = ready.front();
    ready.erase(ready.begin());
    order.push_back(i);
    for (std::size_t c : nodes[i].consumers)
      if (--missing_inputs[c] == 0) ready.push_back(c);
  }
  if (order.size() != nodes.size()) {
    std::vector<std::string> cycle;
    std::size_t first = nodes.size();
    for (std::size_t i = 0; i < nodes.size(); ++i)
      if (missing_inputs[i] != 0) {
        cycle.push_back(nodes[i].name);
        first = std::min(first, i);
      }
    throw ConfigError(config.stages[first].where, nodes[first].name,
                      "the stages " + join(cycle) + " form a cycle through their inputs; data must flow one way");
  }
  return order;
}

// One node per configured stage, its type found in the registry and its parameters resolved.
std::vector<StageNode> make_nodes(const PipelineConfig& config, std::map<std::string, std::size_t>& index) {
  const Registry& registry = Registry::instance();
  std::vector<StageNode> nodes;
  for (const auto& sc : config.stages) {
    if (index.count(sc.name)) throw ConfigError(sc.where, sc.name, "a stage with this name is already defined");
    StageNode node;
    node.name = sc.name;
    node.spec = registry.find(sc.type);
    if (!node.spec) {
      std::string hint = closest_match(sc.type, registry.names());
      throw ConfigError(sc.type_where, sc.name,
                        "unknown stage type '" + sc.type + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                            "; known types: " + join(registry.names()) + " (see `pipeline stages`)");
    }
    node.params = resolve_params(node.spec->params, sc.name, config.file, sc.params, sc.where);
    node.config = sc;
    index[sc.name] = nodes.size();
    nodes.push_back(std::move(node));
  }
  return nodes;
}

// Each stage's `inputs:` resolved to nodes; sources take none, everything else at least one.
void wire_inputs(std::vector<StageNode>& nodes, const std::map<std::string, std::size_t>& index) {
  std::vector<std::string> names;
  for (const auto& n : nodes) names.push_back(n.name);
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    StageNode& node = nodes[i];
    const bool is_source = node.spec->kind == StageKind::Source;
    if (is_source && !node.config.inputs.empty())
      throw ConfigError(node.config.inputs.front().where, node.name,
                        "a " + node.spec->type + " is a source and takes no inputs");
    if (!is_source && node.config.inputs.empty())
      throw ConfigError(node.config.where, node.name,
                        "missing 'inputs:' (a " + node.spec->type + " consumes " + node.spec->input + " messages)");
    for (const auto& ref : node.config.inputs) {
      auto it = index.find(ref.name);
      if (it == index.end()) {
        std::string hint = closest_match(ref.name, names);
        throw ConfigError(ref.where, node.name,
                          "input '" + ref.name + "' is not a stage" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                              "; stages: " + join(names));
      }
      if (it->second == i) throw ConfigError(ref.where, node.name, "a stage cannot be its own input");
      if (std::find(node.inputs.begin(), node.inputs.end(), it->second) != node.inputs.end())
        throw ConfigError(ref.where, node.name, "input '" + ref.name + "' is listed twice");
      node.inputs.push_back(it->second);
      nodes[it->second].consumers.push_back(i);
    }
  }
}

// Port types, checked at every edge like GStreamer's caps at link time.
void check_port_types(std::vector<StageNode>& nodes, StageNode& node) {
  const StageSpec& spec = *node.spec;
  for (std::size_t k = 0; k < node.inputs.size(); ++k) {
    const StageNode& from = nodes[node.inputs[k]];
    const SourceLocation& where = node.config.inputs[k].where;
    if (from.output_type.empty())
      throw ConfigError(where, node.name, "input '" + from.name + "' is a sink (" + from.spec->type + ") and produces nothing");
    if (spec.input != kAnyType && spec.input != from.output_type)
      throw ConfigError(where, node.name,
                        "type mismatch: '" + from.name + "' (" + from.spec->type + ") produces " + from.output_type +
                            " but " + spec.type + " consumes " + spec.input);
    if (k > 0 && from.output_type != nodes[node.inputs[0]].output_type && spec.output == kSameType)
      throw ConfigError(where, node.name,
                        "inputs carry different types (" + nodes[node.inputs[0]].output_type + " and " +
                            from.output_type + ")");
  }
  node.input_type = nodes[node.inputs[0]].output_type;
  node.output_type = spec.output == kSameType ? node.input_type : spec.output;
}

// Ordering: messages are ordered within a domain (the sources together, or one processor's output). A stage may
// merge inputs only from one domain, and never receive the same item twice. A processor renumbers what it emits,
// so its consumers are ordered by it; processors fed by the sources each take an order slot of the messages.
void assign_ordering(std::vector<StageNode>& nodes, StageNode& node, std::size_t& driver_slots) {
  auto output_domain = [&](std::size_t from) {
    return nodes[from].spec->kind == StageKind::Processor ? from : nodes[from].domain;
  };
  node.domain = output_domain(node.inputs[0]);
  std::set<std::size_t> origins;
  for (std::size_t k = 0; k < node.inputs.size(); ++k) {
    const StageNode& from = nodes[node.inputs[k]];
    if (output_domain(node.inputs[k]) != node.domain)
      throw ConfigError(node.config.inputs[k].where, node.name,
                        "cannot merge '" + from.name + "' with '" + nodes[node.inputs[0]].name +
                            "': they are ordered by different stages; merge before the stateful stage instead");
    for (std::size_t o : from.origins)
      if (!origins.insert(o).second)
        throw ConfigError(node.config.inputs[k].where, node.name,
                          "items of source '" + nodes[o].name + "' would arrive twice (through '" + from.name +
                              "' and another input)");
  }
  node.origins.assign(origins.begin(), origins.end());
  if (node.spec->kind != StageKind::Processor) return;
  if (node.domain != kDriverDomain) {
    node.order_slot = 0;
    return;
  }
  if (driver_slots == kMaxOrderSlots)
    throw ConfigError(node.config.where, node.name,
                      "at most " + std::to_string(kMaxOrderSlots) + " stateful stages may be fed directly by the sources");
  node.order_slot = static_cast<int>(driver_slots++);
}

void create_stages(std::vector<StageNode>& nodes) {
  for (auto& node : nodes) {
    try {
      node.stage = node.spec->create(node.params);
    } catch (const ConfigError&) {
      throw;
    } catch (const std::exception& e) {
      throw ConfigError(node.config.where, node.name, describe_exception(e));
    }
  }
}

// Two writers of one file race (and one's output is lost): refused, naming both stages. The engine's own files
// in the output folder count as written by the run.
void check_single_writer(const std::vector<StageNode>& nodes, const std::string& output_dir) {
  std::map<std::filesystem::path, std::string> writers;
  const std::filesystem::path dir = std::filesystem::weakly_canonical(std::filesystem::absolute(output_dir));
  writers[dir / "run.state"] = "the run itself (its resumable state)";
  writers[dir / ".pipeline.lock"] = "the run itself (its lock)";
  for (const auto& node : nodes)
    for (const auto& file : node.stage->output_files(output_dir)) {
      const auto path = std::filesystem::weakly_canonical(std::filesystem::absolute(file));
      auto [it, fresh] = writers.emplace(path, "stage '" + node.name + "'");
      if (!fresh)
        throw ConfigError(node.config.where, node.name,
                          "writes " + path.string() + ", which " + it->second +
                              " writes too; give one of them another path");
    }
}

}  // namespace

// With several ranks, a sink sees whole results only behind a stage that combines the ranks' shares.
static void add_rank_share_warnings(const std::vector<StageNode>& stages, std::vector<std::string>& out) {
  std::vector<bool> combined(stages.size(), false);  // stages are in config order; inputs may come later
  for (bool changed = true; changed;) {
    changed = false;
    for (std::size_t i = 0; i < stages.size(); ++i) {
      bool now = stages[i].spec->combines_ranks;
      for (std::size_t input : stages[i].inputs) now = now || combined[input];
      if (now != combined[i]) combined[i] = now, changed = true;
    }
  }
  for (std::size_t i = 0; i < stages.size(); ++i)
    if (stages[i].spec->output.empty() && stages[i].spec->kind == StageKind::Processor && !combined[i])
      out.push_back("sink '" + stages[i].name + "' sees rank 0's share of the data only: with " +
                    std::to_string(world().size()) + " ranks each rank handles its own share, and no stage before "
                    "this sink gathers the ranks' results (the model does)");
}

std::vector<std::string> Pipeline::warnings() const {
  std::vector<std::string> out;
  bool any_sink = false;
  for (const auto& node : stages_) {
    const bool has_output = !node.spec->output.empty();
    any_sink = any_sink || !has_output;
    if (has_output && node.consumers.empty())
      out.push_back("stage '" + node.name + "' produces " + node.output_type +
                    " but no stage takes it as input: its output is dropped");
  }
  if (!any_sink)
    out.push_back("the pipeline has no sink: nothing records or prints its results (add e.g. "
                  "{type: console, inputs: [...]} or {type: count, inputs: [...]})");
  if (world().size() > 1) add_rank_share_warnings(stages_, out);
  return out;
}

Pipeline Pipeline::build(PipelineConfig config) {
  load_plugins(config.plugins);  // their stage types must be known before the stages are
  Pipeline p;
  std::map<std::string, std::size_t> index;
  p.stages_ = make_nodes(config, index);
  wire_inputs(p.stages_, index);
  std::size_t driver_slots = 0;
  for (std::size_t i : topological_order(p.stages_, config)) {
    StageNode& node = p.stages_[i];
    if (node.spec->kind == StageKind::Source) {
      node.origins = {i};
      node.domain = kDriverDomain;
      node.output_type = node.spec->output;
      continue;
    }
    check_port_types(p.stages_, node);
    assign_ordering(p.stages_, node, driver_slots);
  }
  create_stages(p.stages_);
  check_single_writer(p.stages_, config.output_dir);
  p.config_ = std::move(config);
  return p;
}

}  // namespace pipeline
