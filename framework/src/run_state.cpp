#include "run_state.hpp"

#include <zlib.h>

#include <chrono>

#include "pipeline/files.hpp"
#include "pipeline/state_codec.hpp"

namespace pipeline {
namespace {

const std::string kMagic = "pipeline run state\n";
constexpr std::uint64_t kFormat = 1;
constexpr std::uint64_t kMaxRunStateBytes = std::uint64_t{32} << 30;

std::uint64_t checksum(const std::string& bytes, std::size_t size) {
  uLong crc = crc32(0L, Z_NULL, 0);
  std::size_t done = 0;
  while (done < size) {
    const auto chunk = static_cast<uInt>(std::min<std::size_t>(size - done, 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data() + done), chunk);
    done += chunk;
  }
  return crc;
}

}  // namespace

std::string encode_run_state(const RunState& state) {
  std::size_t size = kMagic.size() + 64;
  for (const auto& name : state.processors) size += 8 + name.size();
  for (const auto& [name, bytes] : state.states) size += 16 + name.size() + bytes.size();
  StateWriter w(size);  // one buffer: the states can be large (a model's weights), copies are not free
  w.raw(kMagic.data(), kMagic.size());
  w.u64(kFormat).u64(state.epochs_done).u64(state.mid_epoch ? 1 : 0);
  w.u64(state.processors.size());
  for (const auto& name : state.processors) w.str(name);
  w.u64(state.states.size());
  for (const auto& [name, bytes] : state.states) w.str(name).str(bytes);
  w.u64(checksum(w.bytes(), w.bytes().size()));
  return w.take();
}

RunState decode_run_state(const std::string& bytes, const std::string& name) {
  if (bytes.compare(0, kMagic.size(), kMagic) != 0) throw StateError(name + ": not a pipeline run state");
  if (bytes.size() < kMagic.size() + 8) throw StateError(name + ": damaged (it ends early)");
  const std::size_t body = bytes.size() - 8;
  std::uint64_t stored = 0;
  std::memcpy(&stored, bytes.data() + body, sizeof stored);
  if (stored != checksum(bytes, body))
    throw StateError(name + ": damaged (checksum mismatch); the run cannot resume from it");
  const std::string payload = bytes.substr(kMagic.size(), body - kMagic.size());
  StateReader r(payload);
  RunState state;
  try {
    const std::uint64_t format = r.u64();
    if (format != kFormat)
      throw StateError("format " + std::to_string(format) + " (this build reads format " + std::to_string(kFormat) + ")");
    state.epochs_done = r.u64();
    state.mid_epoch = r.u64() != 0;
    for (std::size_t n = r.count(8); n > 0; --n) state.processors.push_back(r.str());
    for (std::size_t n = r.count(16); n > 0; --n) {
      std::string stage = r.str();
      state.states[stage] = r.str();
    }
    r.expect_end();
  } catch (const StateError& e) {
    throw StateError(name + ": " + e.what());
  }
  return state;
}

RunState load_run_state(const std::filesystem::path& path) {
  return decode_run_state(read_regular_file(path, "run state", kMaxRunStateBytes), path.string());
}

RunJournal::RunJournal(std::filesystem::path path, std::vector<std::string> processors, int save_every, int epochs,
                       bool records)
    : path_(std::move(path)), processors_(std::move(processors)), save_every_(save_every), epochs_(epochs),
      records_(records) {
  committed_.processors = processors_;
}

void RunJournal::resume_from(RunState state) {
  std::lock_guard<std::mutex> lock(mutex_);
  committed_.states = std::move(state.states);
  committed_.epochs_done = state.epochs_done;
  written_epochs_ = state.epochs_done;
}

void RunJournal::epoch_ended(const std::string& stage, int epoch, std::optional<std::string> state) {
  std::string encoded;
  std::uint64_t epochs_done = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto& [ended, states] = pending_[epoch];
    if (state) states[stage] = std::move(*state);
    if (++ended < processors_.size()) return;
    for (auto& [name, bytes] : states) committed_.states[name] = std::move(bytes);
    pending_.erase(epoch);
    committed_.epochs_done = epochs_done = static_cast<std::uint64_t>(epoch) + 1;
    const int done = epoch + 1;
    const bool due = done >= epochs_ || (save_every_ > 0 && done % save_every_ == 0);
    if (!due || committed_.states.empty()) return;
    encoded = encode_run_state(committed_);
  }
  write(epochs_done, encoded);
}

void RunJournal::interrupted(const std::string& stage, std::optional<std::string> state) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (state) mid_epoch_[stage] = std::move(*state);
}

void RunJournal::write_interrupted() {
  if (!records_) return;
  std::string encoded;
  std::uint64_t epochs_done = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [name, bytes] : mid_epoch_) committed_.states[name] = std::move(bytes);
    committed_.mid_epoch = !mid_epoch_.empty();
    mid_epoch_.clear();
    if (committed_.states.empty()) return;  // no stage keeps state: nothing to resume
    epochs_done = committed_.epochs_done;
    encoded = encode_run_state(committed_);
  }
  write(epochs_done, encoded);
}

void RunJournal::write(std::uint64_t epochs_done, const std::string& encoded) {
  std::lock_guard<std::mutex> lock(write_mutex_);
  if (epochs_done < written_epochs_) return;  // a later epoch is already on disk
  const auto start = std::chrono::steady_clock::now();
  write_file_atomically(path_, encoded);
  written_epochs_ = epochs_done;
  ++saves_;
  last_bytes_ = encoded.size();
  save_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace pipeline
