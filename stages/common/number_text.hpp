#pragma once
// Numbers and fields as data files want them: the shortest text that reads back to the same value (Python's
// repr, what Keras' CSVLogger writes), and CSV fields quoted when they must be.
#include <charconv>
#include <string>

namespace stages {

template <class Real>
std::string shortest_text(Real value) {
  char buf[64];
  const auto end = std::to_chars(buf, buf + sizeof buf, value).ptr;
  return std::string(buf, end);
}

// RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled.
inline std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace stages
