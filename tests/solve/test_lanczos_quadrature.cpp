// Lanczos quadrature from CG's coefficients (LanczosQuadrature.hpp, and
// SolveOptions::lanczos_coefficients): the QL Gauss rule against a long-double
// Jacobi eigen-decomposition of T; z^T log(A) z, z^T A^-1 z and log det A from
// plain and Jacobi-preconditioned CG on a dense distributed SPD operator
// against the Jacobi eigen-decomposition of A (or of M^-1/2 A M^-1/2), at any
// number of ranks, with the same numbers on every rank; the record ends before
// a reliable-update residual replacement.

#include <kinterp/KernelSum.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/solve/ConjugateGradient.hpp>
#include <kinterp/solve/LanczosQuadrature.hpp>

#include "../DistributedData.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <vector>

namespace {

using namespace kinterp::test;
using kinterp::GaussQuadrature;
using kinterp::LanczosRecorder;
using kinterp::LanczosTridiagonal;
using kinterp::LocalMatrix;

using Matrix = LocalMatrix<double>;
using ConstMatrix = LocalMatrix<const double>;
using LD = long double;

/// A dense symmetric matrix, row-major, in long double.
struct Dense {
  int n = 0;
  std::vector<LD> a;
  explicit Dense(int size) : n(size), a(static_cast<std::size_t>(size) * size, 0) {}
  LD& operator()(int i, int j) { return a[static_cast<std::size_t>(i) * n + j]; }
  LD operator()(int i, int j) const { return a[static_cast<std::size_t>(i) * n + j]; }
};

/// Eigenvalues and (column) eigenvectors of a symmetric matrix by cyclic
/// Jacobi rotations in long double: the reference, independent of QL.
struct Eigen {
  std::vector<LD> values;
  Dense vectors{0};
};

Eigen jacobi_eigen(Dense a) {
  const int n = a.n;
  Dense v(n);
  for (int i = 0; i < n; ++i) v(i, i) = 1;
  for (int sweep = 0; sweep < 100; ++sweep) {
    LD off = 0, total = 0;
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < n; ++j) {
        total += a(i, j) * a(i, j);
        if (i != j) off += a(i, j) * a(i, j);
      }
    }
    if (off <= 1e-36L * total) break;
    for (int p = 0; p < n; ++p) {
      for (int q = p + 1; q < n; ++q) {
        if (a(p, q) == 0) continue;
        const LD theta = (a(q, q) - a(p, p)) / (2 * a(p, q));
        const LD t = (theta >= 0 ? 1 : -1) / (std::fabs(theta) + std::sqrt(theta * theta + 1));
        const LD c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (int k = 0; k < n; ++k) {  // a = a J
          const LD akp = a(k, p), akq = a(k, q);
          a(k, p) = c * akp - s * akq;
          a(k, q) = s * akp + c * akq;
        }
        for (int k = 0; k < n; ++k) {  // a = J^T a
          const LD apk = a(p, k), aqk = a(q, k);
          a(p, k) = c * apk - s * aqk;
          a(q, k) = s * apk + c * aqk;
        }
        for (int k = 0; k < n; ++k) {
          const LD vkp = v(k, p), vkq = v(k, q);
          v(k, p) = c * vkp - s * vkq;
          v(k, q) = s * vkp + c * vkq;
        }
      }
    }
  }
  Eigen e;
  for (int i = 0; i < n; ++i) e.values.push_back(a(i, i));
  e.vectors = v;
  return e;
}

/// z^T f(A) z from the eigen-decomposition, and z^T |f|(A) z (the scale of its rounding).
std::pair<LD, LD> spectral_form(const Eigen& e, const std::vector<LD>& z,
                                const std::function<LD(LD)>& f) {
  LD sum = 0, magnitude = 0;
  const int n = static_cast<int>(z.size());
  for (int k = 0; k < n; ++k) {
    LD projection = 0;
    for (int i = 0; i < n; ++i) projection += e.vectors(i, k) * z[i];
    sum += projection * projection * f(e.values[k]);
    magnitude += projection * projection * std::fabs(f(e.values[k]));
  }
  return {sum, magnitude};
}

