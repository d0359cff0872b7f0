#pragma once
/// \file ConjugateGradientRun.hpp
/// The state and steps of one run of block CG (see ConjugateGradient.hpp for
/// the method, the Operator concept and the stopping rules).

#include <kinterp/core/Partition.hpp>
#include <kinterp/solve/Checkpoint.hpp>
#include <kinterp/solve/Preconditioner.hpp>
#include <kinterp/solve/SolveResult.hpp>
#include <kinterp/solve/detail/CheckpointRows.hpp>
#include <kinterp/solve/detail/ColumnCoefficients.hpp>
#include <kinterp/solve/detail/ColumnDots.hpp>

#include <mpi.h>
#include <KokkosBlas1_axpby.hpp>
#include <KokkosBlas1_update.hpp>
#include <Kokkos_Core.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace kinterp::detail {

/// Whether Operator has apply_accurately (see the file comment).
template <class Operator, class = void>
struct HasAccurateApply : std::false_type {};
template <class Operator>
struct HasAccurateApply<Operator,
                        std::void_t<decltype(std::declval<const Operator&>().apply_accurately(
                            std::declval<const typename Operator::ConstMatrix&>(),
                            std::declval<const typename Operator::Matrix&>()))>> : std::true_type {
};

/// One run of CG; conjugate_gradient (ConjugateGradient.hpp) is its interface.
template <class Operator, class Preconditioner>
class ConjugateGradientRun {
 public:
  using Matrix = typename Operator::Matrix;
  using ConstMatrix = typename Operator::ConstMatrix;
  using T = typename Matrix::non_const_value_type;

  /// With M = I, z is r itself: no copy, no extra dot product.
  static constexpr bool preconditioned = !is_identity_preconditioner_v<Preconditioner>;
  /// Whether `apply` approximates `apply_accurately` (mixed precision).
  static constexpr bool approximate = HasAccurateApply<Operator>::value;

  ConjugateGradientRun(const Operator& A, const Preconditioner& M, const ConstMatrix& b,
                       const Matrix& x, const SolveOptions& options)
      : A_(A),
        M_(M),
        b_(b),
        x_(x),
        options_(options),
        m_(static_cast<int>(b.extent(1))),
        r_(alloc("kinterp::cg::r")),
        z_(preconditioned ? alloc("kinterp::cg::z") : r_),
        p_(alloc("kinterp::cg::p")),
        Ap_(alloc("kinterp::cg::Ap")),
        dots_(A.comm(), m_),
        step_("kinterp::cg::step", m_),
        ones_("kinterp::cg::ones", m_),
        threshold_(m_),
        active_(m_),
        rz_(m_),
        norms_(m_),
        replacement_norms_(m_),
        mark_norms_(m_),
        mark_iterations_(m_) {
    ones_.set([](int) { return 1; });
  }

