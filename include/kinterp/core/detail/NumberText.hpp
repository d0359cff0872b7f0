#pragma once
/// \file NumberText.hpp
/// Numbers in messages and recorded attributes: the shortest text that reads
/// back as the same double ("0.1", not "0.10000000000000001"; "1e-300", not
/// "0.000000"), counts with their noun ("1 point", "3 points"), and lists
/// ("X, Y, Z").

#include <charconv>
#include <string>
#include <vector>

namespace kinterp::detail {

inline std::string number_text(double value) {
  char text[32];
  const auto end = std::to_chars(text, text + sizeof text, value).ptr;
  return std::string(text, end);
}

inline std::string count_text(long long count, const std::string& noun) {
  return std::to_string(count) + " " + noun + (count == 1 ? "" : "s");
}

/// The items with `separator` between them: "X, Y, Z".
inline std::string join(const std::vector<std::string>& items, const char* separator = ", ") {
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "" : separator) + item;
  return text;
}

}  // namespace kinterp::detail
