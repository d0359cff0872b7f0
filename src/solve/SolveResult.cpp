#include <kinterp/core/detail/EnumNames.hpp>
#include <kinterp/solve/SolveResult.hpp>

#include <algorithm>
#include <cmath>

namespace kinterp {

namespace {
constexpr detail::EnumName<StopReason> stop_reason_names[] = {
    {StopReason::ConvergedRtol, "converged (rtol)"},
    {StopReason::ConvergedAtol, "converged (atol)"},
    {StopReason::DivergedMaxIterations, "did not converge (maximum iterations reached)"},
    {StopReason::DivergedBreakdown, "did not converge (breakdown: p^T A p not positive)"},
    {StopReason::DivergedNanOrInf, "did not converge (NaN or infinite residual)"},
    {StopReason::DivergedDtol, "did not converge (residual grew past dtol * ||b||)"},
    {StopReason::DivergedTrueResidual,
     "did not converge (the recomputed residual stays above the tolerance)"},
    {StopReason::DivergedStagnation,
     "did not converge (stagnation: no progress over the stagnation window)"},
    {StopReason::DivergedIndefinitePreconditioner,
     "did not converge (indefinite preconditioner: r^T M^-1 r not positive)"}};
}  // namespace

std::string to_string(StopReason reason) {
  return detail::name_in(stop_reason_names, reason, "unknown");
}

namespace {
double worst_relative(const std::vector<double>& norms, const std::vector<double>& rhs_norms) {
  double worst = 0;
  for (std::size_t c = 0; c < norms.size() && c < rhs_norms.size(); ++c) {
    if (rhs_norms[c] > 0) worst = std::max(worst, norms[c] / rhs_norms[c]);
  }
  return worst;
}
}  // namespace

double SolveResult::relative_residual() const {
  return worst_relative(true_residual_norms.empty() ? residual_norms : true_residual_norms,
                        rhs_norms);
}

double SolveResult::recurrence_relative_residual() const {
  return worst_relative(residual_norms, rhs_norms);
}

bool SolveResult::residuals_disagree() const {
  for (std::size_t c = 0;
       c < true_residual_norms.size() && c < residual_norms.size() && c < rhs_norms.size(); ++c) {
    const double t = true_residual_norms[c], r = residual_norms[c];
    // Rounding alone moves b - A x by ~1e-14 ||b|| in double.
    if (std::fabs(t - r) > std::max(0.5 * std::max(t, r), 1e-14 * rhs_norms[c])) return true;
  }
  return false;
}

}  // namespace kinterp
