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

/// One run of CG; conjugate_gradient below is its interface.
template <class Operator>
class ConjugateGradientRun {
 public:
  using Matrix = typename Operator::Matrix;
  using ConstMatrix = typename Operator::ConstMatrix;
  using T = typename Matrix::non_const_value_type;

  /// How often CG restarts from the recomputed residual when the recurrence
  /// says converged but b - A x disagrees (finite precision drift).
  static constexpr int max_restarts = 3;

  ConjugateGradientRun(const Operator& A, const ConstMatrix& b, const Matrix& x,
                       const SolveOptions& options)
      : A_(A),
        b_(b),
        x_(x),
        options_(options),
        m_(static_cast<int>(b.extent(1))),
        r_(alloc("kinterp::cg::r")),
        p_(alloc("kinterp::cg::p")),
        Ap_(alloc("kinterp::cg::Ap")),
        dots_(A.comm(), m_),
        step_("kinterp::cg::step", m_),
        ones_("kinterp::cg::ones", m_),
        threshold_(m_),
        active_(m_),
        rr_(m_),
        norms_(m_) {
    ones_.set([](int) { return 1; });
  }

  SolveResult run() {
    const double start = MPI_Wtime();
    result_.rhs_norms = square_roots(dots_(b_, b_));
    for (int c = 0; c < m_; ++c) {
      threshold_[c] = std::max(options_.rtol * result_.rhs_norms[c], options_.atol);
    }
    if (options_.use_initial_guess) {
      compute_true_residual();
    } else {
      Kokkos::deep_copy(x_, T(0));
      Kokkos::deep_copy(r_, b_);
    }
    bool done = restart_from_residual();
    record();
    for (int restarts = 0;; ++restarts) {
      while (!done && iteration_ < options_.max_iterations) done = iterate();
      if (!done) stop_at_max_iterations();
      compute_true_residual();
      result_.true_residual_norms = square_roots(dots_(r_, r_));
      if (!result_.converged() || true_residual_within_tolerance()) break;
      if (restarts == max_restarts) {
        stop_above_true_tolerance();
        break;
      }
      done = restart_from_residual();
    }
    result_.iterations = iteration_;
    result_.residual_norms = norms_;
    result_.seconds = MPI_Wtime() - start;
    return result_;
  }

 private:
  Matrix alloc(const std::string& label) const {
    return Matrix(Kokkos::view_alloc(Kokkos::WithoutInitializing, label), b_.extent(0), m_);
  }

  static std::vector<double> square_roots(std::vector<double> values) {
    for (auto& v : values) v = std::sqrt(v);
    return values;
  }

  /// r = b - A x
  void compute_true_residual() {
    A_.apply(x_, Ap_);
    KokkosBlas::update(T(1), b_, T(-1), Ap_, T(0), r_);
  }

  /// Starts (or restarts) the recurrence from the residual in r: p = r, every
  /// column active again. Returns true when that already ends the solve.
  bool restart_from_residual() {
    Kokkos::deep_copy(p_, r_);
    rr_ = dots_(r_, r_);
    norms_ = square_roots(rr_);
    std::fill(active_.begin(), active_.end(), true);
    return check_residuals();
  }

  void record() {
    result_.history.push_back(norms_);
    if (options_.monitor) options_.monitor(iteration_, norms_);
  }

  /// One CG iteration for every active column. Returns true when the solve is over.
  bool iterate() {
    ++iteration_;
    A_.apply(p_, Ap_);
    const std::vector<double> curvature = dots_(p_, Ap_, p_, p_);  // [p.Ap, p.p]
    std::vector<double> alpha(m_, 0.0);
    for (int c = 0; c < m_; ++c) {
      if (!active_[c]) continue;
      const double pAp = curvature[c], pp = curvature[m_ + c];
      largest_quotient_ = std::max(largest_quotient_, pAp / pp);
      if (!std::isfinite(pAp)) {
        return stop(StopReason::DivergedNanOrInf,
                    "p^T A p is not finite in column " + std::to_string(c));
      }
      // p^T A p at the level of rounding errors counts as zero.
      if (!(pAp > std::numeric_limits<T>::epsilon() * largest_quotient_ * pp)) {
        std::ostringstream why;
        why << "p^T A p = " << pAp << " in column " << c << " at iteration " << iteration_
            << " is not positive against |p|^2 * (largest Rayleigh quotient) = "
            << largest_quotient_ * pp
            << ": the operator is singular or indefinite to working precision";
        return stop(StopReason::DivergedBreakdown, why.str());
      }
      alpha[c] = rr_[c] / pAp;
    }
    KokkosBlas::axpby(step_.set([&](int c) { return alpha[c]; }), p_, ones_.device, x_);
    KokkosBlas::axpby(step_.set([&](int c) { return -alpha[c]; }), Ap_, ones_.device, r_);
    const std::vector<double> rr_new = dots_(r_, r_);
    std::vector<double> beta(m_, 0.0);
    for (int c = 0; c < m_; ++c) beta[c] = active_[c] ? rr_new[c] / rr_[c] : 0.0;
    rr_ = rr_new;
    norms_ = square_roots(rr_);
    record();
    if (check_residuals()) return true;
    // p = r + beta p
    KokkosBlas::axpby(ones_.device, r_, step_.set([&](int c) { return beta[c]; }), p_);
    return false;
  }

