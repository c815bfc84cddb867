#include "pipeline/config.hpp"

#include "pipeline/files.hpp"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <functional>
#include <regex>
#include <set>
#include <sstream>

namespace pipeline {
namespace {

constexpr long long kMaxBuffer = 1 << 20;
constexpr long long kMaxChunk = 4096;

const std::set<std::string> kTopLevelScalars = {"name", "description", "seed", "epochs", "threads", "buffer",
                                                 "chunk", "output_dir", "save_every", "class_names", "plugins"};

SourceLocation at(const std::string& file, const YAML::Node& node) {
  if (!node.IsDefined() || node.Mark().is_null()) return SourceLocation{file, 0, 0};
  return SourceLocation{file, node.Mark().line + 1, node.Mark().column + 1};
}

// Map keys must be plain names; YAML also allows lists or maps as keys, which no setting uses.
std::string key_name(const YAML::Node& key, const std::string& file) {
  if (!key.IsScalar()) throw ConfigError(at(file, key), "", "a key must be a plain name, not a list or map");
  return key.Scalar();
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(text);
  while (std::getline(in, part, sep)) parts.push_back(part);
  return parts;
}

// A --set value: scalars stay text (so "1e-3" and "true" convert by the parameter's declared type), lists and
// maps are parsed as YAML flow.
YAML::Node parse_override_value(const std::string& value, const SourceLocation& where) {
  if (!value.empty() && (value.front() == '[' || value.front() == '{')) {
    try {
      return YAML::Load(value);
    } catch (const YAML::Exception& e) {
      throw ConfigError(where, "", "cannot parse value as YAML: " + e.msg);
    }
  }
  return YAML::Node(value);
}

struct OverrideSite {
  std::string stage;
  std::string param;
  SourceLocation where;
};

std::vector<OverrideSite> apply_overrides(YAML::Node& root, const std::vector<std::string>& overrides) {
  std::vector<OverrideSite> sites;
  for (const auto& text : overrides) {
    SourceLocation where{"--set " + text, 0, 0};
    auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0)
      throw ConfigError(where, "", "expected --set KEY=VALUE, e.g. --set model.epochs=3");
    std::vector<std::string> path = split(text.substr(0, eq), '.');
    for (const auto& p : path)
      if (p.empty()) throw ConfigError(where, "", "empty component in key '" + text.substr(0, eq) + "'");
    YAML::Node value = parse_override_value(text.substr(eq + 1), where);
    if (path.size() == 1) {
      if (!kTopLevelScalars.count(path[0]))
        throw ConfigError(where, "",
                          "'" + path[0] + "' is not a top-level setting (name, seed, epochs, threads, buffer, "
                          "chunk, output_dir, save_every, class_names, plugins); use STAGE.PARAM=VALUE or vars.NAME=VALUE");
      root[path[0]] = value;
      sites.push_back(OverrideSite{"", path[0], where});  // a top-level setting
      continue;
    }
    if (path[0] == "vars") {
      if (path.size() != 2) throw ConfigError(where, "", "expected vars.NAME=VALUE");
      root["vars"][path[1]] = value;
      continue;
    }
    YAML::Node stages = root["stages"];
    if (!stages.IsMap() || !stages[path[0]].IsDefined()) {
      std::vector<std::string> names;
      if (stages.IsMap())
        for (const auto& kv : stages)
          if (kv.first.IsScalar()) names.push_back(kv.first.Scalar());
      std::string hint = closest_match(path[0], names);
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
      throw ConfigError(where, "",
                        "no stage named '" + path[0] + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                            "; stages: " + list);
    }
    YAML::Node node = stages[path[0]];
    for (std::size_t i = 1; i + 1 < path.size(); ++i) {
      YAML::Node child = node[path[i]];
      if (child.IsDefined() && !child.IsMap())
        throw ConfigError(where, path[0], "'" + path[i] + "' is not a map, so it has no '" + path[i + 1] + "'");
      if (!child.IsDefined()) node[path[i]] = YAML::Node(YAML::NodeType::Map);
      node.reset(node[path[i]]);
    }
    node[path.back()] = value;
    sites.push_back(OverrideSite{path[0], path[1], where});
  }
  return sites;
}

// Replaces ${name} in every string scalar below `node`.
void substitute(YAML::Node node, const std::map<std::string, std::string>& vars, const std::string& file) {
  static const std::regex pattern(R"(\$\{([A-Za-z_][A-Za-z0-9_]*)\})");
  if (node.IsScalar()) {
    const std::string text = node.Scalar();
    if (text.find("${") == std::string::npos) return;
    std::string out;
    std::size_t last = 0;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), pattern); it != std::sregex_iterator(); ++it) {
      const std::string name = (*it)[1];
      auto var = vars.find(name);
      if (var == vars.end()) {
        std::vector<std::string> names;
        for (const auto& kv : vars) names.push_back(kv.first);
        std::string hint = closest_match(name, names);
        throw ConfigError(at(file, node), "",
                          "undefined variable '${" + name + "}'" +
                              (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                              "; define it under 'vars:' or with --set vars." + name + "=VALUE");
      }
      out += text.substr(last, static_cast<std::size_t>(it->position()) - last) + var->second;
      last = static_cast<std::size_t>(it->position() + it->length());
    }
    out += text.substr(last);
    node = out;
  } else if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i) substitute(node[i], vars, file);
  } else if (node.IsMap()) {
    for (auto kv : node) substitute(kv.second, vars, file);
  }
}

