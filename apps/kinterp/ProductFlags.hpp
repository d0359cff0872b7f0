#pragma once
// --product and --product-tolerance: which engine computes the kernel
// products of solve, predict, krige and reduce.

#include <kinterp/dist/ProductChoice.hpp>

#include "CommandLine.hpp"

#include <vector>

namespace kinterp::cli {

/// --product auto|tree|direct and --product-tolerance EPS.
std::vector<OptionSpec> product_options();

/// The engine and tolerance of the command line: auto by default, and
/// `default_tolerance` without --product-tolerance. UsageError for an
/// unknown engine, a tolerance with --product direct, or a bad number.
ProductOptions resolve_product(const CommandLine& command, double default_tolerance);

}  // namespace kinterp::cli
