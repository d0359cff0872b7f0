// The Nystrom preconditioner over 1-4 ranks against independent references: a
// pivoted Cholesky in long double on the same pivots, a dense LAPACK solve with
// (F F^T + alpha I), a one-at-a-time greedy pivoted Cholesky, the kernel
// matrix itself at full rank, a single-rank build of the same problem, and a
// dense PCG loop written here.

#include <kinterp/core/Error.hpp>
#include <kinterp/precond/NystromPreconditioner.hpp>

#include "../DenseKernelSolve.hpp"
#include "../DistributedData.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace {

using namespace kinterp::test;
using kinterp::KernelFamily;
using kinterp::KernelSpec;
using kinterp::NystromOptions;
using kinterp::NystromPreconditioner;
using kinterp::PivotRule;
using kinterp::RowBlock;

using LongMatrix = HostMatrix<long double>;

long double kernel_entry(const KernelSpec& spec, const HostMatrix<double>& x, std::int64_t i,
                         std::int64_t j) {
  long double r2 = 0;
  for (std::int64_t c = 0; c < x.cols; ++c) {
    const long double diff = static_cast<long double>(x(i, c)) - x(j, c);
    r2 += diff * diff;
  }
  return reference_kernel(spec, std::sqrt(r2));
}

/// Pivoted Cholesky on the given pivots, in long double, one column at a time.
LongMatrix reference_factor(const KernelSpec& spec, const HostMatrix<double>& x,
                            const std::vector<std::int64_t>& pivots) {
  const std::int64_t n = x.rows, k = static_cast<std::int64_t>(pivots.size());
  LongMatrix F(n, k);
  for (std::int64_t j = 0; j < k; ++j) {
    const std::int64_t s = pivots[j];
    long double pivot = kernel_entry(spec, x, s, s);
    for (std::int64_t l = 0; l < j; ++l) pivot -= F(s, l) * F(s, l);
    const long double root = std::sqrt(pivot);
    for (std::int64_t i = 0; i < n; ++i) {
      long double value = kernel_entry(spec, x, i, s);
      for (std::int64_t l = 0; l < j; ++l) value -= F(i, l) * F(s, l);
      F(i, j) = value / root;
    }
  }
  return F;
}

/// The one-at-a-time greedy pivots (largest residual diagonal, ties: lowest row).
std::vector<std::int64_t> reference_greedy_pivots(const KernelSpec& spec,
                                                  const HostMatrix<double>& x, int k) {
  const std::int64_t n = x.rows;
  std::vector<long double> d(n);
  for (std::int64_t i = 0; i < n; ++i) d[i] = kernel_entry(spec, x, i, i);
  LongMatrix F(n, k);
  std::vector<std::int64_t> pivots;
  for (int j = 0; j < k; ++j) {
    const std::int64_t s = std::max_element(d.begin(), d.end()) - d.begin();
    pivots.push_back(s);
    const long double root = std::sqrt(d[s]);
    for (std::int64_t i = 0; i < n; ++i) {
      long double value = kernel_entry(spec, x, i, s);
      for (int l = 0; l < j; ++l) value -= F(i, l) * F(s, l);
      F(i, j) = value / root;
      d[i] -= F(i, j) * F(i, j);
    }
    d[s] = 0;
  }
  return pivots;
}

/// z = (F F^T + alpha I)^{-1} r by a dense Cholesky solve (LAPACK).
HostMatrix<double> dense_preconditioner_apply(const LongMatrix& F, double alpha,
                                              const HostMatrix<double>& r) {
  const int n = static_cast<int>(F.rows);
  std::vector<double> P(std::size_t(n) * n);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      long double sum = i == j ? alpha : 0;
      for (std::int64_t l = 0; l < F.cols; ++l) sum += F(i, l) * F(j, l);
      P[std::size_t(j) * n + i] = static_cast<double>(sum);
    }
  }
  return dense_spd_solve(std::move(P), r, "dense Cholesky of F F^T + alpha I");
}

