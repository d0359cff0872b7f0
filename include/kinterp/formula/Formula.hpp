#pragma once
/// \file Formula.hpp
/// KeOps formula strings with their aliases, parsed into a checked expression
/// tree, and recognised as one of the compiled kernel families.

#include <kinterp/formula/Program.hpp>
#include <kinterp/kernels/KernelSpec.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace kinterp {

namespace detail {
struct Expr;
}

/// A formula variable: `X = Vi(3)` is {"X", Category::I, index, 3}.
struct Variable {
  enum class Category { I, J, Parameter };
  std::string name;  ///< the alias, or "Vi(0,3)"-style text for positional ones
  Category category = Category::I;
  int index = 0;      ///< argument position, as in KeOps
  int dimension = 1;  ///< vector length
};

/// The variable as a KeOps alias, for messages: "X = Vi(3)".
std::string alias_text(const Variable& variable);

/// The variable as an alias with its argument index, "X = Vi(0,3)": for a
/// formula built around another that must keep every index.
std::string indexed_alias_text(const Variable& variable);

/// What a sum over j of formula(x_i, y_j, a_j) computes when the formula is a
/// compiled radial kernel times a j-variable: out_i = sum_j k(x_i, y_j) a_j.
struct RadialKernelProduct {
  KernelSpec kernel;
  const Variable* target = nullptr;  ///< the i-variable x inside the distance
  const Variable* source = nullptr;  ///< the j-variable y inside the distance
  const Variable* weight = nullptr;  ///< the j-variable a the formula is linear in
};

/// A parsed and dimension-checked KeOps formula, such as
/// `Formula("Exp(- G * SqDist(X,Y) ) * A", {"X = Vi(1)", "Y = Vj(1)", "A = Vj(1)", "G = Pm(1)"})`.
/// Throws kinterp::FormulaError naming the position, what was found and what
/// was expected. Copies share the (immutable) tree.
class Formula {
 public:
  Formula(const std::string& formula, const std::vector<std::string>& aliases);

  const std::string& text() const { return text_; }

  /// The length of the vector the formula computes for each (i, j), as KeOps
  /// infers it: the number of output columns of a sum over j.
  int dimension() const { return dimension_; }

  /// All variables, aliased or positional, ordered by index.
  const std::vector<Variable>& variables() const { return variables_; }

  /// The variable called `name` (alias), or nullptr.
  const Variable* find(const std::string& name) const;

  /// Recognises the formula as radial kernel times a j-variable, with the
  /// parameters' values given by name (a Pm(1) parameter has one value).
  /// Throws FormulaError for a missing or wrongly sized parameter, or a formula
  /// that is not (yet) a compiled kernel family, saying what is unsupported.
  /// The returned pointers point into this Formula.
  RadialKernelProduct bind(const std::map<std::string, std::vector<double>>& parameters) const;

  /// Compiles the formula for the generic evaluator, with the parameters'
  /// values given by name. `axis` is KeOps': 1 reduces over j (the output has
  /// a row per i: the Vi variables are the targets), 0 reduces over i. Throws
  /// FormulaError for a missing or wrongly sized parameter, or a formula that
  /// needs more than Program::max_registers registers at once.
  Program compile(const std::map<std::string, std::vector<double>>& parameters, int axis = 1) const;

  /// Throws FormulaError, naming the operation that breaks it, unless the
  /// formula is linear in the variable called `name` (KernelSolve's unknown).
  /// The check reads the tree as written: sums of terms linear in it,
  /// products with factors free of it, and the linear functions (Minus, Sum,
  /// Elem, Extract, Concat of two linear parts, MatVecMult, VecMatMult and
  /// TensorProd with one linear factor, IfElse with linear branches).
  void require_linear_in(const std::string& name) const;

 private:
  std::string text_;
  std::vector<Variable> variables_;
  int dimension_ = 1;
  std::shared_ptr<const detail::Expr> root_;
};

}  // namespace kinterp
