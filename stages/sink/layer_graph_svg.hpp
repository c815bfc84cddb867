#pragma once
// The model for the HTML report: a Keras-style layer table and a drawing of the layer graph (a box per layer with
// its type and output shape, arrows in data order), as inline HTML and SVG.
#include <string>

#include "model/model_record.hpp"

namespace stages {

// Rows: layer (type), output shape, parameters, how it computes; then the total.
std::string html_layer_table(const ModelRecord& model);
std::string svg_layer_graph(const ModelRecord& model);

}  // namespace stages
