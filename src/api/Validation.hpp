#pragma once
// Collective input checks shared by the front ends: each one throws the same
// kinterp::Error on every rank, naming global rows.

#include <kinterp/core/Collective.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/core/Partition.hpp>
#include <kinterp/core/detail/NumberText.hpp>
#include <kinterp/kernels/KernelSpec.hpp>

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
  std::int64_t local_rows = static_cast<std::int64_t>(rows.extent(0)), offset = 0;
  MPI_Exscan(&local_rows, &offset, 1, MPI_INT64_T, MPI_SUM, comm);
  if (rank_of(comm) == 0) offset = 0;  // MPI_Exscan leaves rank 0's result undefined
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

/// Collective: b (n_r x m, n_r = `local_count`, the same m > 0 on every rank)
/// and a solution of its shape, finite values (a too when it is the initial
/// guess); one error on every rank otherwise.
template <class ConstMatrix, class Matrix, class Options>
void require_solve_shapes(MPI_Comm comm, std::int64_t local_count, const ConstMatrix& b,
                          const Matrix& a, const Options& options) {
  std::string problem;
  if (static_cast<std::int64_t>(b.extent(0)) != local_count) {
    problem = "b has " + std::to_string(b.extent(0)) + " rows on a rank that holds " +
              std::to_string(local_count) +
              " points: pass the right-hand side's rows that match this rank's points";
  } else if (b.extent(1) == 0) {
    problem = "b has no columns";
  } else if (a.extent(0) != b.extent(0) || a.extent(1) != b.extent(1)) {
    problem = "the solution is " + std::to_string(a.extent(0)) + " x " +
              std::to_string(a.extent(1)) + " but b is " + std::to_string(b.extent(0)) + " x " +
              std::to_string(b.extent(1)) + ": they must have the same shape";
  }
  throw_if_any(comm, !problem.empty(), problem);
  int columns[2] = {static_cast<int>(b.extent(1)), -static_cast<int>(b.extent(1))};
  MPI_Allreduce(MPI_IN_PLACE, columns, 2, MPI_INT, MPI_MAX, comm);
  if (columns[0] != -columns[1]) {
    throw Error("b has between " + std::to_string(-columns[1]) + " and " +
                std::to_string(columns[0]) +
                " columns on different ranks; it must have the same number everywhere");
  }
  require_finite(comm, b, "right-hand side values");
  require_norm_in_range(comm, b, "right-hand side values");
  if (options.use_initial_guess) require_finite(comm, a, "initial guess");
}

/// Not collective (the spec is the same on every rank).
inline void require_valid_kernel(const KernelSpec& kernel) {
  if (!(kernel.g > 0) || !std::isfinite(kernel.g)) {
    throw Error("the kernel's scale must be positive and finite, got " + number_text(kernel.g) +
                " (" + kernel.formula() + ")");
  }
  if (!(kernel.variance > 0) || !std::isfinite(kernel.variance)) {
    throw Error("the kernel's constant factor must be positive and finite, got " +
                number_text(kernel.variance));
  }
  const bool shaped =
      kernel.family == KernelFamily::RationalQuadratic || kernel.family == KernelFamily::Matern;
  if (shaped && !(kernel.shape > 0 && std::isfinite(kernel.shape))) {
    throw Error("the " + to_string(kernel.family) + " kernel's shape (alpha of rq, nu of matern) " +
                "must be positive and finite, got " + number_text(kernel.shape));
  }
  if (kernel.family == KernelFamily::Matern && kernel.shape > KernelSpec::max_matern_nu) {
    throw Error("the matern kernel's order nu must be at most " +
                std::to_string(int(KernelSpec::max_matern_nu)) + ", got " +
                number_text(kernel.shape) + " (use the gaussian kernel for so smooth a one)");
  }
}

}  // namespace kinterp::detail
