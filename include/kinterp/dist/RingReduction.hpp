#pragma once
/// \file RingReduction.hpp
/// The distributed generic reduction: every rank's block of source rows
/// (stored component-major, see local_reduction) travels once around the ring
/// of ranks (SourceRing.hpp), and each rank folds every block into the
/// reduction state of its own target rows.
/// The state carries global source indices and breaks ties by them, so
/// Min/ArgMin/KMin are the same on any number of ranks, and LogSumExp keeps a
/// running max, so no partial result ever needs merging.

#include <kinterp/core/Communicator.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/core/detail/ScopedRegion.hpp>
#include <kinterp/dist/SourceRing.hpp>
#include <kinterp/local/LocalReduction.hpp>

#include <mpi.h>
#include <Kokkos_Core.hpp>

#include <cstdint>
#include <string>
#include <utility>

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
      : ring_(comm, static_cast<std::int64_t>(sources.extent(0)),
              static_cast<int>(sources.extent(1)), "source rows", "columns", 1),
        sources_(component_major_sources(ExecutionSpace(), sources)),
        width_(static_cast<int>(sources.extent(1))) {
    const std::int64_t largest = ring_.largest_count();
    ring_.require_one_message(padded_source_count(largest) * width_,
                              "reduction: a block of " + std::to_string(largest) + " source rows");
  }

  std::int64_t global_count() const { return ring_.global_count(); }
  std::int64_t local_count() const { return ring_.local_count(); }
  const Communicator& communicator() const { return ring_.communicator(); }

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

    // A block: the origin's rows, component-major as local_reduction reads them.
    const auto length = [&](int origin) {
      return padded_source_count(ring_.count(origin)) * width_;
    };
    const auto pack = [&](const Buffer& block) {
      Kokkos::deep_copy(
          space, Kokkos::subview(block, std::make_pair(std::size_t(0), sources_.size())), sources_);
    };
    const auto visit = [&](int origin, const T* block) {
      local_reduction(space, program, layout, targets, block ? block : sources_.data(),
                      ring_.count(origin), ring_.offset(origin), values, indices);
    };
    RingTimings timings = ring_.circulate(space, length, pack, visit);
    Kokkos::parallel_for("kinterp::RingReduction::finalise", Range(space, 0, n_t),
                         detail::FinaliseReduction<Output, decltype(values), decltype(indices)>{
                             layout, values, indices, out});
    space.fence();
    timings.total = MPI_Wtime() - start;
    return timings;
  }

 private:
  using Buffer = typename SourceRing<T, ExecutionSpace>::Buffer;

  SourceRing<T, ExecutionSpace> ring_;
  Buffer sources_;  // component-major, as local_reduction reads them
  int width_;
};

}  // namespace kinterp
