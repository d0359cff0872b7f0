#pragma once
/// \file Expr.hpp
/// The expression tree of a parsed formula (internal to the formula layer).

#include <kinterp/formula/Formula.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace kinterp::detail {

struct FunctionInfo;

/// Bounds that keep every recursive pass (parser, checks, recognition, and the
/// destructor) within a small stack on any input: parentheses, calls and unary
/// minus nest at most kMaxNesting deep, and no tree is taller than kMaxHeight
/// (long left-associative chains such as 1+1+...+1 count towards the height).
constexpr int kMaxNesting = 256;
constexpr int kMaxHeight = 1000;

/// The largest dimension of any node, and of any integer argument such as
/// Pow's exponent, so that dimension arithmetic stays within an int.
constexpr int kMaxDimension = 1000000000;

/// One node of a formula. Nodes are immutable once the Formula is built and are
/// shared between copies of it, and within a formula a derivative shares the
/// nodes of the function it differentiates (the tree is a DAG from then on).
struct Expr {
  enum class Kind {
    Number,         ///< a numeric literal
    Variable,       ///< an alias, or a positional Vi(index, dim) / Vj / Pm
    Negate,         ///< -a
    Add,            ///< a + b
    Subtract,       ///< a - b
    Multiply,       ///< a * b
    Divide,         ///< a / b
    ScalarProduct,  ///< (a|b)
    Call,           ///< Name(args...)
  };

  Kind kind = Kind::Number;
  std::size_t position = 0;  ///< where the node's own token is: operator, name, number
  std::size_t begin = 0;     ///< the text the node was parsed from is [begin, end)
  std::size_t end = 0;
  int height = 1;  ///< 1 for a leaf

  double number = 0;     ///< Number: its value
  bool integer = false;  ///< Number: written without '.' or exponent

  std::string name;         ///< Variable: as written; Call: the function name
  bool positional = false;  ///< Variable: written Vi(index, dim) in the formula
  Variable::Category category = Variable::Category::I;  ///< Variable, once resolved
  int index = -1;                                       ///< Variable: its argument index
  const FunctionInfo* function = nullptr;               ///< Call, once checked

  int dimension = 0;                        ///< vector length, once checked
  std::vector<std::shared_ptr<Expr>> args;  ///< operands, or call arguments
};

}  // namespace kinterp::detail
