#pragma once
/// \file Compile.hpp
/// Compilation of a checked formula into a Program for the generic evaluator.

#include "Diagnostics.hpp"
#include "Expr.hpp"
#include "Parameters.hpp"

#include <kinterp/formula/Formula.hpp>
#include <kinterp/formula/Program.hpp>

#include <map>
#include <string>
#include <vector>

namespace kinterp::detail {

/// See Formula::compile. `target` is the category of the output rows.
Program compile(const Expr& root, const Source& source, const std::vector<Variable>& variables,
                const Parameters& values, Variable::Category target);

}  // namespace kinterp::detail
