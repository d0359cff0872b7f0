#pragma once
/// \file TensorDot.hpp
/// KeOps' TensorDot(f, g, Ind(dims of f), Ind(dims of g), Ind(axes of f),
/// Ind(axes of g)[, Ind(permutation)]): f and g read as row-major tensors,
/// contracted over the paired axes; the result's axes are f's kept axes then
/// g's, kept axis k moved to output axis p_k by the optional permutation
/// (KeOps' convention: the inverse of numpy.transpose's axes). The lists
/// may also be written as tuples, (2, 3), (3,), (), as keopscore's formula
/// strings do (the parser makes them Ind calls). check()
/// expands it into sums of products of components, so every later pass
/// (derivatives included) sees ordinary functions.

#include "Diagnostics.hpp"
#include "Expr.hpp"

namespace kinterp::detail {

/// Whether `call` (not yet checked) is a TensorDot call.
bool is_tensor_dot(const Expr& call);

/// What the TensorDot call stands for: `call` with f and g checked and its
/// Ind(...) arguments unchecked. Throws FormulaError, pointing into the
/// call, for arguments that do not describe a contraction of f and g, and
/// for one with more than 100000 products.
Expr expand_tensor_dot(const Expr& call, const Source& source);

}  // namespace kinterp::detail