Dense dense_of(const LanczosTridiagonal& t) {
  Dense d(t.size());
  for (int i = 0; i < t.size(); ++i) d(i, i) = t.diagonal[i];
  for (int i = 0; i + 1 < t.size(); ++i) d(i, i + 1) = d(i + 1, i) = t.off_diagonal[i];
  return d;
}

/// e_1^T f(T) e_1 by the QL rule against the Jacobi reference, relative to e_1^T |f|(T) e_1.
void expect_rule_matches_jacobi(const LanczosTridiagonal& t, const std::string& what) {
  const GaussQuadrature rule = kinterp::gauss_quadrature(t);
  ASSERT_EQ(static_cast<int>(rule.nodes.size()), t.size()) << what;
  EXPECT_EQ(rule.clamped, 0) << what;
  const Eigen reference = jacobi_eigen(dense_of(t));
  std::vector<LD> e1(t.size(), 0);
  e1[0] = 1;
  const std::vector<std::pair<std::string, std::function<LD(LD)>>> functions = {
      {"log", [](LD x) { return std::log(x); }},
      {"1/x", [](LD x) { return 1 / x; }},
      {"x^2", [](LD x) { return x * x; }}};
  for (const auto& [name, f] : functions) {
    const auto [want, scale] = spectral_form(reference, e1, f);
    const double got = rule([&](double x) { return static_cast<double>(f(x)); });
    EXPECT_NEAR(got, static_cast<double>(want), 1e-12 * static_cast<double>(scale))
        << what << ", f = " << name;
  }
  // Independent of any eigensolver: e_1^T T^2 e_1 = T_11^2 + T_12^2, and sum tau^2 = 1.
  const double t11 = t.diagonal[0], t12 = t.size() > 1 ? t.off_diagonal[0] : 0.0;
  EXPECT_NEAR(rule([](double x) { return x * x; }), t11 * t11 + t12 * t12,
              1e-13 * (t11 * t11 + t12 * t12))
      << what;
  EXPECT_NEAR(rule([](double) { return 1.0; }), 1.0, 1e-13) << what;
  for (std::size_t i = 1; i < rule.nodes.size(); ++i) {
    EXPECT_LE(rule.nodes[i - 1], rule.nodes[i]) << what;
  }
}

TEST(GaussQuadrature, QLRuleMatchesJacobiEigenDecomposition) {
  for (int k : {1, 2, 3, 7, 30, 90}) {
    // Diagonally dominant: d in [2.5, 6], |e| <= 1.
    LanczosTridiagonal t;
    for (int i = 0; i < k; ++i) t.diagonal.push_back(2.5 + 3.5 * uniform01(11, i + 1000 * k));
    for (int i = 0; i + 1 < k; ++i) {
      t.off_diagonal.push_back(-1 + 2 * uniform01(12, i + 1000 * k));
    }
    expect_rule_matches_jacobi(t, "dominant, k = " + std::to_string(k));

    // From CG-like coefficients: positive definite (T = L D L^T), eigenvalues spread.
    std::vector<double> steps, betas;
    for (int i = 0; i < k; ++i) {
      steps.push_back(std::pow(10.0, -1 + 1.5 * uniform01(13, i + 1000 * k)));
      betas.push_back(0.05 + 0.9 * uniform01(14, i + 1000 * k));
    }
    const LanczosTridiagonal cg = kinterp::lanczos_tridiagonal(steps, betas);
    ASSERT_EQ(cg.size(), k);
    EXPECT_FALSE(cg.truncated);
    EXPECT_DOUBLE_EQ(cg.diagonal[0], 1 / steps[0]);
    if (k > 1) {
      EXPECT_DOUBLE_EQ(cg.diagonal[1], 1 / steps[1] + betas[0] / steps[0]);
      EXPECT_DOUBLE_EQ(cg.off_diagonal[0], std::sqrt(betas[0]) / steps[0]);
    }
    expect_rule_matches_jacobi(cg, "from CG coefficients, k = " + std::to_string(k));
  }
}

