#pragma once
/// \file LocalKernelSum.hpp
/// The on-node kernel sum: out(i, :) += scale * sum_j k(|t_i - x_j|^2) w(j, :)
/// for one block of targets against one block of sources.
///
/// Three engines share the work. Points of many coordinates (d >= 48 on CPUs,
/// with a vendor BLAS) take the GEMM form of GemmKernelSum.hpp. Otherwise, on
/// CPUs (detail/HostKernelSum.hpp) a thread takes a block of targets, puts
/// them across SIMD lanes and register blocks, and meets the sources one at a
/// time from a tile in L1, with an exponential built on 2^(-t); on GPUs
/// (detail/TeamKernelSum.hpp) a team takes a block of targets, one thread
/// each, with the sources tiled in shared memory. All keep the partial sums
/// of a tile in T and the totals over tiles in double, and use no atomics;
/// the direct engines allocate nothing per block.

#include <kinterp/local/GemmKernelSum.hpp>
#include <kinterp/local/detail/ExecutionTraits.hpp>
#include <kinterp/local/detail/HostKernelSum.hpp>
#include <kinterp/local/detail/TeamKernelSum.hpp>

#include <Kokkos_Core.hpp>

#include <type_traits>

namespace kinterp {

/// out(i, c) += scale * sum_j kernel(|t_i - x_j|^2) * w(j, c), on `space`.
/// targets: n_t x d, sources: n_s x d, weights: n_s x m, out: n_t x m, all
/// accessible from `space` (any layout). Not collective; asynchronous as any
/// Kokkos launch on `space`.
template <class ExecutionSpace, class Kernel, class Targets, class Sources, class Weights,
          class Out>
void local_kernel_sum(const ExecutionSpace& space, const Kernel& kernel,
                      typename Out::non_const_value_type scale, const Targets& targets,
                      const Sources& sources, const Weights& weights, const Out& out) {
  static_assert(Kokkos::is_view<Targets>::value && Kokkos::is_view<Sources>::value &&
                    Kokkos::is_view<Weights>::value && Kokkos::is_view<Out>::value,
                "local_kernel_sum takes Kokkos Views");
  static_assert(Targets::rank == 2 && Sources::rank == 2 && Weights::rank == 2 && Out::rank == 2,
                "local_kernel_sum takes rank-2 Views (rows x columns)");
  static_assert(
      Kokkos::SpaceAccessibility<ExecutionSpace, typename Targets::memory_space>::accessible &&
          Kokkos::SpaceAccessibility<ExecutionSpace, typename Sources::memory_space>::accessible &&
          Kokkos::SpaceAccessibility<ExecutionSpace, typename Weights::memory_space>::accessible &&
          Kokkos::SpaceAccessibility<ExecutionSpace, typename Out::memory_space>::accessible,
      "local_kernel_sum: the Views must be accessible from the execution space");
  if (targets.extent(0) == 0 || sources.extent(0) == 0 || weights.extent(1) == 0) return;
  // Many coordinates (machine-learning features): distances from a vendor GEMM.
  if constexpr (has_vendor_gemm<ExecutionSpace>()) {
    if (use_gemm_kernel_sum<ExecutionSpace>(static_cast<int>(targets.extent(1)))) {
      local_kernel_sum_gemm(space, kernel, scale, targets, sources, weights, out);
      return;
    }
  }

  const auto launch = [&](auto dim_constant) {
    constexpr int Dim = decltype(dim_constant)::value;
    using T = typename Out::non_const_value_type;
    if constexpr (detail::runs_on_host<ExecutionSpace>() &&
                  detail::has_simd_form<Kernel, T>::value) {
      detail::launch_host_kernel_sum<Dim>(space, kernel, scale, targets, sources, weights, out);
    } else if (weights.extent(1) == 1) {
      detail::launch_tiled_kernel_sum<Dim, 1>(space, kernel, scale, targets, sources, weights, out);
    } else {
      detail::launch_tiled_kernel_sum<Dim, 4>(space, kernel, scale, targets, sources, weights, out);
    }
  };
  // Small dimensions are compile-time constants: unrolled distance loops,
  // coordinates in registers.
  switch (targets.extent(1)) {
    case 1:
      launch(std::integral_constant<int, 1>{});
      break;
    case 2:
      launch(std::integral_constant<int, 2>{});
      break;
    case 3:
      launch(std::integral_constant<int, 3>{});
      break;
    default:
      launch(std::integral_constant<int, 0>{});
      break;
  }
}

}  // namespace kinterp
