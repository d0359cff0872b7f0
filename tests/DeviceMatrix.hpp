#pragma once
// Test matrices on the device: a HostMatrix (KernelReference.hpp), or a block
// of its rows, copied into a View of the layout a test asks for.

#include "KernelReference.hpp"

#include <Kokkos_Core.hpp>

#include <cstdint>

namespace kinterp::test {

template <class T, class Layout = Kokkos::LayoutRight>
using DeviceMatrix = Kokkos::View<T**, Layout>;

/// Rows [first, first + count) of `m` on the device.
template <class Layout = Kokkos::LayoutRight, class T>
DeviceMatrix<T, Layout> rows_to_device(const HostMatrix<T>& m, std::int64_t first,
                                       std::int64_t count) {
  DeviceMatrix<T, Layout> view("rows", count, m.cols);
  auto host = Kokkos::create_mirror_view(view);
  for (std::int64_t i = 0; i < count; ++i)
    for (std::int64_t j = 0; j < m.cols; ++j) host(i, j) = m(first + i, j);
  Kokkos::deep_copy(view, host);
  return view;
}

/// All of `m` on the device.
template <class Layout = Kokkos::LayoutRight, class T>
DeviceMatrix<T, Layout> to_device(const HostMatrix<T>& m) {
  return rows_to_device<Layout>(m, 0, m.rows);
}

}  // namespace kinterp::test
