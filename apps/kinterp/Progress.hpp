#pragma once
// `kinterp solve --progress S`: a line every S seconds with the iteration, the
// residual, the elapsed time and the time left, estimated from the rate at
// which the residual has fallen so far (CG's convergence is roughly linear on
// a log scale, so the estimate improves as the solve goes on).

#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

namespace kinterp::cli {

class Progress {
 public:
  /// Prints on rank `rank` == 0 only; the target is rtol relative to the
  /// first residual seen (||b|| from a zero start), or atol if larger.
  Progress(int rank, double every_seconds, double rtol, double atol)
      : rank_(rank), every_(every_seconds), rtol_(rtol), atol_(atol) {}

  void operator()(int iteration, const std::vector<double>& norms) {
    const double now = MPI_Wtime();
    const double worst = norms.empty() ? 0 : *std::max_element(norms.begin(), norms.end());
    if (iteration == 0) {
      start_ = last_ = now;
      first_ = worst;
      return;
    }
    if (now - last_ < every_ || rank_ != 0) return;
    last_ = now;
    const double elapsed = now - start_, target = std::max(rtol_ * first_, atol_);
    std::printf("  progress: iteration %d, residual %.3e (target %.3e), %.1f s elapsed", iteration,
                worst, target, elapsed);
    // Iterations per decade so far, extrapolated to the target.
    const double fallen = std::log10(first_ / worst), left = std::log10(worst / target);
    if (fallen > 0 && left > 0 && std::isfinite(fallen) && std::isfinite(left)) {
      std::printf(", about %.0f s left\n", elapsed * left / fallen);
    } else {
      std::printf("\n");
    }
    std::fflush(stdout);
  }

 private:
  int rank_;
  double every_, rtol_, atol_;
  double start_ = 0, last_ = 0, first_ = 0;
};

}  // namespace kinterp::cli
