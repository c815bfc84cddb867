#include "pipeline/pipeline.hpp"

namespace pipeline {

std::string Pipeline::to_dot() const {
  auto quote = [](const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    return out + "\"";
  };
  std::string out = "digraph " + quote(config_.name) + " {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n";
  for (const auto& node : stages_) {
    const char* shape = node.spec->kind == StageKind::Source      ? "invhouse"
                        : node.spec->kind == StageKind::Transform ? (node.spec->parallel ? "box3d" : "box")
                        : node.consumers.empty()                  ? "house"
                                                                  : "box";
    std::string style = node.spec->kind == StageKind::Processor ? ", style=rounded" : "";
    out += "  " + quote(node.name) + " [label=" + quote(node.name + "\n" + node.spec->type) + ", shape=" + shape +
           style + "];\n";
  }
  for (const auto& node : stages_)
    for (std::size_t c : node.consumers)
      out += "  " + quote(node.name) + " -> " + quote(stages_[c].name) + " [label=" + quote(node.output_type) + "];\n";
  return out + "}\n";
}

}  // namespace pipeline
