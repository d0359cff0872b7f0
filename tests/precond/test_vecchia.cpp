// The Vecchia preconditioner over 1-4 ranks against independent references:
// each conditional b_i = Theta(i, c) Theta(c, c)^-1, d_i recomputed in long
// double from the reported sets by Gaussian elimination; B^T D^-1 B r applied
// densely from those; full sets, where P is the blocks of Theta itself
// (dense solves, log-determinants); and PCG against a dense LAPACK solve.

#include <kinterp/KernelSolve.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/precond/VecchiaPreconditioner.hpp>

#include "../DenseKernelSolve.hpp"
#include "../DistributedData.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace {

using namespace kinterp::test;
using kinterp::KernelFamily;
using kinterp::KernelSpec;
using kinterp::RowBlock;
using kinterp::VecchiaOptions;
using kinterp::VecchiaPreconditioner;

long double theta(const KernelSpec& spec, double alpha, const HostMatrix<double>& x, std::int64_t i,
                  std::int64_t j) {
  long double r2 = 0;
  for (std::int64_t c = 0; c < x.cols; ++c) {
    const long double diff = static_cast<long double>(x(i, c)) - x(j, c);
    r2 += diff * diff;
  }
  return reference_kernel(spec, std::sqrt(r2)) + (i == j ? alpha : 0);
}

/// x with A x = b, A n x n row-major, by Gaussian elimination with partial
/// pivoting in long double; also log |det A|.
std::vector<long double> eliminate(std::vector<long double> A, std::vector<long double> b,
                                   long double* log_det = nullptr) {
  const std::size_t n = b.size();
  long double logs = 0;
  for (std::size_t k = 0; k < n; ++k) {
    std::size_t pivot = k;
    for (std::size_t i = k + 1; i < n; ++i)
      if (std::abs(A[i * n + k]) > std::abs(A[pivot * n + k])) pivot = i;
    for (std::size_t j = 0; j < n; ++j) std::swap(A[k * n + j], A[pivot * n + j]);
    std::swap(b[k], b[pivot]);
    logs += std::log(std::abs(A[k * n + k]));
    for (std::size_t i = k + 1; i < n; ++i) {
      const long double f = A[i * n + k] / A[k * n + k];
      for (std::size_t j = k; j < n; ++j) A[i * n + j] -= f * A[k * n + j];
      b[i] -= f * b[k];
    }
  }
  for (std::size_t k = n; k-- > 0;) {
    for (std::size_t j = k + 1; j < n; ++j) b[k] -= A[k * n + j] * b[j];
    b[k] /= A[k * n + k];
  }
  if (log_det) *log_det = logs;
  return b;
}

/// Every rank's block of the factor, on every rank, by global row.
struct GlobalFactor {
  std::vector<int> owner;                      // the rank whose block holds the row
  std::vector<std::vector<std::int64_t>> set;  // its conditioning set
  std::vector<std::vector<double>> b;          // b_i on it
  std::vector<double> d;
};