// yaml-cpp keeps the first of two equal keys and silently drops the other; a config that says a thing twice is
// refused, since either reading may be the one its author meant.
void check_duplicate_keys(const YAML::Node& node, const std::string& file) {
  if (node.IsSequence()) {
    for (const auto& item : node) check_duplicate_keys(item, file);
  } else if (node.IsMap()) {
    std::map<std::string, YAML::Node> seen;
    for (const auto& kv : node) {
      if (kv.first.IsScalar()) {
        auto [first, inserted] = seen.emplace(kv.first.Scalar(), kv.first);
        if (!inserted)
          throw ConfigError(at(file, kv.first), "",
                            "duplicate key '" + kv.first.Scalar() + "' (first at line " +
                                std::to_string(at(file, first->second).line) +
                                "); YAML keeps only one of them, so say it once");
      }
      check_duplicate_keys(kv.second, file);
    }
  }
}

// Expands ${name} inside variable values too, refusing cycles (a: ${b}, b: ${a}) rather than leaving them literal.
class VariableResolver {
 public:
  VariableResolver(const YAML::Node& vars, const std::string& file) : file_(file) {
    for (const auto& kv : vars) {
      if (!kv.second.IsScalar())
        throw ConfigError(at(file, kv.second), "", "variable '" + key_name(kv.first, file) + "' must be a scalar");
      raw_[key_name(kv.first, file)] = kv.second;
    }
  }
  void define(const std::string& name, const std::string& value) {
    if (!raw_.count(name)) resolved_[name] = value;
  }
  std::map<std::string, std::string> resolve_all() {
    for (const auto& kv : raw_) resolve(kv.first);
    return resolved_;
  }

