#pragma once
/// \file KernelSolve.hpp
/// KeOps' KernelSolve: a = argmin ||(alpha I + K_xx) a - b|| by a distributed,
/// matrix-free conjugate gradient (memory linear in N).

#include <kinterp/KernelSum.hpp>
#include <kinterp/solve/SolveResult.hpp>

namespace kinterp {

/// A solve's result plus where the time went in its kernel products.
struct KernelSolveResult : SolveResult {
  double alpha = 0;
  int products = 0;     ///< kernel products computed (iterations + the final check)
  RingTimings product;  ///< summed over the products, this rank
};

/// Throws kinterp::Error unless alpha >= 0 and the options are usable (rtol,
/// atol >= 0 and not both 0, max_iterations >= 0, dtol > 1). Not collective:
/// KernelSolve::solve calls it too; programs may call it before reading data.
void check_solve_parameters(double alpha, const SolveOptions& options);

/// Solves (alpha I + K_xx) a = b for the points x spread over the ranks, with
/// m >= 1 right-hand sides at once. Compiled for T = float and double.
template <class T>
class KernelSolve {
 public:
  using Matrix = typename KernelSum<T>::Matrix;
  using ConstMatrix = typename KernelSum<T>::ConstMatrix;

  /// Collective over `comm`. `points`: this rank's rows of x (n_r x d).
  KernelSolve(MPI_Comm comm, const KernelSpec& kernel, const ConstMatrix& points);

  /// Collective. b: this rank's rows (n_r x m); a: the solution (n_r x m),
  /// also the initial guess when options.use_initial_guess. alpha >= 0.
  /// Throws kinterp::Error on every rank for bad input (shapes, NaN/Inf,
  /// alpha < 0, tolerances). Non-convergence is not thrown: the result says
  /// why it stopped (result.converged(), result.reason, result.detail).
  KernelSolveResult solve(const ConstMatrix& b, const Matrix& a, double alpha,
                          const SolveOptions& options = {}) const;

  /// The fitted model's evaluator: sum_j k(t, x_j) a_j (sources = the points).
  const KernelSum<T>& kernel_sum() const { return sum_; }

 private:
  KernelSum<T> sum_;
};

extern template class KernelSolve<float>;
extern template class KernelSolve<double>;

}  // namespace kinterp