template <class T>
GlobalFactor gather_factor(const VecchiaPreconditioner<T>& P, std::int64_t n) {
  const auto mine = P.factor();
  const int size = world_size();
  // Per point: row, set size, d; then the sets and b.
  std::vector<double> head, tail;
  for (std::size_t i = 0; i < mine.rows.size(); ++i) {
    head.push_back(static_cast<double>(mine.rows[i]));
    head.push_back(static_cast<double>(mine.offsets[i + 1] - mine.offsets[i]));
    head.push_back(mine.d[i]);
  }
  for (std::size_t p = 0; p < mine.set.size(); ++p) {
    tail.push_back(static_cast<double>(mine.set[p]));
    tail.push_back(mine.b[p]);
  }
  const auto all_of = [&](const std::vector<double>& part, std::vector<int>& counts) {
    const int count = static_cast<int>(part.size());
    counts.assign(size, 0);
    MPI_Allgather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD);
    std::vector<int> displs(size, 0);
    for (int r = 1; r < size; ++r) displs[r] = displs[r - 1] + counts[r - 1];
    std::vector<double> all(displs.back() + counts.back());
    MPI_Allgatherv(part.data(), count, MPI_DOUBLE, all.data(), counts.data(), displs.data(),
                   MPI_DOUBLE, MPI_COMM_WORLD);
    return all;
  };
  std::vector<int> head_counts, tail_counts;
  const std::vector<double> heads = all_of(head, head_counts), tails = all_of(tail, tail_counts);
  GlobalFactor f{std::vector<int>(n, -1), std::vector<std::vector<std::int64_t>>(n),
                 std::vector<std::vector<double>>(n), std::vector<double>(n)};
  std::size_t h = 0, t = 0;
  for (int r = 0; r < size; ++r) {
    for (int e = 0; e < head_counts[r] / 3; ++e, h += 3) {
      const auto row = static_cast<std::int64_t>(heads[h]);
      f.owner[row] = r;
      f.d[row] = heads[h + 2];
      for (int p = 0; p < static_cast<int>(heads[h + 1]); ++p, t += 2) {
        f.set[row].push_back(static_cast<std::int64_t>(tails[t]));
        f.b[row].push_back(tails[t + 1]);
      }
    }
  }
  return f;
}

/// z = B^T D^-1 B r, densely, with B from b.
HostMatrix<double> dense_apply(const std::vector<std::vector<std::int64_t>>& set,
                               const std::vector<std::vector<long double>>& b,
                               const std::vector<long double>& d, const HostMatrix<double>& r) {
  const std::int64_t n = r.rows, m = r.cols;
  std::vector<long double> y(n * m, 0);
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t c = 0; c < m; ++c) {
      long double v = r(i, c);
      for (std::size_t p = 0; p < set[i].size(); ++p) v -= b[i][p] * r(set[i][p], c);
      y[i * m + c] = v / d[i];
    }
  }
  HostMatrix<double> z(n, m);
  std::vector<long double> sum(y);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::size_t p = 0; p < set[i].size(); ++p)
      for (std::int64_t c = 0; c < m; ++c) sum[set[i][p] * m + c] -= b[i][p] * y[i * m + c];
  for (std::int64_t k = 0; k < n * m; ++k) z.values[k] = static_cast<double>(sum[k]);
  return z;
}

/// Whether the sets order the points: no point reaches itself through them.
bool acyclic(const std::vector<std::vector<std::int64_t>>& set) {
  const std::int64_t n = static_cast<std::int64_t>(set.size());
  std::vector<int> state(n, 0);  // 0 new, 1 on the path, 2 done
  std::vector<std::pair<std::int64_t, std::size_t>> stack;
  for (std::int64_t start = 0; start < n; ++start) {
    if (state[start]) continue;
    stack.push_back({start, 0});
    state[start] = 1;
    while (!stack.empty()) {
      auto& [i, next] = stack.back();
      if (next < set[i].size()) {
        const std::int64_t j = set[i][next++];
        if (state[j] == 1) return false;
        if (state[j] == 0) {
          state[j] = 1;
          stack.push_back({j, 0});
        }
      } else {
        state[i] = 2;
        stack.pop_back();
      }
    }
  }
  return true;
}

struct Case {
  KernelSpec spec;
  int dim;
  std::int64_t n;
  int k;
  double alpha;
};

