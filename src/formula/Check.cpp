#include "Check.hpp"

#include "Functions.hpp"
#include "Parser.hpp"

#include <string>

namespace kinterp::detail {

namespace {

using Kind = Expr::Kind;

// The integer a literal argument such as Pow's n holds: 3 or -3 as written.
bool integer_literal(const Expr& expr) {
  if (expr.kind == Kind::Negate) return integer_literal(*expr.args[0]);
  return expr.kind == Kind::Number && expr.integer;
}

class Checker {
 public:
  Checker(const Source& source, std::vector<Variable>& variables)
      : source_(source), variables_(variables) {}

  void visit(Expr& expr) {
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
    }
  }

  int call_dimension(const Expr& expr) const {
    switch (expr.function->rule) {
      case DimensionRule::Elementwise:
        return expr.args[0]->dimension;
      case DimensionRule::Scalar:
        return 1;
      case DimensionRule::EqualScalar:
        require_equal(expr, *expr.args[0], *expr.args[1],
                      "; " + std::string(expr.function->signature) + " needs equal dimensions");
        return 1;
    }
    return 1;
  }

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
