#pragma once
/// \file SolveResult.hpp
/// How a Krylov solve is stopped, and what it reports.

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
};

/// "converged (rtol)", "diverged (breakdown)", ...
std::string to_string(StopReason reason);
inline bool converged(StopReason reason) {
  return reason == StopReason::ConvergedRtol || reason == StopReason::ConvergedAtol;
}

/// Stopping rule: a column has converged when ||r|| <= max(rtol * ||b||, atol).
struct SolveOptions {
  double rtol = 1e-6;
  double atol = 0;
  int max_iterations = 1000;
  double dtol = 1e5;               ///< stop when ||r|| > dtol * ||b||
  bool use_initial_guess = false;  ///< start from the x passed in (else from 0)
  /// Called on every rank after each iteration with the residual norm of each
  /// column (iteration 0: the initial residual). Rank 0 prints, typically.
  std::function<void(int iteration, const std::vector<double>& residual_norms)> monitor;
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
  double seconds = 0;

  bool converged() const { return kinterp::converged(reason); }
  /// max over columns of ||b - A x|| / ||b|| (columns with b = 0 count as 0).
  double relative_residual() const;
};

}  // namespace kinterp