/// The factor's conditionals against their definition, and its action and
/// log-determinant against dense ones built from them.
template <class T>
void expect_matches_definition(const Case& c, double tolerance) {
  const HostMatrix<double> x = global_matrix<double>(c.n, c.dim, 5, -1, 1);
  const HostMatrix<double> r = global_matrix<double>(c.n, 3, 6, -1, 1);
  const RowBlock block = my_block(c.n);
  const VecchiaPreconditioner<T> P(MPI_COMM_WORLD, c.spec, rows_on_device(converted<T>(x), block),
                                   c.alpha, VecchiaOptions{c.k});
  const GlobalFactor f = gather_factor(P, c.n);
  ASSERT_TRUE(acyclic(f.set)) << "the sets do not order the points";
  std::vector<std::vector<long double>> b(c.n);
  std::vector<long double> d(c.n);
  long double log_det = 0;
  double worst_b = 0, worst_d = 0, sizes = 0;
  for (std::int64_t i = 0; i < c.n; ++i) {
    ASSERT_GE(f.owner[i], 0) << "row " << i << " is in no block";
    const auto& s = f.set[i];
    sizes += s.size();
    ASSERT_LE(s.size(), std::size_t(c.k));
    ASSERT_EQ(std::set<std::int64_t>(s.begin(), s.end()).size(), s.size()) << "row " << i;
    std::vector<long double> A(s.size() * s.size()), rhs(s.size());
    for (std::size_t p = 0; p < s.size(); ++p) {
      ASSERT_NE(s[p], i);
      rhs[p] = theta(c.spec, c.alpha, x, s[p], i);
      for (std::size_t q = 0; q < s.size(); ++q)
        A[p * s.size() + q] = theta(c.spec, c.alpha, x, s[p], s[q]);
    }
    b[i] = eliminate(A, rhs);
    d[i] = theta(c.spec, c.alpha, x, i, i);
    for (std::size_t p = 0; p < s.size(); ++p) {
      d[i] -= b[i][p] * rhs[p];
      worst_b = std::max(worst_b, static_cast<double>(std::abs(b[i][p] - f.b[i][p])));
    }
    worst_d = std::max(worst_d, static_cast<double>(std::abs(d[i] - f.d[i]) / d[i]));
    log_det += std::log(d[i]);
  }
  EXPECT_LE(worst_b, tolerance);
  EXPECT_LE(worst_d, tolerance);
  // The sets are as full as the points before them allow.
  EXPECT_GE(sizes / c.n, 0.75 * std::min<double>(c.k, c.n / world_size() / 2.0));
  EXPECT_NEAR(P.log_determinant(), static_cast<double>(log_det),
              tolerance * std::abs(static_cast<double>(log_det)) + tolerance);

  const HostMatrix<double> expected = dense_apply(f.set, b, d, r);
  DeviceMatrix<T> z("z", block.count, r.cols);
  P.apply(rows_on_device(converted<T>(r), block), z);
  EXPECT_LE(relative_difference(z, expected, block), tolerance);

  // correlate: B x = D^1/2 g, row by row.
  P.correlate(rows_on_device(converted<T>(r), block), z);
  const auto mine = on_host(z);
  HostMatrix<double> x_all(c.n, r.cols);
  for (std::int64_t i = 0; i < block.count; ++i)
    for (std::int64_t k = 0; k < r.cols; ++k) x_all(block.begin + i, k) = mine(i, k);
  MPI_Allreduce(MPI_IN_PLACE, x_all.values.data(), static_cast<int>(x_all.values.size()),
                MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  double worst = 0;
  for (std::int64_t i = 0; i < c.n; ++i) {
    for (std::int64_t k = 0; k < r.cols; ++k) {
      long double v = x_all(i, k);
      for (std::size_t p = 0; p < f.set[i].size(); ++p) v -= b[i][p] * x_all(f.set[i][p], k);
      worst = std::max(worst, static_cast<double>(std::abs(v / std::sqrt(d[i]) - r(i, k))));
    }
  }
  EXPECT_LE(worst, 100 * tolerance);
}

TEST(Vecchia, ConditionalsAndActionMatchTheirDefinition) {
  const double l = 0.3;
  for (const Case& c : {Case{KernelSpec::from_name("matern32", l), 2, 400, 8, 1e-2},
                        Case{KernelSpec::from_name("gaussian", l), 2, 300, 12, 1e-3},
                        Case{KernelSpec::from_name("laplacian", l), 1, 200, 4, 1e-1},
                        Case{KernelSpec::from_name("matern52", l), 3, 300, 10, 1e-2},
                        Case{KernelSpec::from_name("cauchy", l), 2, 250, 6, 1}}) {
    SCOPED_TRACE(c.spec.formula());
    expect_matches_definition<double>(c, 1e-9);
  }
}

TEST(Vecchia, FloatMatchesItsDefinition) {
  expect_matches_definition<float>({KernelSpec::from_name("matern32", 0.3), 2, 300, 8, 1e-1}, 2e-4);
}

/// With sets holding every earlier point, P is Theta: the action is a dense
/// solve, the log-determinant Theta's. (One rank alone: across ranks the
/// sets reach only the halo.)
TEST(Vecchia, FullSetsAreTheExactInverse) {
  const std::int64_t n = 90;
  const KernelSpec spec = KernelSpec::from_name("matern52", 0.4);
  const double alpha = 1e-3;
  const HostMatrix<double> x = global_matrix<double>(n, 2, 8, 0, 1);
  const HostMatrix<double> r = global_matrix<double>(n, 2, 9, -1, 1);
  const RowBlock block{0, n};
  const VecchiaPreconditioner<double> P(MPI_COMM_SELF, spec, rows_on_device(x, block), alpha,
                                        VecchiaOptions{int(n)});
  std::vector<std::int64_t> rows(n);
  for (std::int64_t i = 0; i < n; ++i) rows[i] = i;
  HostMatrix<double> expected(n, r.cols);
  long double log_det = 0;
  {
    const std::size_t s = rows.size();
    std::vector<long double> A(s * s);
    for (std::size_t p = 0; p < s; ++p)
      for (std::size_t q = 0; q < s; ++q) A[p * s + q] = theta(spec, alpha, x, rows[p], rows[q]);
    for (std::int64_t c = 0; c < r.cols; ++c) {
      std::vector<long double> rhs(s);
      for (std::size_t p = 0; p < s; ++p) rhs[p] = r(rows[p], c);
      long double logs = 0;
      const auto z = eliminate(A, rhs, &logs);
      for (std::size_t p = 0; p < s; ++p) expected(rows[p], c) = static_cast<double>(z[p]);
      if (c == 0) log_det += logs;
    }
  }
  DeviceMatrix<double> z("z", n, r.cols);
  P.apply(rows_on_device(r, block), z);
  const auto got = on_host(z);
  double error = 0, scale = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t c = 0; c < r.cols; ++c) {
      error = std::max(error, std::abs(got(i, c) - expected(i, c)));
      scale = std::max(scale, std::abs(expected(i, c)));
    }
  }
  EXPECT_LE(error, 1e-9 * scale);
  EXPECT_NEAR(P.log_determinant(), static_cast<double>(log_det), 1e-8 * std::abs(log_det));
}

