#include "Check.hpp"

#include "Derivative.hpp"
#include "Functions.hpp"
#include "Parser.hpp"
#include "TensorDot.hpp"

#include <cmath>
#include <string>

namespace kinterp::detail {

namespace {

using Kind = Expr::Kind;

// The integer a literal argument such as Pow's n holds: 3 or -3 as written.
bool integer_literal(const Expr& expr) {
  if (expr.kind == Kind::Negate) return integer_literal(*expr.args[0]);
  return expr.kind == Kind::Number && expr.integer;
}

double literal_number(const Expr& expr) {
  return expr.kind == Kind::Negate ? -literal_number(*expr.args[0]) : expr.number;
}

class Checker {
 public:
  Checker(const Source& source, std::vector<Variable>& variables)
      : source_(source), variables_(variables) {}

  void visit(Expr& expr) {
    if (is_tensor_dot(expr)) {  // its Ind(...) arguments are no formulas
      for (std::size_t k = 0; k < 2 && k < expr.args.size(); ++k) visit(*expr.args[k]);
      expr = expand_tensor_dot(expr, source_);
      return;
    }
    if (expr.kind == Kind::Call) resolve_function(expr);
    for (auto& arg : expr.args) visit(*arg);
    switch (expr.kind) {
      case Kind::Number:
        expr.dimension = 1;
        break;
      case Kind::Variable:
        resolve_variable(expr);
        break;
      case Kind::Negate:
        expr.dimension = expr.args[0]->dimension;
        break;
      case Kind::Add:
      case Kind::Subtract:
      case Kind::Multiply:
      case Kind::Divide:
        expr.dimension = broadcast(expr);
        break;
      case Kind::ScalarProduct:
        require_equal(expr, *expr.args[0], *expr.args[1], "; (a|b) needs equal dimensions");
        expr.dimension = 1;
        break;
      case Kind::Call:
        expr.dimension = call_dimension(expr);
        if (is_derivative(expr)) expr = expand_derivative(expr, source_);
        break;
    }
  }

 private:
  [[noreturn]] void fail(std::size_t position, const std::string& message) const {
    detail::fail(source_, position, message);
  }

  std::vector<std::string> alias_names() const {
    std::vector<std::string> names;
    for (const auto& variable : variables_) {
      if (variable.name.find('(') == std::string::npos) {  // not positional
        names.push_back(variable.name);
      }
    }
    return names;
  }

  void resolve_variable(Expr& expr) {
    if (expr.positional) {
      Variable variable;
      variable.name = expr.name;
      variable.category = expr.category;
      variable.index = expr.index;
      variable.dimension = expr.dimension;
      declare(variables_, variable, false, source_, expr.position);
      return;
    }
    const Variable* variable = named(variables_, expr.name);
    if (!variable) {
      if (const FunctionInfo* function = find_function(expr.name)) {
        fail(expr.position,
             quoted(expr.name) + " is a function: call it as " + std::string(function->signature));
      }
      const auto names = alias_names();
      fail(expr.position, "unknown variable " + quoted(expr.name) +
                              (names.empty() ? "; there are no aliases (declare one such as \"" +
                                                   expr.name.substr(0, 40) +
                                                   " = Vi(3)\", or write Vi(index, dimension))"
                                             : "; the aliases declare " + join(names)));
    }
    expr.category = variable->category;
    expr.index = variable->index;
    expr.dimension = variable->dimension;
  }