  /// Retires the columns that have converged; returns true when the solve is
  /// over (all converged, or a residual that is NaN/Inf or past dtol).
  bool check_residuals() {
    for (int c = 0; c < m_; ++c) {
      if (!active_[c]) continue;
      std::ostringstream why;
      if (!std::isfinite(norms_[c])) {
        why << "the residual of column " << c << " is " << norms_[c] << " at iteration "
            << iteration_;
        return stop(StopReason::DivergedNanOrInf, why.str());
      }
      if (norms_[c] <= threshold_[c]) {
        active_[c] = false;
      } else if (norms_[c] > options_.dtol * result_.rhs_norms[c]) {
        why << "the residual of column " << c << " grew to " << norms_[c]
            << " > dtol * ||b|| = " << options_.dtol * result_.rhs_norms[c] << " at iteration "
            << iteration_;
        return stop(StopReason::DivergedDtol, why.str());
      }
    }
    if (std::any_of(active_.begin(), active_.end(), [](bool a) { return a; })) return false;
    bool by_rtol = true;
    for (int c = 0; c < m_; ++c) {
      by_rtol = by_rtol && threshold_[c] == options_.rtol * result_.rhs_norms[c];
    }
    return stop(by_rtol ? StopReason::ConvergedRtol : StopReason::ConvergedAtol, "");
  }

  bool stop(StopReason reason, const std::string& detail) {
    result_.reason = reason;
    result_.detail = detail;
    return true;
  }

  bool true_residual_within_tolerance() const {
    for (int c = 0; c < m_; ++c) {
      if (result_.true_residual_norms[c] > threshold_[c]) return false;
    }
    return true;
  }

  void stop_at_max_iterations() {
    double worst = 0;
    for (int c = 0; c < m_; ++c) {
      if (result_.rhs_norms[c] > 0) worst = std::max(worst, norms_[c] / result_.rhs_norms[c]);
    }
    std::ostringstream why;
    why << "the relative residual is still " << worst << " after " << iteration_
        << " iterations (rtol = " << options_.rtol << ")";
    stop(StopReason::DivergedMaxIterations, why.str());
  }

  void stop_above_true_tolerance() {
    double worst = 0;
    for (int c = 0; c < m_; ++c) {
      if (result_.rhs_norms[c] > 0) {
        worst = std::max(worst, result_.true_residual_norms[c] / result_.rhs_norms[c]);
      }
    }
    std::ostringstream why;
    why << "the recurrence met the tolerance " << max_restarts + 1
        << " times, but the recomputed relative residual ||b - A x|| / ||b|| stays at " << worst
        << " (rtol = " << options_.rtol
        << "): the tolerance is below what this precision attains for this problem; loosen "
           "rtol or compute in double";
    stop(StopReason::DivergedTrueResidual, why.str());
  }

  const Operator& A_;
  ConstMatrix b_;
  Matrix x_;
  const SolveOptions& options_;
  int m_;
  Matrix r_, p_, Ap_;
  ColumnDots<Matrix> dots_;
  ColumnCoefficients<Matrix> step_, ones_;
  std::vector<double> threshold_;
  std::vector<bool> active_;
  std::vector<double> rr_, norms_;
  int iteration_ = 0;
  /// The largest Rayleigh quotient seen: the scale against which p^T A p is
  /// judged to be zero.
  double largest_quotient_ = 0;
  SolveResult result_;
};

}  // namespace detail

/// Collective over A.comm(). Solves A x = b for the m columns of b (this rank's
/// rows: n_r x m), writing x (n_r x m). Stops when every column has converged
/// (||r|| <= max(rtol ||b||, atol)) and the recomputed residual b - A x agrees
/// (else it restarts from it), at max_iterations, or at the first sign of
/// trouble (breakdown, NaN/Inf, divergence): it always terminates, and the
/// result says why. A must be symmetric positive definite.
template <class Operator>
SolveResult conjugate_gradient(const Operator& A, const typename Operator::ConstMatrix& b,
                               const typename Operator::Matrix& x, const SolveOptions& options) {
  const detail::ScopedRegion region("kinterp::conjugate_gradient");
  return detail::ConjugateGradientRun<Operator>(A, b, x, options).run();
}

}  // namespace kinterp
