#pragma once
/// \file RingReduction.hpp
/// The distributed generic reduction: every rank's block of source rows
/// (stored component-major, see local_reduction) travels once around the ring
/// of ranks, as in RingKernelProduct, and each rank folds every block into the
/// reduction state of its own target rows.
/// The state carries global source indices and breaks ties by them, so
/// Min/ArgMin/KMin are the same on any number of ranks, and LogSumExp keeps a
/// running max, so no partial result ever needs merging.

#include <kinterp/core/Collective.hpp>
#include <kinterp/core/Communicator.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/core/MpiTraits.hpp>
#include <kinterp/core/detail/ScopedRegion.hpp>
#include <kinterp/dist/RingKernelProduct.hpp>
#include <kinterp/local/LocalReduction.hpp>

#include <mpi.h>
#include <Kokkos_Core.hpp>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <string>
#include <vector>

namespace kinterp {

namespace detail {

template <class Out, class Values, class Indices>
struct FinaliseReduction {
  ReductionLayout layout;
  Values values;
  Indices indices;
  Out out;
  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t i) const {
    reduction_finalise(layout, &values(i, 0), indices.extent(1) ? &indices(i, 0) : nullptr,
                       &out(i, 0));
  }
};

template <class Values, class Indices>
struct InitialiseReduction {
  ReductionLayout layout;
  Values values;
  Indices indices;
  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t i) const {
    reduction_initialise(layout, &values(i, 0), indices.extent(1) ? &indices(i, 0) : nullptr);
  }
};

}  // namespace detail

template <class T, class ExecutionSpace = Kokkos::DefaultExecutionSpace>
class RingReduction {
 public:
  using memory_space = typename ExecutionSpace::memory_space;
  using ConstMatrix = Kokkos::View<const T**, Kokkos::LayoutRight, memory_space>;
  using Output = Kokkos::View<double**, Kokkos::LayoutRight, memory_space>;

  /// Collective. `sources`: this rank's packed source rows (n_r x width, n_r
  /// may be 0), the same width on every rank.
  RingReduction(const Communicator& comm, const ConstMatrix& sources)
      : comm_(comm),
        sources_(component_major_sources(ExecutionSpace(), sources)),
        width_(static_cast<int>(sources.extent(1))) {
    const std::int64_t mine[2] = {static_cast<std::int64_t>(sources.extent(0)), width_};
    std::vector<std::int64_t> all(2 * comm_.size());
    MPI_Allgather(mine, 2, MPI_INT64_T, all.data(), 2, MPI_INT64_T, comm_.get());
    counts_.resize(comm_.size());
    offsets_.assign(comm_.size() + 1, 0);
    for (int r = 0; r < comm_.size(); ++r) {
      counts_[r] = all[2 * r];
      offsets_[r + 1] = offsets_[r] + counts_[r];
      if (all[2 * r + 1] != all[1]) {
        throw Error("the source rows have " + std::to_string(all[2 * r + 1]) + " columns on rank " +
                    std::to_string(r) + " but " + std::to_string(all[1]) +
                    " on rank 0: every rank must pass rows of the same width");
      }
    }
    const std::int64_t largest = *std::max_element(counts_.begin(), counts_.end());
    if (padded_source_count(largest) * width_ > INT_MAX) {
      throw Error("reduction: a block of " + std::to_string(largest) +
                  " source rows is too large for one MPI message; use more ranks");
    }
  }

  std::int64_t global_count() const { return offsets_.back(); }
  std::int64_t local_count() const { return counts_[comm_.rank()]; }
  const Communicator& communicator() const { return comm_; }

  /// Not collective. Replaces this rank's source rows by `sources`, of the
  /// same shape (KernelSolve's unknown changes at each iteration).
  void set_sources(const ExecutionSpace& space, const ConstMatrix& sources) {
    if (static_cast<std::int64_t>(sources.extent(0)) != local_count() ||
        static_cast<int>(sources.extent(1)) != width_) {
      throw Error("RingReduction::set_sources: the new rows are " +
                  std::to_string(sources.extent(0)) + " x " + std::to_string(sources.extent(1)) +
                  " but must be " + std::to_string(local_count()) + " x " + std::to_string(width_));
    }
    to_component_major(space, sources, sources_);
  }

