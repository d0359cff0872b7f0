#pragma once
/// \file TeamKernelSum.hpp
/// The on-node kernel sum on GPUs (and for kernels without a scaled form):
/// one team per block of targets, one thread per target (KeOps' scheme).
///
/// A team walks the sources in tiles that it copies into scratch memory
/// (shared memory on a GPU) in structure-of-arrays order, so that the loop
/// over a tile's sources is unit-stride; every thread sums its own target's
/// row with the kernel's own `kernel(r2)` (the device's exp). Partial sums of a
/// tile stay in registers; totals over tiles are kept in double. Weight
/// columns go in blocks of 4 per launch.

#include <kinterp/core/detail/KokkosCompat.hpp>
#include <kinterp/local/detail/ExecutionTraits.hpp>

#include <Kokkos_Core.hpp>

#include <algorithm>

namespace kinterp::detail {

/// How a local kernel sum is cut into teams and tiles.
struct TilePlan {
  int team_size = 1;
  int targets_per_team = 1;
  int tile = 256;  ///< sources per tile
};

template <class ExecutionSpace, class T>
TilePlan plan_tiles(const ExecutionSpace& space, int n_targets, int dim, int columns) {
  TilePlan plan;
  const int per_source_bytes = (dim + columns) * static_cast<int>(sizeof(T));
  if constexpr (runs_on_host<ExecutionSpace>()) {
    // Enough teams to balance the threads, few enough that copying each tile
    // (once per team) stays small next to the arithmetic on it.
    const int teams_wanted = 8 * space.concurrency();
    plan.targets_per_team = std::clamp((n_targets + teams_wanted - 1) / teams_wanted, 8, 64);
    // A tile (plus the targets' accumulators) within half of a 32 KiB L1 cache.
    plan.tile = std::clamp(16384 / per_source_bytes, 16, 1024) / 16 * 16;
  } else {
    plan.team_size = 128;
    plan.targets_per_team = plan.team_size;
    plan.tile = std::clamp(24576 / per_source_bytes, 32, 256) / 32 * 32;
  }
  return plan;
}

/// One launch over column block [column_begin, column_begin + Columns) of the
/// weights. Dim > 0 fixes the point dimension at compile time (unrolled loop).
template <class ExecutionSpace, class Kernel, class Targets, class Sources, class Weights,
          class Out, int Dim, int Columns>
struct TiledKernelSum {
  using T = typename Out::non_const_value_type;
  using Total = double;
  using member_type = typename Kokkos::TeamPolicy<ExecutionSpace>::member_type;
  using scratch_space = typename ExecutionSpace::scratch_memory_space;
  using ScratchValues = Kokkos::View<T*, scratch_space, Kokkos::MemoryUnmanaged>;
  using ScratchTotals = Kokkos::View<Total*, scratch_space, Kokkos::MemoryUnmanaged>;

  Kernel kernel;
  Targets targets;
  Sources sources;
  Weights weights;
  Out out;
  T scale;
  int runtime_dim;
  int column_begin;
  int columns;  ///< columns of this block that exist (<= Columns)
  TilePlan plan;

  static std::size_t scratch_bytes(int dim, const TilePlan& plan) {
    return ScratchValues::shmem_size(std::size_t(dim + Columns) * plan.tile) +
           ScratchTotals::shmem_size(std::size_t(plan.targets_per_team) * Columns);
  }

  KOKKOS_INLINE_FUNCTION int dim() const { return Dim > 0 ? Dim : runtime_dim; }

  /// `tile` is passed by value: read through the functor in the loop, GCC
  /// cannot see that coordinate k of consecutive sources is contiguous and
  /// gathers them (2-3x slower for d > 1).
  template <class Target>
  KOKKOS_INLINE_FUNCTION T kernel_value(const Target& target, const T* tile_points, int tile,
                                        int j) const {
    T r2 = 0;
    for (int k = 0; k < dim(); ++k) {
      const T diff = target(k) - tile_points[k * tile + j];
      r2 += diff * diff;
    }
    return kernel(r2);
  }

