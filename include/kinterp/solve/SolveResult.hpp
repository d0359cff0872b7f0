#pragma once
/// \file SolveResult.hpp
/// How a Krylov solve is stopped, and what it reports.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace kinterp {

/// Why the solver stopped (PETSc's names, for PETSc users).
enum class StopReason {
  ConvergedRtol,          ///< ||r|| <= rtol * ||b|| in every column
  ConvergedAtol,          ///< ||r|| <= atol in every column (and atol was the larger bound)
  DivergedMaxIterations,  ///< max_iterations reached first
  DivergedBreakdown,      ///< p^T A p not positive: A singular or indefinite to working precision
  DivergedNanOrInf,       ///< a residual became NaN or infinite
  DivergedDtol,           ///< ||r|| > dtol * ||b||: the iteration blew up
  DivergedTrueResidual,   ///< the recurrence converged, b - A x stays above the tolerance
  DivergedStagnation,     ///< no progress over SolveOptions::stagnation_window iterations
  DivergedIndefinitePreconditioner,  ///< r^T M^-1 r not positive: M is not positive definite
};

/// "converged (rtol)", "diverged (breakdown)", ...
std::string to_string(StopReason reason);
inline bool converged(StopReason reason) {
  return reason == StopReason::ConvergedRtol || reason == StopReason::ConvergedAtol;
}

/// Checkpoints of a long solve (see solve/Checkpoint.hpp for the file): the
/// state is written every `every` iterations (and when max_iterations stops the
/// solve), and a solve given `restart_path` continues from such a file to the
/// answer, and the iteration count, of an uninterrupted run.
struct CheckpointOptions {
  std::string path;          ///< where to write checkpoints; empty: none
  int every = 0;             ///< iterations between checkpoints (> 0 when path is set)
  std::string restart_path;  ///< resume from this checkpoint; empty: start afresh
  /// Identifies the operator and preconditioner (b is fingerprinted by the
  /// solver itself): a restart refuses a checkpoint written with another value.
  /// KernelSolve sets it from the kernel, the points, alpha, the precision and
  /// the preconditioner.
  std::uint64_t problem_fingerprint = 0;

  bool writes() const { return !path.empty(); }
  bool restarts() const { return !restart_path.empty(); }
};

/// Stopping rule: a column has converged when ||r|| <= max(rtol * ||b||, atol).
struct SolveOptions {
  double rtol = 1e-6;
  double atol = 0;
  int max_iterations = 1000;
  double dtol = 1e5;               ///< stop when ||r|| > dtol * ||b||
  bool use_initial_guess = false;  ///< start from the x passed in (else from 0)
  /// Stagnation: a column whose smallest residual norm has not fallen below
  /// stagnation_factor times its value of stagnation_window iterations earlier
  /// stops the solve (DivergedStagnation); 0 turns the check off. CG residuals
  /// are not monotone, so the window is long: on a Gaussian system with
  /// alpha = 1e-4 (N = 5000, 2D, sigma = 0.1) plain CG's residual rose 40-fold
  /// and took 545 iterations to fall 10% below its early low, then converged
  /// after 4429. What stalls for 1000 iterations is nearly always a
  /// preconditioner or operator that is not symmetric positive definite (or
  /// changes between applications), or a hopelessly ill-conditioned one.
  int stagnation_window = 1000;
  double stagnation_factor = 0.9;
  /// How often CG restarts from the recomputed residual b - A x when the
  /// recurrence says converged but b - A x does not (finite precision drift;
  /// with mixed precision each restart is a step of iterative refinement).
  int max_restarts = 3;
  /// Reliable updates, for an operator whose `apply` is approximate (it has
  /// `apply_accurately`: mixed precision): CG replaces its recurrence residual
  /// by b - A x computed accurately whenever ||r|| has fallen below this factor
  /// times its largest value since the last replacement (as QUDA's
  /// mixed-precision CG does). The recurrence then never runs below what the
  /// approximate products resolve, which would waste iterations. 0: only when
  /// the recurrence has converged (plain iterative refinement by restarts).
  double residual_replacement = 0.01;
  /// Called on every rank after each iteration with the residual norm of each
  /// column (iteration 0: the initial residual). Rank 0 prints, typically.
  std::function<void(int iteration, const std::vector<double>& residual_norms)> monitor;
  /// The CG coefficients, for Lanczos quadrature (see LanczosQuadrature.hpp,
  /// whose LanczosRecorder::callback() fits here). Called on every rank, with
  /// the same values on all, after CG iteration j = 1, 2, ... of the first
  /// pass, with per column c:
  ///   step[c]   alpha_j = r_{j-1}^T z_{j-1} / p_j^T A p_j  (x_j = x_{j-1} + alpha_j p_j),
  ///   beta[c]   beta_j = r_j^T z_j / r_{j-1}^T z_{j-1}  (z = M^-1 r, or r without M),
  ///   active[c] whether column c was still iterating at the START of iteration j.
  /// Both step[c] and beta[c] are valid exactly when active[c] is true, also
  /// in the iteration in which the column converges (beta_j then comes from
  /// its final residual; it is not needed for the Lanczos matrix, whose size is
  /// the number of active iterations). For a column retired earlier they are
  /// 0 and meaningless. The recurrence of the first pass, started from r_0 =
  /// b - A x_0 (r_0 = b without use_initial_guess), is the Lanczos process on
  /// M^-1/2 A M^-1/2 from M^-1/2 r_0: the coefficients describe it only while
  /// the residual comes from that recurrence, so the callback is not called
  /// after a restart from the recomputed residual (SolveResult::restarts),
  /// nor from the iteration in which a reliable update replaced the residual
  /// (SolveResult::replacements; mixed-precision operators) onwards, nor in a
  /// solve resumed from a checkpoint. Nor is it called for an iteration that
  /// stops at a breakdown (p^T A p not positive). Unset: no cost.
  std::function<void(int iteration, const std::vector<double>& step,
                     const std::vector<double>& beta, const std::vector<bool>& active)>
      lanczos_coefficients;
  CheckpointOptions checkpoint;
};

/// What a solve did. Norms are per right-hand side (column).
struct SolveResult {
  StopReason reason = StopReason::DivergedMaxIterations;
  int iterations = 0;
  std::string detail;                        ///< one sentence on why it stopped, with the numbers
  std::vector<double> rhs_norms;             ///< ||b||
  std::vector<double> residual_norms;        ///< the recurrence's ||r|| at the end
  std::vector<double> true_residual_norms;   ///< ||b - A x|| recomputed at the end
  std::vector<std::vector<double>> history;  ///< residual norms per iteration (0 = initial)
  int restarts = 0;                          ///< restarts from the recomputed residual
  int replacements = 0;           ///< reliable updates (see SolveOptions::residual_replacement)
  int resumed_from = -1;          ///< the checkpoint's iteration when restarted from one, else -1
  int checkpoints_written = 0;    ///< checkpoint files written by this run
  double checkpoint_seconds = 0;  ///< time spent writing and reading checkpoints
  double seconds = 0;

  bool converged() const { return kinterp::converged(reason); }
  /// max over columns of ||b - A x|| / ||b|| (columns with b = 0 count as 0).
  double relative_residual() const;
  /// max over columns of the recurrence's ||r|| / ||b||.
  double recurrence_relative_residual() const;
  /// Whether the recurrence and the recomputed residual disagree by more than
  /// a factor 2 (plus rounding) in some column: then only the recomputed one
  /// describes x.
  bool residuals_disagree() const;
};

}  // namespace kinterp
