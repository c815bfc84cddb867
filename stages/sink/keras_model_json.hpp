#pragma once
// The model as Keras' model.to_json() describes a Sequential model: what Keras' TensorBoard callback writes (the
// "keras" summary of the graph_keras_model plugin) and TensorBoard's Graphs tab draws as the conceptual graph. Our
// layer types map to their Keras classes and options (conv2d -> Conv2D with filters, kernel_size, strides,
// padding); a type Keras does not have (a plugin's) keeps its name and our options.
#include <string>

#include "model/model_record.hpp"

namespace stages {

std::string keras_model_json(const ModelRecord& model);

}  // namespace stages