  void resolve_function(Expr& expr) {
    expr.function = find_function(expr.name);
    if (!expr.function) {
      if (named(variables_, expr.name)) {
        fail(expr.position, quoted(expr.name) + " is a variable, not a function");
      }
      const auto names = function_names();
      const std::string guess = closest(expr.name, names);
      fail(expr.position, "unknown function " + quoted(expr.name) +
                              (guess.empty() ? "; the functions are " + join(names)
                                             : "; did you mean '" + guess + "'?"));
    }
    const FunctionInfo& function = *expr.function;
    const int arity = static_cast<int>(expr.args.size());
    if (arity != function.arity) {
      fail(expr.position, std::string(function.name) + " takes " + std::to_string(function.arity) +
                              (function.arity == 1 ? " argument" : " arguments") + ", as in " +
                              std::string(function.signature) + ", but has " +
                              std::to_string(arity));
    }
    for (int k = 0; k < arity; ++k) {
      const Expr& arg = *expr.args[k];
      if ((function.integer_arguments >> k & 1u) && !integer_literal(arg)) {
        fail(arg.begin, "argument " + std::to_string(k + 1) + " of " + std::string(function.name) +
                            " must be an integer literal, as in " +
                            std::string(function.signature) + ", found " +
                            quoted(text_of(source_, arg)));
      }
      if ((function.integer_arguments >> k & 1u) &&
          std::fabs(literal_number(arg)) > kMaxDimension) {
        fail(arg.begin, "argument " + std::to_string(k + 1) + " of " + std::string(function.name) +
                            " is too large (the limit is " + std::to_string(kMaxDimension) + ")");
      }
    }
    if (function.id == FunctionId::IntInv && literal_number(*expr.args[0]) == 0) {
      fail(expr.args[0]->begin, "IntInv(0) is 1/0: give an integer other than 0");
    }
    if (function.id == FunctionId::ClampInt &&
        literal_number(*expr.args[1]) > literal_number(*expr.args[2])) {
      fail(expr.args[1]->begin, "ClampInt(f, a, b) needs a <= b");
    }
  }

  int call_dimension(const Expr& expr) const {
    const auto& args = expr.args;
    switch (expr.function->rule) {
      case DimensionRule::Elementwise:
        return args[0]->dimension;
      case DimensionRule::Scalar:
        return 1;
      case DimensionRule::EqualScalar:
        require_equal(expr, *args[0], *args[1],
                      "; " + std::string(expr.function->signature) + " needs equal dimensions");
        return 1;
      case DimensionRule::Broadcast: {
        int dimension = 1;
        for (const auto& arg : args) {
          if (arg->dimension == 1 || arg->dimension == dimension) continue;
          if (dimension != 1) {
            require_equal(expr, *args[0], *arg,
                          "; " + std::string(expr.function->signature) +
                              " needs equal dimensions or dimension 1");
          }
          dimension = arg->dimension;
        }
        return dimension;
      }
      case DimensionRule::Special:
        return special_dimension(expr);
    }
    return 1;
  }

