#pragma once
/// \file ScopedRegion.hpp
/// A Kokkos Tools profiling region for the lifetime of a scope (Kokkos 3.4 has
/// no Kokkos::Profiling::ScopedRegion; push/popRegion exist in 3.4 and 4.x).

#include <Kokkos_Core.hpp>

#include <string>

namespace kinterp::detail {

class ScopedRegion {
 public:
  explicit ScopedRegion(const std::string& name) { Kokkos::Profiling::pushRegion(name); }
  ~ScopedRegion() { Kokkos::Profiling::popRegion(); }
  ScopedRegion(const ScopedRegion&) = delete;
  ScopedRegion& operator=(const ScopedRegion&) = delete;
};

}  // namespace kinterp::detail
