#pragma once
// --product and --product-tolerance: which engine computes the kernel
// products of solve, predict, reduce and krige.

#include <kinterp/dist/ProductChoice.hpp>

#include <algorithm>

#include "CommandLine.hpp"

#include <vector>

namespace kinterp::cli {

/// --product auto|tree|direct and --product-tolerance EPS.
std::vector<OptionSpec> product_options();

/// The engine and tolerance of the command line: auto by default, and
/// `default_tolerance` without --product-tolerance. UsageError for an
/// unknown engine, a tolerance with --product direct, or a bad number.
ProductOptions resolve_product(const CommandLine& command, double default_tolerance);

/// A solve's default tolerance: a hundredth of rtol, at most 1e-6 and at
/// least what precision T allows (the tree's bound is relative to
/// sum |k||a|, the residual's to ||b||).
template <class T>
double solve_product_tolerance(double rtol) {
  const double wanted = rtol > 0 ? 0.01 * rtol : 1e-6;
  return std::max(FarFieldRule::smallest_tolerance<T>(), std::min(1e-6, wanted));
}

}  // namespace kinterp::cli
