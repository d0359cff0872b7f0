#pragma once
/// \file Recognise.hpp
/// Recognition of a checked formula as a compiled radial kernel family.

#include "Diagnostics.hpp"
#include "Expr.hpp"

#include <kinterp/formula/Formula.hpp>

#include <map>
#include <string>
#include <vector>

namespace kinterp::detail {

/// See Formula::bind. The returned pointers point into `variables`.
RadialKernelProduct recognise(const Expr& root, const Source& source,
                              const std::vector<Variable>& variables,
                              const std::map<std::string, std::vector<double>>& parameters);

}  // namespace kinterp::detail