TEST(GaussQuadrature, EmptyTruncatedAndIndefiniteInputsAreGuarded) {
  // k = 0: no nodes, a zero contribution.
  const GaussQuadrature empty = kinterp::gauss_quadrature(LanczosTridiagonal{});
  EXPECT_TRUE(empty.nodes.empty());
  EXPECT_EQ(empty([](double x) { return std::log(x); }), 0.0);
  LanczosRecorder unused(2);
  EXPECT_EQ(unused.steps(1), 0);
  EXPECT_EQ(unused.log_quadrature(1), 0.0);

  // A step or beta that is not positive ends T before it.
  EXPECT_EQ(kinterp::lanczos_tridiagonal({1, 2, -1, 1}, {0.5, 0.5, 0.5, 0.5}).size(), 2);
  EXPECT_TRUE(kinterp::lanczos_tridiagonal({1, 2, -1, 1}, {0.5, 0.5, 0.5, 0.5}).truncated);
  EXPECT_EQ(kinterp::lanczos_tridiagonal({1, 2, 1, 1}, {0.5, 0.0, 0.5, 0.5}).size(), 2);
  EXPECT_EQ(kinterp::lanczos_tridiagonal({1, 2, 1, 1}, {0.5, NAN, 0.5, 0.5}).size(), 2);
  EXPECT_FALSE(kinterp::lanczos_tridiagonal({1, 2}, {0.5, -1}).truncated);  // beta_k unused

  // Non-positive nodes (not from CG coefficients) are clamped and counted, so log stays finite.
  LanczosTridiagonal indefinite;
  indefinite.diagonal = {1, -2, 3};
  indefinite.off_diagonal = {0.1, 0.1};
  const GaussQuadrature rule = kinterp::gauss_quadrature(indefinite);
  EXPECT_EQ(rule.clamped, 1);
  EXPECT_GT(rule.floor, 0);
  EXPECT_EQ(rule.nodes[0], rule.floor);
  EXPECT_TRUE(std::isfinite(rule([](double x) { return std::log(x); })));

  LanczosTridiagonal broken;
  broken.diagonal = {1, INFINITY};
  broken.off_diagonal = {0.1};
  EXPECT_THROW(kinterp::gauss_quadrature(broken), kinterp::Error);

  // The record must be consecutive and one entry per column.
  LanczosRecorder recorder(2);
  recorder.record(1, {1, 1}, {0.5, 0.5}, {true, true});
  EXPECT_THROW(recorder.record(3, {1, 1}, {0.5, 0.5}, {true, true}), kinterp::Error);
  EXPECT_THROW(recorder.record(2, {1}, {0.5}, {true}), kinterp::Error);
  recorder.record(2, {2, 0}, {0.5, 0}, {true, false});
  EXPECT_EQ(recorder.steps(0), 2);
  EXPECT_EQ(recorder.steps(1), 1);
  recorder.record(1, {3, 3}, {0.5, 0.5}, {true, true});  // a new solve starts afresh
  EXPECT_EQ(recorder.steps(0), 1);
  EXPECT_EQ(recorder.alphas(0)[0], 3);
}

// ---- CG on a dense distributed SPD operator -------------------------------------------

