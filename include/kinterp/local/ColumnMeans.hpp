#pragma once
/// \file ColumnMeans.hpp
/// The mean of all ranks' rows, on the device: the origin that keeps
/// expansions such as |t - x|^2 = |t - o|^2 - 2 (t - o).(x - o) + |x - o|^2
/// within the data's size.

#include <kinterp/local/LocalMatrix.hpp>

#include <mpi.h>
#include <Kokkos_Core.hpp>

#include <cstdint>
#include <vector>

namespace kinterp {

/// Collective: the mean of every column of all ranks' `rows` (0 where there
/// are none), on the default execution space's memory.
template <class T>
Kokkos::View<double*, Kokkos::DefaultExecutionSpace::memory_space> column_means(
    MPI_Comm comm, const LocalMatrix<const T>& rows) {
  const int d = static_cast<int>(rows.extent(1));
  std::vector<double> sums(d + 1, 0.0);
  for (int a = 0; a < d; ++a) {
    Kokkos::parallel_reduce(
        "kinterp::column_means",
        Kokkos::RangePolicy<Kokkos::DefaultExecutionSpace>(0, rows.extent(0)),
        KOKKOS_LAMBDA(const std::int64_t i, double& sum) { sum += rows(i, a); }, sums[a]);
  }
  sums[d] = static_cast<double>(rows.extent(0));
  MPI_Allreduce(MPI_IN_PLACE, sums.data(), d + 1, MPI_DOUBLE, MPI_SUM, comm);
  Kokkos::View<double*, Kokkos::HostSpace> host("kinterp::column_means", d);
  for (int a = 0; a < d; ++a) host(a) = sums[d] > 0 ? sums[a] / sums[d] : 0.0;
  return Kokkos::create_mirror_view_and_copy(Kokkos::DefaultExecutionSpace::memory_space(), host);
}

}  // namespace kinterp