/// Every rank's rows of the factor, stacked in global order, on every rank.
template <class T>
HostMatrix<double> gather_factor(const NystromPreconditioner<T>& P) {
  const auto F = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), P.factor());
  const int k = static_cast<int>(F.extent(1)), rows = static_cast<int>(F.extent(0));
  std::vector<double> mine(std::size_t(rows) * k);
  for (int i = 0; i < rows; ++i)
    for (int l = 0; l < k; ++l) mine[std::size_t(i) * k + l] = static_cast<double>(F(i, l));
  const int size = world_size();
  std::vector<int> counts(size), displs(size, 0);
  const int count = rows * k;
  MPI_Allgather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD);
  for (int r = 1; r < size; ++r) displs[r] = displs[r - 1] + counts[r - 1];
  HostMatrix<double> all((displs.back() + counts.back()) / std::max(k, 1), k);
  MPI_Allgatherv(mine.data(), count, MPI_DOUBLE, all.values.data(), counts.data(), displs.data(),
                 MPI_DOUBLE, MPI_COMM_WORLD);
  return all;
}

struct Problem {
  KernelSpec spec;
  HostMatrix<double> x, r;
  RowBlock block;
};

Problem make_problem(const KernelSpec& spec, std::int64_t n, int dim, int columns,
                     std::uint64_t seed = 31) {
  return {spec, global_matrix<double>(n, dim, seed, 0, 1),
          global_matrix<double>(n, columns, seed + 1, -1, 1), my_block(n)};
}

NystromOptions options_for(PivotRule rule, int rank, int block_size = 0, std::uint64_t seed = 7) {
  NystromOptions options;
  options.pivots = rule;
  options.rank = rank;
  options.block_size = block_size;
  options.seed = seed;
  return options;
}

/// z = P r with P built over MPI_COMM_WORLD, checked against the dense solve on
/// the reference factor of the same pivots; F F^T against that factor too.
void expect_matches_dense_woodbury(const Problem& p, double alpha, const NystromOptions& options) {
  const NystromPreconditioner<double> P(MPI_COMM_WORLD, p.spec, rows_on_device(p.x, p.block), alpha,
                                        options);
  const auto& info = P.info();
  ASSERT_EQ(info.rank, options.rank);
  ASSERT_EQ(info.pivots.size(), std::size_t(options.rank));
  EXPECT_EQ(std::set<std::int64_t>(info.pivots.begin(), info.pivots.end()).size(),
            info.pivots.size())
      << "pivots repeat";

  const LongMatrix reference = reference_factor(p.spec, p.x, info.pivots);
  const HostMatrix<double> F = gather_factor(P);
  long double worst = 0, trace = 0;
  for (std::int64_t i = 0; i < F.rows; ++i) {
    trace += kernel_entry(p.spec, p.x, i, i);
    for (std::int64_t j = 0; j < F.rows; ++j) {
      long double got = 0, want = 0;
      for (int l = 0; l < info.rank; ++l) {
        got += F(i, l) * (long double)F(j, l);
        want += reference(i, l) * reference(j, l);
      }
      worst = std::max(worst, std::abs(got - want));
    }
  }
  EXPECT_LE(static_cast<double>(worst), 1e-10 * p.spec.variance) << to_string(options.pivots);
  long double captured = 0;
  for (long double v : reference.values) captured += v * v;
  EXPECT_NEAR(info.trace, static_cast<double>(trace), 1e-12 * static_cast<double>(trace));
  EXPECT_NEAR(info.residual_trace, static_cast<double>(trace - captured),
              1e-9 * static_cast<double>(trace));

  const auto expected = dense_preconditioner_apply(reference, alpha, p.r);
  DeviceMatrix<double> z("z", p.block.count, p.r.cols);
  const DeviceMatrix<double> r = rows_on_device(p.r, p.block);
  P.apply(r, z);
  // cond(F F^T + alpha I) <= 1 + ||K|| / alpha bounds the error of both solves.
  EXPECT_LE(relative_difference(z, expected, p.block), 1e-9) << to_string(options.pivots);
  P.apply(r, r);  // in place
  EXPECT_LE(relative_difference(r, expected, p.block), 1e-9) << "in place";
}