  /// total[c] += sum over the tile's sources j of k(target, x_j) w(j, c). The
  /// partial sums are named scalars: GCC reduces an array section in order,
  /// one lane at a time, which costs a factor of three to four.
  template <class Target>
  KOKKOS_INLINE_FUNCTION void sum_tile(Total* total, const Target& target, const T* tile_points,
                                       const T* tile_weights, int n_tile) const {
    const int tile = plan.tile;
    if constexpr (Columns == 1) {
      T a0 = 0;
      KINTERP_SIMD_REDUCTION(+ : a0)
      for (int j = 0; j < n_tile; ++j) {
        a0 += kernel_value(target, tile_points, tile, j) * tile_weights[j];
      }
      total[0] += a0;
    } else {
      static_assert(Columns == 4, "column blocks are 1 or 4 wide");
      T a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      KINTERP_SIMD_REDUCTION(+ : a0, a1, a2, a3)
      for (int j = 0; j < n_tile; ++j) {
        const T value = kernel_value(target, tile_points, tile, j);
        a0 += value * tile_weights[j];
        a1 += value * tile_weights[tile + j];
        a2 += value * tile_weights[2 * tile + j];
        a3 += value * tile_weights[3 * tile + j];
      }
      total[0] += a0;
      total[1] += a1;
      total[2] += a2;
      total[3] += a3;
    }
  }

  KOKKOS_INLINE_FUNCTION void operator()(const member_type& team) const {
    const int d = dim();
    const int tile = plan.tile;
    const int n_targets = static_cast<int>(targets.extent(0));
    const int n_sources = static_cast<int>(sources.extent(0));
    const int i_begin = team.league_rank() * plan.targets_per_team;
    const int i_end =
        i_begin + plan.targets_per_team < n_targets ? i_begin + plan.targets_per_team : n_targets;

    ScratchValues tile_values(team.team_scratch(0), std::size_t(d + Columns) * tile);
    ScratchTotals totals(team.team_scratch(0), std::size_t(plan.targets_per_team) * Columns);
    T* const tile_points = tile_values.data();       // [k * tile + j]
    T* const tile_weights = tile_points + d * tile;  // [c * tile + j]

    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, plan.targets_per_team * Columns),
                         [&](int k) { totals(k) = 0; });

    for (int j_begin = 0; j_begin < n_sources; j_begin += tile) {
      const int n_tile = n_sources - j_begin < tile ? n_sources - j_begin : tile;
      team.team_barrier();
      Kokkos::parallel_for(Kokkos::TeamThreadRange(team, n_tile), [&](int j) {
        for (int k = 0; k < d; ++k) tile_points[k * tile + j] = sources(j_begin + j, k);
        for (int c = 0; c < Columns; ++c) {
          tile_weights[c * tile + j] = c < columns ? weights(j_begin + j, column_begin + c) : T(0);
        }
      });
      team.team_barrier();

      Kokkos::parallel_for(Kokkos::TeamThreadRange(team, i_begin, i_end), [&](int i) {
        Total* const total = &totals((i - i_begin) * Columns);
        if constexpr (Dim > 0) {
          T target[Dim];
          for (int k = 0; k < Dim; ++k) target[k] = targets(i, k);
          sum_tile(
              total, [&](int k) { return target[k]; }, tile_points, tile_weights, n_tile);
        } else {
          sum_tile(
              total, [&](int k) { return targets(i, k); }, tile_points, tile_weights, n_tile);
        }
      });
    }

    // Each target's totals were written by the thread that owns it in every
    // tile (same range, same thread), so no barrier is needed before this.
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, i_begin, i_end), [&](int i) {
      const Total* const total = &totals((i - i_begin) * Columns);
      for (int c = 0; c < columns; ++c)
        out(i, column_begin + c) += scale * static_cast<T>(total[c]);
    });
  }
};

template <int Dim, int Columns, class ExecutionSpace, class Kernel, class Targets, class Sources,
          class Weights, class Out>
void launch_tiled_kernel_sum(const ExecutionSpace& space, const Kernel& kernel,
                             typename Out::non_const_value_type scale, const Targets& targets,
                             const Sources& sources, const Weights& weights, const Out& out) {
  using Functor =
      TiledKernelSum<ExecutionSpace, Kernel, Targets, Sources, Weights, Out, Dim, Columns>;
  using T = typename Out::non_const_value_type;
  const int n_targets = static_cast<int>(targets.extent(0));
  const int dim = static_cast<int>(targets.extent(1));
  const int m = static_cast<int>(weights.extent(1));
  const TilePlan plan = plan_tiles<ExecutionSpace, T>(space, n_targets, dim, Columns);
  const int league = (n_targets + plan.targets_per_team - 1) / plan.targets_per_team;
  for (int column_begin = 0; column_begin < m; column_begin += Columns) {
    Functor functor{kernel,  targets,      sources,
                    weights, out,          scale,
                    dim,     column_begin, std::min(Columns, m - column_begin),
                    plan};
    Kokkos::TeamPolicy<ExecutionSpace> policy(space, league, plan.team_size);
    Kokkos::parallel_for(
        "kinterp::local_kernel_sum",
        policy.set_scratch_size(0, Kokkos::PerTeam(Functor::scratch_bytes(dim, plan))), functor);
  }
}

}  // namespace kinterp::detail