 private:
  const std::string& resolve(const std::string& name) {
    if (auto done = resolved_.find(name); done != resolved_.end()) return done->second;
    const YAML::Node& node = raw_.at(name);
    for (std::size_t i = 0; i < chain_.size(); ++i)
      if (chain_[i] == name) {
        std::string cycle;
        for (std::size_t j = i; j < chain_.size(); ++j) cycle += "${" + chain_[j] + "} -> ";
        throw ConfigError(at(file_, node), "",
                          "variable '" + name + "' refers to itself: " + cycle + "${" + name + "}");
      }
    chain_.push_back(name);
    static const std::regex pattern(R"(\$\{([A-Za-z_][A-Za-z0-9_]*)\})");
    const std::string text = node.Scalar();
    std::string out;
    std::size_t last = 0;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), pattern); it != std::sregex_iterator(); ++it) {
      const std::string used = (*it)[1];
      std::string value = raw_.count(used) ? resolve(used) : resolved_.count(used) ? resolved_.at(used) : it->str();
      out += text.substr(last, static_cast<std::size_t>(it->position()) - last) + value;
      last = static_cast<std::size_t>(it->position() + it->length());
    }
    chain_.pop_back();
    return resolved_[name] = out + text.substr(last);
  }

  std::string file_;
  std::map<std::string, YAML::Node> raw_;
  std::map<std::string, std::string> resolved_;
  std::vector<std::string> chain_;
};

template <class T>
T scalar(const YAML::Node& node, const SourceLocation& where, const std::string& key, const char* expected) {
  if (!node.IsScalar()) throw ConfigError(where, "", "'" + key + "' must be " + expected);
  try {
    return node.as<T>();
  } catch (const YAML::BadConversion&) {
    throw ConfigError(where, "", "'" + key + "' must be " + expected + ", got '" + node.Scalar() + "'");
  }
}

// plugins: [path/libmy_stages.so, name]: shared libraries to load before the stages are built.
std::vector<PluginRef> parse_plugins(YAML::Node node, const std::map<std::string, std::string>& vars,
                                     const std::string& file) {
  if (!node.IsSequence())
    throw ConfigError(at(file, node), "", "'plugins' must be a list of plugin files or names: [build/libmy_stages.so]");
  substitute(node, vars, file);
  std::vector<PluginRef> plugins;
  for (const auto& item : node) {
    if (!item.IsScalar() || item.Scalar().empty())
      throw ConfigError(at(file, item), "", "'plugins': each entry is a plugin file or name");
    plugins.push_back(PluginRef{item.Scalar(), at(file, item)});
  }
  return plugins;
}

// class_names: [zero, one, ...]: unique, non-empty names.
std::vector<std::string> parse_class_names(const YAML::Node& node, const std::string& file) {
  if (!node.IsSequence() || node.size() == 0)
    throw ConfigError(at(file, node), "", "'class_names' must be a list of names, one per class: [cat, dog, ...]");
  std::vector<std::string> names;
  for (const auto& item : node) {
    if (!item.IsScalar() || item.Scalar().empty())
      throw ConfigError(at(file, item), "", "a class name must be a non-empty string");
    if (std::find(names.begin(), names.end(), item.Scalar()) != names.end())
      throw ConfigError(at(file, item), "", "class name '" + item.Scalar() + "' appears twice");
    names.push_back(item.Scalar());
  }
  return names;
}

// The run's name becomes a folder (runs/<name>) and report titles.
void check_run_name(const std::string& name, const SourceLocation& where) {
  if (name.empty() || name.find_first_not_of(" \t") == std::string::npos)
    throw ConfigError(where, "", "'name' is empty; it names the run and its output folder runs/<name>");
  if (name.find('/') != std::string::npos || name == "." || name == "..")
    throw ConfigError(where, "", "'name' must not contain '/' or be '.' or '..': it names the output folder runs/" +
                                     name + " (set output_dir for another place)");
}

bool valid_name(const std::string& name) {
  static const std::regex pattern(R"([A-Za-z_][A-Za-z0-9_\-]*)");
  return std::regex_match(name, pattern);
}

}  // namespace

