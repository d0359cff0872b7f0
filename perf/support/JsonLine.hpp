#pragma once
// One JSON object on one line: fields in order, numbers with 6 significant
// digits (NaN and Inf as null), strings escaped. The benchmarks print their
// results as such lines (perf/README.md describes the fields).
//
// Not nlohmann::json: it prints every double with up to 17 digits, and the
// lines' documented format is 6 significant digits.

#include <kinterp/core/Partition.hpp>

#include <mpi.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace kinterp::bench {

class JsonLine {
 public:
  JsonLine& add(const std::string& key, const std::string& value) {
    return raw(key, quoted(value));
  }
  JsonLine& add(const std::string& key, const char* value) { return add(key, std::string(value)); }
  JsonLine& add(const std::string& key, bool value) { return raw(key, value ? "true" : "false"); }
  JsonLine& add(const std::string& key, int value) { return raw(key, std::to_string(value)); }
  JsonLine& add(const std::string& key, std::int64_t value) {
    return raw(key, std::to_string(value));
  }
  JsonLine& add(const std::string& key, double value) { return raw(key, number(value)); }
  JsonLine& add(const std::string& key, const std::vector<double>& values) {
    std::string list;
    for (double v : values) list += (list.empty() ? "" : ",") + number(v);
    return raw(key, "[" + list + "]");
  }
  JsonLine& add(const std::string& key, const std::vector<std::string>& values) {
    std::string list;
    for (const auto& v : values) list += (list.empty() ? "" : ",") + quoted(v);
    return raw(key, "[" + list + "]");
  }
  /// A nested object, already written as JSON.
  JsonLine& add_object(const std::string& key, const JsonLine& object) {
    return raw(key, object.text());
  }
  std::string text() const { return "{" + body_ + "}"; }

 private:
  static std::string number(double value) {
    char text[32] = "null";
    if (std::isfinite(value)) std::snprintf(text, sizeof text, "%.6g", value);
    return text;
  }
  static std::string quoted(const std::string& s) {
    std::string q = "\"";
    for (unsigned char c : s) {
      if (c == '"' || c == '\\') {
        q += '\\';
        q += static_cast<char>(c);
      } else if (c < 0x20) {
        char escape[8];
        std::snprintf(escape, sizeof escape, "\\u%04x", c);
        q += escape;
      } else {
        q += static_cast<char>(c);
      }
    }
    return q + "\"";
  }
  JsonLine& raw(const std::string& key, const std::string& value) {
    body_ += (body_.empty() ? "" : ", ") + quoted(key) + ": " + value;
    return *this;
  }
  std::string body_;
};

/// Rank 0 writes the line to stdout at once, so that a long run that is
/// stopped still leaves the cases it finished.
inline void emit(MPI_Comm comm, const JsonLine& line) {
  if (rank_of(comm) != 0) return;
  std::printf("%s\n", line.text().c_str());
  std::fflush(stdout);
}

}  // namespace kinterp::bench
