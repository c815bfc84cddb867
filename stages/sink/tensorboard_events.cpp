#include "sink/tensorboard_events.hpp"

#include <array>

#include "event.pb.h"
#include "sink/proto_bytes.hpp"

namespace stages {
namespace {

std::array<std::uint32_t, 256> make_crc32c_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;  // Castagnoli, reflected
    table[i] = c;
  }
  return table;
}

std::uint32_t masked_crc(const std::uint8_t* data, std::size_t size) {
  const std::uint32_t crc = crc32c(data, size);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

void put_le(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

tensorboard::Event event_at(double wall_time, std::int64_t step) {
  tensorboard::Event e;
  e.set_wall_time(wall_time);
  e.set_step(step);
  return e;
}

}  // namespace

std::uint32_t crc32c(const std::uint8_t* data, std::size_t size) {
  static const auto table = make_crc32c_table();
  std::uint32_t crc = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < size; ++i) crc = table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

std::string tfrecord(const std::string& data) {
  std::string length;
  put_le(length, data.size(), 8);
  std::string out = length;
  put_le(out, masked_crc(reinterpret_cast<const std::uint8_t*>(length.data()), length.size()), 4);
  out += data;
  put_le(out, masked_crc(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()), 4);
  return out;
}

std::string event_file_version(double wall_time) {
  tensorboard::Event e = event_at(wall_time, 0);
  e.set_file_version("brain.Event:2");
  return deterministic_bytes(e);
}

std::string event_scalar(double wall_time, std::int64_t step, const std::string& tag, float value) {
  tensorboard::Event e = event_at(wall_time, step);
  tensorboard::Summary::Value& v = *e.mutable_summary()->add_value();
  v.set_tag(tag);
  v.set_simple_value(value);
  return deterministic_bytes(e);
}

std::string event_graph(double wall_time, const std::string& graph_def) {
  tensorboard::Event e = event_at(wall_time, 0);
  e.set_graph_def(graph_def);
  return deterministic_bytes(e);
}

std::string event_keras_model(double wall_time, const std::string& model_json) {
  tensorboard::Event e = event_at(wall_time, 0);
  tensorboard::Summary::Value& v = *e.mutable_summary()->add_value();
  v.set_tag("keras");
  v.mutable_metadata()->mutable_plugin_data()->set_plugin_name("graph_keras_model");
  v.mutable_metadata()->mutable_plugin_data()->set_content("1");  // the plugin's data version, as Keras writes it
  tensorboard::TensorProto& tensor = *v.mutable_tensor();
  tensor.set_dtype(tensorboard::DT_STRING);
  tensor.mutable_tensor_shape();  // a scalar: a shape without dimensions
  tensor.add_string_val(model_json);
  return deterministic_bytes(e);
}

std::string event_image(double wall_time, std::int64_t step, const WeightImage& image, const std::string& png) {
  tensorboard::Event e = event_at(wall_time, step);
  tensorboard::Summary::Value& v = *e.mutable_summary()->add_value();
  v.set_tag(image.tag);
  tensorboard::Summary::Image& i = *v.mutable_image();
  i.set_width(static_cast<int>(image.width));
  i.set_height(static_cast<int>(image.height));
  i.set_colorspace(1);  // greyscale
  i.set_encoded_image_string(png);
  return deterministic_bytes(e);
}

std::string event_histogram(double wall_time, std::int64_t step, const std::string& tag, const Histogram& histogram) {
  tensorboard::Event e = event_at(wall_time, step);
  tensorboard::Summary::Value& v = *e.mutable_summary()->add_value();
  v.set_tag(tag);
  tensorboard::HistogramProto& h = *v.mutable_histo();
  h.set_min(histogram.min);
  h.set_max(histogram.max);
  h.set_num(histogram.num);
  h.set_sum(histogram.sum);
  h.set_sum_squares(histogram.sum_squares);
  for (double limit : histogram.bucket_limit) h.add_bucket_limit(limit);
  for (double count : histogram.bucket) h.add_bucket(count);
  return deterministic_bytes(e);
}

}  // namespace stages