PipelineConfig parse_config(const std::string& text, const std::string& file,
                            const std::vector<std::string>& overrides) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::DeepRecursion& e) {
    throw ConfigError(SourceLocation{file, e.mark.line + 1, e.mark.column + 1}, "",
                      "lists or maps nested more than " + std::to_string(e.depth() - 1) +
                          " levels deep; a pipeline config needs a handful");
  } catch (const YAML::Exception& e) {
    throw ConfigError(SourceLocation{file, e.mark.line + 1, e.mark.column + 1}, "", "invalid YAML: " + e.msg);
  }
  if (!root.IsMap())
    throw ConfigError(SourceLocation{file, 1, 1}, "", "a pipeline config is a map with a 'stages:' entry");

  check_duplicate_keys(root, file);
  const std::vector<OverrideSite> sites = apply_overrides(root, overrides);
  // A top-level setting given by --set is blamed on the --set, not on the file.
  const auto where_of = [&](const std::string& key) {
    for (const auto& site : sites)
      if (site.stage.empty() && site.param == key) return site.where;
    return at(file, root[key]);
  };

  for (const auto& kv : root) {
    const std::string key = key_name(kv.first, file);
    if (!kTopLevelScalars.count(key) && key != "vars" && key != "stages") {
      std::vector<std::string> known(kTopLevelScalars.begin(), kTopLevelScalars.end());
      known.push_back("vars");
      known.push_back("stages");
      std::string hint = closest_match(key, known);
      throw ConfigError(at(file, kv.first), "",
                        "unknown top-level key '" + key + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
    }
  }

  PipelineConfig config;
  config.file = file;
  if (root["name"].IsDefined())
    config.name = scalar<std::string>(root["name"], where_of("name"), "name", "a string");
  check_run_name(config.name, where_of("name"));
  if (root["vars"].IsDefined() && !root["vars"].IsMap())
    throw ConfigError(where_of("vars"), "", "'vars' must be a map of name: value");
  VariableResolver resolver(root["vars"].IsDefined() ? root["vars"] : YAML::Node(YAML::NodeType::Map), file);
  resolver.define("name", config.name);
  const std::map<std::string, std::string> vars = resolver.resolve_all();
  if (root["seed"].IsDefined()) {
    long long seed = scalar<long long>(root["seed"], where_of("seed"), "seed", "a non-negative integer");
    if (seed < 0) throw ConfigError(where_of("seed"), "", "'seed' must be a non-negative integer");
    config.seed = static_cast<std::uint64_t>(seed);
  }
  if (root["epochs"].IsDefined()) {
    config.epochs = scalar<int>(root["epochs"], where_of("epochs"), "epochs", "a positive integer");
    if (config.epochs < 1) throw ConfigError(where_of("epochs"), "", "'epochs' must be at least 1");
  }
  if (root["threads"].IsDefined()) {
    config.threads = scalar<int>(root["threads"], where_of("threads"), "threads", "an integer (0 = all cores)");
    if (config.threads < 0) throw ConfigError(where_of("threads"), "", "'threads' must be >= 0");
  }
  if (root["buffer"].IsDefined()) {
    config.buffer = scalar<long long>(root["buffer"], where_of("buffer"), "buffer", "a positive integer");
    if (config.buffer < 1) throw ConfigError(where_of("buffer"), "", "'buffer' must be at least 1");
    // Items in flight all live in memory at once; a million images is already gigabytes.
    if (config.buffer > kMaxBuffer)
      throw ConfigError(where_of("buffer"), "",
                        "'buffer' of " + std::to_string(config.buffer) + " items in flight could hold more than memory; "
                        "at most " + std::to_string(kMaxBuffer) + " (the default 1024 keeps both cores busy)");
  }
  if (root["chunk"].IsDefined()) {
    config.chunk = scalar<long long>(root["chunk"], where_of("chunk"), "chunk", "a positive integer");
    if (config.chunk < 1 || config.chunk > kMaxChunk)
      throw ConfigError(where_of("chunk"), "",
                        "'chunk' must be between 1 and " + std::to_string(kMaxChunk) + " items (default 64)");
  }
  if (root["class_names"].IsDefined()) config.class_names = parse_class_names(root["class_names"], file);
  config.class_names_where = where_of("class_names");
  if (root["save_every"].IsDefined()) {
    config.save_every = scalar<int>(root["save_every"], where_of("save_every"), "save_every",
                                    "a number of epochs (0 = only at the end)");
    if (config.save_every < 0) throw ConfigError(where_of("save_every"), "", "'save_every' must be >= 0");
  }
  if (root["plugins"].IsDefined()) {
    config.plugins = parse_plugins(root["plugins"], vars, file);
    for (const auto& site : sites)
      if (site.stage.empty() && site.param == "plugins")
        for (auto& plugin : config.plugins) plugin.where = site.where;
  }
  if (root["output_dir"].IsDefined()) {
    substitute(root["output_dir"], vars, file);
    config.output_dir = scalar<std::string>(root["output_dir"], where_of("output_dir"), "output_dir", "a path");
  } else {
    config.output_dir = "runs/" + config.name;
  }

  YAML::Node stages = root["stages"];
  if (!stages.IsDefined())
    throw ConfigError(SourceLocation{file, 1, 1}, "", "missing 'stages:' (a map of stage name to stage)");
  if (!stages.IsMap() || stages.size() == 0)
    throw ConfigError(at(file, stages), "", "'stages' must be a non-empty map of stage name to stage");
  substitute(stages, vars, file);

  for (const auto& kv : stages) {
    StageConfig stage;
    stage.name = key_name(kv.first, file);
    stage.where = at(file, kv.first);
    if (!valid_name(stage.name))
      throw ConfigError(stage.where, stage.name, "a stage name is letters, digits, '_' or '-', not starting with a digit");
    const YAML::Node body = kv.second;
    if (!body.IsMap()) throw ConfigError(at(file, body), stage.name, "a stage is a map with at least 'type:'");
    if (!body["type"].IsDefined()) throw ConfigError(stage.where, stage.name, "missing 'type:'");
    if (!body["type"].IsScalar()) throw ConfigError(at(file, body["type"]), stage.name, "'type' must be a name");
    stage.type = body["type"].Scalar();
    stage.type_where = at(file, body["type"]);
    for (const auto& field : body) {
      const std::string key = key_name(field.first, file);
      if (key == "type") continue;
      if (key == "input")
        throw ConfigError(at(file, field.first), stage.name,
                          "'input' is not a stage key: write 'inputs: " +
                              (field.second.IsScalar() ? field.second.Scalar() : std::string("[a, b]")) +
                              "' (a stage name or a list of them)");
      if (key == "inputs") {
        const YAML::Node& inputs = field.second;
        auto add = [&](const YAML::Node& n) {
          if (!n.IsScalar()) throw ConfigError(at(file, n), stage.name, "an input is a stage name");
          stage.inputs.push_back(InputRef{n.Scalar(), at(file, n)});
        };
        if (inputs.IsSequence()) {
          for (const auto& n : inputs) add(n);
        } else {
          add(inputs);
        }
        continue;
      }
      SourceLocation where = at(file, field.second);
      if (where.line == 0) where = at(file, field.first);
      for (const auto& site : sites)
        if (site.stage == stage.name && site.param == key) where = site.where;
      stage.params[key] = ParamEntry{field.second, where};
    }
    config.stages.push_back(std::move(stage));
  }
  config.resolved_text = YAML::Dump(root);
  return config;
}

PipelineConfig load_config(const std::string& path, const std::vector<std::string>& overrides) {
  constexpr std::uint64_t kMaxConfigBytes = std::uint64_t{16} << 20;
  std::string text;
  try {
    text = read_regular_file(path, "config file", kMaxConfigBytes);
  } catch (const FileError& e) {
    throw ConfigError(SourceLocation{path, 0, 0}, "", "config file: " + e.reason());
  }
  return parse_config(text, path, overrides);
}

}  // namespace pipeline
