#pragma once
/// \file ConjugateGradient.hpp
/// Distributed conjugate gradient for m right-hand sides at once.
///
/// Each column has its own step sizes, but all columns share one operator
/// application per iteration (one kernel product for the whole block). Vector
/// updates and local dot products are Kokkos Kernels BLAS on multivectors; a
/// global dot product is the local one followed by MPI_Allreduce.
///
/// The Operator concept:
///   using execution_space, Matrix (T** view), ConstMatrix (const T** view);
///   MPI_Comm comm() const;                                // the ranks that share the rows
///   void apply(const ConstMatrix& x, const Matrix& y) const;  // y = A x, collective

#include <kinterp/core/detail/ScopedRegion.hpp>
#include <kinterp/solve/SolveResult.hpp>

#include <mpi.h>
#include <KokkosBlas1_axpby.hpp>
#include <KokkosBlas1_dot.hpp>
#include <KokkosBlas1_update.hpp>
#include <Kokkos_Core.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

namespace kinterp {

namespace detail {

/// Global column-wise dot products of multivectors: local KokkosBlas::dot, one
/// MPI_Allreduce for all the products asked for together.
template <class Matrix>
class ColumnDots {
 public:
  using T = typename Matrix::non_const_value_type;
  using Vector = Kokkos::View<T*, typename Matrix::memory_space>;

  ColumnDots(MPI_Comm comm, int columns)
      : comm_(comm), columns_(columns), local_(std::string("kinterp::cg::dots"), 2 * columns) {}

  /// [x1.y1 per column], or [x1.y1 per column, x2.y2 per column].
  template <class X1, class Y1>
  std::vector<double> operator()(const X1& x1, const Y1& y1) const {
    return reduce(1, x1, y1, x1, y1);
  }
  template <class X1, class Y1, class X2, class Y2>
  std::vector<double> operator()(const X1& x1, const Y1& y1, const X2& x2, const Y2& y2) const {
    return reduce(2, x1, y1, x2, y2);
  }

 private:
  template <class X1, class Y1, class X2, class Y2>
  std::vector<double> reduce(int pairs, const X1& x1, const Y1& y1, const X2& x2,
                             const Y2& y2) const {
    const auto first = Kokkos::subview(local_, std::make_pair(0, columns_));
    KokkosBlas::dot(first, x1, y1);
    if (pairs == 2) {
      KokkosBlas::dot(Kokkos::subview(local_, std::make_pair(columns_, 2 * columns_)), x2, y2);
    }
    auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), local_);
    std::vector<double> sums(pairs * columns_);
    for (int k = 0; k < pairs * columns_; ++k) sums[k] = static_cast<double>(host(k));
    MPI_Allreduce(MPI_IN_PLACE, sums.data(), static_cast<int>(sums.size()), MPI_DOUBLE, MPI_SUM,
                  comm_);
    return sums;
  }

  MPI_Comm comm_;
  int columns_;
  Vector local_;
};

/// Column coefficients for KokkosBlas::axpby, set from the host.
template <class Matrix>
struct ColumnCoefficients {
  using T = typename Matrix::non_const_value_type;
  Kokkos::View<T*, typename Matrix::memory_space> device;
  typename Kokkos::View<T*, typename Matrix::memory_space>::HostMirror host;

  ColumnCoefficients(const std::string& label, int columns) : device(label, columns) {
    host = Kokkos::create_mirror_view(device);
  }
  template <class F>
  const Kokkos::View<T*, typename Matrix::memory_space>& set(F&& value_of_column) {
    for (std::size_t c = 0; c < host.extent(0); ++c) host(c) = static_cast<T>(value_of_column(c));
    Kokkos::deep_copy(device, host);
    return device;
  }
};

}  // namespace detail

