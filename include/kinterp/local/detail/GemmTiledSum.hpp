#pragma once
/// \file GemmTiledSum.hpp
/// The tile loop of the GEMM kernel sum (GemmKernelSum.hpp).

#include <kinterp/local/detail/ExecutionTraits.hpp>
#include <kinterp/local/detail/GemmKernelValues.hpp>
#include <kinterp/local/detail/GemmOnSpace.hpp>
#include <kinterp/local/detail/GemmTilePacking.hpp>
#include <kinterp/local/detail/GemmTilePlan.hpp>
#include <kinterp/local/detail/GemmTileTotals.hpp>

#include <Kokkos_Core.hpp>

#include <algorithm>
#include <type_traits>

namespace kinterp::detail::gemm_sum {

/// The tile loop of local_kernel_sum_gemm (GemmKernelSum.hpp), after its
/// checks: every target tile against every source tile, with `workspace` (a
/// GemmKernelSumWorkspace) holding the tiles. Assumes nonempty blocks.
template <class ExecutionSpace, class Kernel, class Targets, class Sources, class Weights,
          class Out, class Workspace>
void tiled_sum(const ExecutionSpace& space, const Kernel& kernel,
               typename Out::non_const_value_type scale, const Targets& targets,
               const Sources& sources, const Weights& weights, const Out& out,
               Workspace& workspace) {
  using T = typename Out::non_const_value_type;
  const int n_targets = static_cast<int>(targets.extent(0));
  const int n_sources = static_cast<int>(sources.extent(0));
  const int dim = static_cast<int>(targets.extent(1));
  const int m = static_cast<int>(weights.extent(1));

  using Matrix = typename Workspace::Matrix;
  using Vector = typename Workspace::Vector;
  using Range = Kokkos::RangePolicy<ExecutionSpace>;
  constexpr bool host = runs_on_host<ExecutionSpace>();
  // The host sums a few columns in the elementwise pass; a GPU, or many
  // columns, go through a second GEMM.
  const bool fused = host && m <= fused_columns;
  const int fused_width = m == 1 ? 1 : fused_columns;
  const TilePlan plan = plan_tiles(space);
  workspace.prepare(plan, dim, m);

  const Vector center = workspace.center();
  if (dim > 0) {
    Kokkos::parallel_for("kinterp::local_kernel_sum_gemm::center",
                         Kokkos::TeamPolicy<ExecutionSpace>(space, dim, Kokkos::AUTO),
                         SourceMean<ExecutionSpace, Sources, Vector>{
                             sources, center, std::max(1, n_sources / plan.sources)});
  }

  const int source_tiles = (n_sources + plan.sources - 1) / plan.sources;
  for (int i_begin = 0; i_begin < n_targets; i_begin += plan.targets) {
    const int n_i = std::min(plan.targets, n_targets - i_begin);
    const Matrix target_points = workspace.target_points(n_i);
    const Vector target_norms = workspace.target_norms(n_i);
    const auto totals = workspace.totals(n_i);
    Kokkos::parallel_for("kinterp::local_kernel_sum_gemm::pack_targets", Range(space, 0, n_i),
                         PackCentred<Targets, Matrix, Vector, Vector>{
                             targets, target_points, center, target_norms, i_begin});
    Kokkos::deep_copy(space, totals, 0.0);

    for (int j_begin = 0; j_begin < n_sources; j_begin += plan.sources) {
      const int n_j = std::min(plan.sources, n_sources - j_begin);
      const Matrix source_points = workspace.source_points(n_j);
      const Vector source_norms = workspace.source_norms(n_j);
      const auto fused_weights = workspace.fused_weights(n_j, fused_width);
      const Matrix gemm_weights = workspace.gemm_weights(n_j);
      // With a single source tile, its packed copy serves every target tile.
      if (i_begin == 0 || source_tiles > 1) {
        Kokkos::parallel_for("kinterp::local_kernel_sum_gemm::pack_sources", Range(space, 0, n_j),
                             PackCentred<Sources, Matrix, Vector, Vector>{
                                 sources, source_points, center, source_norms, j_begin});
        if (fused) {
          Kokkos::parallel_for("kinterp::local_kernel_sum_gemm::pack_weights", Range(space, 0, n_j),
                               PackWeights<Weights, std::decay_t<decltype(fused_weights)>>{
                                   weights, fused_weights, j_begin});
        } else {
          Kokkos::parallel_for("kinterp::local_kernel_sum_gemm::pack_weights", Range(space, 0, n_j),
                               PackWeights<Weights, Matrix>{weights, gemm_weights, j_begin});
        }
      }

      const Matrix distances = workspace.distances(n_i, n_j);
      if (dim > 0) {
        gemm_on(space, "N", "T", T(1), target_points, source_points, T(0), distances);
      } else {
        Kokkos::deep_copy(space, distances, T(0));  // gemm leaves C alone when d = 0
      }

      const auto elementwise = [&](auto columns) {
        using Values = KernelValues<Kernel, Targets, Sources, Matrix, Vector,
                                    std::decay_t<decltype(fused_weights)>,
                                    std::decay_t<decltype(totals)>, decltype(columns)::value>;
        const Values values{kernel,       targets,       sources, distances, target_norms,
                            source_norms, fused_weights, totals,  i_begin,   j_begin};
        if constexpr (host) {
          if (fused) {
            Kokkos::parallel_for(
                "kinterp::local_kernel_sum_gemm::fused_sum",
                Kokkos::RangePolicy<ExecutionSpace, typename Values::Fused>(space, 0, n_i), values);
          } else {
            Kokkos::parallel_for(
                "kinterp::local_kernel_sum_gemm::kernel_values",
                Kokkos::RangePolicy<ExecutionSpace, typename Values::Rows>(space, 0, n_i), values);
          }
        } else {
          Kokkos::parallel_for(
              "kinterp::local_kernel_sum_gemm::kernel_values",
              Kokkos::RangePolicy<ExecutionSpace, typename Values::Pairs>(space, 0, n_i * n_j),
              values);
        }
      };
      if (fused && m == 1) {
        elementwise(std::integral_constant<int, 1>{});
      } else {
        elementwise(std::integral_constant<int, fused_columns>{});
      }

      if (!fused) {
        const Matrix products = workspace.products(n_i);
        gemm_on(space, "N", "N", T(1), distances, gemm_weights, T(0), products);
        Kokkos::parallel_for("kinterp::local_kernel_sum_gemm::add_products", Range(space, 0, n_i),
                             AddProducts<Matrix, std::decay_t<decltype(totals)>>{products, totals});
      }
    }
    Kokkos::parallel_for(
        "kinterp::local_kernel_sum_gemm::add_totals", Range(space, 0, n_i),
        AddTotals<Out, std::decay_t<decltype(totals)>>{out, totals, scale, i_begin});
  }
}

}  // namespace kinterp::detail::gemm_sum