TEST(Nystrom, WoodburyMatchesDenseSolveForEveryPivotRule) {
  const Problem p = make_problem({KernelFamily::Gaussian, 20.0, 1.5}, 240, 2, 3);
  for (PivotRule rule :
       {PivotRule::RandomlyPivotedCholesky, PivotRule::Greedy, PivotRule::Uniform}) {
    expect_matches_dense_woodbury(p, 1e-3, options_for(rule, 30, 8));  // several block steps
    expect_matches_dense_woodbury(p, 1e-2, options_for(rule, 45));     // one block step
  }
}

TEST(Nystrom, OtherKernelFamilies) {
  for (auto family :
       {KernelFamily::Laplacian, KernelFamily::Matern32, KernelFamily::Matern52,
        KernelFamily::Cauchy, KernelFamily::InverseMultiquadric, KernelFamily::Spherical,
        KernelFamily::RationalQuadratic, KernelFamily::Matern}) {
    // shape: alpha of rq, nu of matern (ignored by the others).
    const Problem p = make_problem({family, 8.0, 1.0, 1.2}, 120, 3, 1);
    expect_matches_dense_woodbury(p, 1e-2, options_for(PivotRule::RandomlyPivotedCholesky, 25, 16));
  }
}

TEST(Nystrom, FullRankReproducesTheKernelMatrix) {
  const Problem p = make_problem({KernelFamily::Laplacian, 5.0, 2.0}, 64, 2, 1);
  for (PivotRule rule :
       {PivotRule::RandomlyPivotedCholesky, PivotRule::Greedy, PivotRule::Uniform}) {
    // Asking for more than N clamps to N.
    const NystromPreconditioner<double> P(MPI_COMM_WORLD, p.spec, rows_on_device(p.x, p.block),
                                          1e-6, options_for(rule, 100, 16));
    EXPECT_EQ(P.info().requested_rank, 64);
    ASSERT_EQ(P.info().rank, 64) << to_string(rule);
    std::vector<std::int64_t> sorted = P.info().pivots;
    std::sort(sorted.begin(), sorted.end());
    for (int i = 0; i < 64; ++i) EXPECT_EQ(sorted[i], i);
    const HostMatrix<double> F = gather_factor(P);
    double worst = 0;
    for (int i = 0; i < 64; ++i) {
      for (int j = 0; j < 64; ++j) {
        long double sum = 0;
        for (int l = 0; l < 64; ++l) sum += F(i, l) * (long double)F(j, l);
        worst =
            std::max(worst, static_cast<double>(std::abs(sum - kernel_entry(p.spec, p.x, i, j))));
      }
    }
    // Cholesky is backward stable: F F^T = K + O(k eps ||K||) entrywise.
    EXPECT_LE(worst, 64 * 1e-15 * p.spec.variance) << to_string(rule);
    EXPECT_LE(P.info().residual_trace, 1e-12 * P.info().trace);
  }
}

