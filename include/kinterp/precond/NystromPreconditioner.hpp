#pragma once
/// \file NystromPreconditioner.hpp
/// A Nystrom preconditioner for (alpha I + K): K ~ F F^T of rank k by (randomly)
/// pivoted Cholesky over the distributed points, applied through Woodbury as
/// (F F^T + alpha I)^{-1}. With k past the number of eigenvalues of K above
/// alpha, preconditioned CG needs tens of iterations where plain CG needs
/// hundreds or thousands (Diaz, Epperly, Frangella, Tropp, Webber 2023).

#include <kinterp/core/Communicator.hpp>
#include <kinterp/kernels/KernelSpec.hpp>

#include <mpi.h>
#include <Kokkos_Core.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace kinterp {

/// How the landmarks (pivots) of the Nystrom approximation are chosen.
enum class PivotRule {
  /// Randomly pivoted Cholesky (Chen, Epperly, Tropp, Webber 2023): each pivot
  /// drawn with probability proportional to the residual diagonal of
  /// K - F F^T. Near-optimal approximations at k ~ the effective rank, and
  /// never stuck on one cluster. The default.
  RandomlyPivotedCholesky,
  /// The largest residual diagonal (ties: the lowest global row). Deterministic;
  /// tends to pick outliers and boundary points first.
  Greedy,
  /// Landmarks drawn uniformly (classical Nystrom), among the points not yet in
  /// the span of the previous ones (so never a duplicate); poor when the points
  /// are unevenly spread.
  Uniform,
};

/// "rpcholesky", "greedy", "uniform".
std::string to_string(PivotRule rule);
/// The inverse of to_string; throws kinterp::Error (with a suggestion) for other names.
PivotRule pivot_rule_from_name(const std::string& name);

struct NystromOptions {
  /// k, the number of landmarks; 0: as many as memory_budget_bytes allows. Values
  /// above the global number of points are clamped to it.
  int rank = 0;
  /// Bytes per rank for the factor (this rank's n_r x k rows of F, plus the
  /// replicated k x k Cholesky factor of the Woodbury core). With rank > 0 too,
  /// k is the smaller of the two.
  std::size_t memory_budget_bytes = 0;
  PivotRule pivots = PivotRule::RandomlyPivotedCholesky;
  /// The landmarks depend on the seed only, not on the number of ranks.
  std::uint64_t seed = 0;
  /// Candidate pivots drawn per block step, 1 to 128 (0: 128). Each step costs
  /// two small collectives (three for Greedy) and one pass over this rank's rows
  /// of F; larger blocks mean fewer steps but more rejected candidates and a
  /// larger triangular solve per row.
  int block_size = 0;
  /// Stop early when tr(K - F F^T) <= tolerance * tr(K) (K numerically of lower
  /// rank), and reject pivots whose residual is below tolerance * max K_ii.
  /// 0: 100 * machine epsilon of T.
  double tolerance = 0;
};

/// What the set-up produced and cost.
struct NystromInfo {
  int rank = 0;                      ///< landmarks used (below requested_rank when K is deficient)
  int requested_rank = 0;            ///< k after clamping to N and to the memory budget
  double setup_seconds = 0;          ///< this rank's time in the constructor
  std::size_t bytes_per_rank = 0;    ///< this rank's F (padded to 8 x 8 blocks) + the k x k core
  double residual_trace = 0;         ///< tr(K - F F^T), global
  double trace = 0;                  ///< tr(K), global
  int steps = 0;                     ///< block steps of the pivoted Cholesky
  std::int64_t candidates = 0;       ///< candidate pivots examined (accepted or rejected)
  std::vector<std::int64_t> pivots;  ///< global rows of the landmarks, in the order chosen
};

/// P = F F^T + alpha I, the preconditioner of (alpha I + K) for (P)CG, with F
/// (n x k) the pivoted Cholesky factor of the kernel matrix K of the points:
/// F F^T = K(:, S) K(S, S)^{-1} K(S, :) for the landmarks S. Each rank holds its
/// rows of F; the k x k Woodbury core is replicated. Compiled for T = float and
/// double on Kokkos' default execution space; internal k x k work and all sums
/// are in double (F is stored in T).
///
/// Set-up: N k kernel evaluations and about 2 N k^2 flops over all ranks (the
/// Cholesky columns and the Gram matrix F^T F), k^3 / 3 on every rank for the
/// core. Apply: 4 n_r k m flops in two passes over this rank's F (bound by
/// memory bandwidth), 2 k^2 m on the core, one MPI_Allreduce of k m numbers.
template <class T>
class NystromPreconditioner {
 public:
  using execution_space = Kokkos::DefaultExecutionSpace;
  using memory_space = execution_space::memory_space;
  using Matrix = Kokkos::View<T**, Kokkos::LayoutRight, memory_space>;
  using ConstMatrix = Kokkos::View<const T**, Kokkos::LayoutRight, memory_space>;

  /// Collective over `comm` (duplicated inside). `points`: this rank's rows (n_r x d,
  /// n_r may be 0, d the same on every rank), in the global order rank 0's rows
  /// first. `kernel`: its variance included. `alpha` > 0: the ridge of
  /// (alpha I + K). To precondition an interpolation problem (alpha = 0), build
  /// P with a small alpha (about 1e-8 * variance in double): still a good
  /// preconditioner.
  /// Throws kinterp::Error on every rank for an invalid kernel, alpha <= 0,
  /// NaN/Inf points, ranks that disagree on d, rank < 0, no rank nor budget, a
  /// budget below one column, or alpha below the rounding level of F^T F.
  NystromPreconditioner(MPI_Comm comm, const KernelSpec& kernel, const ConstMatrix& points,
                        double alpha, const NystromOptions& options);

  /// Collective. z = (F F^T + alpha I)^{-1} r for this rank's rows of r (n_r x m,
  /// m the same on every rank); z may be r itself. Throws kinterp::Error on every
  /// rank for mismatched shapes.
  void apply(const ConstMatrix& r, const Matrix& z) const;

  /// log det(F F^T + alpha I), from the Woodbury core. Not collective. (The
  /// base of stochastic log-determinant estimates: log det A = log det P +
  /// tr log(P^-1/2 A P^-1/2).)
  double log_determinant() const;

  const NystromInfo& info() const { return info_; }
  double alpha() const { return alpha_; }
  MPI_Comm comm() const { return comm_.get(); }
  /// A copy of this rank's rows of F (n_r x info().rank), for inspection. Not
  /// collective.
  Matrix factor() const;

 private:
  /// panel(b, p, w) = F(8 b + w, p): rows in blocks of 8 (zeros past n_r), each
  /// block's columns contiguous, so that every loop over F reads memory in order.
  using FactorStorage = Kokkos::View<T***, Kokkos::LayoutRight, memory_space>;
  using HostMatrix = Kokkos::View<double**, Kokkos::LayoutRight, Kokkos::HostSpace>;

  Communicator comm_;
  double alpha_;
  std::int64_t local_rows_;
  std::int64_t global_rows_ = 0;
  NystromInfo info_;
  FactorStorage factor_;
  /// Lower Cholesky factor of the Woodbury core alpha I + F^T F (k x k).
  HostMatrix core_;
};

extern template class NystromPreconditioner<float>;
extern template class NystromPreconditioner<double>;

}  // namespace kinterp
