#pragma once
/// \file KernelSolve.hpp
/// KeOps' KernelSolve: a = argmin ||(alpha I + K_xx) a - b|| by a distributed,
/// matrix-free (preconditioned) conjugate gradient (memory linear in N).

#include <kinterp/KernelSum.hpp>
#include <kinterp/precond/NystromPreconditioner.hpp>
#include <kinterp/precond/VecchiaPreconditioner.hpp>
#include <kinterp/solve/SolveResult.hpp>

#include <string>

namespace kinterp {

/// How KernelSolve computes, beyond CG's stopping rules (SolveOptions).
struct KernelSolveOptions {
  /// The Nystrom preconditioner of (alpha I + K_xx), built for each solve (its
  /// set-up is reported). rank 0 with memory_budget_bytes 0: none, plain CG.
  /// With alpha = 0 it is built with alpha = sqrt(eps) * variance.
  NystromOptions preconditioner;
  /// Or the Vecchia preconditioner (points of 1-3 coordinates): neighbors > 0
  /// builds it for each solve, with the same ridge as the Nystrom one. Memory
  /// per point stays bounded at any N. Not both.
  VecchiaOptions vecchia;
  /// KernelSolve<double> only: kernel products in float (about twice as
  /// fast), CG's vectors and the residual b - A a in double. CG replaces its
  /// recurrence residual by the double b - A a as it falls (reliable updates,
  /// SolveOptions::residual_replacement) and restarts from it if the two still
  /// disagree at the end (iterative refinement; at least 10 restarts are
  /// allowed). So the answer
  /// meets rtol in double wherever that is within reach of the float products;
  /// otherwise the result says so (DivergedTrueResidual) with the residual
  /// attained. Iterations: more than in double (up to twice on the seed's 1D
  /// Gaussian), because each direction is rounded to float for the product.
  bool mixed_precision = false;

  bool nystrom() const { return preconditioner.rank > 0 || preconditioner.memory_budget_bytes > 0; }
  bool preconditioned() const { return nystrom() || vecchia.neighbors > 0; }
};

/// A solve's result plus where the time went in its kernel products.
struct KernelSolveResult : SolveResult {
  double alpha = 0;
  int products = 0;        ///< kernel products computed (iterations + the final check)
  int float_products = 0;  ///< of which in float for mixed precision (the rest in double)
  RingTimings product;     ///< summed over the products, this rank
  bool mixed_precision = false;
  bool preconditioned = false;
  /// The Nystrom preconditioner's set-up: landmarks (rank), setup_seconds,
  /// bytes_per_rank, residual trace; all 0 without one.
  NystromInfo preconditioner;
  /// The Vecchia preconditioner's set-up; neighbors 0 without one.
  VecchiaInfo vecchia;
  double preconditioner_seconds = 0;  ///< this rank's time applying it
  /// The kernel products: "direct" or the tree's settings and work.
  std::string product_engine;
  /// The products' tolerance eps (0: exact to rounding). The residual above
  /// is computed with them; the exact one differs from it by at most
  /// product_residual_bound (relative to ||b||, the worst column):
  /// eps || |K| |a| || / ||b||, from one more product.
  double product_tolerance = 0;
  double product_residual_bound = 0;
};

/// Throws kinterp::Error unless alpha >= 0 and the options are usable (rtol,
/// atol >= 0 and not both 0, max_iterations >= 0, dtol > 1, stagnation and
/// restart settings, checkpoint interval). Not collective: KernelSolve::solve
/// calls it too; programs may call it before reading data.
void check_solve_parameters(double alpha, const SolveOptions& options);

/// Solves (alpha I + K_xx) a = b for the points x spread over the ranks, with
/// m >= 1 right-hand sides at once. Compiled for T = float and double.
template <class T>
class KernelSolve {
 public:
  using Matrix = typename KernelSum<T>::Matrix;
  using ConstMatrix = typename KernelSum<T>::ConstMatrix;

  /// Collective over `comm`. `points`: this rank's rows of x (n_r x d).
  /// `product` chooses the products' engine (direct by default); with
  /// mixed precision the float products take the same engine, a tree at
  /// the larger of its tolerance and float's smallest (1e-6).
  KernelSolve(MPI_Comm comm, const KernelSpec& kernel, const ConstMatrix& points,
              const ProductOptions& product = {});

  /// Collective. b: this rank's rows (n_r x m); a: the solution (n_r x m),
  /// also the initial guess when options.use_initial_guess. alpha >= 0.
  /// Throws kinterp::Error on every rank for bad input (shapes, NaN/Inf,
  /// alpha < 0, tolerances, preconditioner settings, mixed precision in float,
  /// an unreadable or foreign checkpoint) and checkpoint write failures.
  /// Non-convergence is not thrown: the result says why it stopped
  /// (result.converged(), result.reason, result.detail).
  KernelSolveResult solve(const ConstMatrix& b, const Matrix& a, double alpha,
                          const SolveOptions& options, const KernelSolveOptions& how) const;
  KernelSolveResult solve(const ConstMatrix& b, const Matrix& a, double alpha,
                          const SolveOptions& options = {}) const {
    return solve(b, a, alpha, options, KernelSolveOptions{});
  }

  /// The same with a preconditioner built once for many solves (kriging's
  /// batches of variance columns, refits with new values): it must have been
  /// built for this kernel and these points; its own alpha is used in it, and
  /// the result reports its set-up as built.
  KernelSolveResult solve(const ConstMatrix& b, const Matrix& a, double alpha,
                          const SolveOptions& options,
                          const NystromPreconditioner<T>& preconditioner) const;
  KernelSolveResult solve(const ConstMatrix& b, const Matrix& a, double alpha,
                          const SolveOptions& options,
                          const VecchiaPreconditioner<T>& preconditioner) const;

  /// The fitted model's evaluator: sum_j k(t, x_j) a_j (sources = the points).
  const KernelSum<T>& kernel_sum() const { return sum_; }

 private:
  /// The preconditioners given, or built from `how` where none is.
  struct Prebuilt {
    const NystromPreconditioner<T>* nystrom = nullptr;
    const VecchiaPreconditioner<T>* vecchia = nullptr;
  };
  KernelSolveResult solve_with(const ConstMatrix& b, const Matrix& a, double alpha,
                               const SolveOptions& options, const KernelSolveOptions& how,
                               Prebuilt prebuilt) const;

  KernelSum<T> sum_;
  ProductOptions product_options_;
};

extern template class KernelSolve<float>;
extern template class KernelSolve<double>;

}  // namespace kinterp
