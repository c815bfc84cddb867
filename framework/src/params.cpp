#include "pipeline/params.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace pipeline {

std::string to_string(ParamType type) {
  switch (type) {
    case ParamType::Int: return "int";
    case ParamType::Float: return "float";
    case ParamType::Bool: return "bool";
    case ParamType::String: return "string";
    case ParamType::List: return "list";
    case ParamType::Map: return "map";
    case ParamType::Any: return "any";
  }
  return "?";
}

std::string ParamSpec::default_text() const {
  if (required) return "(required)";
  if (type == ParamType::Float) {
    std::ostringstream number;
    number << default_value.as<double>();
    return number.str();
  }
  YAML::Emitter out;
  out << YAML::Flow << default_value;
  std::string text = out.c_str();
  return text.empty() ? std::string("\"\"") : text;
}

static ParamSpec make_spec(std::string name, ParamType type, YAML::Node def, std::string doc) {
  ParamSpec spec;
  spec.name = std::move(name);
  spec.type = type;
  spec.default_value = std::move(def);
  spec.doc = std::move(doc);
  return spec;
}

ParamSpec int_param(std::string name, long long default_value, std::string doc) {
  return make_spec(std::move(name), ParamType::Int, YAML::Node(default_value), std::move(doc));
}
ParamSpec float_param(std::string name, double default_value, std::string doc) {
  return make_spec(std::move(name), ParamType::Float, YAML::Node(default_value), std::move(doc));
}
ParamSpec bool_param(std::string name, bool default_value, std::string doc) {
  return make_spec(std::move(name), ParamType::Bool, YAML::Node(default_value), std::move(doc));
}
ParamSpec string_param(std::string name, std::string default_value, std::string doc) {
  return make_spec(std::move(name), ParamType::String, YAML::Node(default_value), std::move(doc));
}
ParamSpec required_param(std::string name, ParamType type, std::string doc) {
  ParamSpec spec = make_spec(std::move(name), type, YAML::Node(), std::move(doc));
  spec.required = true;
  return spec;
}
ParamSpec yaml_param(std::string name, ParamType type, const std::string& default_yaml, std::string doc) {
  return make_spec(std::move(name), type, YAML::Load(default_yaml), std::move(doc));
}

Params::Params(std::string stage, std::string file, std::map<std::string, ParamEntry> values, std::string subject)
    : stage_(std::move(stage)), file_(std::move(file)), values_(std::move(values)), subject_(std::move(subject)) {}

std::string Params::message(const std::string& name, const std::string& text) const {
  return (subject_.empty() ? "" : subject_ + ": ") + "parameter '" + name + "': " + text;
}

const ParamEntry& Params::entry(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end())
    throw std::logic_error("stage '" + stage_ + "' reads undeclared parameter '" + name + "'");
  return it->second;
}

long long Params::get_int(const std::string& name) const { return entry(name).value.as<long long>(); }
double Params::get_float(const std::string& name) const { return entry(name).value.as<double>(); }
bool Params::get_bool(const std::string& name) const { return entry(name).value.as<bool>(); }
std::string Params::get_string(const std::string& name) const { return entry(name).value.as<std::string>(); }
YAML::Node Params::get_node(const std::string& name) const { return entry(name).value; }
SourceLocation Params::where(const std::string& name) const { return entry(name).where; }

SourceLocation Params::where(const std::string& name, const YAML::Node& nested) const {
  const ParamEntry& e = entry(name);
  // Nodes built from --set or from defaults have no mark in the file.
  if (!nested.IsDefined() || nested.Mark().is_null() || e.where.line == 0) return e.where;
  return SourceLocation{file_, nested.Mark().line + 1, nested.Mark().column + 1};
}

void Params::fail(const std::string& name, const std::string& text) const {
  throw ConfigError(where(name), stage_, message(name, text));
}

void Params::fail(const std::string& name, const YAML::Node& nested, const std::string& text) const {
  throw ConfigError(where(name, nested), stage_, message(name, text));
}

