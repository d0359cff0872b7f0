#pragma once
/// \file RingKernelProduct.hpp
/// The distributed kernel product: out_i = scale * sum_j k(t_i, x_j) w_j where
/// the sources x_j and their weights w_j are spread over the ranks. Each
/// rank's sources and weights travel once around the ring (SourceRing.hpp);
/// every rank sums its targets against each block with the local engine.

#include <kinterp/core/Collective.hpp>
#include <kinterp/core/Communicator.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/core/detail/ScopedRegion.hpp>
#include <kinterp/dist/KernelProduct.hpp>
#include <kinterp/dist/SourceRing.hpp>
#include <kinterp/local/LocalKernelSum.hpp>

#include <mpi.h>
#include <Kokkos_Core.hpp>

#include <cstdint>
#include <string>

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
      : ring_(comm, static_cast<std::int64_t>(sources.extent(0)),
              static_cast<int>(sources.extent(1)), "source points", "coordinates", 0),
        sources_(sources),
        dim_(static_cast<int>(sources.extent(1))) {}

  const Communicator& communicator() const { return ring_.communicator(); }
  std::int64_t local_count() const { return ring_.local_count(); }
  const ConstMatrix& sources() const { return sources_; }

  /// Collective. out (n_t x m) = scale * sum over every rank's sources j of
  /// kernel(|t_i - x_j|^2) * w(j, :), where `weights` are this rank's rows
  /// (n_r x m) and m is the same on every rank. `targets` (n_t x d) may be any
  /// rows, including the sources themselves. Returns this rank's timings.
  template <class Kernel>
  RingTimings apply(const ExecutionSpace& space, const Kernel& kernel, T scale,
                    const ConstMatrix& targets, const ConstMatrix& weights,
                    const Matrix& out) const {
    return apply_blocks(space, targets, weights, out,
                        [&](int, const auto& block_sources, const auto& block_weights) {
                          local_kernel_sum(space, kernel, scale, targets, block_sources,
                                           block_weights, out);
                        });
  }

  /// The same ring with another local engine: `sum(origin, sources, weights)`
  /// adds rank origin's block (two rank-2 Views on the memory space; the
  /// caller's own Views for origin == rank) to `out`, launched on `space`.
  template <class LocalSum>
  RingTimings apply_blocks(const ExecutionSpace& space, const ConstMatrix& targets,
                           const ConstMatrix& weights, const Matrix& out,
                           const LocalSum& sum) const {
    const detail::ScopedRegion region("kinterp::RingKernelProduct::apply");
    const int columns = check_shapes(targets, weights, out);
    Kokkos::deep_copy(space, out, T(0));
    // A block: the origin's points row-major, then its weights row-major.
    const auto length = [&](int origin) { return ring_.count(origin) * (dim_ + columns); };
    const auto pack = [&](const Buffer& block) {
      const std::int64_t n = local_count();
      Kokkos::parallel_for(
          "kinterp::RingKernelProduct::pack", Kokkos::RangePolicy<ExecutionSpace>(space, 0, n),
          detail::PackBlock<Buffer, ConstMatrix>{block, sources_, weights, n, dim_, columns});
    };
    const auto visit = [&](int origin, const T* block) {
      if (!block) {
        sum(origin, sources_, weights);
        return;
      }
      const std::int64_t n = ring_.count(origin);
      sum(origin, UnmanagedConstMatrix(block, n, dim_),
          UnmanagedConstMatrix(block + n * dim_, n, columns));
    };
    return ring_.circulate(space, length, pack, visit);
  }

 private:
  using Buffer = typename SourceRing<T, ExecutionSpace>::Buffer;
  using UnmanagedConstMatrix =
      Kokkos::View<const T**, Kokkos::LayoutRight, memory_space, Kokkos::MemoryUnmanaged>;

  /// Collective: detail::check_product_shapes, and the largest block fits
  /// one message. Returns m.
  int check_shapes(const ConstMatrix& targets, const ConstMatrix& weights,
                   const Matrix& out) const {
    const int columns =
        detail::check_product_shapes(communicator(), dim_, local_count(), targets, weights, out);
    const std::int64_t largest = ring_.largest_count();
    ring_.require_one_message(largest * (dim_ + columns),
                              "kernel product: a block of " + std::to_string(largest) + " points");
    return columns;
  }

  SourceRing<T, ExecutionSpace> ring_;
  ConstMatrix sources_;
  int dim_;
};

}  // namespace kinterp
