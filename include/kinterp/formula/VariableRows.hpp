#pragma once
/// \file VariableRows.hpp
/// Data a formula carries besides the points and the weights, such as
/// per-point noise or bandwidths: this rank's rows of named variables.

#include <kinterp/local/LocalMatrix.hpp>

#include <map>
#include <string>

namespace kinterp {

/// Variable name -> this rank's rows of it, one per point (n_r x the
/// variable's dimension).
template <class T>
using VariableRows = std::map<std::string, LocalMatrix<const T>>;

}  // namespace kinterp