static std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const auto& candidate : candidates) {
    std::size_t d = edit_distance(word, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

static std::string describe(const YAML::Node& node) {
  if (node.IsScalar()) return "'" + node.Scalar() + "'";
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a map";
  return "nothing";
}

static std::string prefixed(const std::string& subject, const std::string& text) {
  return subject.empty() ? text : subject + ": " + text;
}

static void check_value(const ParamSpec& spec, const ParamEntry& entry, const std::string& stage,
                        const std::string& subject) {
  const YAML::Node& v = entry.value;
  auto fail = [&](const std::string& what) {
    throw ConfigError(entry.where, stage, prefixed(subject, "parameter '" + spec.name + "': " + what));
  };
  double numeric = 0;
  try {
    switch (spec.type) {
      case ParamType::Int: {
        if (!v.IsScalar()) fail("expected an integer, got " + describe(v));
        numeric = static_cast<double>(v.as<long long>());
        break;
      }
      case ParamType::Float: {
        if (!v.IsScalar()) fail("expected a number, got " + describe(v));
        numeric = v.as<double>();
        if (!std::isfinite(numeric)) fail("expected a finite number, got " + describe(v));
        break;
      }
      case ParamType::Bool:
        if (!v.IsScalar()) fail("expected true or false, got " + describe(v));
        v.as<bool>();
        break;
      case ParamType::String:
        if (!v.IsScalar()) fail("expected a string, got " + describe(v));
        break;
      case ParamType::List:
        if (!v.IsSequence()) fail("expected a list, got " + describe(v));
        break;
      case ParamType::Map:
        if (!v.IsMap()) fail("expected a map, got " + describe(v));
        break;
      case ParamType::Any:
        break;
    }
  } catch (const YAML::BadConversion&) {
    fail("expected " + std::string(spec.type == ParamType::Int ? "an integer" :
                                   spec.type == ParamType::Float ? "a number" : "true or false") +
         ", got " + describe(v));
  }
  if (spec.type == ParamType::Int || spec.type == ParamType::Float) {
    std::ostringstream range;
    if (spec.min_value && (numeric < *spec.min_value || (spec.min_exclusive && numeric == *spec.min_value))) {
      range << "must be " << (spec.min_exclusive ? "> " : ">= ") << *spec.min_value << ", got " << v.Scalar();
      fail(range.str());
    }
    if (spec.max_value && numeric > *spec.max_value) {
      range << "must be <= " << *spec.max_value << ", got " << v.Scalar();
      fail(range.str());
    }
  }
  if (!spec.choices.empty()) {
    const std::string s = v.IsScalar() ? v.Scalar() : std::string();
    if (std::find(spec.choices.begin(), spec.choices.end(), s) == spec.choices.end()) {
      std::string list;
      for (const auto& c : spec.choices) list += (list.empty() ? "" : ", ") + c;
      fail("must be one of " + list + ", got " + describe(v));
    }
  }
}

static std::string join_names(const std::vector<std::string>& names) {
  std::string list;
  for (const auto& k : names) list += (list.empty() ? "" : ", ") + k;
  return list;
}

Params resolve_params(const std::vector<ParamSpec>& specs, const std::string& stage, const std::string& file,
                      const std::map<std::string, ParamEntry>& given, const SourceLocation& stage_location,
                      const std::string& subject) {
  std::vector<std::string> known;
  for (const auto& s : specs) known.push_back(s.name);
  for (const auto& [name, entry] : given) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::string hint = closest_match(name, known);
      throw ConfigError(entry.where, stage,
                        prefixed(subject, "unknown parameter '" + name + "'" +
                                              (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                                              (known.empty() ? "; it takes no parameters" : "; known: " + join_names(known))));
    }
  }
  std::map<std::string, ParamEntry> values;
  for (const auto& spec : specs) {
    auto it = given.find(spec.name);
    if (it == given.end()) {
      if (spec.required)
        throw ConfigError(stage_location, stage,
                          prefixed(subject, "missing required parameter '" + spec.name + "' (" + spec.doc + ")"));
      values[spec.name] = ParamEntry{YAML::Clone(spec.default_value), stage_location};
      values[spec.name].where.line = 0;  // a default was not written anywhere
      values[spec.name].where.file = file + " (default of '" + spec.name + "')";
      continue;
    }
    check_value(spec, it->second, stage, subject);
    values[spec.name] = it->second;
  }
  return Params(stage, file, std::move(values), subject);
}

Params resolve_options(const std::vector<ParamSpec>& specs, const YAML::Node& options, const std::string& subject,
                       const Params& parent, const std::string& parameter, const std::vector<std::string>& skip) {
  const SourceLocation where = parent.where(parameter, options);
  std::vector<std::string> known;
  for (const auto& s : specs) known.push_back(s.name);
  if (options.IsDefined() && !options.IsNull() && !options.IsMap())
    throw ConfigError(where, parent.stage(),
                      prefixed(subject, "options must be a map of name: value, got " + describe(options) +
                                            (known.empty() ? "; it takes none" : "; known: " + join_names(known))));
  std::map<std::string, ParamEntry> given;
  if (options.IsMap())
    for (const auto& kv : options) {
      if (!kv.first.IsScalar())
        throw ConfigError(parent.where(parameter, kv.first), parent.stage(),
                          prefixed(subject, "an option name must be a plain name"));
      const std::string key = kv.first.Scalar();
      if (std::find(skip.begin(), skip.end(), key) != skip.end()) continue;
      given[key] = ParamEntry{kv.second, parent.where(parameter, kv.first)};
    }
  const std::string file = where.file;
  return resolve_params(specs, parent.stage(), file, given, where, subject);
}

std::string describe_params(const std::vector<ParamSpec>& specs, const std::string& indent) {
  auto number = [](double v) {
    std::string s = std::to_string(v);
    s.erase(s.find_last_not_of('0') + 1);
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
  };
  std::string out;
  for (const ParamSpec& p : specs) {
    std::string range;
    if (p.min_value || p.max_value)
      range = std::string(p.min_exclusive ? " (" : " [") + (p.min_value ? number(*p.min_value) : std::string()) + ".." +
              (p.max_value ? number(*p.max_value) : std::string()) + "]";
    if (!p.choices.empty()) {
      range = " {";
      for (std::size_t k = 0; k < p.choices.size(); ++k) range += (k ? "|" : "") + p.choices[k];
      range += "}";
    }
    char line[512];
    std::snprintf(line, sizeof line, "%s%-16s %-7s %-14s ", indent.c_str(), p.name.c_str(), to_string(p.type).c_str(),
                  p.default_text().c_str());
    out += line + p.doc + range + "\n";
  }
  return out;
}

}  // namespace pipeline