/// Collective over A.comm(). Solves A x = b for the m columns of b (this rank's
/// rows: n_r x m), writing x (n_r x m). Stops when every column has converged
/// (||r|| <= max(rtol ||b||, atol)), at max_iterations, or at the first sign of
/// trouble (breakdown, NaN/Inf, divergence): it always terminates, and the
/// result says why. A must be symmetric positive definite.
template <class Operator>
SolveResult conjugate_gradient(const Operator& A, const typename Operator::ConstMatrix& b,
                               const typename Operator::Matrix& x, const SolveOptions& options) {
  using Matrix = typename Operator::Matrix;
  using T = typename Matrix::non_const_value_type;
  const detail::ScopedRegion region("kinterp::conjugate_gradient");
  const double start = MPI_Wtime();
  const std::size_t n = b.extent(0);
  const int m = static_cast<int>(b.extent(1));
  const auto alloc = [&](const std::string& label) {
    return Matrix(Kokkos::view_alloc(Kokkos::WithoutInitializing, label), n, m);
  };
  Matrix r = alloc("kinterp::cg::r"), p = alloc("kinterp::cg::p"), Ap = alloc("kinterp::cg::Ap");
  detail::ColumnDots<Matrix> dots(A.comm(), m);
  detail::ColumnCoefficients<Matrix> step("kinterp::cg::step", m), keep("kinterp::cg::keep", m);
  const auto& ones = keep.set([](int) { return 1; });

  SolveResult result;
  result.rhs_norms = dots(b, b);
  for (auto& v : result.rhs_norms) v = std::sqrt(v);

  if (options.use_initial_guess) {
    A.apply(x, Ap);
    KokkosBlas::update(T(1), b, T(-1), Ap, T(0), r);  // r = b - A x
  } else {
    Kokkos::deep_copy(x, T(0));
    Kokkos::deep_copy(r, b);
  }
  std::vector<double> rr = dots(r, r);
  std::vector<double> threshold(m);
  std::vector<bool> active(m);
  std::vector<double> norms(m);
  const auto record = [&](int iteration) {
    for (int c = 0; c < m; ++c) norms[c] = std::sqrt(rr[c]);
    result.history.push_back(norms);
    if (options.monitor) options.monitor(iteration, norms);
  };
  for (int c = 0; c < m; ++c)
    threshold[c] = std::max(options.rtol * result.rhs_norms[c], options.atol);
  record(0);

  // Checks the residuals after an update; returns true when the solve is over.
  const auto stopped = [&](int iteration) {
    std::ostringstream why;
    for (int c = 0; c < m; ++c) {
      if (!active[c]) continue;
      if (!std::isfinite(norms[c])) {
        result.reason = StopReason::DivergedNanOrInf;
        why << "the residual of column " << c << " is " << norms[c] << " at iteration "
            << iteration;
      } else if (norms[c] <= threshold[c]) {
        active[c] = false;
        continue;
      } else if (norms[c] > options.dtol * result.rhs_norms[c]) {
        result.reason = StopReason::DivergedDtol;
        why << "the residual of column " << c << " grew to " << norms[c]
            << " > dtol * ||b|| = " << options.dtol * result.rhs_norms[c] << " at iteration "
            << iteration;
      } else {
        continue;
      }
      result.detail = why.str();
      return true;
    }
    if (std::none_of(active.begin(), active.end(), [](bool a) { return a; })) {
      bool by_rtol = true;
      for (int c = 0; c < m; ++c)
        by_rtol = by_rtol && threshold[c] == options.rtol * result.rhs_norms[c];
      result.reason = by_rtol ? StopReason::ConvergedRtol : StopReason::ConvergedAtol;
      return true;
    }
    return false;
  };
  for (int c = 0; c < m; ++c) active[c] = true;
  bool done = stopped(0);

  // The largest Rayleigh quotient seen: the scale against which p^T A p is
  // judged to be zero.
  double largest_quotient = 0;
  Kokkos::deep_copy(p, r);
  int iteration = 0;
  while (!done && iteration < options.max_iterations) {
    ++iteration;
    A.apply(p, Ap);
    const std::vector<double> curvature = dots(p, Ap, p, p);  // [p.Ap, p.p]
    std::vector<double> alpha(m, 0.0);
    for (int c = 0; c < m && !done; ++c) {
      if (!active[c]) continue;
      const double pAp = curvature[c], pp = curvature[m + c];
      largest_quotient = std::max(largest_quotient, pAp / pp);
      if (!std::isfinite(pAp)) {
        result.reason = StopReason::DivergedNanOrInf;
        result.detail = "p^T A p is not finite in column " + std::to_string(c);
        done = true;
      } else if (!(pAp > std::numeric_limits<T>::epsilon() * largest_quotient * pp)) {
        std::ostringstream why;
        why << "p^T A p = " << pAp << " in column " << c << " at iteration " << iteration
            << " is not positive against |p|^2 * (largest Rayleigh quotient) = "
            << largest_quotient * pp
            << ": the operator is singular or indefinite to working precision";
        result.reason = StopReason::DivergedBreakdown;
        result.detail = why.str();
        done = true;
      }
      alpha[c] = rr[c] / pAp;
    }
    if (done) break;
    KokkosBlas::axpby(step.set([&](int c) { return alpha[c]; }), p, ones, x);    // x += alpha p
    KokkosBlas::axpby(step.set([&](int c) { return -alpha[c]; }), Ap, ones, r);  // r -= alpha Ap
    const std::vector<double> rr_new = dots(r, r);
    std::vector<double> beta(m, 0.0);
    for (int c = 0; c < m; ++c) beta[c] = active[c] ? rr_new[c] / rr[c] : 0.0;
    rr = rr_new;
    record(iteration);
    done = stopped(iteration);
    if (!done)
      KokkosBlas::axpby(ones, r, step.set([&](int c) { return beta[c]; }), p);  // p = r + beta p
  }
  if (!done) {
    result.reason = StopReason::DivergedMaxIterations;
    std::ostringstream why;
    double worst = 0;
    for (int c = 0; c < m; ++c) {
      if (result.rhs_norms[c] > 0) worst = std::max(worst, norms[c] / result.rhs_norms[c]);
    }
    why << "the relative residual is still " << worst << " after " << iteration
        << " iterations (rtol = " << options.rtol << ")";
    result.detail = why.str();
  }
  result.iterations = iteration;
  result.residual_norms = norms;

  // The recurrence drifts from the true residual in finite precision: report both.
  A.apply(x, Ap);
  KokkosBlas::update(T(1), b, T(-1), Ap, T(0), r);
  result.true_residual_norms = dots(r, r);
  for (auto& v : result.true_residual_norms) v = std::sqrt(v);
  result.seconds = MPI_Wtime() - start;
  return result;
}

}  // namespace kinterp