/// Q diag(lambda) Q^T with lambda log-spaced over [1e-2, 1e2] and Q a product of
/// three Householder reflections: dense, SPD, known to be well spread.
Dense spread_spd(int n, std::uint64_t seed) {
  Dense a(n);
  for (int i = 0; i < n; ++i) a(i, i) = std::pow(10.0L, -2 + 4.0L * i / (n - 1));
  for (int h = 0; h < 3; ++h) {
    std::vector<LD> u(n);
    LD uu = 0;
    for (int i = 0; i < n; ++i) {
      u[i] = -1 + 2 * uniform01(seed + h, i);
      uu += u[i] * u[i];
    }
    // a = H a H, H = I - 2 u u^T / u^T u
    std::vector<LD> au(n, 0);
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) au[i] += a(i, j) * u[j];
    LD uau = 0;
    for (int i = 0; i < n; ++i) uau += u[i] * au[i];
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < n; ++j) {
        a(i, j) += -2 * (au[i] * u[j] + u[i] * au[j]) / uu + 4 * uau * u[i] * u[j] / (uu * uu);
      }
    }
  }
  // Exactly symmetric in double.
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < i; ++j) a(i, j) = a(j, i) = static_cast<double>(a(j, i));
  for (int i = 0; i < n; ++i) a(i, i) = static_cast<double>(a(i, i));
  return a;
}

/// y = A x for the rows `block` of a dense A held by every rank (x gathered by one Allreduce).
struct DenseOperator {
  using execution_space = Kokkos::DefaultExecutionSpace;
  using Matrix = ::Matrix;
  using ConstMatrix = ::ConstMatrix;

  const Dense& a;
  kinterp::RowBlock block;

  MPI_Comm comm() const { return MPI_COMM_WORLD; }
  void apply(const ConstMatrix& x, const Matrix& y) const {
    const int m = static_cast<int>(x.extent(1));
    const auto local = on_host(x);
    std::vector<double> all(static_cast<std::size_t>(a.n) * m, 0.0);
    for (std::int64_t i = 0; i < block.count; ++i)
      for (int c = 0; c < m; ++c) all[(block.begin + i) * m + c] = local(i, c);
    MPI_Allreduce(MPI_IN_PLACE, all.data(), static_cast<int>(all.size()), MPI_DOUBLE, MPI_SUM,
                  MPI_COMM_WORLD);
    auto out = Kokkos::create_mirror_view(y);
    for (std::int64_t i = 0; i < block.count; ++i) {
      for (int c = 0; c < m; ++c) {
        double sum = 0;
        for (int j = 0; j < a.n; ++j) {
          sum += static_cast<double>(a(static_cast<int>(block.begin + i), j)) * all[j * m + c];
        }
        out(i, c) = sum;
      }
    }
    Kokkos::deep_copy(y, out);
  }
};

/// z = r / d for this rank's rows of a positive diagonal d.
struct DiagonalPreconditioner {
  std::vector<double> d;  // global
  kinterp::RowBlock block;
  void apply(const ConstMatrix& r, const Matrix& z) const {
    const auto in = on_host(r);
    auto out = Kokkos::create_mirror_view(z);
    for (std::int64_t i = 0; i < block.count; ++i)
      for (std::size_t c = 0; c < in.extent(1); ++c) out(i, c) = in(i, c) / d[block.begin + i];
    Kokkos::deep_copy(z, out);
  }
};

/// Columns of a global n x m matrix as long-double vectors.
std::vector<LD> column(const HostMatrix<double>& b, int c) {
  std::vector<LD> v(b.rows);
  for (std::int64_t i = 0; i < b.rows; ++i) v[i] = b(i, c);
  return v;
}

/// The whole of x (every rank's rows) on every rank.
HostMatrix<double> gather(const Matrix& x, kinterp::RowBlock block, std::int64_t n) {
  HostMatrix<double> all(n, static_cast<std::int64_t>(x.extent(1)));
  const auto host = on_host(x);
  for (std::int64_t i = 0; i < block.count; ++i)
    for (std::int64_t c = 0; c < all.cols; ++c) all(block.begin + i, c) = host(i, c);
  MPI_Allreduce(MPI_IN_PLACE, all.values.data(), static_cast<int>(all.values.size()), MPI_DOUBLE,
                MPI_SUM, MPI_COMM_WORLD);
  return all;
}