/// Fewer points than ranks (empty blocks): every point's set reaches every
/// earlier one through the halo, so P is Theta's inverse.
TEST(Vecchia, FewerPointsThanRanks) {
  const std::int64_t n = 3;
  const KernelSpec spec = KernelSpec::from_name("matern32", 0.5);
  const double alpha = 1e-2;
  const HostMatrix<double> x = global_matrix<double>(n, 2, 13, 0, 1);
  const HostMatrix<double> r = global_matrix<double>(n, 1, 14, -1, 1);
  const RowBlock block = my_block(n);
  const VecchiaPreconditioner<double> P(MPI_COMM_WORLD, spec, rows_on_device(x, block), alpha,
                                        VecchiaOptions{5});
  std::vector<long double> A(n * n), rhs(n);
  for (std::int64_t i = 0; i < n; ++i) {
    rhs[i] = r(i, 0);
    for (std::int64_t j = 0; j < n; ++j) A[i * n + j] = theta(spec, alpha, x, i, j);
  }
  const std::vector<long double> solved = eliminate(A, rhs);
  HostMatrix<double> expected(n, 1);
  for (std::int64_t i = 0; i < n; ++i) expected(i, 0) = static_cast<double>(solved[i]);
  DeviceMatrix<double> z("z", block.count, 1);
  P.apply(rows_on_device(r, block), z);
  EXPECT_LE(relative_difference(z, expected, block), 1e-12);
}

