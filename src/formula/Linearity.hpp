#pragma once
/// \file Linearity.hpp
/// Whether a formula is linear in a variable (KernelSolve's unknown).

#include "Diagnostics.hpp"
#include "Expr.hpp"

#include <kinterp/formula/Formula.hpp>

namespace kinterp::detail {

/// Throws FormulaError, at the operation that breaks it, unless `root` is
/// linear in `variable` (and contains it).
void require_linear(const Expr& root, const Source& source, const Variable& variable);

}  // namespace kinterp::detail