TEST(Nystrom, ResidualTraceDecreasesAndPivotsNest) {
  const Problem p = make_problem({KernelFamily::Gaussian, 30.0, 1.0}, 300, 2, 1);
  std::vector<std::int64_t> previous;
  double previous_trace = std::numeric_limits<double>::infinity();
  for (int k : {5, 10, 20, 40, 80}) {
    const NystromPreconditioner<double> P(MPI_COMM_WORLD, p.spec, rows_on_device(p.x, p.block),
                                          1e-3,
                                          options_for(PivotRule::RandomlyPivotedCholesky, k, 32));
    const auto& pivots = P.info().pivots;
    ASSERT_EQ(pivots.size(), std::size_t(k));
    // The same stream of draws: a larger rank continues the smaller one's pivots.
    EXPECT_TRUE(std::equal(previous.begin(), previous.end(), pivots.begin())) << "k = " << k;
    EXPECT_LT(P.info().residual_trace, previous_trace) << "k = " << k;
    const LongMatrix reference = reference_factor(p.spec, p.x, pivots);
    long double captured = 0;
    for (long double v : reference.values) captured += v * v;
    EXPECT_NEAR(P.info().residual_trace, static_cast<double>(P.info().trace - captured),
                1e-10 * P.info().trace);
    previous = pivots;
    previous_trace = P.info().residual_trace;
  }
  // Randomly pivoted Cholesky at k = 80 captures almost all of this smooth kernel.
  EXPECT_LT(previous_trace, 1e-2 * 300);
}

TEST(Nystrom, GreedyPivotsAreTheOneAtATimeGreedyPivots) {
  // A wide kernel: residuals decay smoothly, no ties after the first pivot.
  const Problem p = make_problem({KernelFamily::Cauchy, 3.0, 1.0}, 200, 2, 1);
  const auto expected = reference_greedy_pivots(p.spec, p.x, 24);
  for (int block : {1, 5, 64}) {
    const NystromPreconditioner<double> P(MPI_COMM_WORLD, p.spec, rows_on_device(p.x, p.block),
                                          1e-3, options_for(PivotRule::Greedy, 24, block));
    EXPECT_EQ(P.info().pivots, expected) << "block size " << block;
  }
}

TEST(Nystrom, RankDeficientKernelStopsEarly) {
  // 30 distinct points, each appearing 4 times: K has rank 30.
  const std::int64_t distinct = 30, n = 4 * distinct;
  const auto base = global_matrix<double>(distinct, 2, 41, 0, 1);
  Problem p{{KernelFamily::Gaussian, 10.0, 1.0},
            HostMatrix<double>(n, 2),
            global_matrix<double>(n, 1, 42, -1, 1),
            my_block(n)};
  for (std::int64_t i = 0; i < n; ++i)
    for (int c = 0; c < 2; ++c) p.x(i, c) = base(i % distinct, c);
  for (PivotRule rule :
       {PivotRule::RandomlyPivotedCholesky, PivotRule::Greedy, PivotRule::Uniform}) {
    const NystromPreconditioner<double> P(MPI_COMM_WORLD, p.spec, rows_on_device(p.x, p.block),
                                          1e-2, options_for(rule, 100));
    EXPECT_EQ(P.info().requested_rank, 100);
    EXPECT_EQ(P.info().rank, distinct) << to_string(rule);
    std::set<std::int64_t> points;
    for (auto row : P.info().pivots) points.insert(row % distinct);
    EXPECT_EQ(points.size(), P.info().pivots.size()) << "a repeated point was taken twice";
    EXPECT_LE(P.info().residual_trace, 1e-10 * P.info().trace);
    // The factor, cut down to its 30 columns, still gives K.
    const HostMatrix<double> F = gather_factor(P);
    ASSERT_EQ(F.cols, distinct);
    double worst = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      for (std::int64_t j = 0; j < n; ++j) {
        long double sum = 0;
        for (std::int64_t l = 0; l < distinct; ++l) sum += F(i, l) * (long double)F(j, l);
        worst =
            std::max(worst, static_cast<double>(std::abs(sum - kernel_entry(p.spec, p.x, i, j))));
      }
    }
    EXPECT_LE(worst, 1e-12) << to_string(rule);
  }
}

