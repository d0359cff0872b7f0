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
      return "diverged (maximum iterations reached)";
    case StopReason::DivergedBreakdown:
      return "diverged (breakdown)";
    case StopReason::DivergedNanOrInf:
      return "diverged (NaN or infinite residual)";
    case StopReason::DivergedDtol:
      return "diverged (residual grew past dtol * ||b||)";
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
