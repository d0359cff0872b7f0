#pragma once
/// \file Functions.hpp
/// The table of the functions a formula may call, with their arity and
/// dimension rules and the instruction each compiles to. A new function is one
/// more row, one case in the dimension check when its rule is Special, and one
/// in the evaluator (formula/detail/Interpreter.hpp) when it needs a new opcode.

#include <kinterp/formula/Program.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace kinterp::detail {

/// The functions that a pass (Check, Linearity, Recognise, Compile) tells
/// apart by name. Any other is Other: what it does is in its table row alone
/// (its dimension rule, its instruction and its function of one number).
enum class FunctionId {
  Other,
  // elementwise
  Exp,
  Sqrt,
  Rsqrt,
  Inv,
  Square,
  Abs,
  Minus,
  Pow,    // Pow(f, n), integer n
  Round,  // Round(f, d), d decimals
  IfElse,
  // to a scalar
  SqDist,
  Norm2,
  SqNorm2,
  Sum,
  Max,
  Min,
  IntCst,
  IntInv,
  // shapes
  WeightedSqNorm,
  WeightedSqDist,
  Elem,
  Extract,
  Concat,
  OneHot,
  MatVecMult,
  VecMatMult,
  TensorProd,
  Zero,
  ClampInt,   // ClampInt(f, a, b), integers a, b
  ElemT,      // ElemT(f, n, m): f at m of a vector of dimension n
  ExtractT,   // ExtractT(f, m, d): f at m of a vector of dimension d
  SumT,       // SumT(f, d): f in each of d components
  TensorDot,  // expanded by the check (TensorDot.hpp) into the other functions
  // derivatives, expanded by the check (Derivative.hpp) into the other functions
  Grad,
  Diff,
  Divergence,
  Laplacian,
  GradMatrix,
};

/// The dimension of a call from the dimensions of its expression arguments.
enum class DimensionRule {
  Elementwise,  ///< that of the first argument
  Broadcast,    ///< all equal, or 1 (KeOps' rule for + - * /): the largest
  Scalar,       ///< 1, whatever the arguments
  EqualScalar,  ///< 1; the arguments must have equal dimensions
  Special,      ///< worked out per function (check.cpp)
};

struct FunctionInfo {
  FunctionId id;
  std::string_view name;
  std::string_view signature;  ///< for messages: "Pow(f, n)"
  int arity;
  DimensionRule rule;
  unsigned integer_arguments;  ///< bit k: argument k is an integer literal, not an expression
  Opcode op;                 ///< the instruction it compiles to (IntCst, IntInv: none, a constant)
  double (*scalar)(double);  ///< the function of one number, for elementwise ones (else null)
};

/// The function called `name` (case-sensitive, as in KeOps), or nullptr.
const FunctionInfo* find_function(std::string_view name);

/// The names of all functions, in table order.
std::vector<std::string> function_names();

}  // namespace kinterp::detail