  SolveResult run() {
    const double start = MPI_Wtime();
    result_.rhs_norms = square_roots(dots_(b_, b_));
    for (int c = 0; c < m_; ++c) {
      threshold_[c] = std::max(options_.rtol * result_.rhs_norms[c], options_.atol);
    }
    const CheckpointOptions& checkpoint = options_.checkpoint;
    if (checkpoint.writes() || checkpoint.restarts()) describe_problem();
    bool done = false;
    if (checkpoint.restarts()) {
      resume();
    } else {
      if (options_.use_initial_guess) {
        compute_true_residual();
      } else {
        Kokkos::deep_copy(x_, T(0));
        Kokkos::deep_copy(r_, b_);
      }
      done = restart_from_residual();
      record();
    }
    for (;;) {
      while (!done && iteration_ < options_.max_iterations) {
        done = iterate();
        if (!done && checkpoint.writes() && iteration_ % checkpoint.every == 0) save();
      }
      if (!done) {
        // A run stopped here can go on from the file with a larger max_iterations.
        if (checkpoint.writes() && last_checkpoint_ != iteration_) save();
        stop_at_max_iterations();
      }
      compute_true_residual();
      result_.true_residual_norms = square_roots(dots_(r_, r_));
      if (!result_.converged() || true_residual_within_tolerance()) break;
      if (restarts_ == options_.max_restarts) {
        stop_above_true_tolerance();
        break;
      }
      ++restarts_;
      done = restart_from_residual();
    }
    result_.iterations = iteration_;
    result_.restarts = restarts_;
    result_.replacements = replacements_;
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

  /// r = b - A x, with the accurate operator when there is one.
  void compute_true_residual() {
    if constexpr (approximate) {
      A_.apply_accurately(x_, Ap_);
    } else {
      A_.apply(x_, Ap_);
    }
    KokkosBlas::update(T(1), b_, T(-1), Ap_, T(0), r_);
  }

  /// [r.r per column, r.z per column] after z = M^-1 r (one reduction).
  std::pair<std::vector<double>, std::vector<double>> precondition() {
    if constexpr (preconditioned) {
      M_.apply(r_, z_);
      const std::vector<double> both = dots_(r_, r_, r_, z_);
      return {std::vector<double>(both.begin(), both.begin() + m_),
              std::vector<double>(both.begin() + m_, both.end())};
    } else {
      std::vector<double> rr = dots_(r_, r_);
      return {rr, rr};
    }
  }

  /// Starts (or restarts) the recurrence from the residual in r: p = z, every
  /// column active again. Returns true when that already ends the solve.
  bool restart_from_residual() {
    auto [rr, rz] = precondition();
    Kokkos::deep_copy(p_, z_);
    rz_ = std::move(rz);
    norms_ = square_roots(std::move(rr));
    std::fill(active_.begin(), active_.end(), true);
    for (int c = 0; c < m_; ++c) {
      mark_norms_[c] = norms_[c];
      mark_iterations_[c] = iteration_;
      replacement_norms_[c] = norms_[c];
    }
    return check_residuals() || check_preconditioner();
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
      alpha[c] = rz_[c] / pAp;
    }
    KokkosBlas::axpby(step_.set([&](int c) { return alpha[c]; }), p_, ones_.device, x_);
    KokkosBlas::axpby(step_.set([&](int c) { return -alpha[c]; }), Ap_, ones_.device, r_);
    auto [rr, rz] = precondition();
    if constexpr (approximate) {
      if (replacement_due(rr)) std::tie(rr, rz) = replace_residual();
    }
    std::vector<double> beta(m_, 0.0);
    for (int c = 0; c < m_; ++c) beta[c] = active_[c] ? rz[c] / rz_[c] : 0.0;
    rz_ = std::move(rz);
    norms_ = square_roots(std::move(rr));
    record();
    // active_ still says which columns iterated in this iteration: check_residuals retires.
    if (options_.lanczos_coefficients && lanczos_intact()) {
      options_.lanczos_coefficients(iteration_, alpha, beta, active_);
    }
    if (check_residuals() || check_preconditioner()) return true;
    // p = z + beta p
    KokkosBlas::axpby(ones_.device, z_, step_.set([&](int c) { return beta[c]; }), p_);
    return false;
  }

  /// Whether the recurrence is still the Lanczos process started from the
  /// first residual (see SolveOptions::lanczos_coefficients).
  bool lanczos_intact() const {
    return restarts_ == 0 && replacements_ == 0 && result_.resumed_from < 0;
  }

  /// Reliable updates: whether some active column's ||r|| (squared in rr) has
  /// fallen below residual_replacement times its largest value since the last
  /// replacement.
  bool replacement_due(const std::vector<double>& rr) {
    bool due = false;
    for (int c = 0; c < m_; ++c) {
      const double norm = std::sqrt(rr[c]);
      replacement_norms_[c] = std::max(replacement_norms_[c], norm);
      due = due || (active_[c] && norm < options_.residual_replacement * replacement_norms_[c]);
    }
    return due;
  }