  int special_dimension(const Expr& expr) const {
    const auto& args = expr.args;
    const std::string signature(expr.function->signature);
    switch (expr.function->id) {
      case FunctionId::WeightedSqNorm:
      case FunctionId::WeightedSqDist: {
        const int d = args[1]->dimension, s = args[0]->dimension;
        if (expr.function->id == FunctionId::WeightedSqDist) {
          require_equal(expr, *args[1], *args[2], "; " + signature + " needs equal dimensions");
        }
        if (s != 1 && s != d && s != d * d) {
          fail(args[0]->begin,
               "the weight " + text_of(source_, *args[0]) + " of " + signature + " has dimension " +
                   std::to_string(s) + "; it must be 1 (isotropic), " + std::to_string(d) +
                   " (diagonal) or " + std::to_string(d * d) +
                   " (a full symmetric matrix) for vectors of dimension " + std::to_string(d));
        }
        return 1;
      }
      case FunctionId::Elem: {
        const long m = literal(*args[1]);
        if (m < 0 || m >= args[0]->dimension) {
          fail(args[1]->begin, "Elem index " + std::to_string(m) + " is outside 0.." +
                                   std::to_string(args[0]->dimension - 1) + " for " +
                                   text_of(source_, *args[0]) + " of dimension " +
                                   std::to_string(args[0]->dimension));
        }
        return 1;
      }
      case FunctionId::Extract: {
        const long start = literal(*args[1]), length = literal(*args[2]);
        if (start < 0 || length < 1 || start + length > args[0]->dimension) {
          fail(args[1]->begin,
               "Extract(f, " + std::to_string(start) + ", " + std::to_string(length) +
                   ") needs 0 <= start, 1 <= dimension " +
                   "and start + dimension <= " + std::to_string(args[0]->dimension) +
                   ", the dimension of " + text_of(source_, *args[0]));
        }
        return static_cast<int>(length);
      }
      case FunctionId::Concat:
        return checked_size(expr, long(args[0]->dimension) + args[1]->dimension);
      case FunctionId::OneHot: {
        if (args[0]->dimension != 1) {
          fail(args[0]->begin, "OneHot needs a scalar, but " + text_of(source_, *args[0]) +
                                   " has dimension " + std::to_string(args[0]->dimension));
        }
        return positive_literal(*args[1], "OneHot's dimension");
      }
      case FunctionId::Zero:
        return positive_literal(*args[0], "Zero's dimension");
      case FunctionId::ElemT:
      case FunctionId::ExtractT:
      case FunctionId::SumT: {
        const bool elem = expr.function->id == FunctionId::ElemT;
        const Expr& size = *args[expr.function->id == FunctionId::ExtractT ? 2 : 1];
        const int dimension =
            positive_literal(size, signature.substr(0, signature.find('(')) + "'s dimension");
        if (expr.function->id != FunctionId::ExtractT && args[0]->dimension != 1) {
          fail(args[0]->begin, signature + " needs a scalar f, but " + text_of(source_, *args[0]) +
                                   " has dimension " + std::to_string(args[0]->dimension));
        }
        if (expr.function->id != FunctionId::SumT) {
          const long start = literal(*args[elem ? 2 : 1]);
          if (start < 0 || start + args[0]->dimension > dimension) {
            fail(args[elem ? 2 : 1]->begin,
                 "in " + signature + ", f of dimension " + std::to_string(args[0]->dimension) +
                     " does not fit at index " + std::to_string(start) +
                     " of a vector of dimension " + std::to_string(dimension));
          }
        }
        return dimension;
      }
      case FunctionId::MatVecMult:
      case FunctionId::VecMatMult: {
        const bool matrix_first = expr.function->id == FunctionId::MatVecMult;
        const Expr& matrix = *args[matrix_first ? 0 : 1];
        const Expr& vector = *args[matrix_first ? 1 : 0];
        if (matrix.dimension % vector.dimension != 0) {
          fail(expr.position,
               "in " + text_of(source_, expr) + ", the matrix " + text_of(source_, matrix) +
                   " has dimension " + std::to_string(matrix.dimension) +
                   ", which is not a multiple of the dimension " +
                   std::to_string(vector.dimension) + " of the vector " + text_of(source_, vector) +
                   " (" + signature + ": the matrix is stored column-major, as in KeOps)");
        }
        return matrix.dimension / vector.dimension;
      }
      case FunctionId::TensorProd:
        return checked_size(expr, long(args[0]->dimension) * args[1]->dimension);
      case FunctionId::Grad:
      case FunctionId::Diff:
      case FunctionId::Divergence:
      case FunctionId::Laplacian:
      case FunctionId::GradMatrix:
        return derivative_dimension(expr);
      default:
        return 1;
    }
  }

