#pragma once
/// \file VecchiaPreconditioner.hpp
/// A Vecchia preconditioner for Theta = alpha I + K in 1-3 dimensions: the
/// sparse inverse Cholesky factor that is optimal in Kullback-Leibler
/// divergence for its sparsity pattern (Schaefer, Katzfuss and Owhadi 2021),
///
///   Theta^-1 ~ P^-1 = B^T D^-1 B,
///
/// B unit lower triangular in a coarse-to-fine order of the points, with row i
/// holding -b_i on point i's conditioning set c(i) (up to k of the points
/// before it, nearest first): b_i = Theta(i, c) Theta(c, c)^-1 and d_i =
/// Theta(i, i) - b_i Theta(c, i), the conditional of point i on its set. Memory
/// and work grow like N k, at any N (about 24 k bytes per point in double);
/// unlike a Nystrom factor of fixed rank it keeps the short length scales,
/// which is what kriging with a small nugget at large N needs.

#include <kinterp/core/Communicator.hpp>
#include <kinterp/dist/SpatialPartition.hpp>
#include <kinterp/kernels/KernelSpec.hpp>

#include <mpi.h>
#include <Kokkos_Core.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace kinterp {

struct VecchiaOptions {
  /// k, the most points each point's conditional is taken on (30 is a good
  /// start; more costs k^3 / 3 flops per point at set-up and 4 k m per
  /// application, and helps when alpha is small). 0: no Vecchia factor.
  int neighbors = 0;
};

/// What the set-up produced and cost.
struct VecchiaInfo {
  int neighbors = 0;               ///< k as asked
  double mean_set_size = 0;        ///< the conditioning sets' mean size, over all ranks
  int levels = 0;                  ///< levels of the coarse-to-fine ordering (the most on any rank)
  std::int64_t halo_points = 0;    ///< copies of other ranks' points the sets reach, over all ranks
  double setup_seconds = 0;        ///< this rank's time in the constructor
  std::size_t bytes_per_rank = 0;  ///< this rank's factor and the partition's maps
};

/// Each rank holds the rows of B of its block of a spatial partition of the
/// points (the Hilbert curve's, as the tree product uses), ordered coarse to
/// fine on grids over the global box; across ranks the order is (level,
/// rank, place), and a set may hold other ranks' points near the block (its
/// halo, exchanged once at set-up; each application moves r to the halo and
/// partial sums back). The factor depends on the number of ranks, as the
/// partition does; the solve's answer agrees to its tolerance. Compiled for
/// T = float and double; the set-up is in double on the host, B and D^-1 are
/// stored in T.
template <class T>
class VecchiaPreconditioner {
 public:
  using execution_space = Kokkos::DefaultExecutionSpace;
  using memory_space = execution_space::memory_space;
  using Matrix = Kokkos::View<T**, Kokkos::LayoutRight, memory_space>;
  using ConstMatrix = Kokkos::View<const T**, Kokkos::LayoutRight, memory_space>;

  /// Collective over `comm` (duplicated inside). `points`: this rank's rows
  /// (n_r x d, 1 <= d <= 3, n_r may be 0), in the global order rank 0's rows
  /// first. `kernel`: its variance included. `alpha` > 0: the ridge of
  /// (alpha I + K) (for interpolation, a small one such as sqrt(eps) times
  /// the variance). Throws kinterp::Error on every rank for an invalid
  /// kernel, alpha <= 0, k < 1, d outside 1-3 or not the same on every rank,
  /// NaN/Inf points, or a rank holding 2^31 points or more with its halo.
  VecchiaPreconditioner(MPI_Comm comm, const KernelSpec& kernel, const ConstMatrix& points,
                        double alpha, const VecchiaOptions& options);
  ~VecchiaPreconditioner();

  /// Collective. z = B^T D^-1 B r for this rank's rows of r (n_r x m, m the
  /// same on every rank); z may be r itself. Throws kinterp::Error on every
  /// rank for mismatched shapes.
  void apply(const ConstMatrix& r, const Matrix& z) const;

  /// Collective. b = B^-1 D^1/2 g: from standard normal g (n_r x m), a draw
  /// from N(0, P) (the likelihood's probes). Sequential along the order
  /// within each rank's block (O(n_r k m)).
  void correlate(const ConstMatrix& g, const Matrix& b) const;

  /// log det P = sum_i log d_i over all points. Not collective.
  double log_determinant() const { return log_determinant_; }

  const VecchiaInfo& info() const { return info_; }
  double alpha() const { return alpha_; }
  MPI_Comm comm() const { return comm_.get(); }

  /// For inspection: this rank's block of the factor, with points named by
  /// their global rows. Not collective.
  struct HostFactor {
    std::vector<std::int64_t> rows;     ///< the block's points
    std::vector<std::int64_t> offsets;  ///< rows.size() + 1: each point's set in set/b
    std::vector<std::int64_t> set;      ///< global rows of the conditioning sets
    std::vector<double> b;              ///< b_i on them
    std::vector<double> d;              ///< d_i
  };
  HostFactor factor() const;

 private:
  struct Storage;
  Communicator comm_;
  double alpha_;
  std::int64_t local_rows_;
  VecchiaInfo info_;
  double log_determinant_ = 0;
  std::unique_ptr<SpatialPartition> partition_;
  std::unique_ptr<Storage> storage_;
};

extern template class VecchiaPreconditioner<float>;
extern template class VecchiaPreconditioner<double>;

}  // namespace kinterp
