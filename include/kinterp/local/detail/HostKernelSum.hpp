#pragma once
/// \file HostKernelSum.hpp
/// The on-node kernel sum on CPUs: targets across SIMD lanes, sources
/// broadcast from a tile in L1, an exponential built on 2^(-t).
///
/// A Kokkos team (one thread) owns a block of targets. It copies them once,
/// and each tile of sources as it comes, into scratch memory in
/// structure-of-arrays order, then runs the hot loops of SimdTileSum.hpp on
/// each register block of its targets against the tile. Partial sums of a
/// tile are kept in T, totals over tiles in double, which keeps float sums
/// over millions of sources accurate.

#include <kinterp/local/detail/SimdTileSum.hpp>

#include <Kokkos_Core.hpp>

#include <algorithm>
#include <cstddef>

namespace kinterp::detail {

/// How the host kernel sum cuts its work (sizes in targets and sources).
struct HostPlan {
  int targets_per_team = 0;  ///< a multiple of the register block
  int tile = 0;              ///< sources per tile
  bool fused = false;        ///< m == 1: kernel values go straight into accumulators
  int scratch_level = 0;
  std::size_t scratch_bytes = 0;
};

/// One launch over the weight columns [column_begin, column_begin + columns)
/// (columns <= max_columns). Dim > 0 fixes the point dimension at compile time
/// (the targets' coordinates then live in registers).
template <class ExecutionSpace, class Kernel, class Targets, class Sources, class Weights,
          class Out, int Dim>
struct HostKernelSum {
  using T = typename Out::non_const_value_type;
  using Total = double;
  using Tiles = SimdTileSum<Kernel, T, Dim>;
  static constexpr int Lanes = Tiles::Lanes;  ///< targets per register block
  static constexpr int max_columns = 16;      ///< weight columns per launch
  using Policy = Kokkos::TeamPolicy<ExecutionSpace, Kokkos::Schedule<Kokkos::Dynamic>>;
  using member_type = typename Policy::member_type;

  Kernel kernel;
  Targets targets;
  Sources sources;
  Weights weights;
  Out out;
  T scale;
  int runtime_dim;
  int column_begin;
  int columns;  ///< weight columns of this launch
  HostPlan plan;

  static constexpr std::size_t align = 64;
  static std::size_t padded(std::size_t bytes) { return (bytes + align - 1) / align * align; }

  static HostPlan make_plan(const ExecutionSpace& space, int n_targets, int dim, int columns) {
    HostPlan plan;
    plan.fused = columns == 1;
    // Teams enough to balance the threads (dynamically scheduled), each big
    // enough that copying a tile (once per team) is small next to its pairs.
    const int teams_wanted = 4 * space.concurrency();
    const int per_team = (n_targets + teams_wanted - 1) / teams_wanted;
    plan.targets_per_team = std::clamp((per_team + Lanes - 1) / Lanes, 1, 512 / Lanes) * Lanes;
    // The tile's points, weights and (m > 1) kernel values within ~24 KiB of
    // L1; the targets' scratch is read once per tile and may live in L2.
    // Float partial sums over a tile have a rounding error ~ u sqrt(tile),
    // and the tiles' errors average out in the double totals: ~ u tile /
    // sqrt(n_sources) relative. At most 256 sources keep it near 1e-7.
    const std::size_t per_source =
        sizeof(T) * (std::size_t(dim) + columns + (plan.fused ? 0 : Lanes));
    const std::size_t largest_tile = sizeof(T) < sizeof(double) ? 256 : 1024;
    plan.tile =
        static_cast<int>(std::clamp<std::size_t>(24576 / per_source, 16, largest_tile) / 16 * 16);
    plan.scratch_bytes = padded(sizeof(T) * dim * plan.targets_per_team) +
                         padded(sizeof(Total) * columns * plan.targets_per_team) +
                         padded(sizeof(T) * dim * plan.tile) +
                         padded(sizeof(T) * columns * plan.tile) +
                         (plan.fused ? 0 : padded(sizeof(T) * Lanes * plan.tile)) + align;
    plan.scratch_level = plan.scratch_bytes <= std::size_t(Policy::scratch_size_max(0)) ? 0 : 1;
    return plan;
  }

  int dim() const { return Dim > 0 ? Dim : runtime_dim; }

