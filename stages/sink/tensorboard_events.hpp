#pragma once
// TensorBoard event records: Event messages (TensorBoard's event.proto, compiled by protoc; see sink/proto/) in
// TFRecord framing. Each function returns one serialized Event.
#include <cstdint>
#include <string>

#include "sink/histogram.hpp"
#include "sink/weight_images.hpp"

namespace stages {

std::uint32_t crc32c(const std::uint8_t* data, std::size_t size);
// TFRecord: u64 length, u32 masked crc32c(length), data, u32 masked crc32c(data).
std::string tfrecord(const std::string& data);

std::string event_file_version(double wall_time);
std::string event_scalar(double wall_time, std::int64_t step, const std::string& tag, float value);
// The op graph (Graphs tab).
std::string event_graph(double wall_time, const std::string& graph_def);
// The model config as Keras' TensorBoard callback writes it: tag "keras", plugin graph_keras_model, the JSON as a
// scalar string tensor (Graphs tab, "conceptual graph").
std::string event_keras_model(double wall_time, const std::string& model_json);
std::string event_image(double wall_time, std::int64_t step, const WeightImage& image, const std::string& png);
std::string event_histogram(double wall_time, std::int64_t step, const std::string& tag, const Histogram& histogram);

}  // namespace stages