  // Grad(f, v, e) has v's dimension and needs e with f's; Diff(f, v, u) has
  // f's and needs u with v's; GradMatrix(f, v) is f's times v's; Divergence
  // and Laplacian are scalars of an f with v's dimension, or a scalar f.
  int derivative_dimension(const Expr& expr) const {
    const auto& args = expr.args;
    const Expr &f = *args[0], &v = *args[1];
    const std::string signature(expr.function->signature);
    if (v.kind != Kind::Variable) {
      fail(v.begin, "the second argument of " + std::string(expr.function->name) +
                        " must be a variable, as in " + signature + ", found " +
                        quoted(text_of(source_, v)));
    }
    switch (expr.function->id) {
      case FunctionId::Grad:
        require_equal(expr, *args[2], f, "; in " + signature + ", e must have the dimension of f");
        return v.dimension;
      case FunctionId::Diff:
        require_equal(expr, *args[2], v, "; in " + signature + ", u must have the dimension of v");
        return f.dimension;
      case FunctionId::GradMatrix:
        return checked_size(expr, long(f.dimension) * v.dimension);
      case FunctionId::Divergence:
        require_equal(expr, f, v, "; " + signature + " needs f and v of equal dimensions");
        return 1;
      default:  // Laplacian
        if (f.dimension != 1) {
          fail(f.begin,
               "Laplacian(f, v) needs a scalar f, but " + text_of(source_, f) + " has dimension " +
                   std::to_string(f.dimension) +
                   "; take the Laplacian of each component, as in Laplacian(Elem(f, 0), v)");
        }
        return 1;
    }
  }

  int positive_literal(const Expr& arg, const std::string& what) const {
    const long value = literal(arg);
    if (value < 1) {
      fail(arg.begin, what + " must be at least 1, found " + std::to_string(value));
    }
    return checked_size(arg, value);
  }

  int checked_size(const Expr& expr, long dimension) const {
    if (dimension > kMaxDimension) {
      fail(expr.position, text_of(source_, expr) + " would have dimension " +
                              std::to_string(dimension) + "; the limit is " +
                              std::to_string(kMaxDimension));
    }
    return static_cast<int>(dimension);
  }

  // An integer argument, range-checked in resolve_function.
  static long literal(const Expr& expr) { return static_cast<long>(literal_number(expr)); }

  // KeOps' rule for + - * /: equal dimensions, or one side of dimension 1.
  int broadcast(const Expr& expr) const {
    const Expr &a = *expr.args[0], &b = *expr.args[1];
    if (a.dimension == b.dimension || b.dimension == 1) return a.dimension;
    if (a.dimension == 1) return b.dimension;
    const char op = source_.text[expr.position];
    require_equal(expr, a, b,
                  std::string("; '") + op + "' needs equal dimensions or one of dimension 1");
    return a.dimension;
  }

  void require_equal(const Expr& expr, const Expr& a, const Expr& b,
                     const std::string& rule) const {
    if (a.dimension == b.dimension) return;
    fail(expr.position, "in " + text_of(source_, expr) + ", " + text_of(source_, a) +
                            " has dimension " + std::to_string(a.dimension) + " but " +
                            text_of(source_, b) + " has dimension " + std::to_string(b.dimension) +
                            rule);
  }

  const Source& source_;
  std::vector<Variable>& variables_;
};

}  // namespace

void check(Expr& root, const Source& source, std::vector<Variable>& variables) {
  Checker(source, variables).visit(root);
}

void declare(std::vector<Variable>& variables, const Variable& variable, bool alias,
             const Source& source, std::size_t position) {
  if (alias && named(variables, variable.name)) {
    fail(source, position, "the name " + quoted(variable.name) + " is declared twice");
  }
  const Variable* existing = variable_at(variables, variable.index);
  if (existing &&
      (existing->category != variable.category || existing->dimension != variable.dimension)) {
    fail(source, position,
         declaration(variable) + " and " + declaration(*existing) + " both use argument index " +
             std::to_string(variable.index) + " but differ in category or dimension");
  }
  if (alias || !existing) variables.push_back(variable);
}

std::string declaration(const Variable& variable) {
  const std::string positional = std::string(category_name(variable.category)) + "(" +
                                 std::to_string(variable.index) + "," +
                                 std::to_string(variable.dimension) + ")";
  return variable.name == positional ? positional : variable.name + " = " + positional;
}

const Variable* named(const std::vector<Variable>& variables, const std::string& name) {
  for (const auto& variable : variables) {
    if (variable.name == name) return &variable;
  }
  return nullptr;
}

const Variable* variable_at(const std::vector<Variable>& variables, int index) {
  for (const auto& variable : variables) {
    if (variable.index == index) return &variable;
  }
  return nullptr;
}

}  // namespace kinterp::detail
