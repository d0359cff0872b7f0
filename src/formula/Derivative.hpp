#pragma once
/// \file Derivative.hpp
/// Symbolic differentiation of formulas: Grad, Diff, Divergence, Laplacian and
/// GradMatrix, with KeOps' meanings. Each is expanded, when the formula is
/// checked, into the other functions of the language, so that every later
/// pass (linearity, recognition, compilation) sees an ordinary formula.
///
/// Grad is reverse mode: one pass over f in vector operations, whatever the
/// variable's dimension (GradMatrix: one per component of f). Diff, Divergence and the outer
/// derivative of Laplacian (the divergence of the gradient) are forward mode, one pass per
/// component of the variable, which suits the small dimensions of points. The
/// expansion shares f's nodes instead of copying them, builds each new node
/// once (common subexpressions), and folds the zeros and ones that the unit
/// directions create, so that the gradient of a kernel compiles to a program
/// as short as a hand-written one.

#include "Diagnostics.hpp"
#include "Expr.hpp"

namespace kinterp::detail {

/// Whether `call` is a derivative that check() expands.
bool is_derivative(const Expr& call);

/// What the derivative call `call` stands for (its arguments checked, its
/// variable argument a Variable node, its own dimension set): the root of a
/// checked expression that shares the nodes of the call's arguments. Throws
/// FormulaError at the call when the expansion would be too large, or when a
/// function in it has no derivative.
Expr expand_derivative(const Expr& call, const Source& source);

}  // namespace kinterp::detail
