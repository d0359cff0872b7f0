#pragma once
/// \file TreeKernelProduct.hpp
/// The tree product of a compiled kernel family for points of 1, 2 or 3
/// coordinates: every target's sum within a tolerance eps,
///   |(K~ w - K w)_i| <= eps * sum_j |k(t_i, x_j)| |w_j|  for each column,
/// at a cost near N log N instead of N^2 (tree/FarFieldRule.hpp says how).
/// The sources are re-partitioned by space once (SpatialPartition.hpp) and
/// each rank builds the ClusterTree of its block once. A product moves the
/// weights to where their sources are, makes each rank's proxy charges once,
/// and sends the targets around the ring (TargetRing.hpp): every rank sums
/// its block's tree for each passing block of targets, which, the blocks
/// being compact in space, is mostly a few far clusters, and sends the
/// partial sums back. Results come back in the caller's rows.

#include <kinterp/dist/KernelProduct.hpp>
#include <kinterp/dist/SpatialPartition.hpp>
#include <kinterp/kernels/KernelSpec.hpp>
#include <kinterp/tree/ClusterTree.hpp>
#include <kinterp/tree/FarFieldRule.hpp>
#include <kinterp/tree/TreeKernelSum.hpp>

#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace kinterp {

/// How a tree product is built: its tolerance, and sizes that are chosen
/// from it unless given (the bound holds whatever they are; tests use small
/// ones to reach the far field with few points).
struct TreeOptions {
  double tolerance = 1e-6;  ///< eps of the bound
  int degree = 0;           ///< of the proxies' interpolation, 1..24; 0: from eps and d
  int leaf_size = 0;        ///< most sources per leaf; 0: (degree + 1)^d within [32, 512]
  int batch_size = 0;       ///< most targets per batch; 0: 128
};

/// The work of a tree product, summed over the ranks: target-point pairs
/// summed directly (near field) and target-proxy pairs (far field).
struct TreeWork {
  double targets = 0;  ///< target rows
  double near_pairs = 0;
  double far_pairs = 0;
  double busiest = 0;  ///< pairs of both kinds summed on the busiest rank
  int ranks = 1;
  /// Kernel evaluations per target; the direct product makes N.
  double pairs_per_target() const { return targets > 0 ? (near_pairs + far_pairs) / targets : 0; }
  /// The busiest rank's pairs over the mean (1: the work is balanced).
  double imbalance() const {
    const double all = near_pairs + far_pairs;
    return all > 0 ? busiest * ranks / all : 1;
  }
};

/// What a tree product was built with and what it holds, this rank.
struct TreeProductInfo {
  double tolerance = 0;      ///< eps of the bound
  int degree = 0;            ///< Chebyshev degree of the proxies
  int leaf_size = 0;         ///< most sources per leaf
  int batch_size = 0;        ///< most targets per batch
  int depth = 0;             ///< of this rank's source tree
  double setup_seconds = 0;  ///< building this rank's trees
  std::size_t bytes = 0;     ///< this rank's trees (sorted copy of the points included)
  /// The busiest rank's work over the mean in the sampled product (1 on one
  /// rank): the partition balances points, not work.
  double imbalance = 1;
  /// From a product with unit weights at up to 1024 sampled sources per
  /// rank, made at set-up: what choosing between tree and direct needs.
  double sampled_pairs_per_target = 0;
};

/// Compiled in the library for T = float and double. Validates the tolerance
/// (collectively); KernelSum checks the rest of its input first.
template <class T>
class TreeKernelProduct final : public KernelProduct<T> {
 public:
  using MemorySpace = Kokkos::DefaultExecutionSpace::memory_space;

  /// Collective over `comm` (duplicated inside). `sources`: this rank's
  /// points, n_r x d, 1 <= d <= 3, the same d on every rank. Throws
  /// kinterp::Error on every rank for a tolerance outside
  /// FarFieldRule::make's range, a bad size, or d > 3.
  TreeKernelProduct(MPI_Comm comm, const KernelSpec& kernel, const LocalMatrix<const T>& sources,
                    const TreeOptions& options);

  /// Collective. out = K(targets, sources) weights within the bound.
  RingTimings apply(const Kokkos::DefaultExecutionSpace& space, const LocalMatrix<const T>& targets,
                    const LocalMatrix<const T>& weights, const LocalMatrix<T>& out) const override;

  const LocalMatrix<const T>& sources() const override { return sources_; }
  const Communicator& communicator() const override { return comm_; }
  const KernelSpec& kernel() const { return kernel_; }
  const FarFieldRule& rule() const { return rule_; }
  const TreeProductInfo& info() const { return info_; }
  double tolerance() const override { return info_.tolerance; }
  /// "tree (eps 1e-06, degree 17, leaves of 324, 8.6e+03 kernel values per target at
  /// set-up)", and on more ranks ", work imbalance 1.04 over 4 ranks" before the ")".
  std::string description() const override;
  /// The work of the last apply (collective sums, taken in apply). Not safe
  /// to read while another thread applies the same product.
  const TreeWork& last_work() const { return last_work_; }

 private:
  template <class Rows>
  TreeBatches<T, MemorySpace> target_batches(const Rows& rows) const;
  /// Collective. out = K(targets, sources) w for the targets of `batches`,
  /// with `weights` in the rows of this rank's tree's points.
  RingTimings apply_batches(const Kokkos::DefaultExecutionSpace& space,
                            const TreeBatches<T, MemorySpace>& batches,
                            const LocalMatrix<const T>& weights, const LocalMatrix<T>& out) const;

  KernelSpec kernel_;
  Communicator comm_;
  LocalMatrix<const T> sources_;               // the caller's
  std::optional<SpatialPartition> partition_;  // on more than one rank
  FarFieldRule rule_;
  TreeProductInfo info_;
  ClusterTree<T, MemorySpace> tree_;        // this rank's block of the partition
  TreeBatches<T, MemorySpace> at_sources_;  // the same points as targets
  mutable TreeWork last_work_;
};

extern template class TreeKernelProduct<float>;
extern template class TreeKernelProduct<double>;

}  // namespace kinterp
