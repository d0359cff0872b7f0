#include "Parameters.hpp"

#include "Check.hpp"
#include "Parser.hpp"

#include <cmath>

namespace kinterp::detail {

void check_parameter_names(const Source& source, const std::vector<Variable>& variables,
                           const Parameters& values) {
  std::vector<std::string> names;
  for (const auto& variable : variables) {
    if (variable.category == Variable::Category::Parameter) names.push_back(variable.name);
  }
  for (const auto& entry : values) {
    const std::string& name = entry.first;
    const Variable* variable = named(variables, name);
    if (!variable) {
      fail(source, std::string::npos,
           "a value is given for " + quoted(name) + ", which is not a parameter of the formula" +
               (names.empty() ? " (it has none)" : "; its parameters are " + join(names)));
    }
    if (variable->category != Variable::Category::Parameter) {
      fail(source, std::string::npos,
           "a value is given for " + quoted(name) + ", which is a " +
               category_name(variable->category) + " variable, not a parameter (Pm)");
    }
  }
}

const std::vector<double>& parameter_values(const Source& source,
                                            const std::vector<Variable>& variables,
                                            const Parameters& values, const Expr& expr) {
  auto found = values.find(expr.name);
  for (const auto& variable : variables) {
    if (found == values.end() && variable.index == expr.index) found = values.find(variable.name);
  }
  if (found == values.end()) {
    fail(source, expr.position,
         "parameter " + expr.name + " has no value: pass --param " + expr.name + "=...");
  }
  if (static_cast<int>(found->second.size()) != expr.dimension) {
    fail(source, expr.position,
         "parameter " + expr.name + " = Pm(" + std::to_string(expr.dimension) + ") needs " +
             std::to_string(expr.dimension) + " value" + (expr.dimension == 1 ? "" : "s") +
             ", got " + std::to_string(found->second.size()));
  }
  for (const double value : found->second) {
    // A NaN or Inf would turn every result into NaN, or into a silent 0.
    if (!std::isfinite(value)) {
      fail(source, expr.position,
           "parameter " + expr.name + " is " + number(value) + ": give finite numbers");
    }
  }
  return found->second;
}

}  // namespace kinterp::detail
