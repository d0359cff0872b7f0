// KernelSolve over 1-4 ranks against a dense Cholesky solve (LAPACK dposv) of
// (alpha I + K) a = b: plain, Nystrom-preconditioned and mixed precision; stop
// reasons; checkpoints of the solve; bad input reported on every rank.

#include <kinterp/KernelSolve.hpp>

#include "../DenseKernelSolve.hpp"
#include "../DistributedData.hpp"
#include "../ScratchDirectory.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

namespace {

using namespace kinterp::test;
using kinterp::KernelFamily;
using kinterp::KernelSpec;
using kinterp::StopReason;

[[maybe_unused]] ::testing::Environment* const scratch =
    ::testing::AddGlobalTestEnvironment(new ScratchDirectory("kinterp_test_solve"));

/// The solution of (alpha I + K) a = b by dense Cholesky, all columns.
HostMatrix<double> dense_solve(const KernelSpec& spec, const HostMatrix<double>& x,
                               const HostMatrix<double>& b, double alpha) {
  return kinterp::test::dense_kernel_solve(spec, x, b, [alpha](int) { return alpha; });
}

struct Problem {
  HostMatrix<double> x, b;
  kinterp::RowBlock block;
};

/// A float solve of p: the solver over its points, this rank's right-hand
/// sides and room for one column of weights.
struct FloatSolve {
  kinterp::KernelSolve<float> solver;
  DeviceMatrix<float> b, a;
};
FloatSolve in_float(const Problem& p, const KernelSpec& spec) {
  return {kinterp::KernelSolve<float>(MPI_COMM_WORLD, spec,
                                      rows_on_device(converted<float>(p.x), p.block)),
          rows_on_device(converted<float>(p.b), p.block),
          DeviceMatrix<float>("a", p.block.count, 1)};
}

Problem make_problem(std::int64_t n, int dim, int columns) {
  Problem p{global_matrix<double>(n, dim, 21, 0, 1), global_matrix<double>(n, columns, 22, -1, 1),
            my_block(n)};
  // Columns on very different scales, so that shared step sizes would fail.
  for (std::int64_t i = 0; i < n; ++i)
    for (int c = 1; c < columns; ++c) p.b(i, c) *= std::pow(1000.0, c);
  return p;
}

/// For SPD A with smallest eigenvalue >= alpha: ||a - a*|| <= ||b - A a|| / alpha.
kinterp::KernelSolveResult expect_close_to_dense(const KernelSpec& spec, const Problem& p,
                                                 double alpha, double rtol,
                                                 const kinterp::KernelSolveOptions& how = {}) {
  const kinterp::KernelSolve<double> solver(MPI_COMM_WORLD, spec, rows_on_device(p.x, p.block));
  DeviceMatrix<double> a("a", p.block.count, p.b.cols);
  kinterp::SolveOptions options;
  options.rtol = rtol;
  const auto result = solver.solve(rows_on_device(p.b, p.block), a, alpha, options, how);
  EXPECT_TRUE(result.converged()) << to_string(result.reason) << ": " << result.detail;
  if (!result.converged()) return result;
  EXPECT_EQ(result.reason, StopReason::ConvergedRtol);

  const auto expected = dense_solve(spec, p.x, p.b, alpha);
  const auto got = on_host(a);
  for (int c = 0; c < p.b.cols; ++c) {
    // Both sides of the bound are global: sum the squares over the ranks.
    double error2 = 0;
    for (std::int64_t i = 0; i < p.block.count; ++i) {
      const double e = got(i, c) - expected(p.block.begin + i, c);
      error2 += e * e;
    }
    MPI_Allreduce(MPI_IN_PLACE, &error2, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    const double bound = result.true_residual_norms[c] / alpha;
    // The true residual itself must meet rtol, up to the rounding of one product.
    EXPECT_LE(result.true_residual_norms[c],
              1.01 * rtol * result.rhs_norms[c] + 1e-12 * result.rhs_norms[c]);
    EXPECT_LE(std::sqrt(error2), bound * 1.01 + 1e-11 * result.rhs_norms[c] / alpha)
        << "column " << c << " ranks " << world_size();
  }
  return result;
}

TEST(KernelSolve, GaussianSeedLikeProblemMatchesDenseSolve) {
  expect_close_to_dense({KernelFamily::Gaussian, 50.0, 1.0}, make_problem(600, 1, 1), 1.0, 1e-10);
}

TEST(KernelSolve, LaplacianSeedLikeProblemMatchesDenseSolve) {
  expect_close_to_dense({KernelFamily::Laplacian, 10.0, 1.0}, make_problem(500, 2, 1), 10.0, 1e-10);
}

TEST(KernelSolve, SeveralRightHandSidesOnDifferentScales) {
  expect_close_to_dense({KernelFamily::Matern32, 5.0, 1.0}, make_problem(300, 3, 3), 0.1, 1e-10);
}

TEST(KernelSolve, EveryFamilySolves) {
  for (auto family :
       {KernelFamily::Matern52, KernelFamily::Cauchy, KernelFamily::InverseMultiquadric}) {
    expect_close_to_dense({family, 20.0, 1.0}, make_problem(200, 2, 2), 0.5, 1e-10);
  }
}

TEST(KernelSolve, FewerPointsThanRanks) {
  expect_close_to_dense({KernelFamily::Gaussian, 1.0, 1.0}, make_problem(2, 1, 1), 1.0, 1e-12);
  expect_close_to_dense({KernelFamily::Gaussian, 1.0, 1.0}, make_problem(3, 2, 2), 0.5, 1e-12);
}

TEST(KernelSolve, FloatSolvesToFloatAccuracy) {
  const auto p = make_problem(400, 2, 1);
  const KernelSpec spec{KernelFamily::Gaussian, 20.0, 1.0};
  const auto [solver, b, a] = in_float(p, spec);
  kinterp::SolveOptions options;
  options.rtol = 1e-5;
  const auto result = solver.solve(b, a, 1.0, options);
  ASSERT_TRUE(result.converged()) << result.detail;
  const auto expected = dense_solve(spec, p.x, p.b, 1.0);
  const auto got = on_host(a);
  double error2 = 0, norm2 = 0;
  for (std::int64_t i = 0; i < p.block.count; ++i) {
    error2 += std::pow(got(i, 0) - expected(p.block.begin + i, 0), 2);
    norm2 += std::pow(expected(p.block.begin + i, 0), 2);
  }
  double sums[2] = {error2, norm2};
  MPI_Allreduce(MPI_IN_PLACE, sums, 2, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  EXPECT_LE(std::sqrt(sums[0] / sums[1]), 1e-4);
  // "Converged" is confirmed by the recomputed residual, not only the recurrence.
  EXPECT_LE(result.relative_residual(), options.rtol);
}

TEST(KernelSolve, ToleranceBelowFloatPrecisionIsReportedNotClaimed) {
  const auto p = make_problem(400, 2, 1);
  const auto [solver, b, a] = in_float(p, {KernelFamily::Gaussian, 20.0, 1.0});
  kinterp::SolveOptions options;
  options.rtol = 1e-10;  // float cannot get there
  options.max_iterations = 5000;
  const auto result = solver.solve(b, a, 1.0, options);
  EXPECT_FALSE(result.converged()) << "relative residual " << result.relative_residual();
  EXPECT_GT(result.relative_residual(), options.rtol);
  EXPECT_LT(result.iterations, options.max_iterations) << to_string(result.reason);
  EXPECT_FALSE(result.detail.empty());
}

TEST(KernelSolve, MonitorSeesEveryIterationAndInitialGuessIsUsed) {
  const auto p = make_problem(200, 1, 1);
  const KernelSpec spec{KernelFamily::Gaussian, 50.0, 1.0};
  const kinterp::KernelSolve<double> solver(MPI_COMM_WORLD, spec, rows_on_device(p.x, p.block));
  DeviceMatrix<double> a("a", p.block.count, 1);
  std::vector<int> seen;
  kinterp::SolveOptions options;
  options.rtol = 1e-8;
  options.monitor = [&](int iteration, const std::vector<double>& norms) {
    seen.push_back(iteration);
    EXPECT_EQ(norms.size(), 1u);
  };
  const auto first = solver.solve(rows_on_device(p.b, p.block), a, 1.0, options);
  ASSERT_TRUE(first.converged());
  std::vector<int> expected(first.iterations + 1);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(first.history.size(), expected.size());

  // Restarting from the solution converges at once.
  options.use_initial_guess = true;
  options.monitor = nullptr;
  const auto again = solver.solve(rows_on_device(p.b, p.block), a, 1.0, options);
  EXPECT_TRUE(again.converged());
  EXPECT_EQ(again.iterations, 0);
}

TEST(KernelSolve, StopsAtMaxIterationsAndSaysSo) {
  const auto p = make_problem(300, 1, 1);
  const kinterp::KernelSolve<double> solver(MPI_COMM_WORLD, {KernelFamily::Gaussian, 50.0, 1.0},
                                            rows_on_device(p.x, p.block));
  DeviceMatrix<double> a("a", p.block.count, 1);
  kinterp::SolveOptions options;
  options.rtol = 1e-14;
  options.max_iterations = 3;
  const auto result = solver.solve(rows_on_device(p.b, p.block), a, 1e-3, options);
  EXPECT_FALSE(result.converged());
  EXPECT_EQ(result.reason, StopReason::DivergedMaxIterations);
  EXPECT_EQ(result.iterations, 3);
  EXPECT_NE(result.detail.find("after 3 iterations"), std::string::npos) << result.detail;
}

TEST(KernelSolve, DuplicatePointsWithoutRidgeBreakDownInsteadOfLooping) {
  // Every point twice, with different values: K is singular, b is not in its range.
  const std::int64_t half = 50, n = 2 * half;
  Problem p{HostMatrix<double>(n, 1), global_matrix<double>(n, 1, 5, -1, 1), my_block(n)};
  const auto base = global_matrix<double>(half, 1, 6, 0, 1);
  for (std::int64_t i = 0; i < n; ++i) p.x(i, 0) = base(i % half, 0);
  const kinterp::KernelSolve<double> solver(MPI_COMM_WORLD, {KernelFamily::Laplacian, 5.0, 1.0},
                                            rows_on_device(p.x, p.block));
  DeviceMatrix<double> a("a", p.block.count, 1);
  kinterp::SolveOptions options;
  options.max_iterations = 10000;
  const auto result = solver.solve(rows_on_device(p.b, p.block), a, 0.0, options);
  EXPECT_FALSE(result.converged());
  EXPECT_TRUE(result.reason == StopReason::DivergedBreakdown ||
              result.reason == StopReason::DivergedDtol ||
              result.reason == StopReason::DivergedStagnation)
      << to_string(result.reason) << " after " << result.iterations << ": " << result.detail;
  EXPECT_LT(result.iterations, 10000);
  EXPECT_NE(result.detail.find("repeat"), std::string::npos) << result.detail;
}

TEST(KernelSolve, NystromPreconditionedSolveMatchesDenseSolveInFewerIterations) {
  const KernelSpec spec{KernelFamily::Gaussian, 50.0, 1.0};
  const auto p = make_problem(500, 1, 2);
  const auto plain = expect_close_to_dense(spec, p, 1e-3, 1e-10);
  kinterp::KernelSolveOptions how;
  how.preconditioner.rank = 40;
  how.preconditioner.seed = 5;
  const auto preconditioned = expect_close_to_dense(spec, p, 1e-3, 1e-10, how);
  EXPECT_TRUE(preconditioned.preconditioned);
  EXPECT_FALSE(plain.preconditioned);
  EXPECT_GT(preconditioned.preconditioner.rank, 0);
  EXPECT_LE(preconditioned.preconditioner.rank, 40);
  EXPECT_GT(preconditioned.preconditioner.bytes_per_rank + (p.block.count == 0), 0u);
  // The set-up is timed (and not at all without a preconditioner).
  EXPECT_GT(preconditioned.preconditioner.setup_seconds, 0.0);
  EXPECT_EQ(plain.preconditioner.setup_seconds, 0.0);
  EXPECT_LT(preconditioned.iterations, plain.iterations / 2)
      << "plain " << plain.iterations << ", preconditioned " << preconditioned.iterations;
}

TEST(KernelSolve, MixedPrecisionMeetsItsToleranceAgainstTheDenseSolve) {
  kinterp::KernelSolveOptions how;
  how.mixed_precision = true;
  const auto p = make_problem(600, 1, 2);
  const auto result =
      expect_close_to_dense({KernelFamily::Gaussian, 50.0, 1.0}, p, 1.0, 1e-10, how);
  EXPECT_TRUE(result.mixed_precision);
  // Every iteration in float; b - A a in double at each residual replacement,
  // each restart and at the end.
  EXPECT_EQ(result.products - result.float_products, result.replacements + result.restarts + 1);
  EXPECT_EQ(result.float_products, result.iterations);
  // 1e-10 is out of float's reach: the residual was replaced along the way.
  EXPECT_GE(result.replacements + result.restarts, 1);

  // With a preconditioner too.
  how.preconditioner.rank = 20;
  expect_close_to_dense({KernelFamily::Laplacian, 10.0, 1.0}, make_problem(300, 2, 1), 0.1, 1e-10,
                        how);
}

TEST(KernelSolve, MixedPrecisionIsRefusedInFloat) {
  const auto p = make_problem(20, 1, 1);
  const auto [solver, b, a] = in_float(p, {KernelFamily::Gaussian, 1.0, 1.0});
  kinterp::KernelSolveOptions how;
  how.mixed_precision = true;
  EXPECT_THROW(solver.solve(b, a, 1.0, {}, how), kinterp::Error);
}

TEST(KernelSolve, CheckpointRestartsOnlyTheSameProblem) {
  const auto p = make_problem(300, 2, 1);
  const KernelSpec spec{KernelFamily::Matern32, 8.0, 1.0};
  const kinterp::KernelSolve<double> solver(MPI_COMM_WORLD, spec, rows_on_device(p.x, p.block));
  const auto b = rows_on_device(p.b, p.block);
  kinterp::KernelSolveOptions how;
  how.mixed_precision = true;
  kinterp::SolveOptions options;
  options.rtol = 1e-10;
  DeviceMatrix<double> reference("reference", p.block.count, 1), a("a", p.block.count, 1);
  const auto uninterrupted = solver.solve(b, reference, 0.01, options, how);
  ASSERT_TRUE(uninterrupted.converged()) << uninterrupted.detail;

  kinterp::SolveOptions first = options;
  first.max_iterations = uninterrupted.iterations / 2;
  first.checkpoint.path = ScratchDirectory::file("solve.ckpt");
  first.checkpoint.every = 1000;
  EXPECT_EQ(solver.solve(b, a, 0.01, first, how).checkpoints_written, 1);

  kinterp::SolveOptions again = options;
  again.checkpoint.restart_path = first.checkpoint.path;
  const auto resumed = solver.solve(b, a, 0.01, again, how);
  EXPECT_EQ(resumed.reason, uninterrupted.reason) << resumed.detail;
  EXPECT_EQ(resumed.iterations, uninterrupted.iterations);
  EXPECT_EQ(resumed.restarts, uninterrupted.restarts);
  const auto got = on_host(a), want = on_host(reference);
  for (std::int64_t i = 0; i < p.block.count; ++i) EXPECT_DOUBLE_EQ(got(i, 0), want(i, 0));

  const auto message_of = [&](double alpha, const kinterp::KernelSolveOptions& with) {
    try {
      solver.solve(b, a, alpha, again, with);
    } catch (const kinterp::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message_of(0.02, how).find("another problem"), std::string::npos);
  EXPECT_NE(message_of(0.01, {}).find("another problem"), std::string::npos);  // not mixed
}

TEST(KernelSolve, BadInputIsReportedOnEveryRank) {
  const auto p = make_problem(30, 2, 1);
  const kinterp::KernelSolve<double> solver(MPI_COMM_WORLD, {KernelFamily::Gaussian, 1.0, 1.0},
                                            rows_on_device(p.x, p.block));
  DeviceMatrix<double> a("a", p.block.count, 1);
  const auto b = rows_on_device(p.b, p.block);
  const auto message_of = [&](auto&& call) -> std::string {
    try {
      call();
    } catch (const kinterp::Error& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_NE(message_of([&] { solver.solve(b, a, -1.0); }).find("alpha must be"), std::string::npos);
  kinterp::SolveOptions zero;
  zero.rtol = 0;
  EXPECT_NE(message_of([&] { solver.solve(b, a, 1.0, zero); }).find("both 0"), std::string::npos);
  kinterp::SolveOptions no_interval;
  no_interval.checkpoint.path = "x.ckpt";
  EXPECT_NE(message_of([&] { solver.solve(b, a, 1.0, no_interval); }).find("checkpoints every 0"),
            std::string::npos);
  kinterp::SolveOptions bad_factor;
  bad_factor.stagnation_factor = 1.5;
  EXPECT_NE(message_of([&] { solver.solve(b, a, 1.0, bad_factor); }).find("stagnation_factor"),
            std::string::npos);

  // A NaN in the last global row of b: only the last rank holds it.
  auto bad = p.b;
  bad(29, 0) = INFINITY;
  EXPECT_NE(message_of([&] {
              solver.solve(rows_on_device(bad, p.block), a, 1.0);
            }).find("NaN or Inf in the right-hand side values (first in row 29"),
            std::string::npos);

  // NaN in the points is caught when the solver is built.
  auto x = p.x;
  x(0, 1) = NAN;
  EXPECT_NE(message_of([&] {
              kinterp::KernelSolve<double>(MPI_COMM_WORLD, {KernelFamily::Gaussian, 1.0, 1.0},
                                           rows_on_device(x, p.block));
            }).find("NaN or Inf in the source points (first in row 0"),
            std::string::npos);

  // A right-hand side whose rows do not match the points on one rank.
  kinterp::RowBlock wrong = p.block;
  if (world_rank() == world_size() - 1) wrong.count = std::max<std::int64_t>(0, wrong.count - 1);
  DeviceMatrix<double> a_wrong("a", wrong.count, 1);
  EXPECT_NE(
      message_of([&] { solver.solve(rows_on_device(p.b, wrong), a_wrong, 1.0); }).find("b has"),
      std::string::npos);
}

}  // namespace
