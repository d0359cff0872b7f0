#include <kinterp/core/Error.hpp>
#include <kinterp/formula/Formula.hpp>

#include "Check.hpp"
#include "Compile.hpp"
#include "Diagnostics.hpp"
#include "Linearity.hpp"
#include "Parser.hpp"
#include "Recognise.hpp"

#include <algorithm>

namespace kinterp {

namespace {

detail::Source formula_source(const std::string& text) {
  return {"formula", text};
}

}  // namespace

Formula::Formula(const std::string& formula, const std::vector<std::string>& aliases)
    : text_(formula) {
  for (std::size_t k = 0; k < aliases.size(); ++k) {
    const detail::Source source{"alias " + std::to_string(k), aliases[k]};
    const Variable variable = detail::parse_alias(source, static_cast<int>(k));
    detail::declare(variables_, variable, true, source, 0);
  }
  const detail::Source source = formula_source(text_);
  std::unique_ptr<detail::Expr> root = detail::parse_formula(source);
  detail::check(*root, source, variables_);
  std::stable_sort(variables_.begin(), variables_.end(),
                   [](const Variable& a, const Variable& b) { return a.index < b.index; });
  dimension_ = root->dimension;
  root_ = std::move(root);
}

const Variable* Formula::find(const std::string& name) const {
  return detail::named(variables_, name);
}

RadialKernelProduct Formula::bind(
    const std::map<std::string, std::vector<double>>& parameters) const {
  return detail::recognise(*root_, formula_source(text_), variables_, parameters);
}

Program Formula::compile(const std::map<std::string, std::vector<double>>& parameters,
                         int axis) const {
  if (axis != 0 && axis != 1) {
    throw FormulaError(
        "the reduction axis must be 1 (over j, a row per i) or 0 (over i, a row "
        "per j), got " +
        std::to_string(axis));
  }
  return detail::compile(*root_, formula_source(text_), variables_, parameters,
                         axis == 1 ? Variable::Category::I : Variable::Category::J);
}

void Formula::require_linear_in(const std::string& name) const {
  const Variable* variable = find(name);
  if (!variable) {
    throw FormulaError("the unknown " + name + " is not a variable of the formula \"" + text_ +
                       "\"; declare it as an alias such as \"" + name + " = Vj(1)\"");
  }
  detail::require_linear(*root_, formula_source(text_), *variable);
}

std::string alias_text(const Variable& variable) {
  return variable.name + " = " + detail::category_name(variable.category) + "(" +
         std::to_string(variable.dimension) + ")";
}

std::string indexed_alias_text(const Variable& variable) {
  return variable.name + " = " + detail::category_name(variable.category) + "(" +
         std::to_string(variable.index) + "," + std::to_string(variable.dimension) + ")";
}

}  // namespace kinterp
