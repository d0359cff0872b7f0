#pragma once
/// \file EnumNames.hpp
/// Enum <-> name conversions from one table per enum, so that the name an
/// option prints and the name it parses cannot drift apart.

#include <kinterp/core/Error.hpp>
#include <kinterp/core/detail/Spelling.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace kinterp::detail {

template <class Enum>
struct EnumName {
  Enum value;
  const char* name;
};

/// The name of `value` in `table`; `otherwise` for a value not in it.
template <class Enum, std::size_t N>
std::string name_in(const EnumName<Enum> (&table)[N], Enum value, const char* otherwise) {
  for (const EnumName<Enum>& entry : table) {
    if (entry.value == value) return entry.name;
  }
  return otherwise;
}

/// The value called `name` in `table`; else throws kinterp::Error "unknown
/// <what> '<name>'; did you mean '...'? (known: <the names in table order>)".
template <class Enum, std::size_t N>
Enum value_named(const EnumName<Enum> (&table)[N], const std::string& name,
                 const std::string& what) {
  std::vector<std::string> names;
  std::string known;
  for (const EnumName<Enum>& entry : table) {
    if (name == entry.name) return entry.value;
    known += (names.empty() ? "" : ", ") + std::string(entry.name);
    names.emplace_back(entry.name);
  }
  const std::string guess = closest(name, names);
  throw Error("unknown " + what + " '" + name + "'" +
              (guess.empty() ? "" : "; did you mean '" + guess + "'?") + " (known: " + known + ")");
}

}  // namespace kinterp::detail
