#include "sink/tensorboard.hpp"

#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>

#include "common/output_file.hpp"
#include "pipeline/registry.hpp"

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

void varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

void tag(std::string& out, int field, int wire_type) { varint(out, static_cast<std::uint64_t>(field << 3 | wire_type)); }

void length_delimited(std::string& out, int field, const std::string& bytes) {
  tag(out, field, 2);
  varint(out, bytes.size());
  out += bytes;
}

std::string event_header(double wall_time, std::int64_t step) {
  std::string e;
  std::uint64_t bits;
  std::memcpy(&bits, &wall_time, sizeof bits);
  tag(e, 1, 1);  // double wall_time = 1
  put_le(e, bits, 8);
  tag(e, 2, 0);  // int64 step = 2
  varint(e, static_cast<std::uint64_t>(step));
  return e;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
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
  std::string e = event_header(wall_time, 0);
  length_delimited(e, 3, "brain.Event:2");  // string file_version = 3
  return e;
}

std::string event_scalar(double wall_time, std::int64_t step, const std::string& name, float value) {
  std::string v;
  length_delimited(v, 1, name);  // Summary.Value: string tag = 1
  std::uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  tag(v, 2, 5);  // float simple_value = 2
  put_le(v, bits, 4);
  std::string summary;
  length_delimited(summary, 1, v);  // Summary: repeated Value value = 1
  std::string e = event_header(wall_time, step);
  length_delimited(e, 5, summary);  // Summary summary = 5
  return e;
}

TensorBoardSink::TensorBoardSink(const pipeline::Params& p)
    : logdir_param_(p.get_string("logdir")), history_(p.get_string("train_stream")) {}

std::vector<std::filesystem::path> TensorBoardSink::output_files(const std::filesystem::path& output_dir) const {
  return {output_path(logdir_param_, output_dir, "logs")};  // the folder: its event files are this sink's
}

void TensorBoardSink::prepare(const pipeline::RunContext& context) {
  logdir_ = output_path(logdir_param_, context.output_dir, "logs");
  char host[256] = "localhost";
  gethostname(host, sizeof host - 1);
  // The pid, as TensorFlow does: a file name unique per writer.
  file_name_ = "events.out.tfevents." + std::to_string(static_cast<long long>(now_seconds())) + "." + host + "." +
               std::to_string(::getpid()) + ".pipeline";
  for (const char* run : {"train", "validation"}) ensure_writable_folder(logdir_ / run / file_name_);
  // A new run replaces the event files an earlier run in its own (locked) output folder wrote, as it replaces
  // history.csv: one run's curves per logdir. A logdir elsewhere may be shared by runs: nothing is removed there.
  // A resumed run continues its files instead (restore_state).
  const auto relative = std::filesystem::weakly_canonical(logdir_).lexically_relative(
      std::filesystem::weakly_canonical(context.output_dir));
  const bool inside_output = !relative.empty() && *relative.begin() != "..";
  if (!context.resuming && inside_output) remove_earlier_event_files();
  history_.start();
}

void TensorBoardSink::remove_earlier_event_files() const {
  std::error_code ec;
  for (const auto& folder : std::filesystem::directory_iterator(logdir_, ec)) {
    if (!folder.is_directory(ec)) continue;
    for (const auto& file : std::filesystem::directory_iterator(folder.path(), ec)) {
      const std::string name = file.path().filename().string();
      if (name.rfind("events.out.tfevents.", 0) == 0 && name.size() > 9 && name.substr(name.size() - 9) == ".pipeline")
        std::filesystem::remove(file.path(), ec);
    }
  }
}

std::optional<std::string> TensorBoardSink::save_state(bool mid_epoch) {
  if (mid_epoch) return std::nullopt;
  pipeline::StateWriter w;
  w.u64(files_.size());
  for (const auto& [run, path] : files_) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) throw std::runtime_error("cannot read the size of " + path.string() + ": " + ec.message());
    w.str(run).str(path.string()).u64(size);
  }
  return w.take();
}

void TensorBoardSink::restore_state(const std::string& state) {
  pipeline::StateReader r(state);
  std::map<std::string, std::filesystem::path> files;
  for (std::size_t n = r.count(24); n > 0; --n) {
    const std::string run = r.str();
    const std::filesystem::path path = r.str();
    const std::uint64_t size = r.u64();
    std::error_code ec;
    const auto now = std::filesystem::file_size(path, ec);
    if (ec || now < size)
      throw std::runtime_error("cannot resume the event file " + path.string() + ": it is " +
                               (ec ? "gone (" + ec.message() + ")" : "shorter than when the run state was saved"));
    std::filesystem::resize_file(path, size);
    files[run] = path;
  }
  r.expect_end();
  files_ = std::move(files);
}

void TensorBoardSink::append(const std::string& run, const std::string& records) {
  // Event files are appended record by record, as TensorFlow does; TensorBoard reads complete records only.
  pipeline::append_to_file(files_.at(run), records);
}

void TensorBoardSink::consume(const pipeline::Payload& input, std::string_view, pipeline::Emitter&) {
  history_.add(input.get<BatchResult>());
}

void TensorBoardSink::on_epoch_end(int, pipeline::Emitter&) {
  if (!history_.close_epoch()) return;
  const EpochRow& row = history_.rows().back();
  const double t = now_seconds();
  const std::int64_t step = row.epoch - 1;  // Keras logs epoch summaries at step = epoch index
  std::map<std::string, std::string> records;
  for (const auto& [stream, stats] : row.streams) {
    const bool train = stream == history_.train_stream();
    // A single evaluated stream is "validation", as in Keras; several keep their names.
    const std::string run = train ? "train" : (history_.prefix(stream) == "val_" ? "validation" : stream);
    if (!files_.count(run)) {  // a run's file starts with its version record, as TensorFlow's
      files_[run] = logdir_ / run / file_name_;
      ensure_writable_folder(files_[run]);
      records[run] += tfrecord(event_file_version(t));
    }
    records[run] += tfrecord(event_scalar(t, step, "epoch_loss", static_cast<float>(stats.loss())));
    records[run] += tfrecord(event_scalar(t, step, "epoch_accuracy", static_cast<float>(stats.accuracy())));
    if (train) records[run] += tfrecord(event_scalar(t, step, "epoch_learning_rate", static_cast<float>(row.learning_rate)));
  }
  for (const auto& [run, data] : records) append(run, data);
}

static pipeline::StageSpec tensorboard_spec() {
  using namespace pipeline;
  StageSpec spec;
  spec.type = "tensorboard";
  spec.summary = "Sink: TensorBoard event files (logdir/train and logdir/validation: epoch_loss, epoch_accuracy, "
                 "epoch_learning_rate), as Keras' TensorBoard callback writes them.";
  spec.kind = StageKind::Processor;
  spec.input = kBatchResultType;
  spec.params = {
      string_param("logdir", "", "log folder for `tensorboard --logdir` (default <output_dir>/logs)"),
      string_param("train_stream", "train", "the stream logged as the train run"),
  };
  spec.create = [](const Params& p) { return std::make_unique<TensorBoardSink>(p); };
  return spec;
}

}  // namespace stages

PIPELINE_REGISTER_STAGE(stages::tensorboard_spec())