  /// The team's scratch buffers, each 64-byte aligned.
  TileBuffers<T> buffers(const member_type& team) const {
    const int d = dim();
    // scratch_bytes holds `align` bytes of slack for aligning the start.
    char* bytes = static_cast<char*>(
        team.team_scratch(plan.scratch_level).get_shmem_aligned(plan.scratch_bytes - align, align));
    const auto take = [&](std::size_t size) {
      char* const begin = bytes;
      bytes += padded(size);
      return begin;
    };
    TileBuffers<T> b;
    b.stride = plan.targets_per_team;
    b.tile = plan.tile;
    b.targets = reinterpret_cast<T*>(take(sizeof(T) * d * b.stride));
    b.totals = reinterpret_cast<Total*>(take(sizeof(Total) * columns * b.stride));
    b.points = reinterpret_cast<T*>(take(sizeof(T) * d * b.tile));
    b.weights = reinterpret_cast<T*>(take(sizeof(T) * columns * b.tile));
    b.values = plan.fused ? nullptr : reinterpret_cast<T*>(take(sizeof(T) * Lanes * b.tile));
    return b;
  }

  /// Host only: a plain member function, never compiled for a device.
  void operator()(const member_type& team) const {
    const int d = dim();
    const int n_targets = static_cast<int>(targets.extent(0));
    const int n_sources = static_cast<int>(sources.extent(0));
    const int stride = plan.targets_per_team;
    const int i_begin = team.league_rank() * stride;
    const int count = std::min(stride, n_targets - i_begin);
    const TileBuffers<T> b = buffers(team);

    for (int k = 0; k < d; ++k) {
      T* const row = b.targets + k * stride;
      for (int i = 0; i < count; ++i) row[i] = targets(i_begin + i, k);
      for (int i = count; i < stride; ++i) row[i] = 0;  // padding lanes: computed, never written
    }
    std::fill(b.totals, b.totals + std::size_t(columns) * stride, Total(0));

    for (int j_begin = 0; j_begin < n_sources; j_begin += plan.tile) {
      const int n_tile = std::min(plan.tile, n_sources - j_begin);
      for (int k = 0; k < d; ++k) {
        T* const row = b.points + k * plan.tile;
        for (int j = 0; j < n_tile; ++j) row[j] = sources(j_begin + j, k);
      }
      for (int c = 0; c < columns; ++c) {
        T* const row = b.weights + c * plan.tile;
        for (int j = 0; j < n_tile; ++j) row[j] = weights(j_begin + j, column_begin + c);
      }
      for (int i = 0; i < count; i += Lanes) Tiles::sum(kernel, b, i, n_tile, d, columns);
    }

    for (int c = 0; c < columns; ++c) {
      const Total* const total = b.totals + c * stride;
      for (int i = 0; i < count; ++i) {
        out(i_begin + i, column_begin + c) += scale * static_cast<T>(total[i]);
      }
    }
  }
};

/// out += scale * sum over the sources, m weight columns in launches of up
/// to max_columns; each launch computes every kernel value once.
template <int Dim, class ExecutionSpace, class Kernel, class Targets, class Sources, class Weights,
          class Out>
void launch_host_kernel_sum(const ExecutionSpace& space, const Kernel& kernel,
                            typename Out::non_const_value_type scale, const Targets& targets,
                            const Sources& sources, const Weights& weights, const Out& out) {
  using Functor = HostKernelSum<ExecutionSpace, Kernel, Targets, Sources, Weights, Out, Dim>;
  const int n_targets = static_cast<int>(targets.extent(0));
  const int dim = static_cast<int>(targets.extent(1));
  const int m = static_cast<int>(weights.extent(1));
  for (int column_begin = 0; column_begin < m; column_begin += Functor::max_columns) {
    const int columns = std::min(Functor::max_columns, m - column_begin);
    const HostPlan plan = Functor::make_plan(space, n_targets, dim, columns);
    const int league = (n_targets + plan.targets_per_team - 1) / plan.targets_per_team;
    Functor functor{kernel, targets, sources,      weights, out,
                    scale,  dim,     column_begin, columns, plan};
    typename Functor::Policy policy(space, league, 1);
    Kokkos::parallel_for(
        "kinterp::local_kernel_sum",
        policy.set_scratch_size(plan.scratch_level, Kokkos::PerTeam(plan.scratch_bytes)), functor);
  }
}

}  // namespace kinterp::detail
