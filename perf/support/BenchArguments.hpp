#pragma once
// The benchmarks' command lines: "--option value" pairs and bare "--flag"s,
// read in order, with the value checked and converted as the option's type
// asks. Every rank parses the same command line, so a bad one throws on every
// rank.

#include <kinterp/core/Error.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

namespace kinterp::bench {

/// The items of a comma list, blanks dropped.
inline std::vector<std::string> split_list(const std::string& list) {
  std::vector<std::string> items;
  std::string item;
  for (char c : list + ",") {
    if (c == ',') {
      if (!item.empty()) items.push_back(item);
      item.clear();
    } else if (c != ' ') {
      item += c;
    }
  }
  return items;
}

/// `text` as an integer of at least `least`; `what` names it in the error.
inline std::int64_t parse_integer(const std::string& text, const std::string& what,
                                  std::int64_t least = 1) {
  char* end = nullptr;
  const long long number = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || number < least) {
    throw Error(what +
                (least == 1 ? " must be a positive integer"
                            : " must be an integer >= " + std::to_string(least)) +
                ", got '" + text + "'");
  }
  return number;
}

inline bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

class BenchArguments {
 public:
  /// The arguments after the program's name (Kokkos has taken its own).
  BenchArguments(int argc, char** argv) : arguments_(argv + std::min(argc, 1), argv + argc) {}

  /// Moves to the next option; false after the last one.
  bool next() {
    if (++at_ >= arguments_.size()) return false;
    option_ = arguments_[at_];
    return true;
  }
  const std::string& option() const { return option_; }
  /// Whether the current option is `name` (or its other spelling).
  bool is(const char* name, const char* other = nullptr) const {
    return option_ == name || (other && option_ == other);
  }

  /// The current option's value, the next argument.
  std::string text() {
    if (at_ + 1 >= arguments_.size()) throw Error(option_ + " needs a value");
    return arguments_[++at_];
  }
  /// An integer of at least `least` (a positive one by default).
  std::int64_t integer(std::int64_t least = 1) { return parse_integer(text(), option_, least); }
  /// A finite real number.
  double real() {
    const std::string value = text();
    char* end = nullptr;
    const double number = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0' || !std::isfinite(number)) {
      throw Error(option_ + " must be a number, got '" + value + "'");
    }
    return number;
  }
  /// A comma list of positive integers (of int's range), at least one.
  std::vector<int> integers(std::int64_t least = 1) {
    std::vector<int> values;
    for (const auto& item : split_list(text())) {
      const std::int64_t value = parse_integer(item, option_, least);
      if (value > std::numeric_limits<int>::max())
        throw Error(option_ + ": '" + item + "' is too large");
      values.push_back(static_cast<int>(value));
    }
    if (values.empty()) throw Error(option_ + " must name at least one value");
    return values;
  }
  /// A comma list of names from `allowed`, at least one.
  std::vector<std::string> names(const std::vector<std::string>& allowed) {
    std::vector<std::string> values = split_list(text());
    for (const auto& name : values) {
      if (!contains(allowed, name)) {
        std::string choices;
        for (const auto& a : allowed) choices += (choices.empty() ? "" : ", ") + a;
        throw Error(option_ + ": unknown '" + name + "' (choose from " + choices + ")");
      }
    }
    if (values.empty()) throw Error(option_ + " must name at least one value");
    return values;
  }
  /// One name from `allowed`.
  std::string name(const std::vector<std::string>& allowed) {
    const std::vector<std::string> values = names(allowed);
    if (values.size() != 1) throw Error(option_ + " takes one value");
    return values.front();
  }

  /// The current option is none the program knows.
  [[noreturn]] void unknown() const { throw Error("unknown option '" + option_ + "'"); }

 private:
  std::vector<std::string> arguments_;
  std::size_t at_ = static_cast<std::size_t>(-1);
  std::string option_;
};

}  // namespace kinterp::bench