  /// Collective. out (n_t x layout.columns) = the reduction over all ranks'
  /// sources for this rank's `targets` (n_t x the program's target_width).
  RingTimings apply(const ExecutionSpace& space, const DeviceProgram<T, ExecutionSpace>& program,
                    const detail::ReductionLayout& layout, const ConstMatrix& targets,
                    const Output& out) const {
    const detail::ScopedRegion region("kinterp::RingReduction::apply");
    const double start = MPI_Wtime();
    RingTimings timings;
    const std::int64_t n_t = targets.extent(0);
    Kokkos::View<double**, Kokkos::LayoutRight, memory_space> values(
        Kokkos::view_alloc(Kokkos::WithoutInitializing, "kinterp::RingReduction::values"), n_t,
        layout.values);
    Kokkos::View<std::int64_t**, Kokkos::LayoutRight, memory_space> indices(
        Kokkos::view_alloc(Kokkos::WithoutInitializing, "kinterp::RingReduction::indices"), n_t,
        layout.indices);
    using Range = Kokkos::RangePolicy<ExecutionSpace, Kokkos::IndexType<std::int64_t>>;
    Kokkos::parallel_for(
        "kinterp::RingReduction::initialise", Range(space, 0, n_t),
        detail::InitialiseReduction<decltype(values), decltype(indices)>{layout, values, indices});

    const int size = comm_.size(), rank = comm_.rank();
    const std::size_t length =
        padded_source_count(*std::max_element(counts_.begin(), counts_.end())) *
        std::size_t(width_);
    if (size > 1 && blocks_[0].extent(0) < length) {
      for (int b = 0; b < 2; ++b) {
        blocks_[b] =
            Buffer(Kokkos::view_alloc(Kokkos::WithoutInitializing, "kinterp::RingReduction::block"),
                   length);
        host_blocks_[b] = Kokkos::create_mirror_view(blocks_[b]);
      }
    }
    int current = 0;
    if (size > 1) {
      const auto mine = std::make_pair(std::size_t(0), sources_.size());
      Kokkos::deep_copy(space, Kokkos::subview(host_blocks_[0], mine), sources_);
      space.fence();  // MPI reads the block next
    }
    for (int step = 0; step < size; ++step) {
      const int origin = (rank - step + size) % size;
      MPI_Request requests[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
      if (step + 1 < size) {
        const int next_origin = (origin - 1 + size) % size;
        const int left = (rank - 1 + size) % size, right = (rank + 1) % size;
        MPI_Irecv(host_blocks_[1 - current].data(), message_length(next_origin),
                  MpiTraits<T>::type(), left, 1, comm_.get(), &requests[0]);
        MPI_Isend(host_blocks_[current].data(), message_length(origin), MpiTraits<T>::type(), right,
                  1, comm_.get(), &requests[1]);
      }
      const double compute_start = MPI_Wtime();
      const T* block = step == 0 ? sources_.data() : blocks_[current].data();
      local_reduction(space, program, layout, targets, block, counts_[origin], offsets_[origin],
                      values, indices);
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
    Kokkos::parallel_for("kinterp::RingReduction::finalise", Range(space, 0, n_t),
                         detail::FinaliseReduction<Output, decltype(values), decltype(indices)>{
                             layout, values, indices, out});
    space.fence();
    timings.total = MPI_Wtime() - start;
    return timings;
  }

 private:
  using Buffer = Kokkos::View<T*, memory_space>;
  using HostBuffer = typename Buffer::HostMirror;
  static constexpr bool host_accessible =
      Kokkos::SpaceAccessibility<Kokkos::HostSpace, memory_space>::accessible;

  int message_length(int origin) const {
    return static_cast<int>(padded_source_count(counts_[origin]) * width_);
  }

  Communicator comm_;
  Buffer sources_;  // component-major, as local_reduction reads them
  int width_;
  std::vector<std::int64_t> counts_, offsets_;
  mutable Buffer blocks_[2];
  mutable HostBuffer host_blocks_[2];
};

}  // namespace kinterp
