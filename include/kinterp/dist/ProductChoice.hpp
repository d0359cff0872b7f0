#pragma once
/// \file ProductChoice.hpp
/// Which engine computes a compiled kernel's products: the direct one (exact
/// to rounding, N^2 work) or the tree (within a tolerance, about N log N work,
/// points of 1-3 coordinates), or `auto`, which takes the tree where it pays.

#include <kinterp/dist/KernelProduct.hpp>
#include <kinterp/dist/TreeKernelProduct.hpp>
#include <kinterp/kernels/KernelSpec.hpp>

#include <mpi.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace kinterp {

enum class ProductEngine { Direct, Tree, Auto };

/// "direct", "tree", "auto".
std::string to_string(ProductEngine engine);
/// The engine of a name above; throws kinterp::Error naming the choices.
ProductEngine product_engine_from_name(const std::string& name);

struct ProductOptions {
  ProductEngine engine = ProductEngine::Direct;
  /// The tree's tolerance and sizes (tree and auto).
  TreeOptions tree;
  /// auto: the tree where the points have 1-3 coordinates, there are at least
  /// this many sources in all, and the tree's work per target, measured at
  /// set-up on a sample, is below a third of the direct product's N.
  std::int64_t auto_min_sources = 20000;
};

/// A solve's default tree tolerance: a hundredth of rtol, at most 1e-6 and
/// at least what precision T allows (the tree's bound is relative to
/// sum |k||a|, the residual's to ||b||).
template <class T>
double solve_product_tolerance(double rtol) {
  const double wanted = rtol > 0 ? 0.01 * rtol : 1e-6;
  return std::max(FarFieldRule::smallest_tolerance<T>(), std::min(1e-6, wanted));
}

/// Collective over `comm`. The product of `kernel` over this rank's sources
/// (n_r x d) that `options` choose. Throws kinterp::Error on every rank for
/// a bad tolerance or size, or the tree asked for with d > 3.
template <class T>
std::shared_ptr<const KernelProduct<T>> make_kernel_product(MPI_Comm comm, const KernelSpec& kernel,
                                                            const LocalMatrix<const T>& sources,
                                                            const ProductOptions& options);

}  // namespace kinterp
