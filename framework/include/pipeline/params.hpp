#pragma once
// A stage declares its parameters once (ParamSpec); that declaration drives validation, defaults and
// `pipeline stages`. Params is the validated result a stage is constructed from.
#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/error.hpp"

namespace pipeline {

enum class ParamType { Int, Float, Bool, String, List, Map, Any };
std::string to_string(ParamType type);

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::String;
  std::string doc;
  bool required = false;
  YAML::Node default_value;  // used when not required and not given
  std::optional<double> min_value;
  bool min_exclusive = false;  // the minimum itself is not allowed (e.g. an epsilon that divides)
  std::optional<double> max_value;
  std::vector<std::string> choices;

  ParamSpec& min(double v) { min_value = v; return *this; }
  ParamSpec& above(double v) { min_value = v; min_exclusive = true; return *this; }
  ParamSpec& max(double v) { max_value = v; return *this; }
  ParamSpec& one_of(std::vector<std::string> values) { choices = std::move(values); return *this; }
  std::string default_text() const;  // as shown by `pipeline stages`
};

ParamSpec int_param(std::string name, long long default_value, std::string doc);
ParamSpec float_param(std::string name, double default_value, std::string doc);
ParamSpec bool_param(std::string name, bool default_value, std::string doc);
ParamSpec string_param(std::string name, std::string default_value, std::string doc);
// Parameters without a default must be given in the config.
ParamSpec required_param(std::string name, ParamType type, std::string doc);
// Structured parameters (lists, maps) whose default is a YAML text such as "[]" or "{}".
ParamSpec yaml_param(std::string name, ParamType type, const std::string& default_yaml, std::string doc);

// A value as written in the config, with where it was written.
struct ParamEntry {
  YAML::Node value;
  SourceLocation where;
};

class Params {
 public:
  Params() = default;
  // `subject` starts every message about these values, e.g. "layer 3 (dense)" for a model's nested options.
  Params(std::string stage, std::string file, std::map<std::string, ParamEntry> values, std::string subject = "");

  long long get_int(const std::string& name) const;
  double get_float(const std::string& name) const;
  bool get_bool(const std::string& name) const;
  std::string get_string(const std::string& name) const;
  YAML::Node get_node(const std::string& name) const;
  bool has(const std::string& name) const { return values_.count(name) != 0; }

  const std::string& stage() const { return stage_; }
  SourceLocation where(const std::string& name) const;
  // Where a node nested inside a parameter was written (falls back to the parameter itself).
  SourceLocation where(const std::string& name, const YAML::Node& nested) const;
  [[noreturn]] void fail(const std::string& name, const std::string& message) const;
  [[noreturn]] void fail(const std::string& name, const YAML::Node& nested, const std::string& message) const;

 private:
  const ParamEntry& entry(const std::string& name) const;
  std::string message(const std::string& name, const std::string& text) const;
  std::string stage_;
  std::string file_;
  std::map<std::string, ParamEntry> values_;
  std::string subject_;
};

// Checks the given values against the specs: unknown names, missing required ones, types, ranges and
// choices; fills in defaults. Throws ConfigError naming the location, the stage and, when given, the subject.
Params resolve_params(const std::vector<ParamSpec>& specs, const std::string& stage, const std::string& file,
                      const std::map<std::string, ParamEntry>& given, const SourceLocation& stage_location,
                      const std::string& subject = "");

// Options nested in a parameter (a model's layer, optimizer or schedule), checked like a stage's parameters with
// the same messages. `options` is a map (or null: all defaults); `skip` names keys handled by the caller (such as
// `type`); `where` is the parameter's location, for what has none of its own.
Params resolve_options(const std::vector<ParamSpec>& specs, const YAML::Node& options, const std::string& subject,
                       const Params& parent, const std::string& parameter, const std::vector<std::string>& skip = {});

// One line per parameter (name, type, default, doc, range or choices), as `pipeline stages` lists them.
std::string describe_params(const std::vector<ParamSpec>& specs, const std::string& indent);

// "did you mean" for a misspelled name, or "" when nothing is close.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace pipeline