TEST(Nystrom, SamePivotsAndResultsOnAnyNumberOfRanks) {
  const Problem p = make_problem({KernelFamily::Matern32, 6.0, 1.0}, 500, 2, 2);
  const auto r = rows_on_device(p.r, p.block);
  for (PivotRule rule :
       {PivotRule::RandomlyPivotedCholesky, PivotRule::Greedy, PivotRule::Uniform}) {
    const auto options = options_for(rule, 70, 16, 12345);
    const NystromPreconditioner<double> P(MPI_COMM_WORLD, p.spec, rows_on_device(p.x, p.block),
                                          1e-3, options);
    // The same problem on this rank alone.
    const RowBlock all{0, p.x.rows};
    const NystromPreconditioner<double> alone(MPI_COMM_SELF, p.spec, rows_on_device(p.x, all), 1e-3,
                                              options);
    EXPECT_EQ(P.info().pivots, alone.info().pivots) << to_string(rule);
    EXPECT_NEAR(P.info().residual_trace, alone.info().residual_trace, 1e-12 * alone.info().trace);
    DeviceMatrix<double> z("z", p.block.count, 2), z_alone("z", p.x.rows, 2);
    P.apply(r, z);
    alone.apply(rows_on_device(p.r, all), z_alone);
    const auto expected = on_host(z_alone);
    HostMatrix<double> expected_matrix(p.x.rows, 2);
    for (std::int64_t i = 0; i < p.x.rows; ++i)
      for (int c = 0; c < 2; ++c) expected_matrix(i, c) = expected(i, c);
    EXPECT_LE(relative_difference(z, expected_matrix, p.block), 1e-11) << to_string(rule);
  }
}

TEST(Nystrom, TinyAlphaInvertsFFtPlusAlphaStably) {
  // KeOps' default alpha = 1e-10 next to ||K|| ~ 50: cond(P) ~ 5e11. Woodbury
  // with the Cholesky factor of alpha I + F^T F still inverts P = F F^T +
  // alpha I to about cond(P) * eps: P^{-1} (P r) = r to 1e-3 relative.
  const Problem p = make_problem({KernelFamily::Gaussian, 50.0, 1.0}, 500, 2, 1, 55);
  const double alpha = 1e-10;
  const NystromPreconditioner<double> P(MPI_COMM_WORLD, p.spec, rows_on_device(p.x, p.block), alpha,
                                        options_for(PivotRule::RandomlyPivotedCholesky, 250));
  const HostMatrix<double> F = gather_factor(P);
  const int k = P.info().rank;
  // y = (F F^T + alpha I) r in long double, this rank's rows.
  std::vector<long double> Ftr(k, 0);
  for (std::int64_t i = 0; i < F.rows; ++i)
    for (int l = 0; l < k; ++l) Ftr[l] += F(i, l) * (long double)p.r(i, 0);
  HostMatrix<double> y(p.block.count, 1);
  for (std::int64_t i = 0; i < p.block.count; ++i) {
    long double sum = alpha * (long double)p.r(p.block.begin + i, 0);
    for (int l = 0; l < k; ++l) sum += F(p.block.begin + i, l) * Ftr[l];
    y(i, 0) = static_cast<double>(sum);
  }
  DeviceMatrix<double> z("z", p.block.count, 1);
  P.apply(rows_on_device(y, {0, p.block.count}), z);
  EXPECT_LE(relative_difference(z, p.r, p.block), 1e-3);
}

TEST(Nystrom, FewerPointsThanRanks) {
  const Problem p = make_problem({KernelFamily::Gaussian, 1.0, 1.0}, 3, 2, 1);
  expect_matches_dense_woodbury(p, 0.1, options_for(PivotRule::RandomlyPivotedCholesky, 3));
  expect_matches_dense_woodbury(p, 0.1, options_for(PivotRule::Greedy, 2));
}

