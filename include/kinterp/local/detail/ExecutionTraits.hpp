#pragma once
/// \file ExecutionTraits.hpp
/// Which code path an execution space takes.

#include <Kokkos_Core.hpp>

namespace kinterp::detail {

/// True for CPU execution spaces (OpenMP, Serial, Threads, ...): the SIMD
/// kernel sum; false for GPUs, which take the team-per-block kernel sum.
template <class ExecutionSpace>
constexpr bool runs_on_host() {
  return Kokkos::SpaceAccessibility<ExecutionSpace, Kokkos::HostSpace>::accessible;
}

}  // namespace kinterp::detail
