#pragma once
/// \file ConjugateGradient.hpp
/// Distributed (preconditioned) conjugate gradient for m right-hand sides at once.
///
/// Each column has its own step sizes, but all columns share one operator
/// application (and one preconditioner application) per iteration: one kernel
/// product for the whole block. Vector updates and local dot products are
/// Kokkos Kernels BLAS on multivectors; a global dot product is the local one
/// followed by MPI_Allreduce.
///
/// The Operator concept:
///   using execution_space, Matrix (T** view), ConstMatrix (const T** view);
///   MPI_Comm comm() const;                                // the ranks that share the rows
///   void apply(const ConstMatrix& x, const Matrix& y) const;  // y = A x, collective
/// and optionally
///   void apply_accurately(const ConstMatrix& x, const Matrix& y) const;  // collective
/// for an operator whose `apply` is a cheaper approximation (kernel products in
/// float): CG then iterates with `apply`, replaces its recurrence residual by
/// b - A x computed with `apply_accurately` as the residual falls (reliable
/// updates, SolveOptions::residual_replacement), and judges convergence by,
/// and restarts from, that accurate residual, so that its restarts are
/// iterative refinement.
///
/// The Preconditioner concept is in Preconditioner.hpp; the checkpoint file in
/// Checkpoint.hpp.

#include <kinterp/core/Collective.hpp>
#include <kinterp/core/detail/ScopedRegion.hpp>
#include <kinterp/solve/Checkpoint.hpp>
#include <kinterp/solve/Preconditioner.hpp>
#include <kinterp/solve/SolveResult.hpp>
#include <kinterp/solve/detail/ConjugateGradientRun.hpp>

#include <string>

namespace kinterp {

/// Collective over A.comm(). Solves A x = b for the m columns of b (this rank's
/// rows: n_r x m), writing x (n_r x m), by CG preconditioned with M (z =
/// M^-1 r; see Preconditioner.hpp). Stops when every column has converged
/// (||r|| <= max(rtol ||b||, atol)) and the recomputed residual b - A x agrees
/// (else it restarts from it), at max_iterations, or at the first sign of
/// trouble (breakdown, indefinite M, NaN/Inf, divergence, stagnation): it
/// always terminates, and the result says why. A and M must be symmetric
/// positive definite. With options.checkpoint it writes checkpoints, or starts
/// from one (then x's contents and use_initial_guess are ignored); checkpoint
/// I/O errors throw kinterp::Error on every rank.
template <class Operator, class Preconditioner>
SolveResult conjugate_gradient(const Operator& A, const Preconditioner& M,
                               const typename Operator::ConstMatrix& b,
                               const typename Operator::Matrix& x, const SolveOptions& options) {
  const detail::ScopedRegion region("kinterp::conjugate_gradient");
  const CheckpointOptions& checkpoint = options.checkpoint;
  throw_if_any(A.comm(), checkpoint.writes() && checkpoint.every <= 0,
               "checkpoints every " + std::to_string(checkpoint.every) +
                   " iterations: give a positive number of iterations between checkpoints");
  return detail::ConjugateGradientRun<Operator, Preconditioner>(A, M, b, x, options).run();
}

/// Plain CG: conjugate_gradient(A, IdentityPreconditioner(), b, x, options).
template <class Operator>
SolveResult conjugate_gradient(const Operator& A, const typename Operator::ConstMatrix& b,
                               const typename Operator::Matrix& x, const SolveOptions& options) {
  return conjugate_gradient(A, IdentityPreconditioner(), b, x, options);
}

}  // namespace kinterp
