#pragma once
/// \file ColumnCoefficients.hpp
/// Per-column scalars (CG's step sizes) for KokkosBlas multivector updates.

#include <Kokkos_Core.hpp>

#include <cstddef>
#include <string>

namespace kinterp::detail {

/// Column coefficients for KokkosBlas::axpby, set from the host.
template <class Matrix>
struct ColumnCoefficients {
  using T = typename Matrix::non_const_value_type;
  Kokkos::View<T*, typename Matrix::memory_space> device;
  typename Kokkos::View<T*, typename Matrix::memory_space>::HostMirror host;

  ColumnCoefficients(const std::string& label, int columns) : device(label, columns) {
    host = Kokkos::create_mirror_view(device);
  }
  template <class F>
  const Kokkos::View<T*, typename Matrix::memory_space>& set(F&& value_of_column) {
    for (std::size_t c = 0; c < host.extent(0); ++c) host(c) = static_cast<T>(value_of_column(c));
    Kokkos::deep_copy(device, host);
    return device;
  }
};

}  // namespace kinterp::detail
