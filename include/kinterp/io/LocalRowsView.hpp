#pragma once
/// \file LocalRowsView.hpp
/// Between a rank's rows as read from or written to a file (io::LocalRows, on
/// the host) and a Kokkos View in any memory space.

#include <kinterp/io/Npy.hpp>

#include <Kokkos_Core.hpp>

#include <string>

namespace kinterp::io {

/// A new rank-2 View of type Matrix (count x columns) holding `rows`.
template <class Matrix, class T>
Matrix to_view(const LocalRows<T>& rows, const std::string& label) {
  using HostRows =
      Kokkos::View<const T**, Kokkos::LayoutRight, Kokkos::HostSpace, Kokkos::MemoryUnmanaged>;
  const HostRows host(rows.values.data(), rows.block.count, rows.columns);
  Matrix view(Kokkos::view_alloc(Kokkos::WithoutInitializing, label), rows.block.count,
              rows.columns);
  Kokkos::deep_copy(view, host);
  return view;
}

/// `view` (block.count x columns) as the rows `block` of a global_rows x
/// columns array, 1-D in the file when ndim is 1.
template <class T, class Matrix>
LocalRows<T> to_local_rows(const Matrix& view, std::int64_t global_rows, RowBlock block, int ndim) {
  LocalRows<T> rows;
  rows.global_rows = global_rows;
  rows.columns = static_cast<std::int64_t>(view.extent(1));
  rows.ndim = ndim;
  rows.block = block;
  rows.values.resize(block.count * rows.columns);
  Kokkos::View<T**, Kokkos::LayoutRight, Kokkos::HostSpace, Kokkos::MemoryUnmanaged> host(
      rows.values.data(), block.count, rows.columns);
  Kokkos::deep_copy(host, view);
  return rows;
}

}  // namespace kinterp::io
