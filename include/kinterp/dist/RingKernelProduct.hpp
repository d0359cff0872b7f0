#pragma once
/// \file RingKernelProduct.hpp
/// The distributed kernel product: out_i = scale * sum_j k(t_i, x_j) w_j where
/// the sources x_j and their weights w_j are spread over the ranks.
///
/// Each rank's block of sources (coordinates and weights) travels once around a
/// ring of ranks. While a rank sums against the block in hand, the next block
/// is already in flight (MPI_Isend/MPI_Irecv), so communication hides behind
/// computation, and a rank never holds more than two blocks: memory stays
/// linear in N.

#include <kinterp/core/Collective.hpp>
#include <kinterp/core/Communicator.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/core/MpiTraits.hpp>
#include <kinterp/core/detail/ScopedRegion.hpp>
#include <kinterp/local/LocalKernelSum.hpp>

#include <mpi.h>
#include <Kokkos_Core.hpp>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <string>
#include <vector>

namespace kinterp {

namespace detail {

/// block = [points row-major, then weights row-major]. A functor, not a
/// KOKKOS_LAMBDA: nvcc rejects extended lambdas in private member functions.
template <class Buffer, class ConstMatrix>
struct PackBlock {
  Buffer block;
  ConstMatrix sources, weights;
  std::int64_t n;
  int d, columns;
  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t i) const {
    for (int k = 0; k < d; ++k) block(i * d + k) = sources(i, k);
    for (int c = 0; c < columns; ++c) block(n * d + i * columns + c) = weights(i, c);
  }
};

}  // namespace detail

/// Seconds one rank spent in a distributed product.
struct RingTimings {
  double total = 0;    ///< the whole product
  double compute = 0;  ///< local kernel sums
  double wait = 0;     ///< waiting for blocks to arrive (communication not hidden)
};

template <class T, class ExecutionSpace = Kokkos::DefaultExecutionSpace>
class RingKernelProduct {
 public:
  using execution_space = ExecutionSpace;
  using memory_space = typename ExecutionSpace::memory_space;
  using Matrix = Kokkos::View<T**, Kokkos::LayoutRight, memory_space>;
  using ConstMatrix = Kokkos::View<const T**, Kokkos::LayoutRight, memory_space>;

  /// Collective. `sources` are this rank's rows of the source points (n_r x d,
  /// n_r may be 0); d must be the same on every rank.
  RingKernelProduct(const Communicator& comm, const ConstMatrix& sources)
      : comm_(comm), sources_(sources), dim_(static_cast<int>(sources.extent(1))) {
    const std::int64_t mine[2] = {static_cast<std::int64_t>(sources.extent(0)), dim_};
    std::vector<std::int64_t> all(2 * comm_.size());
    MPI_Allgather(mine, 2, MPI_INT64_T, all.data(), 2, MPI_INT64_T, comm_.get());
    counts_.resize(comm_.size());
    for (int r = 0; r < comm_.size(); ++r) {
      counts_[r] = all[2 * r];
      // Every rank sees the same table, so every rank throws the same error.
      if (all[2 * r + 1] != all[1]) {
        throw Error("the source points have " + std::to_string(all[2 * r + 1]) +
                    " coordinates on rank " + std::to_string(r) + " but " + std::to_string(all[1]) +
                    " on rank 0: every rank must pass rows of the same width");
      }
    }
  }

  const Communicator& communicator() const { return comm_; }
  std::int64_t local_count() const { return counts_[comm_.rank()]; }
  const ConstMatrix& sources() const { return sources_; }

