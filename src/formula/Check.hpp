#pragma once
/// \file Check.hpp
/// The semantic pass over a parsed formula.

#include "Diagnostics.hpp"
#include "Expr.hpp"

#include <kinterp/formula/Formula.hpp>

#include <string>
#include <vector>

namespace kinterp::detail {

/// Resolves the names in `root` against `variables` (appending the positional
/// variables it meets), checks calls against the function table and infers
/// every node's dimension, in the order of the text. Throws FormulaError at the
/// first problem.
void check(Expr& root, const Source& source, std::vector<Variable>& variables);

/// Adds a variable declared by an alias (`alias`) or written positionally in
/// the formula at `position`. Aliases may share an index when they agree on its
/// category and dimension; a positional variable is added only when no variable
/// has its index yet. Throws FormulaError for a duplicate alias name or two
/// variables with the same index but another category or dimension.
void declare(std::vector<Variable>& variables, const Variable& variable, bool alias,
             const Source& source, std::size_t position);

/// "X = Vi(0,3)", or "Vi(0,3)" for a positional variable.
std::string declaration(const Variable& variable);

/// The variable with argument `index` (the first, if aliases share it).
const Variable* variable_at(const std::vector<Variable>& variables, int index);

/// The variable called `name`, or nullptr.
const Variable* named(const std::vector<Variable>& variables, const std::string& name);

}  // namespace kinterp::detail
