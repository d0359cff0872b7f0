#pragma once
/// \file Parameters.hpp
/// The values of a formula's parameters (Pm variables), given by name: shared
/// by recognition (bind) and compilation (compile).

#include "Diagnostics.hpp"
#include "Expr.hpp"

#include <kinterp/formula/Formula.hpp>

#include <map>
#include <string>
#include <vector>

namespace kinterp::detail {

using Parameters = std::map<std::string, std::vector<double>>;

/// Throws FormulaError when `values` names something that is not a parameter.
void check_parameter_names(const Source& source, const std::vector<Variable>& variables,
                           const Parameters& values);

/// The values of the parameter `expr` (a Variable node), given under the name
/// written or another name of the same argument (an alias of a positional
/// Pm(index, d), say). Throws FormulaError, at the node, when there are none or
/// not as many as its dimension.
const std::vector<double>& parameter_values(const Source& source,
                                            const std::vector<Variable>& variables,
                                            const Parameters& values, const Expr& expr);

}  // namespace kinterp::detail