/// Every rank holds the same value (the callback's numbers come from global dot products).
void expect_same_on_every_rank(double value, const std::string& what) {
  double low = value, high = value;
  MPI_Allreduce(MPI_IN_PLACE, &low, 1, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(MPI_IN_PLACE, &high, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  EXPECT_EQ(low, high) << what;
}

LD dot(const std::vector<LD>& u, const std::vector<LD>& v) {
  LD sum = 0;
  for (std::size_t i = 0; i < u.size(); ++i) sum += u[i] * v[i];
  return sum;
}

kinterp::SolveOptions tight() {
  kinterp::SolveOptions options;
  options.rtol = 1e-11;
  options.max_iterations = 3000;
  return options;
}

/// CG to tight() on the operator (and preconditioner, if any), with the
/// Lanczos coefficients of every column given to `recorder`.
template <class... Operators>
kinterp::SolveResult solve_recording(LanczosRecorder& recorder, const HostMatrix<double>& b,
                                     kinterp::RowBlock block, const Matrix& x,
                                     const Operators&... operators) {
  auto options = tight();
  options.lanczos_coefficients = recorder.callback();
  return kinterp::conjugate_gradient(operators..., rows_on_device(b, block), x, options);
}

// Relative error allowed in z^T f(A) z (against z^T |f|(A) z): with CG run to
// rtol 1e-11 the Gauss rule's own error is ~(1e-11)^2 cond(A) = 1e-18; what
// remains is the rounding of finite-precision Lanczos over ~n iterations.
constexpr double quadrature_tolerance = 1e-10;

/// Column c's Gauss quadrature estimates, scale e1^T f(T) e1, of z^T f(A) z
/// against the eigen-decomposition of A, for f = log and f = 1 / t, and the
/// second against the energy b^T x of CG's own solution too. Returns both.
std::pair<double, double> expect_quadratic_forms(const Eigen& reference, const std::vector<LD>& z,
                                                 double scale, const LanczosRecorder& recorder,
                                                 int c, double energy) {
  const std::string what = "column " + std::to_string(c);
  const auto [log_form, log_scale] = spectral_form(reference, z, [](LD t) { return std::log(t); });
  const double log_estimate = scale * recorder.log_quadrature(c);
  EXPECT_NEAR(log_estimate, static_cast<double>(log_form),
              quadrature_tolerance * static_cast<double>(log_scale))
      << what << ", " << recorder.steps(c) << " steps";

  const auto [inverse_form, inverse_scale] =
      spectral_form(reference, z, [](LD t) { return 1 / t; });
  const double inverse_estimate = scale * recorder.quadrature(c, [](double t) { return 1 / t; });
  EXPECT_NEAR(inverse_estimate, static_cast<double>(inverse_form),
              quadrature_tolerance * static_cast<double>(inverse_scale))
      << what;
  EXPECT_NEAR(inverse_estimate, energy, quadrature_tolerance * energy) << what;
  return {log_estimate, inverse_estimate};
}

TEST(LanczosQuadrature, PlainCGGivesLogAndInverseQuadraticForms) {
  const int n = 120;
  const Dense a = spread_spd(n, 70);
  const Eigen reference = jacobi_eigen(a);
  const auto block = my_block(n);
  const DenseOperator A{a, block};

  // Columns: two random probes; a sum of three eigenvectors (Krylov space of
  // dimension 3, so CG retires it after 3 iterations); zero (retired at iteration 0).
  const int m = 4;
  HostMatrix<double> b = global_matrix<double>(n, m, 71, -1, 1);
  for (int i = 0; i < n; ++i) {
    b(i, 2) = static_cast<double>(reference.vectors(i, 5) + 2 * reference.vectors(i, 60) -
                                  reference.vectors(i, 110));
    b(i, 3) = 0;
  }
  Matrix x("x", block.count, m);
  LanczosRecorder recorder(m);
  const auto result = solve_recording(recorder, b, block, x, A);
  ASSERT_TRUE(result.converged()) << result.detail;
  const HostMatrix<double> solution = gather(x, block, n);

  EXPECT_EQ(recorder.steps(3), 0);
  EXPECT_EQ(recorder.log_quadrature(3), 0.0);
  EXPECT_GE(recorder.steps(2), 3);
  EXPECT_LE(recorder.steps(2), 4);
  EXPECT_LE(recorder.iterations(), result.iterations);
  if (result.restarts == 0) {
    EXPECT_EQ(recorder.iterations(), result.iterations);
  }
  for (int c = 0; c < 3; ++c) {
    const std::string what = "column " + std::to_string(c);
    const std::vector<LD> z = column(b, c);
    const double zz = static_cast<double>(dot(z, z));
    EXPECT_NEAR(zz, result.rhs_norms[c] * result.rhs_norms[c], 1e-13 * zz) << what;
    const auto rule = recorder.quadrature(c);
    EXPECT_EQ(rule.clamped, 0) << what;
    EXPECT_FALSE(recorder.tridiagonal(c).truncated) << what;

    double energy = 0;  // b^T x
    for (int i = 0; i < n; ++i) energy += b(i, c) * solution(i, c);
    const auto [log_estimate, inverse_estimate] =
        expect_quadratic_forms(reference, z, zz, recorder, c, energy);

    expect_same_on_every_rank(log_estimate, what + " log");
    expect_same_on_every_rank(inverse_estimate, what + " inverse");
  }
}

/// DenseOperator that declares its `apply` approximate: CG then replaces its
/// residual by b - A x (reliable updates), which ends the Lanczos record.
struct ReplacingDenseOperator : DenseOperator {
  void apply_accurately(const ConstMatrix& x, const Matrix& y) const { apply(x, y); }
};

TEST(LanczosQuadrature, RecordEndsBeforeTheFirstResidualReplacement) {
  const int n = 120;
  const Dense a = spread_spd(n, 70);
  const Eigen reference = jacobi_eigen(a);
  const auto block = my_block(n);
  const ReplacingDenseOperator A{{a, block}};
  const HostMatrix<double> b = global_matrix<double>(n, 1, 71, -1, 1);
  Matrix x("x", block.count, 1);
  LanczosRecorder recorder(1);
  auto options = tight();
  options.residual_replacement = 0.01;
  options.lanczos_coefficients = recorder.callback();
  const auto result = kinterp::conjugate_gradient(A, rows_on_device(b, block), x, options);
  ASSERT_TRUE(result.converged()) << result.detail;
  ASSERT_GT(result.replacements, 0);
  EXPECT_GT(recorder.iterations(), 0);
  EXPECT_LT(recorder.iterations(), result.iterations);
  // What was recorded is still a Gauss rule of A from b: for 1/x (completely
  // monotone) it bounds b^T A^-1 b from below.
  const std::vector<LD> z = column(b, 0);
  const double zz = static_cast<double>(dot(z, z));
  const auto [inverse_form, inverse_scale] =
      spectral_form(reference, z, [](LD t) { return 1 / t; });
  const double inverse_estimate = zz * recorder.quadrature(0, [](double t) { return 1 / t; });
  EXPECT_GT(inverse_estimate, 0);
  EXPECT_LE(inverse_estimate, static_cast<double>(inverse_form) * (1 + 1e-12));
}

/// A = D B D with B = spread_spd and D in [1, 4]: Jacobi preconditioning pays.
Dense scaled_spd(int n) {
  Dense a = spread_spd(n, 80);
  std::vector<double> d(n);
  for (int i = 0; i < n; ++i) d[i] = std::pow(4.0, uniform01(81, i));
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) a(i, j) = static_cast<double>(d[i] * a(i, j) * d[j]);
  return a;
}

/// scaled_spd(n) over the ranks, preconditioned by its diagonal.
struct JacobiScaledProblem {
  explicit JacobiScaledProblem(int n)
      : a(scaled_spd(n)), block(my_block(n)), A{a, block}, M{diagonal_of(a), block} {}
  static std::vector<double> diagonal_of(const Dense& a) {
    std::vector<double> diagonal(a.n);
    for (int i = 0; i < a.n; ++i) diagonal[i] = static_cast<double>(a(i, i));
    return diagonal;
  }
  const Dense a;
  const kinterp::RowBlock block;
  const DenseOperator A;
  const DiagonalPreconditioner M;
};

TEST(LanczosQuadrature, PreconditionedCGQuadratureIsOfTheScaledOperator) {
  const int n = 100;
  const JacobiScaledProblem problem(n);
  const auto& [a, block, A, M] = problem;
  const std::vector<double>& diagonal = M.d;

  // Reference: A^ = M^-1/2 A M^-1/2, g = M^-1/2 b, g^T f(A^) g.
  Dense scaled(n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) scaled(i, j) = a(i, j) / std::sqrt(LD(diagonal[i]) * diagonal[j]);
  const Eigen reference = jacobi_eigen(scaled);

  const int m = 3;
  const HostMatrix<double> b = global_matrix<double>(n, m, 82, -1, 1);
  Matrix x("x", block.count, m);
  LanczosRecorder recorder(m);
  const auto result = solve_recording(recorder, b, block, x, A, M);
  ASSERT_TRUE(result.converged()) << result.detail;
  const HostMatrix<double> solution = gather(x, block, n);

  for (int c = 0; c < m; ++c) {
    const std::string what = "column " + std::to_string(c);
    std::vector<LD> g = column(b, c);
    for (int i = 0; i < n; ++i) g[i] /= std::sqrt(LD(diagonal[i]));
    const double bMb = static_cast<double>(dot(g, g));  // b^T M^-1 b = r_0^T z_0

    double energy = 0;  // b^T x = b^T A^-1 b = g^T A^-1 g
    for (int i = 0; i < n; ++i) energy += b(i, c) * solution(i, c);
    const double log_estimate =
        expect_quadratic_forms(reference, g, bMb, recorder, c, energy).first;
    expect_same_on_every_rank(log_estimate, what + " log");
  }
}

// log det A = log det M + tr log(M^-1/2 A M^-1/2), the trace probed exactly by
// g = e_i, i.e. b = M^1/2 e_i (b^T M^-1 b = 1): the whole SLQ formula against
// the eigenvalues of A itself.
TEST(LanczosQuadrature, LogDeterminantFromUnitProbes) {
  const int n = 60;
  const JacobiScaledProblem problem(n);
  const auto& [a, block, A, M] = problem;
  const std::vector<double>& diagonal = M.d;

  HostMatrix<double> b(n, n);
  for (int i = 0; i < n; ++i) b(i, i) = std::sqrt(diagonal[i]);
  Matrix x("x", block.count, n);
  LanczosRecorder recorder(n);
  const auto result = solve_recording(recorder, b, block, x, A, M);
  ASSERT_TRUE(result.converged()) << result.detail;

  LD estimate = 0;
  for (int i = 0; i < n; ++i) estimate += std::log(LD(diagonal[i])) + recorder.log_quadrature(i);
  const Eigen reference = jacobi_eigen(a);
  LD log_det = 0, scale = 0;
  for (LD lambda : reference.values) {
    log_det += std::log(lambda);
    scale += std::fabs(std::log(lambda));
  }
  EXPECT_NEAR(static_cast<double>(estimate), static_cast<double>(log_det),
              quadrature_tolerance * static_cast<double>(scale));
  expect_same_on_every_rank(static_cast<double>(estimate), "log det");
}

}  // namespace
