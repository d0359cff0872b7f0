// KernelSolve and KernelSum with the tree product, through ProductOptions:
// a solve's weights against LAPACK's dense solve within what its reported
// bounds allow, mixed precision included, and auto's choice of engine.

#include <kinterp/KernelSolve.hpp>

#include "../DenseKernelSolve.hpp"
#include "../DistributedData.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace {

using namespace kinterp::test;
using kinterp::KernelFamily;
using kinterp::KernelSpec;
using kinterp::ProductEngine;
using kinterp::ProductOptions;

ProductOptions tree(double tolerance) {
  ProductOptions options;
  options.engine = ProductEngine::Tree;
  options.tree.tolerance = tolerance;
  options.tree.degree = 8;
  options.tree.leaf_size = 32;
  return options;
}

/// ||b - (alpha I + K) a|| / ||b|| for the global a, in long double.
double exact_relative_residual(const KernelSpec& spec, const HostMatrix<double>& x,
                               const HostMatrix<double>& b, const HostMatrix<double>& a,
                               double alpha) {
  long double residual2 = 0, rhs2 = 0;
  for (std::int64_t i = 0; i < x.rows; ++i) {
    long double r = b(i, 0) - alpha * static_cast<long double>(a(i, 0));
    for (std::int64_t j = 0; j < x.rows; ++j)
      r -= reference_kernel(spec, reference_distance(x, i, x, j)) * a(j, 0);
    residual2 += r * r;
    rhs2 += static_cast<long double>(b(i, 0)) * b(i, 0);
  }
  return static_cast<double>(std::sqrt(residual2 / rhs2));
}

/// The global solution from every rank's rows.
HostMatrix<double> gathered(const DeviceMatrix<double>& mine, std::int64_t n) {
  const auto host = on_host(mine);
  const auto block = my_block(n);
  HostMatrix<double> all(n, 1);
  for (std::int64_t i = 0; i < block.count; ++i) all(block.begin + i, 0) = host(i, 0);
  MPI_Allreduce(MPI_IN_PLACE, all.values.data(), static_cast<int>(n), MPI_DOUBLE, MPI_SUM,
                MPI_COMM_WORLD);
  return all;
}

TEST(TreeSolve, MeetsRtolWithinTheReportedProductBound) {
  // Smaller, and double only, under ASan and UBSan (~30x slower here).
#if defined(__SANITIZE_ADDRESS__)
  const std::int64_t n = 700;
  const bool precisions[] = {false};
#else
  const std::int64_t n = 2000;
  const bool precisions[] = {false, true};
#endif
  const double alpha = 0.1;
  const KernelSpec spec{KernelFamily::Gaussian, 50.0, 1.0};
  const auto x = global_matrix<double>(n, 2, 21, 0, 1);
  const auto b = global_matrix<double>(n, 1, 22, -1, 1);
  const auto block = my_block(n);
  kinterp::SolveOptions options;
  options.rtol = 1e-10;
  for (bool mixed : precisions) {
    SCOPED_TRACE(mixed ? "mixed precision" : "double");
    const kinterp::KernelSolve<double> solver(MPI_COMM_WORLD, spec, rows_on_device(x, block),
                                              tree(1e-12));
    kinterp::KernelSolveOptions how;
    how.mixed_precision = mixed;
    DeviceMatrix<double> a("a", block.count, 1);
    const auto result = solver.solve(rows_on_device(b, block), a, alpha, options, how);
    ASSERT_TRUE(result.converged()) << result.detail;
    EXPECT_EQ(result.product_tolerance, 1e-12);
    EXPECT_EQ(result.product_engine.rfind("tree (eps 1e-12", 0), 0u) << result.product_engine;
    EXPECT_GT(result.product_residual_bound, 0);
    const auto solution = gathered(a, n);
    const double exact = exact_relative_residual(spec, x, b, solution, alpha);
    EXPECT_LE(exact, 2 * options.rtol + result.product_residual_bound)
        << "recomputed " << result.relative_residual() << ", bound "
        << result.product_residual_bound;
    // And the weights are the dense solve's to what that residual allows
    // (||a - a*|| <= ||r|| / alpha).
    const auto dense = dense_kernel_solve(spec, x, b, [&](int) { return alpha; });
    double error2 = 0, rhs2 = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      error2 += (solution(i, 0) - dense(i, 0)) * (solution(i, 0) - dense(i, 0));
      rhs2 += b(i, 0) * b(i, 0);
    }
    EXPECT_LE(std::sqrt(error2), 1.01 * exact * std::sqrt(rhs2) / alpha + 1e-12);
  }
}

TEST(TreeSolve, AutoTakesTheTreeWhereItPays) {
  const std::int64_t n = 3000;
  const auto x = global_matrix<double>(n, 2, 23, 0, 1);
  const auto block = my_block(n);
  ProductOptions automatic;
  automatic.engine = ProductEngine::Auto;
  // Below the threshold: direct, exact.
  const kinterp::KernelSum<double> small(MPI_COMM_WORLD, {KernelFamily::Gaussian, 2000.0, 1.0},
                                         rows_on_device(x, block), automatic);
  EXPECT_EQ(small.product().description(), "direct");
  EXPECT_EQ(small.product().tolerance(), 0);
  // Above it, a narrow kernel: most clusters are left out, the tree pays.
  automatic.auto_min_sources = 1000;
  const std::int64_t many = 20000;
  const auto spread = rows_on_device(global_matrix<double>(many, 2, 25, 0, 1), my_block(many));
  const kinterp::KernelSum<double> narrow(MPI_COMM_WORLD, {KernelFamily::Gaussian, 2e4, 1.0},
                                          spread, automatic);
  EXPECT_EQ(narrow.product().description().rfind("tree", 0), 0u);
  // 3D points and a kernel a tenth of their spread: a cluster of proxies
  // costs more than its points, nearly all is near field; direct.
  const auto cube = rows_on_device(global_matrix<double>(many, 3, 26, 0, 1), my_block(many));
  const kinterp::KernelSum<double> near(MPI_COMM_WORLD, {KernelFamily::Gaussian, 50.0, 1.0}, cube,
                                        automatic);
  EXPECT_EQ(near.product().description(), "direct");
  // Four coordinates: auto takes direct, tree is refused on every rank.
  const auto x4 = rows_on_device(global_matrix<double>(n, 4, 24, 0, 1), block);
  const kinterp::KernelSum<double> four(MPI_COMM_WORLD, {KernelFamily::Gaussian, 2000.0, 1.0}, x4,
                                        automatic);
  EXPECT_EQ(four.product().description(), "direct");
  EXPECT_THROW(kinterp::KernelSum<double>(MPI_COMM_WORLD, {KernelFamily::Gaussian, 2000.0, 1.0}, x4,
                                          tree(1e-6)),
               kinterp::Error);
}

}  // namespace
