#pragma once
/// \file FiniteRows.hpp
/// Collective checks of distributed rows before any work uses them: each one
/// throws the same kinterp::Error on every rank, naming global rows.

#include <kinterp/core/Collective.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/core/Partition.hpp>
#include <kinterp/core/detail/NumberText.hpp>

#include <mpi.h>
#include <Kokkos_Core.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

namespace kinterp::detail {

/// The first row of `rows` holding a NaN or Inf, or -1.
template <class Matrix>
std::int64_t first_nonfinite_row(const Matrix& rows) {
  using Index = std::int64_t;
  constexpr Index none = std::numeric_limits<Index>::max();
  Index first = none;
  const Index columns = static_cast<Index>(rows.extent(1));
  Kokkos::parallel_reduce(
      "kinterp::first_nonfinite_row",
      Kokkos::RangePolicy<typename Matrix::execution_space>(0, rows.extent(0)),
      KOKKOS_LAMBDA(const Index i, Index& found) {
        for (Index k = 0; k < columns; ++k) {
          const auto x = rows(i, k);
          if (!(x - x == 0) && i < found) found = i;  // x - x is NaN for NaN and Inf
        }
      },
      Kokkos::Min<Index>(first));
  return first == none ? -1 : first;
}

/// Collective: every rank throws if any rank's `rows` hold a NaN or Inf.
template <class Matrix>
void require_finite(MPI_Comm comm, const Matrix& rows, const std::string& what) {
  const std::int64_t offset = global_block(comm, static_cast<std::int64_t>(rows.extent(0))).begin;
  const std::int64_t bad = first_nonfinite_row(rows);
  throw_if_any(comm, bad >= 0,
               "NaN or Inf in the " + what + " (first in row " + std::to_string(offset + bad) +
                   ", counting from 0): every value must be a finite number");
}

/// Collective: every rank throws if the 2-norm of a column of `rows` (finite
/// values) could overflow their type, which would make every relative
/// residual 0 and a solve "converge" at once.
template <class Matrix>
void require_norm_in_range(MPI_Comm comm, const Matrix& rows, const std::string& what) {
  using Value = std::remove_const_t<typename Matrix::value_type>;
  double largest = 0;
  const std::int64_t columns = static_cast<std::int64_t>(rows.extent(1));
  Kokkos::parallel_reduce(
      "kinterp::largest_magnitude",
      Kokkos::RangePolicy<typename Matrix::execution_space>(0, rows.extent(0)),
      KOKKOS_LAMBDA(const std::int64_t i, double& found) {
        for (std::int64_t k = 0; k < columns; ++k) {
          const double x = static_cast<double>(rows(i, k));
          const double magnitude = x < 0 ? -x : x;
          if (magnitude > found) found = magnitude;
        }
      },
      Kokkos::Max<double>(largest));
  double total_rows = static_cast<double>(rows.extent(0));
  MPI_Allreduce(MPI_IN_PLACE, &largest, 1, MPI_DOUBLE, MPI_MAX, comm);
  MPI_Allreduce(MPI_IN_PLACE, &total_rows, 1, MPI_DOUBLE, MPI_SUM, comm);
  const double limit =
      std::sqrt(static_cast<double>(std::numeric_limits<Value>::max()) / std::max(1.0, total_rows));
  if (largest > limit) {
    throw Error("the " + what + " reach " + number_text(largest) + ": their norm would overflow " +
                (sizeof(Value) == 4 ? "float" : "double") + " (magnitudes up to " +
                number_text(limit) +
                " are safe here); divide them by a constant, and the solution by the same");
  }
}

}  // namespace kinterp::detail
