#pragma once
/// \file Functions.hpp
/// The table of the functions a formula may call, with their arity and
/// dimension rules. A new function is one more row (and, to be recognised in
/// kernels or evaluated, a case where those passes switch on its id).

#include <string>
#include <string_view>
#include <vector>

namespace kinterp::detail {

enum class FunctionId {
  Exp,
  Log,
  Sqrt,
  Rsqrt,
  Inv,
  Square,
  Abs,
  Sin,
  Cos,
  Minus,
  Pow,
  SqDist,
  Norm2,
  SqNorm2,
  Sum,
  IntCst,
};

/// The dimension of a call from the dimensions of its expression arguments.
enum class DimensionRule {
  Elementwise,  ///< that of the first argument
  Scalar,       ///< 1, whatever the arguments
  EqualScalar,  ///< 1; the arguments must have equal dimensions
};

struct FunctionInfo {
  FunctionId id;
  std::string_view name;
  std::string_view signature;  ///< for messages: "Pow(f, n)"
  int arity;
  DimensionRule rule;
  unsigned integer_arguments;  ///< bit k: argument k is an integer literal, not an expression
  double (*scalar)(double);    ///< the function of one number, for elementwise ones (else null)
};

/// The function called `name` (case-sensitive, as in KeOps), or nullptr.
const FunctionInfo* find_function(std::string_view name);

/// The names of all functions, in table order.
std::vector<std::string> function_names();

}  // namespace kinterp::detail