  /// r = b - A x computed accurately; [r.r, r.z] of the new r.
  std::pair<std::vector<double>, std::vector<double>> replace_residual() {
    compute_true_residual();
    ++replacements_;
    auto dots = precondition();
    for (int c = 0; c < m_; ++c) replacement_norms_[c] = std::sqrt(dots.first[c]);
    return dots;
  }

  /// Retires the columns that have converged; returns true when the solve is
  /// over (all converged, or a residual that is NaN/Inf, past dtol, or stagnant).
  bool check_residuals() {
    const int window = options_.stagnation_window;
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
        continue;
      }
      if (norms_[c] > options_.dtol * result_.rhs_norms[c]) {
        why << "the residual of column " << c << " grew to " << norms_[c]
            << " > dtol * ||b|| = " << options_.dtol * result_.rhs_norms[c] << " at iteration "
            << iteration_;
        return stop(StopReason::DivergedDtol, why.str());
      }
      if (norms_[c] <= options_.stagnation_factor * mark_norms_[c]) {
        mark_norms_[c] = norms_[c];
        mark_iterations_[c] = iteration_;
      } else if (window > 0 && iteration_ - mark_iterations_[c] >= window) {
        why << "the residual of column " << c << " has not fallen below "
            << options_.stagnation_factor << " x " << mark_norms_[c] << " since iteration "
            << mark_iterations_[c] << " (" << window << " iterations; now " << norms_[c]
            << "): CG is not making progress. A preconditioner must be symmetric positive "
               "definite and the same at every application (try without it); otherwise the "
               "operator is too ill-conditioned: increase the ridge (alpha; kinterp krige: "
               "--nugget), or if progress is only slow, "
               "raise --stagnation-window (SolveOptions::stagnation_window)";
        return stop(StopReason::DivergedStagnation, why.str());
      }
    }
    if (std::any_of(active_.begin(), active_.end(), [](bool a) { return a; })) return false;
    bool by_rtol = true;
    for (int c = 0; c < m_; ++c) {
      by_rtol = by_rtol && threshold_[c] == options_.rtol * result_.rhs_norms[c];
    }
    return stop(by_rtol ? StopReason::ConvergedRtol : StopReason::ConvergedAtol, "");
  }

  /// r^T M^-1 r must be positive in every active column: returns true (the
  /// solve is over) when it is not.
  bool check_preconditioner() {
    if constexpr (preconditioned) {
      for (int c = 0; c < m_; ++c) {
        if (!active_[c] || rz_[c] > 0) continue;
        std::ostringstream why;
        if (!std::isfinite(rz_[c])) {
          why << "r^T M^-1 r is " << rz_[c] << " in column " << c << " at iteration " << iteration_;
          return stop(StopReason::DivergedNanOrInf, why.str());
        }
        why << "r^T M^-1 r = " << rz_[c] << " in column " << c << " at iteration " << iteration_
            << " is not positive although ||r|| = " << norms_[c]
            << ": the preconditioner is not positive definite; solve without it or build it "
               "with a larger rank or ridge (alpha; kinterp krige: --nugget)";
        return stop(StopReason::DivergedIndefinitePreconditioner, why.str());
      }
    }
    return false;
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
    why << "the recurrence met the tolerance " << restarts_ + 1
        << (restarts_ == 0 ? " time" : " times")
        << ", but the recomputed relative residual ||b - A x|| / ||b|| stays at " << worst
        << " (rtol = " << options_.rtol
        << "): the tolerance is below what this precision attains for this problem; loosen "
           "rtol or compute in double";
    stop(StopReason::DivergedTrueResidual, why.str());
  }

  // ---- Checkpoints --------------------------------------------------------------------

  /// N, this rank's global rows and the fingerprint of b: what a checkpoint must match.
  void describe_problem() {
    const MPI_Comm comm = A_.comm();
    block_ = global_block(comm, static_cast<std::int64_t>(b_.extent(0)));
    std::int64_t rows = block_.count;
    MPI_Allreduce(MPI_IN_PLACE, &rows, 1, MPI_INT64_T, MPI_SUM, comm);
    problem_.item_size = static_cast<int>(sizeof(T));
    problem_.global_rows = rows;
    problem_.columns = m_;
    problem_.vectors = 3;
    problem_.rhs_fingerprint = fingerprint_rows(comm, b_);
    problem_.problem_fingerprint = options_.checkpoint.problem_fingerprint;
  }

  /// Writes the state at the top of the next iteration (collective).
  void save() {
    const double start = MPI_Wtime();
    CheckpointState state;
    state.problem = problem_;
    state.iteration = iteration_;
    state.restarts = restarts_;
    state.replacements = replacements_;
    state.largest_quotient = largest_quotient_;
    state.rhs_norms = result_.rhs_norms;
    state.rz = rz_;
    state.residual_norms = norms_;
    state.replacement_norms = replacement_norms_;
    state.mark_norms = mark_norms_;
    state.mark_iterations.assign(mark_iterations_.begin(), mark_iterations_.end());
    state.active.assign(active_.begin(), active_.end());
    state.history = result_.history;
    state.rows = block_;
    state.row_bytes = pack_checkpoint_rows({x_, r_, p_});
    write_checkpoint(A_.comm(), options_.checkpoint.path, state);
    last_checkpoint_ = iteration_;
    ++result_.checkpoints_written;
    result_.checkpoint_seconds += MPI_Wtime() - start;
  }

  /// Loads the state of options.checkpoint.restart_path (collective).
  void resume() {
    const double start = MPI_Wtime();
    const CheckpointState state =
        read_checkpoint(A_.comm(), options_.checkpoint.restart_path, problem_, block_);
    unpack_checkpoint_rows(state.row_bytes, {x_, r_, p_});
    iteration_ = static_cast<int>(state.iteration);
    restarts_ = static_cast<int>(state.restarts);
    replacements_ = static_cast<int>(state.replacements);
    largest_quotient_ = state.largest_quotient;
    rz_ = state.rz;
    norms_ = state.residual_norms;
    replacement_norms_ = state.replacement_norms;
    mark_norms_ = state.mark_norms;
    for (int c = 0; c < m_; ++c) {
      mark_iterations_[c] = static_cast<int>(state.mark_iterations[c]);
      active_[c] = state.active[c] != 0;
    }
    result_.history = state.history;
    result_.resumed_from = iteration_;
    last_checkpoint_ = iteration_;
    result_.checkpoint_seconds += MPI_Wtime() - start;
  }

  const Operator& A_;
  const Preconditioner& M_;
  ConstMatrix b_;
  Matrix x_;
  const SolveOptions& options_;
  int m_;
  Matrix r_, z_, p_, Ap_;
  ColumnDots<Matrix> dots_;
  ColumnCoefficients<Matrix> step_, ones_;
  std::vector<double> threshold_;
  std::vector<bool> active_;
  std::vector<double> rz_, norms_;
  /// Reliable updates: the largest ||r|| since the last replacement.
  std::vector<double> replacement_norms_;
  /// Stagnation: the residual norm to beat (by stagnation_factor) and since when.
  std::vector<double> mark_norms_;
  std::vector<int> mark_iterations_;
  int iteration_ = 0;
  int restarts_ = 0;
  int replacements_ = 0;
  /// The largest Rayleigh quotient seen: the scale against which p^T A p is
  /// judged to be zero.
  double largest_quotient_ = 0;
  CheckpointProblem problem_;
  RowBlock block_;
  int last_checkpoint_ = -1;
  SolveResult result_;
};

}  // namespace kinterp::detail