TEST(Nystrom, FloatMatchesDenseSolveToFloatAccuracy) {
  const Problem p = make_problem({KernelFamily::Gaussian, 20.0, 1.0}, 200, 2, 1);
  HostMatrix<float> x(p.x.rows, p.x.cols), r(p.r.rows, p.r.cols);
  std::copy(p.x.values.begin(), p.x.values.end(), x.values.begin());
  std::copy(p.r.values.begin(), p.r.values.end(), r.values.begin());
  const NystromPreconditioner<float> P(MPI_COMM_WORLD, p.spec, rows_on_device(x, p.block), 1e-2,
                                       options_for(PivotRule::RandomlyPivotedCholesky, 40, 16));
  ASSERT_EQ(P.info().rank, 40);
  // The reference factor of the same pivots on the float-rounded points.
  HostMatrix<double> xf(p.x.rows, p.x.cols), rf(p.r.rows, p.r.cols);
  std::copy(x.values.begin(), x.values.end(), xf.values.begin());
  std::copy(r.values.begin(), r.values.end(), rf.values.begin());
  const auto expected =
      dense_preconditioner_apply(reference_factor(p.spec, xf, P.info().pivots), 1e-2, rf);
  DeviceMatrix<float> z("z", p.block.count, 1);
  P.apply(rows_on_device(r, p.block), z);
  // F is rounded to float (relative 6e-8), amplified by at most ||K|| / alpha ~ 1e3.
  EXPECT_LE(relative_difference(z, expected, p.block), 1e-4);
}

TEST(Nystrom, MemoryBudgetChoosesTheRank) {
  const Problem p = make_problem({KernelFamily::Gaussian, 20.0, 1.0}, 400, 2, 1);
  NystromOptions options;
  options.memory_budget_bytes = 64 * 1024;
  const NystromPreconditioner<double> P(MPI_COMM_WORLD, p.spec, rows_on_device(p.x, p.block), 1e-3,
                                        options);
  EXPECT_GT(P.info().rank, 0);
  EXPECT_LE(P.info().bytes_per_rank, options.memory_budget_bytes);
  // Each rank's F is at least its n_r x k doubles.
  EXPECT_GE(P.info().bytes_per_rank, std::size_t(p.block.count) * P.info().rank * sizeof(double));
  // Twice the budget, more landmarks (on one rank, 4x: n_r x k dominates).
  options.memory_budget_bytes *= 2;
  const NystromPreconditioner<double> Q(MPI_COMM_WORLD, p.spec, rows_on_device(p.x, p.block), 1e-3,
                                        options);
  EXPECT_GT(Q.info().rank, P.info().rank);
  // rank and budget together: the smaller.
  options.rank = 3;
  const NystromPreconditioner<double> R(MPI_COMM_WORLD, p.spec, rows_on_device(p.x, p.block), 1e-3,
                                        options);
  EXPECT_EQ(R.info().rank, 3);
}

// --- Preconditioning works: a dense (P)CG written here, on a hard problem ---

/// This rank's rows of alpha I + K (dense, from the long double kernel).
struct DenseOperator {
  std::vector<double> rows;  // n_r x N
  std::int64_t n_local, n_global;
  double alpha;
  std::vector<int> counts, displs;

  DenseOperator(const Problem& p, double alpha_)
      : rows(std::size_t(p.block.count) * p.x.rows),
        n_local(p.block.count),
        n_global(p.x.rows),
        alpha(alpha_),
        counts(world_size()),
        displs(world_size(), 0) {
    for (std::int64_t i = 0; i < n_local; ++i)
      for (std::int64_t j = 0; j < n_global; ++j)
        rows[i * n_global + j] =
            static_cast<double>(kernel_entry(p.spec, p.x, p.block.begin + i, j));
    const int mine = static_cast<int>(n_local);
    MPI_Allgather(&mine, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD);
    for (int r = 1; r < world_size(); ++r) displs[r] = displs[r - 1] + counts[r - 1];
  }

