#include "sink/layer_graph_svg.hpp"

#include "sink/svg_chart.hpp"

namespace stages {
namespace {

std::string shape_text(const nn::Shape& sample) {
  std::string out = "(None";
  for (std::size_t d : sample) out += ", " + std::to_string(d);
  return out + ")";
}

// Box fill by what the layer does: learned weights, pooling/reshaping, activations.
const char* fill_of(const LayerRecord& layer) {
  if (!layer.parameters.empty()) return "#dbe9f6";
  if (layer.type == "relu" || layer.type == "softmax" || layer.type == "dropout") return "#fde7d3";
  return "#e6f2e1";
}

}  // namespace

std::string html_layer_table(const ModelRecord& model) {
  std::string html = "<table class=\"layers\" id=\"layers\"><tr><th>layer (type)</th><th>output shape</th>"
                     "<th>parameters</th><th>computed by</th></tr>";
  html += "<tr><td>input</td><td>" + shape_text(model.input_shape()) + "</td><td>0</td><td></td></tr>";
  for (const LayerRecord& layer : model.layers())
    html += "<tr><td>" + html_escape(layer.name + " (" + layer.type + ")") + "</td><td>" + shape_text(layer.output_shape) +
            "</td><td>" + std::to_string(layer.parameter_count) + "</td><td>" +
            html_escape(layer.type == "softmax" && layer.parameters.empty() && layer.implementation.empty()
                            ? "fused with the cross-entropy loss" : layer.implementation) + "</td></tr>";
  html += "<tr><th>total</th><td></td><td>" + std::to_string(model.parameter_count()) + "</td><td></td></tr></table>";
  return html;
}

std::string svg_layer_graph(const ModelRecord& model) {
  constexpr int kWidth = 300, kBox = 40, kGap = 22, kMargin = 10;
  const int boxes = static_cast<int>(model.layers().size()) + 1;
  const int height = 2 * kMargin + boxes * kBox + (boxes - 1) * kGap;
  std::string svg = "<svg class=\"layer-graph\" id=\"layer-graph\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                    std::to_string(kWidth) + "\" height=\"" + std::to_string(height) + "\" viewBox=\"0 0 " +
                    std::to_string(kWidth) + " " + std::to_string(height) + "\">"
                    "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" "
                    "markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0L10,5L0,10z\" fill=\"#666\"/></marker></defs>";
  auto box = [&](int i, const std::string& title, const std::string& detail, const char* fill) {
    const int y = kMargin + i * (kBox + kGap);
    svg += "<g class=\"layer\"><rect x=\"" + std::to_string(kMargin) + "\" y=\"" + std::to_string(y) + "\" width=\"" +
           std::to_string(kWidth - 2 * kMargin) + "\" height=\"" + std::to_string(kBox) + "\" rx=\"6\" fill=\"" + fill +
           "\" stroke=\"#8aa\"/><text x=\"" + std::to_string(kWidth / 2) + "\" y=\"" + std::to_string(y + 16) +
           "\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"600\">" + html_escape(title) + "</text><text x=\"" +
           std::to_string(kWidth / 2) + "\" y=\"" + std::to_string(y + 32) +
           "\" text-anchor=\"middle\" font-size=\"11\" fill=\"#444\">" + html_escape(detail) + "</text></g>";
    if (i > 0)
      svg += "<line class=\"edge\" x1=\"" + std::to_string(kWidth / 2) + "\" y1=\"" + std::to_string(y - kGap) +
             "\" x2=\"" + std::to_string(kWidth / 2) + "\" y2=\"" + std::to_string(y - 1) +
             "\" stroke=\"#666\" marker-end=\"url(#arrow)\"/>";
  };
  box(0, "input", shape_text(model.input_shape()), "#f2f2f2");
  int i = 1;
  for (const LayerRecord& layer : model.layers()) {
    std::string detail = shape_text(layer.output_shape);
    if (layer.parameter_count > 0) detail += ", " + std::to_string(layer.parameter_count) + " parameters";
    box(i++, layer.name + " (" + layer.type + ")", detail, fill_of(layer));
  }
  return svg + "</svg>";
}

}  // namespace stages