/// PCG with the factor reaches the dense solve's answer, in fewer iterations
/// than plain CG, on ordinary points and on repeated ones.
TEST(Vecchia, PreconditionedSolveMatchesDenseSolve) {
  const KernelSpec spec = KernelSpec::from_name("matern32", 0.2);
  for (const bool repeated : {false, true}) {
    SCOPED_TRACE(repeated ? "repeated points" : "distinct points");
    const std::int64_t n = 600;
    HostMatrix<double> x = global_matrix<double>(n, 2, 11, 0, 1);
    if (repeated)
      for (std::int64_t i = n / 2; i < n; ++i)
        for (std::int64_t c = 0; c < 2; ++c) x(i, c) = x(i - n / 2, c);
    const HostMatrix<double> b = global_matrix<double>(n, 2, 12, -1, 1);
    const double alpha = 1e-3;
    const HostMatrix<double> expected =
        dense_kernel_solve(spec, x, b, [&](std::int64_t) { return alpha; });
    const RowBlock block = my_block(n);
    const kinterp::KernelSolve<double> solver(MPI_COMM_WORLD, spec, rows_on_device(x, block));
    kinterp::SolveOptions options;
    options.rtol = 1e-10;
    options.max_iterations = 5000;
    kinterp::KernelSolveOptions how;
    how.vecchia.neighbors = 20;
    DeviceMatrix<double> a("a", block.count, b.cols), plain("plain", block.count, b.cols);
    const auto result = solver.solve(rows_on_device(b, block), a, alpha, options, how);
    ASSERT_TRUE(result.converged()) << result.detail;
    EXPECT_TRUE(result.preconditioned);
    // Plain CG needs more than twice the iterations: it has not converged at
    // twice (its full run is most of this test's time under the sanitizers).
    kinterp::SolveOptions twice = options;
    twice.max_iterations = 2 * result.iterations;
    const auto unpreconditioned = solver.solve(rows_on_device(b, block), plain, alpha, twice);
    EXPECT_FALSE(unpreconditioned.converged()) << unpreconditioned.iterations << " iterations";
    EXPECT_LE(relative_difference(a, expected, block), 1e-6);
  }
}

TEST(Vecchia, BadSettingsAreRefusedOnEveryRank) {
  const KernelSpec spec = KernelSpec::from_name("gaussian", 0.3);
  const RowBlock block = my_block(40);
  const HostMatrix<double> x2 = global_matrix<double>(40, 2, 3, 0, 1);
  const HostMatrix<double> x4 = global_matrix<double>(40, 4, 3, 0, 1);
  const auto message = [&](const HostMatrix<double>& x, double alpha, int k) -> std::string {
    try {
      VecchiaPreconditioner<double>(MPI_COMM_WORLD, spec, rows_on_device(x, block), alpha,
                                    VecchiaOptions{k});
    } catch (const kinterp::Error& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(message(x2, 1e-3, 0).find("neighbors"), std::string::npos);
  EXPECT_NE(message(x2, 0, 10).find("alpha > 0"), std::string::npos);
  EXPECT_NE(message(x4, 1e-3, 10).find("Nystrom"), std::string::npos);
  HostMatrix<double> bad = x2;
  bad(17, 1) = std::nan("");
  EXPECT_NE(message(bad, 1e-3, 10).find("row 17"), std::string::npos);
}

}  // namespace
