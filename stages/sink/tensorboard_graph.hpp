#pragma once
// The model as a TensorFlow GraphDef for TensorBoard's Graphs tab ("op graph"): one name scope per layer holding
// its operations and variables with TensorFlow's op names (conv2d/Conv2D, conv2d/BiasAdd, conv2d/kernel, ...) and
// every output's shape in the `_output_shapes` attribute TensorBoard shows on the edges (batch dimension -1).
#include <string>

#include "model/model_record.hpp"

namespace stages {

// A serialized tensorboard.GraphDef.
std::string graph_def_bytes(const ModelRecord& model);

}  // namespace stages
