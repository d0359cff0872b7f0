#pragma once
// Collective input checks shared by the front ends: each one throws the same
// kinterp::Error on every rank, naming global rows.

#include <kinterp/core/Collective.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/core/Partition.hpp>
#include <kinterp/kernels/KernelSpec.hpp>

#include <mpi.h>
#include <Kokkos_Core.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

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
  std::int64_t local_rows = static_cast<std::int64_t>(rows.extent(0)), offset = 0;
  MPI_Exscan(&local_rows, &offset, 1, MPI_INT64_T, MPI_SUM, comm);
  if (rank_of(comm) == 0) offset = 0;  // MPI_Exscan leaves rank 0's result undefined
  const std::int64_t bad = first_nonfinite_row(rows);
  throw_if_any(comm, bad >= 0,
               "the " + what + " contain NaN or Inf (first in row " + std::to_string(offset + bad) +
                   ", counting from 0): every value must be a finite number");
}

/// Not collective (the spec is the same on every rank).
inline void require_valid_kernel(const KernelSpec& kernel) {
  if (!(kernel.g > 0) || !std::isfinite(kernel.g)) {
    throw Error("the kernel's scale must be positive and finite, got " + std::to_string(kernel.g) +
                " (" + kernel.formula() + ")");
  }
  if (!(kernel.variance > 0) || !std::isfinite(kernel.variance)) {
    throw Error("the kernel's constant factor must be positive and finite, got " +
                std::to_string(kernel.variance));
  }
}

}  // namespace kinterp::detail
