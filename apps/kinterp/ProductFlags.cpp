#include "ProductFlags.hpp"

#include <kinterp/core/Error.hpp>

#include <cmath>
#include <string>

namespace kinterp::cli {

std::vector<OptionSpec> product_options() {
  return {
      {"product", "ENGINE",
       "kernel products: direct (every pair, exact to rounding), tree (points\n"
       "of 1-3 coordinates: a Chebyshev treecode whose error in every row is\n"
       "at most --product-tolerance times sum_j |k(t_i, x_j)| |w_j|), or auto\n"
       "(default: the tree from 20000 points in 1-3D where it does less than a\n"
       "third of the direct work, else direct)"},
      {"product-tolerance", "EPS",
       "the tree's tolerance, in [1e-12, 0.1] (float: [1e-6, 0.1]); default\n"
       "1e-6, and for solve a hundredth of --rtol, at most 1e-6"},
  };
}

ProductOptions resolve_product(const CommandLine& command, double default_tolerance) {
  ProductOptions product;
  product.engine = ProductEngine::Auto;
  if (const auto name = command.optional("product")) {
    try {
      product.engine = product_engine_from_name(*name);
    } catch (const Error& e) {
      throw UsageError{std::string("--product: ") + e.what()};
    }
  }
  product.tree.tolerance = default_tolerance;
  if (command.has("product-tolerance")) {
    if (product.engine == ProductEngine::Direct) {
      throw UsageError{
          "--product-tolerance belongs to the tree product: drop it, or use "
          "--product tree (or auto)"};
    }
    product.tree.tolerance = command.number("product-tolerance", default_tolerance);
  }
  return product;
}

}  // namespace kinterp::cli