  std::vector<double> apply(const std::vector<double>& x) const {
    std::vector<double> global(n_global), y(n_local);
    MPI_Allgatherv(x.data(), static_cast<int>(n_local), MPI_DOUBLE, global.data(), counts.data(),
                   displs.data(), MPI_DOUBLE, MPI_COMM_WORLD);
    for (std::int64_t i = 0; i < n_local; ++i) {
      const double* row = &rows[i * n_global];
      double sum = 0;
#pragma omp simd reduction(+ : sum)
      for (std::int64_t j = 0; j < n_global; ++j) sum += row[j] * global[j];
      y[i] = alpha * x[i] + sum;
    }
    return y;
  }
};

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double sum = 0;
  for (std::size_t i = 0; i < a.size(); ++i) sum += a[i] * b[i];
  MPI_Allreduce(MPI_IN_PLACE, &sum, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  return sum;
}

/// PCG for A x = b; returns the iterations to ||r|| <= rtol ||b||, or max_iterations + 1.
template <class Preconditioner>
int pcg(const DenseOperator& A, const std::vector<double>& b, std::vector<double>& x,
        const Preconditioner& precondition, double rtol, int max_iterations) {
  x.assign(b.size(), 0.0);
  std::vector<double> r = b, z = precondition(r), p = z;
  double rz = dot(r, z);
  const double threshold = rtol * std::sqrt(dot(b, b));
  for (int it = 1; it <= max_iterations; ++it) {
    const std::vector<double> Ap = A.apply(p);
    const double step = rz / dot(p, Ap);
    for (std::size_t i = 0; i < x.size(); ++i) {
      x[i] += step * p[i];
      r[i] -= step * Ap[i];
    }
    if (std::sqrt(dot(r, r)) <= threshold) return it;
    z = precondition(r);
    const double rz_next = dot(r, z);
    for (std::size_t i = 0; i < p.size(); ++i) p[i] = z[i] + rz_next / rz * p[i];
    rz = rz_next;
  }
  return max_iterations + 1;
}

TEST(Nystrom, PreconditionedCgNeedsFarFewerIterations) {
  // Gaussian sigma = 0.1 in 2D, alpha = 1e-4: cond(alpha I + K) ~ 1e6, and plain
  // CG needs ~2800 iterations at N = 1200 (numpy); about 270 eigenvalues of K
  // are above alpha.
  const Problem p = make_problem({KernelFamily::Gaussian, 50.0, 1.0}, 1200, 2, 1, 77);
  const double alpha = 1e-4, rtol = 1e-8;
  const DenseOperator A(p, alpha);
  const NystromPreconditioner<double> P(MPI_COMM_WORLD, p.spec, rows_on_device(p.x, p.block), alpha,
                                        options_for(PivotRule::RandomlyPivotedCholesky, 200));
  auto nystrom = [&](const std::vector<double>& r) {
    DeviceMatrix<double> device("r", r.size(), 1);
    auto host = Kokkos::create_mirror_view(device);
    for (std::size_t i = 0; i < r.size(); ++i) host(i, 0) = r[i];
    Kokkos::deep_copy(device, host);
    P.apply(device, device);
    Kokkos::deep_copy(host, device);
    return std::vector<double>(host.data(), host.data() + r.size());
  };
  std::vector<double> b(p.block.count), x;
  for (std::int64_t i = 0; i < p.block.count; ++i) b[i] = p.r(p.block.begin + i, 0);

  const int preconditioned = pcg(A, b, x, nystrom, rtol, 200);
  ASSERT_LE(preconditioned, 80) << "PCG did not converge fast";
  // The solution is right: the residual recomputed from the dense operator.
  const std::vector<double> Ax = A.apply(x);
  std::vector<double> residual(b.size());
  for (std::size_t i = 0; i < b.size(); ++i) residual[i] = b[i] - Ax[i];
  EXPECT_LE(std::sqrt(dot(residual, residual)), 10 * rtol * std::sqrt(dot(b, b)));

  // Plain CG is still far from converged after 10x as many iterations.
  auto identity = [](const std::vector<double>& r) { return r; };
  const int plain = pcg(A, b, x, identity, rtol, 10 * preconditioned);
  EXPECT_GT(plain, 10 * preconditioned);
  if (world_rank() == 0) {
    std::printf("PCG (Nystrom, k = %d, %d steps, %.3f s set-up): %d iterations; CG: > %d\n",
                P.info().rank, P.info().steps, P.info().setup_seconds, preconditioned,
                10 * preconditioned);
  }
}

