#pragma once
// The bytes a stage saves for a durable run (Stage::save_state): a flat little-endian encoding that the
// reader checks at every step, so a damaged run state is an error, never a wrong resume.
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

namespace pipeline {

class StateWriter {
 public:
  StateWriter() = default;
  explicit StateWriter(std::size_t reserve) { bytes_.reserve(reserve); }
  StateWriter& u64(std::uint64_t v) { return raw(&v, sizeof v); }
  StateWriter& i64(std::int64_t v) { return raw(&v, sizeof v); }
  StateWriter& f64(double v) { return raw(&v, sizeof v); }
  StateWriter& str(const std::string& s) {
    u64(s.size());
    return raw(s.data(), s.size());
  }
  StateWriter& raw(const void* p, std::size_t n) {
    if (n > 0) bytes_.append(static_cast<const char*>(p), n);
    return *this;
  }
  const std::string& bytes() const { return bytes_; }
  std::string take() { return std::move(bytes_); }

 private:
  std::string bytes_;
};

class StateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class StateReader {
 public:
  explicit StateReader(const std::string& bytes) : bytes_(bytes) {}
  std::uint64_t u64() { return pod<std::uint64_t>(); }
  std::int64_t i64() { return pod<std::int64_t>(); }
  double f64() { return pod<double>(); }
  std::string str() {
    const std::uint64_t n = u64();
    need(n);
    std::string s = bytes_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  // A count of items that each take at least `min_item_bytes`: bounded by what is left, so a damaged count
  // cannot ask for a huge allocation.
  std::size_t count(std::size_t min_item_bytes) {
    const std::uint64_t n = u64();
    if (n > (bytes_.size() - pos_) / (min_item_bytes ? min_item_bytes : 1)) throw StateError("damaged: bad count");
    return static_cast<std::size_t>(n);
  }
  // n bytes into `out` (arrays of plain values).
  void raw(void* out, std::size_t n) {
    if (n == 0) return;  // `out` may be an empty vector's null data()
    need(n);
    std::memcpy(out, bytes_.data() + pos_, n);
    pos_ += n;
  }
  std::size_t remaining() const { return bytes_.size() - pos_; }
  void expect_end() const {
    if (pos_ != bytes_.size()) throw StateError("damaged: unexpected bytes at the end");
  }

 private:
  template <class T>
  T pod() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, bytes_.data() + pos_, sizeof v);
    pos_ += sizeof v;
    return v;
  }
  void need(std::uint64_t n) const {
    if (n > bytes_.size() - pos_) throw StateError("damaged: it ends early");
  }
  const std::string& bytes_;
  std::size_t pos_ = 0;
};

}  // namespace pipeline
