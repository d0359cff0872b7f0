#pragma once
// The data, kernels and checks the kernel-sum modes share: points and weights
// drawn per global row, the seed's kernel scales, a long double reference, and
// the timing of a call.

#include "support/Statistics.hpp"

#include <SeedProblems.hpp>

#include <kinterp/KernelSum.hpp>
#include <kinterp/core/Partition.hpp>
#include <kinterp/kernels/KernelSpec.hpp>

#include <mpi.h>
#include <Kokkos_Core.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace kinterp::bench {

template <class T>
const char* type_name() {
  return sizeof(T) == sizeof(float) ? "float" : "double";
}

template <class T>
using Matrix = typename kinterp::KernelSum<T>::Matrix;

/// A device matrix (rows x columns) filled on the host by value(row, column).
template <class T, class Value>
Matrix<T> make_matrix(const std::string& label, std::int64_t rows, int columns,
                      const Value& value) {
  Matrix<T> view(Kokkos::view_alloc(Kokkos::WithoutInitializing, label), rows, columns);
  const auto host = Kokkos::create_mirror_view(view);
  for (std::int64_t i = 0; i < rows; ++i)
    for (int k = 0; k < columns; ++k) host(i, k) = static_cast<T>(value(i, k));
  Kokkos::deep_copy(view, host);
  return view;
}

/// Point coordinates and weights as functions of the global row, so that every
/// rank count sums exactly the same data: x ~ U[0, 1]^d, w ~ U[0, 1] (positive,
/// so that relative errors are well defined).
inline double coordinate(std::int64_t row, int k) {
  return kinterp::seed::uniform01(101 + k, row);
}
inline double weight(std::int64_t row, int column) {
  return kinterp::seed::uniform01(201 + column, row);
}

/// The seed's scales: Gaussian g = 0.5 / 0.1^2 = 50, Laplacian g = 1 / 0.1 = 10
/// (the same as the reference kernel_sum). With `dim` above 3 the scale
/// follows the typical distance of U[0, 1]^d points (r^2 about d / 6), so that
/// the kernel neither vanishes nor flattens: g r^2 (Gaussian) or g r
/// (Laplacian) is 5 at that distance.
inline KernelSpec bench_kernel(const std::string& name, int dim) {
  KernelSpec spec;
  const double typical_r2 = dim / 6.0;
  if (name == "laplacian") {
    spec.family = KernelFamily::Laplacian;
    spec.g = dim <= 3 ? kinterp::seed::laplacian_2d().g : 5 / std::sqrt(typical_r2);
  } else {
    spec.family = KernelFamily::Gaussian;
    spec.g = dim <= 3 ? kinterp::seed::gaussian_1d().g : 5 / typical_r2;
  }
  return spec;
}

/// The largest relative error of `out` (this rank's rows from `block`) against
/// a long double loop over all n sources, on a few spread-out rows.
template <class T, class HostOut>
double max_relative_error(const KernelSpec& spec, std::int64_t n, int d, int m, RowBlock block,
                          const HostOut& out) {
  const int checked_rows = 8;
  double worst = 0;
  for (int r = 0; r < checked_rows && block.count > 0; ++r) {
    const std::int64_t local = r * (block.count - 1) / std::max(checked_rows - 1, 1);
    const std::int64_t i = block.begin + local;
    std::vector<long double> sum(m, 0.0L);
    for (std::int64_t j = 0; j < n; ++j) {
      long double r2 = 0;
      for (int k = 0; k < d; ++k) {
        const long double diff = static_cast<long double>(static_cast<T>(coordinate(i, k))) -
                                 static_cast<T>(coordinate(j, k));
        r2 += diff * diff;
      }
      const long double g = spec.g;
      const long double kij =
          spec.family == KernelFamily::Laplacian ? std::exp(-g * std::sqrt(r2)) : std::exp(-g * r2);
      for (int c = 0; c < m; ++c) sum[c] += kij * static_cast<T>(weight(j, c));
    }
    for (int c = 0; c < m; ++c) {
      const long double error = std::fabs(static_cast<long double>(out(local, c)) - sum[c]);
      worst = std::max(worst, static_cast<double>(error / std::fabs(sum[c])));
    }
  }
  return worst;
}

/// Seconds of `call` (fenced), the slowest rank's, median over `reps` after a
/// warm-up; every rank runs its own copy at the same time.
inline double time_call(MPI_Comm comm, int reps, const std::function<void()>& call) {
  call();
  Kokkos::fence();
  std::vector<double> seconds;
  for (int rep = 0; rep < reps; ++rep) {
    MPI_Barrier(comm);
    const double start = MPI_Wtime();
    call();
    Kokkos::fence();
    seconds.push_back(max_over_ranks(comm, MPI_Wtime() - start));
  }
  return stats(seconds).median;
}

/// Runs `run(T{})` with T the precision that `type` names.
template <class Case>
void for_each_type(const std::string& type, const Case& run) {
  if (type == "float") {
    run(float{});
  } else {
    run(double{});
  }
}

}  // namespace kinterp::bench
