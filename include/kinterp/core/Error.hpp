#pragma once
/// \file Error.hpp
/// The exception every kinterp precondition failure throws.

#include <stdexcept>
#include <string>

namespace kinterp {

/// Thrown for bad input or a failed run; the message says what is wrong and how
/// to fix it. When thrown by a collective call, every rank of the communicator
/// throws it with the same message (see `throw_if_any`).
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

/// A formula or alias string that cannot be parsed or used; `position()` is the
/// 0-based offset in the offending string (or npos when it is not about a place).
class FormulaError : public Error {
 public:
  FormulaError(const std::string& what, std::size_t position = std::string::npos)
      : Error(what), position_(position) {}
  std::size_t position() const noexcept { return position_; }

 private:
  std::size_t position_;
};

}  // namespace kinterp