  /// Collective. out (n_t x m) = scale * sum over every rank's sources j of
  /// kernel(|t_i - x_j|^2) * w(j, :), where `weights` are this rank's rows
  /// (n_r x m) and m is the same on every rank. `targets` (n_t x d) may be any
  /// rows, including the sources themselves. Returns this rank's timings.
  template <class Kernel>
  RingTimings apply(const ExecutionSpace& space, const Kernel& kernel, T scale,
                    const ConstMatrix& targets, const ConstMatrix& weights,
                    const Matrix& out) const {
    const detail::ScopedRegion region("kinterp::RingKernelProduct::apply");
    const double start = MPI_Wtime();
    RingTimings timings;
    const int columns = check_shapes(targets, weights, out);
    Kokkos::deep_copy(space, out, T(0));

    const int size = comm_.size(), rank = comm_.rank();
    if (size > 1) reserve_blocks(columns);
    // The block in hand is `current`; step 0 holds this rank's own sources.
    int current = 0;
    if (size > 1) pack(space, current, weights);

    for (int step = 0; step < size; ++step) {
      const int origin = (rank - step + size) % size;  // whose sources are in hand
      MPI_Request requests[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
      if (step + 1 < size) {
        const int next_origin = (origin - 1 + size) % size;
        const int left = (rank - 1 + size) % size, right = (rank + 1) % size;
        MPI_Irecv(host_blocks_[1 - current].data(), message_length(next_origin, columns),
                  MpiTraits<T>::type(), left, 0, comm_.get(), &requests[0]);
        MPI_Isend(host_blocks_[current].data(), message_length(origin, columns),
                  MpiTraits<T>::type(), right, 0, comm_.get(), &requests[1]);
      }

      const double compute_start = MPI_Wtime();
      if (step == 0) {
        local_kernel_sum(space, kernel, scale, targets, sources_, weights, out);
      } else {
        const std::int64_t n = counts_[origin];
        const T* block = blocks_[current].data();
        UnmanagedConstMatrix points(block, n, dim_);
        UnmanagedConstMatrix block_weights(block + n * dim_, n, columns);
        local_kernel_sum(space, kernel, scale, targets, points, block_weights, out);
      }
      space.fence();
      timings.compute += MPI_Wtime() - compute_start;

      const double wait_start = MPI_Wtime();
      MPI_Waitall(2, requests, MPI_STATUSES_IGNORE);
      timings.wait += MPI_Wtime() - wait_start;
      if (step + 1 < size) {
        current = 1 - current;
        if constexpr (!host_accessible)
          Kokkos::deep_copy(space, blocks_[current], host_blocks_[current]);
      }
    }
    timings.total = MPI_Wtime() - start;
    return timings;
  }

 private:
  using Buffer = Kokkos::View<T*, memory_space>;
  using HostBuffer = typename Buffer::HostMirror;
  using UnmanagedConstMatrix =
      Kokkos::View<const T**, Kokkos::LayoutRight, memory_space, Kokkos::MemoryUnmanaged>;
  static constexpr bool host_accessible =
      Kokkos::SpaceAccessibility<Kokkos::HostSpace, memory_space>::accessible;

  int message_length(int origin, int columns) const {
    return static_cast<int>(counts_[origin] * (dim_ + columns));
  }

  /// Collective: the same shapes on every rank's view of the product, or one
  /// error on all ranks. Returns m.
  int check_shapes(const ConstMatrix& targets, const ConstMatrix& weights,
                   const Matrix& out) const {
    std::string problem;
    if (targets.extent(1) != static_cast<std::size_t>(dim_)) {
      problem = "the targets have " + std::to_string(targets.extent(1)) +
                " coordinates but the sources have " + std::to_string(dim_);
    } else if (static_cast<std::int64_t>(weights.extent(0)) != local_count()) {
      problem = "the weights have " + std::to_string(weights.extent(0)) +
                " rows on a rank that holds " + std::to_string(local_count()) + " source points";
    } else if (out.extent(0) != targets.extent(0) || out.extent(1) != weights.extent(1)) {
      problem = "the output is " + std::to_string(out.extent(0)) + " x " +
                std::to_string(out.extent(1)) + " but must be (targets) " +
                std::to_string(targets.extent(0)) + " x (weight columns) " +
                std::to_string(weights.extent(1));
    }
    throw_if_any(comm_.get(), !problem.empty(), "kernel product: " + problem);

    int columns[2] = {static_cast<int>(weights.extent(1)), -static_cast<int>(weights.extent(1))};
    MPI_Allreduce(MPI_IN_PLACE, columns, 2, MPI_INT, MPI_MAX, comm_.get());
    if (columns[0] != -columns[1]) {
      throw Error("kernel product: the weights have between " + std::to_string(-columns[1]) +
                  " and " + std::to_string(columns[0]) +
                  " columns on different ranks; every rank must pass the same number");
    }
    std::int64_t largest = *std::max_element(counts_.begin(), counts_.end());
    if (largest * (dim_ + columns[0]) > INT_MAX) {
      throw Error("kernel product: a block of " + std::to_string(largest) +
                  " points is too large for one MPI message; use more ranks");
    }
    return columns[0];
  }

  void reserve_blocks(int columns) const {
    const std::size_t length =
        *std::max_element(counts_.begin(), counts_.end()) * std::size_t(dim_ + columns);
    if (blocks_[0].extent(0) >= length) return;
    for (int b = 0; b < 2; ++b) {
      blocks_[b] = Buffer(
          Kokkos::view_alloc(Kokkos::WithoutInitializing, "kinterp::RingKernelProduct::block"),
          length);
      host_blocks_[b] = Kokkos::create_mirror_view(blocks_[b]);
    }
  }

  /// Copies this rank's sources and `weights` into block `b` (points row-major,
  /// then weights row-major) and makes it ready for MPI on the host.
  void pack(const ExecutionSpace& space, int b, const ConstMatrix& weights) const {
    const std::int64_t n = local_count();
    const int d = dim_, columns = static_cast<int>(weights.extent(1));
    const Buffer block = blocks_[b];
    Kokkos::parallel_for(
        "kinterp::RingKernelProduct::pack", Kokkos::RangePolicy<ExecutionSpace>(space, 0, n),
        detail::PackBlock<Buffer, ConstMatrix>{block, sources_, weights, n, d, columns});
    if constexpr (!host_accessible) Kokkos::deep_copy(space, host_blocks_[b], block);
    space.fence();  // MPI reads the block next
  }

  Communicator comm_;
  ConstMatrix sources_;
  int dim_;
  std::vector<std::int64_t> counts_;
  mutable Buffer blocks_[2];
  mutable HostBuffer host_blocks_[2];
};

}  // namespace kinterp
