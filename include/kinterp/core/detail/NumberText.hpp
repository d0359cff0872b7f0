#pragma once
/// \file NumberText.hpp
/// Numbers in messages and recorded attributes: the shortest text that reads
/// back as the same double ("0.1", not "0.10000000000000001"; "1e-300", not
/// "0.000000"), and counts with their noun ("1 point", "3 points").

#include <charconv>
#include <string>

namespace kinterp::detail {

inline std::string number_text(double value) {
  char text[32];
  const auto end = std::to_chars(text, text + sizeof text, value).ptr;
  return std::string(text, end);
}

inline std::string count_text(long long count, const std::string& noun) {
  return std::to_string(count) + " " + noun + (count == 1 ? "" : "s");
}

}  // namespace kinterp::detail
