#pragma once
// The trained network as an ONNX model (opset 13), written with ONNX's own protobuf classes (Debian's libonnx-dev)
// and checked with ONNX's checker and shape inference before it is saved. The input is what our model reads:
// "input" (batch, height, width, channels) float32, NHWC; the output "probabilities" (batch, classes), the softmax
// our model reports. Convolutions and pooling run in ONNX's NCHW layout between two Transposes; a dropout layer is
// the identity at inference and writes nothing. A layer type without an ONNX form is an error naming the layer.
#include <filesystem>
#include <string>

#include "model/model_record.hpp"
#include "model/nn/sequential.hpp"

namespace stages {

inline constexpr int kOnnxOpset = 13;

// Throws naming the first layer without an ONNX form (checked before any weights are read).
void check_onnx_exportable(const ModelRecord& record);
// The model's bytes (a serialized onnx.ModelProto), checked.
std::string onnx_model_bytes(const ModelRecord& record, nn::Sequential& network, const std::string& producer_version);
void write_onnx_model(const ModelRecord& record, nn::Sequential& network, const std::filesystem::path& path,
                      const std::string& producer_version);

}  // namespace stages
