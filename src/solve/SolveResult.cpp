#include <kinterp/solve/SolveResult.hpp>

#include <algorithm>

namespace kinterp {

std::string to_string(StopReason reason) {
  switch (reason) {
    case StopReason::ConvergedRtol:
      return "converged (rtol)";
    case StopReason::ConvergedAtol:
      return "converged (atol)";
    case StopReason::DivergedMaxIterations:
      return "did not converge (maximum iterations reached)";
    case StopReason::DivergedBreakdown:
      return "did not converge (breakdown: p^T A p not positive)";
    case StopReason::DivergedNanOrInf:
      return "did not converge (NaN or infinite residual)";
    case StopReason::DivergedDtol:
      return "did not converge (residual grew past dtol * ||b||)";
    case StopReason::DivergedTrueResidual:
      return "did not converge (the recomputed residual stays above the tolerance)";
  }
  return "unknown";
}

double SolveResult::relative_residual() const {
  double worst = 0;
  const auto& norms = true_residual_norms.empty() ? residual_norms : true_residual_norms;
  for (std::size_t c = 0; c < norms.size() && c < rhs_norms.size(); ++c) {
    if (rhs_norms[c] > 0) worst = std::max(worst, norms[c] / rhs_norms[c]);
  }
  return worst;
}

}  // namespace kinterp