// --- Bad input: one clear error on every rank ---

/// Runs `body` expecting a kinterp::Error on this rank whose message contains
/// `text`; checks that every rank saw one.
template <class Body>
void expect_error_everywhere(Body&& body, const std::string& text) {
  int thrown = 0;
  try {
    body();
  } catch (const kinterp::Error& e) {
    thrown = 1;
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
  }
  int everywhere = thrown;
  MPI_Allreduce(MPI_IN_PLACE, &everywhere, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  EXPECT_EQ(everywhere, 1) << "some rank did not throw (expected '" << text << "')";
}

TEST(Nystrom, BadInputIsReportedOnEveryRank) {
  const Problem p = make_problem({KernelFamily::Gaussian, 20.0, 1.0}, 50, 2, 1);
  const auto x = rows_on_device(p.x, p.block);
  auto build = [&](double alpha, const NystromOptions& options) {
    return NystromPreconditioner<double>(MPI_COMM_WORLD, p.spec, x, alpha, options);
  };
  const auto good = options_for(PivotRule::RandomlyPivotedCholesky, 10);
  expect_error_everywhere([&] { build(0.0, good); }, "alpha > 0");
  expect_error_everywhere([&] { build(-1.0, good); }, "alpha > 0");
  expect_error_everywhere([&] { build(std::nan(""), good); }, "alpha > 0");
  expect_error_everywhere([&] { build(1e-3, options_for(PivotRule::Greedy, -2)); },
                          "must be >= 0, got -2");
  expect_error_everywhere([&] { build(1e-3, options_for(PivotRule::Greedy, 0)); },
                          "memory_budget_bytes");
  expect_error_everywhere([&] { build(1e-3, options_for(PivotRule::Greedy, 5, 1000)); },
                          "block_size");
  NystromOptions tiny_budget;
  tiny_budget.memory_budget_bytes = 16;
  expect_error_everywhere([&] { build(1e-3, tiny_budget); }, "does not hold one column");
  expect_error_everywhere(
      [&] {
        NystromPreconditioner<double>(MPI_COMM_WORLD, {KernelFamily::Gaussian, -1.0, 1.0}, x, 1e-3,
                                      good);
      },
      "scale");

  // A NaN in the last global row: only the last rank holding rows sees it.
  Problem bad = p;
  bad.x(p.x.rows - 1, 1) = std::nan("");
  expect_error_everywhere(
      [&] {
        NystromPreconditioner<double>(MPI_COMM_WORLD, p.spec, rows_on_device(bad.x, p.block), 1e-3,
                                      good);
      },
      "row 49");

  // Shapes that do not fit on one rank only.
  const NystromPreconditioner<double> P = build(1e-3, good);
  const bool odd_one = world_rank() == world_size() - 1;
  DeviceMatrix<double> r("r", p.block.count + (odd_one ? 1 : 0), 1), z("z", p.block.count, 1);
  expect_error_everywhere([&] { P.apply(r, z); }, "rows on a rank that holds");
  if (world_size() > 1) {
    const int columns = odd_one ? 2 : 1;
    DeviceMatrix<double> r2("r", p.block.count, columns), z2("z", p.block.count, columns);
    expect_error_everywhere([&] { P.apply(r2, z2); }, "columns on different ranks");
  }

  EXPECT_EQ(kinterp::pivot_rule_from_name("greedy"), PivotRule::Greedy);
  expect_error_everywhere([] { kinterp::pivot_rule_from_name("rpcholeksy"); },
                          "did you mean 'rpcholesky'");
}

}  // namespace
